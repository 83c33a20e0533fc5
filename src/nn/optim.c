/* Optimizers: making one from its hyper-parameters (checked as Keras does),
 * its per-parameter state, inspection and config. The update rules and the
 * step are in optim_update.c. The state is allocated once, at the first
 * step; later steps allocate nothing. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nn/optim_internal.h"

/* How a hyper-parameter is checked. */
typedef enum hyper_rule {
    RULE_RATE,     /* finite and > 0: learning_rate, epsilon */
    RULE_FRACTION, /* in [0, 1): momentum, betas, rho */
    RULE_FLAG,     /* 0 or 1: nesterov */
} hyper_rule;

/* Each kind's name and its hyper-parameters in Keras's get_config order
 * (learning_rate first), with their rules and Keras defaults. */
#define MAX_HYPER 4
typedef struct family {
    const char *name;
    int n_hyper;
    const char *hyper[MAX_HYPER];
    hyper_rule rules[MAX_HYPER];
    double defaults[MAX_HYPER];
} family;

static const family families[] = {
    [KIND_SGD] = {"SGD", 3, {"learning_rate", "momentum", "nesterov"},
                  {RULE_RATE, RULE_FRACTION, RULE_FLAG}, {0.01, 0.0, 0.0}},
    [KIND_ADAM] = {"Adam", 4, {"learning_rate", "beta_1", "beta_2", "epsilon"},
                   {RULE_RATE, RULE_FRACTION, RULE_FRACTION, RULE_RATE}, {1e-3, 0.9, 0.999, 1e-7}},
    [KIND_RMSPROP] = {"RMSprop", 4, {"learning_rate", "rho", "momentum", "epsilon"},
                      {RULE_RATE, RULE_FRACTION, RULE_FRACTION, RULE_RATE}, {1e-3, 0.9, 0.0, 1e-7}},
};

/* ---- construction ------------------------------------------------------ */

static nb_status check_hyper(const char *fn, const char *name, hyper_rule rule, double value)
{
    const char *expected = NULL;
    if (rule == RULE_RATE && (!(value > 0) || !isfinite(value)))
        expected = "a finite value > 0";
    else if (rule == RULE_FRACTION && !(value >= 0 && value < 1))
        expected = "a value in [0, 1)";
    else if (rule == RULE_FLAG && value != 0 && value != 1)
        expected = "0 or 1";
    if (expected)
        return nb_error(NB_ERR_ARG, "%s: %s is %g: expected %s", fn, name, value, expected);
    return NB_OK;
}

/* Check the hyper-parameters of `kind`, given in its family's order. */
static nb_status check_family(const char *fn, optimizer_kind kind, const double v[MAX_HYPER])
{
    const family *f = &families[kind];
    for (int k = 0; k < f->n_hyper; k++)
        if (check_hyper(fn, f->hyper[k], f->rules[k], v[k]) != NB_OK)
            return NB_ERR_ARG;
    return NB_OK;
}

/* A new optimizer of `kind` from its hyper-parameters in family order. */
static nb_optimizer *make(const char *fn, optimizer_kind kind, const double v[MAX_HYPER])
{
    if (check_family(fn, kind, v) != NB_OK)
        return NULL;
    nb_optimizer *opt = nb_alloc_zeroed(sizeof *opt);
    if (!opt) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    opt->kind = kind;
    opt->learning_rate = v[0];
    switch (kind) {
    case KIND_SGD:
        opt->momentum = v[1], opt->nesterov = v[2] != 0;
        if (opt->momentum != 0)
            opt->slot_names[opt->n_slots++] = "momentum";
        break;
    case KIND_ADAM:
        opt->beta_1 = v[1], opt->beta_2 = v[2], opt->epsilon = v[3];
        opt->slot_names[opt->n_slots++] = "momentum";
        opt->slot_names[opt->n_slots++] = "velocity";
        break;
    case KIND_RMSPROP:
        opt->rho = v[1], opt->momentum = v[2], opt->epsilon = v[3];
        opt->slot_names[opt->n_slots++] = "velocity";
        if (opt->momentum > 0)
            opt->slot_names[opt->n_slots++] = "momentum";
        break;
    }
    return opt;
}

nb_optimizer *nb_sgd(double learning_rate, double momentum, bool nesterov)
{
    return make("nb_sgd", KIND_SGD, (double[MAX_HYPER]){learning_rate, momentum, nesterov});
}

nb_optimizer *nb_adam(double learning_rate, double beta_1, double beta_2, double epsilon)
{
    return make("nb_adam", KIND_ADAM, (double[MAX_HYPER]){learning_rate, beta_1, beta_2, epsilon});
}

nb_optimizer *nb_rmsprop(double learning_rate, double rho, double momentum, double epsilon)
{
    return make("nb_rmsprop", KIND_RMSPROP,
                (double[MAX_HYPER]){learning_rate, rho, momentum, epsilon});
}

nb_optimizer *nb_sgd_default(void)
{
    return make("nb_sgd_default", KIND_SGD, families[KIND_SGD].defaults);
}

nb_optimizer *nb_adam_default(void)
{
    return make("nb_adam_default", KIND_ADAM, families[KIND_ADAM].defaults);
}

nb_optimizer *nb_rmsprop_default(void)
{
    return make("nb_rmsprop_default", KIND_RMSPROP, families[KIND_RMSPROP].defaults);
}

static void free_state(nb_optimizer *opt)
{
    for (int i = 0; opt->state && i < opt->n_slots * opt->n_params; i++)
        nb_tensor_free(opt->state[i]);
    nb_release(opt->state);
    nb_release(opt->layouts);
    opt->state = NULL;
    opt->layouts = NULL;
    opt->n_params = 0;
    opt->built = false;
}

void nb_optimizer_free(nb_optimizer *opt)
{
    if (!opt)
        return;
    free_state(opt);
    nb_release(opt);
}

/* ---- the parameter list ------------------------------------------------- */

static nb_status check_param(const char *fn, int i, const nb_tensor *p)
{
    if (!p)
        return nb_error(NB_ERR_NULL, "%s: parameter %d is NULL", fn, i);
    if (p->tape)
        return nb_error(NB_ERR_STATE, "%s: parameter %d ('%s') lives on a tape: expected a "
                        "caller-owned tensor that persists between steps", fn, i, p->name);
    return NB_OK;
}

static bool same_layout(const param_layout *l, const nb_tensor *p)
{
    if (l->dtype != p->dtype || l->rank != p->rank)
        return false;
    for (int d = 0; d < p->rank; d++)
        if (l->shape[d] != p->shape[d])
            return false;
    return true;
}

/* The list must be the one of the first step: same count, shapes, dtypes. */
static nb_status check_same_list(const char *fn, const nb_optimizer *opt, int n,
                                 nb_tensor *const params[])
{
    if (n != opt->n_params)
        return nb_error(NB_ERR_STATE, "%s: got %d parameters but the first step had %d: an "
                        "optimizer serves the parameter list it first stepped", fn, n,
                        opt->n_params);
    for (int i = 0; i < n; i++) {
        const param_layout *l = &opt->layouts[i];
        if (same_layout(l, params[i]))
            continue;
        char now[NB_SHAPE_BUF], then[NB_SHAPE_BUF];
        return nb_error(NB_ERR_STATE, "%s: parameter %d is %s %s but was %s %s at the first "
                        "step: expected the same parameters in the same order", fn, i,
                        nb_shape_str(params[i], now, sizeof now), nb_dtype_name(params[i]->dtype),
                        nb__dims_str(l->rank, l->shape, then, sizeof then),
                        nb_dtype_name(l->dtype));
    }
    return NB_OK;
}

static nb_status make_state(const char *fn, nb_optimizer *opt, int n, nb_tensor *const params[])
{
    opt->n_params = n;
    size_t n_state = (size_t)opt->n_slots * (size_t)n;
    opt->layouts = n ? nb_alloc_zeroed((size_t)n * sizeof *opt->layouts) : NULL;
    opt->state = n_state ? nb_alloc_zeroed(n_state * sizeof *opt->state) : NULL;
    if ((n && !opt->layouts) || (n_state && !opt->state))
        goto no_memory;
    for (int i = 0; i < n; i++) {
        const nb_tensor *p = params[i];
        opt->layouts[i] = (param_layout){.dtype = p->dtype, .rank = p->rank};
        memcpy(opt->layouts[i].shape, p->shape, sizeof p->shape);
        for (int k = 0; k < opt->n_slots; k++) {
            nb_tensor *s = nb_tensor_zeros(p->dtype, p->rank, p->shape);
            if (!s)
                goto no_memory;
            char name[32];
            snprintf(name, sizeof name, "%s_%d", opt->slot_names[k], i);
            nb_tensor_set_name(s, name);
            opt->state[k * n + i] = s;
        }
    }
    opt->built = true;
    return NB_OK;
no_memory:
    free_state(opt);
    return nb_error(NB_ERR_NOMEM, "%s: out of memory for the optimizer state of %d parameters",
                    fn, n);
}

/* Validate the list; on the first call, fix it and create the state. */
nb_status nb__optimizer_build(const char *fn, nb_optimizer *opt, int n,
                              nb_tensor *const params[])
{
    if (!opt)
        return nb_error(NB_ERR_NULL, "%s: opt is NULL", fn);
    if (n < 0)
        return nb_error(NB_ERR_ARG, "%s: n_params is %d: expected 0 or more", fn, n);
    if (n > 0 && !params)
        return nb_error(NB_ERR_NULL, "%s: params is NULL for %d parameters", fn, n);
    for (int i = 0; i < n; i++)
        if (check_param(fn, i, params[i]) != NB_OK)
            return nb_last_status();
    if (opt->built)
        return check_same_list(fn, opt, n, params);
    return make_state(fn, opt, n, params);
}

nb_status nb_optimizer_build(nb_optimizer *opt, int n_params, nb_tensor *const params[])
{
    return nb__optimizer_build("nb_optimizer_build", opt, n_params, params);
}

/* ---- inspection ----------------------------------------------------------- */

const char *nb_optimizer_name(const nb_optimizer *opt)
{
    return opt ? families[opt->kind].name : "";
}

double nb_optimizer_learning_rate(const nb_optimizer *opt)
{
    return opt ? opt->learning_rate : NAN;
}

nb_status nb_optimizer_set_learning_rate(nb_optimizer *opt, double learning_rate)
{
    const char *fn = "nb_optimizer_set_learning_rate";
    if (!opt)
        return nb_error(NB_ERR_NULL, "%s: opt is NULL", fn);
    nb_status s = check_hyper(fn, "learning_rate", RULE_RATE, learning_rate);
    if (s == NB_OK)
        opt->learning_rate = learning_rate;
    return s;
}

int64_t nb_optimizer_iterations(const nb_optimizer *opt) { return opt ? opt->iterations : 0; }

nb_status nb_optimizer_set_iterations(nb_optimizer *opt, int64_t iterations)
{
    if (!opt)
        return nb_error(NB_ERR_NULL, "nb_optimizer_set_iterations: opt is NULL");
    if (iterations < 0)
        return nb_error(NB_ERR_ARG, "nb_optimizer_set_iterations: iterations is %" PRId64
                        ": expected 0 or more", iterations);
    opt->iterations = iterations;
    return NB_OK;
}

int nb_optimizer_state_count(const nb_optimizer *opt)
{
    return opt && opt->built ? opt->n_slots * opt->n_params : 0;
}

int nb_optimizer_state_slots(const nb_optimizer *opt) { return opt ? opt->n_slots : 0; }

nb_tensor *nb_optimizer_state(const nb_optimizer *opt, int i)
{
    if (!opt) {
        nb_error(NB_ERR_NULL, "nb_optimizer_state: opt is NULL");
        return NULL;
    }
    int count = nb_optimizer_state_count(opt);
    if (i < 0 || i >= count) {
        nb_error(NB_ERR_ARG, "nb_optimizer_state: index %d is out of range: the optimizer has "
                 "%d state tensors%s", i, count, opt->built ? "" : " (made at the first step)");
        return NULL;
    }
    return opt->state[i];
}

/* ---- configuration -------------------------------------------------------- */

/* The hyper-parameters of opt in its family's order. */
static void hyper_values(const nb_optimizer *opt, double v[MAX_HYPER])
{
    v[0] = opt->learning_rate;
    switch (opt->kind) {
    case KIND_SGD:
        v[1] = opt->momentum, v[2] = opt->nesterov ? 1 : 0;
        break;
    case KIND_ADAM:
        v[1] = opt->beta_1, v[2] = opt->beta_2, v[3] = opt->epsilon;
        break;
    case KIND_RMSPROP:
        v[1] = opt->rho, v[2] = opt->momentum, v[3] = opt->epsilon;
        break;
    }
}

nb_status nb_optimizer_config(const nb_optimizer *opt, int *n,
                              const char *names[NB_OPTIMIZER_CONFIG_MAX],
                              double values[NB_OPTIMIZER_CONFIG_MAX])
{
    if (!opt || !n || !names || !values)
        return nb_error(NB_ERR_NULL, "nb_optimizer_config: %s is NULL",
                        !opt ? "opt" : !n ? "n" : !names ? "names" : "values");
    const family *f = &families[opt->kind];
    double v[MAX_HYPER];
    hyper_values(opt, v);
    for (int k = 0; k < f->n_hyper; k++)
        names[k] = f->hyper[k], values[k] = v[k];
    *n = f->n_hyper;
    return NB_OK;
}

static int find_family(const char *name)
{
    for (int k = 0; k < (int)(sizeof families / sizeof families[0]); k++)
        if (strcasecmp(name, families[k].name) == 0)
            return k;
    return -1;
}

static int find_hyper(const family *f, const char *name)
{
    for (int k = 0; k < f->n_hyper; k++)
        if (strcmp(name, f->hyper[k]) == 0)
            return k;
    return -1;
}

/* "a, b, c": the family's hyper-parameter names, for messages. */
static const char *hyper_list(const family *f, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < f->n_hyper && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? ", " : "", f->hyper[k]);
    return buf;
}

nb_optimizer *nb_optimizer_from_config(const char *name, int n, const char *const names[],
                                       const double values[])
{
    const char *fn = "nb_optimizer_from_config";
    if (!name || (n > 0 && (!names || !values))) {
        nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, !name ? "name" : !names ? "names" : "values");
        return NULL;
    }
    int kind = find_family(name);
    if (kind < 0) {
        nb_error(NB_ERR_ARG, "%s: unknown optimizer '%s': expected SGD, Adam or RMSprop", fn, name);
        return NULL;
    }
    const family *f = &families[kind];
    double v[MAX_HYPER];
    memcpy(v, f->defaults, sizeof v);
    for (int i = 0; i < n; i++) {
        int k = names[i] ? find_hyper(f, names[i]) : -1;
        if (k < 0) {
            char list[128];
            nb_error(NB_ERR_ARG, "%s: %s has no hyper-parameter '%s': expected %s", fn, f->name,
                     names[i] ? names[i] : "(null)", hyper_list(f, list, sizeof list));
            return NULL;
        }
        v[k] = values[i];
    }
    return make(fn, (optimizer_kind)kind, v);
}
