/* Finite-difference gradient checking. */
#include "nabla/gradcheck.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "nabla/ops.h"

typedef struct checker {
    nb_gradcheck_fn f;
    nb_tensor *const *inputs;
    void *user;
    nb_tape *tape;
    nb_tensor *projection; /* R, caller-owned, made on the first call */
    uint64_t seed;
    const char *fn; /* the public function, for messages */
    bool constant_is_zero; /* f independent of its inputs: zero gradients */
} checker;

/* sum(f(inputs) * R) on the checker's tape; NULL on error. */
static nb_tensor *projected(checker *c)
{
    nb_tensor *out = c->f(c->tape, c->inputs, c->user);
    if (!out) {
        if (nb_last_status() == NB_OK)
            nb_error(NB_ERR_NULL, "%s: the checked function returned NULL", c->fn);
        return NULL;
    }
    if (!c->projection) {
        nb_rng rng;
        nb_rng_seed(&rng, c->seed);
        c->projection = nb_tensor_rand_uniform(out->dtype, out->rank, out->shape, 0.5, 1.5, &rng);
        if (!c->projection)
            return NULL;
    }
    return nb_sum(c->tape, nb_mul(c->tape, out, c->projection));
}

/* The scalar value with recording off. */
static nb_status evaluate(checker *c, double *value)
{
    nb_tape_reset(c->tape);
    bool was = nb_tape_set_grad_enabled(c->tape, false);
    nb_tensor *loss = projected(c);
    nb_tape_set_grad_enabled(c->tape, was);
    if (!loss)
        return nb_last_status();
    *value = nb_tensor_item(loss);
    return NB_OK;
}

static nb_status analytic_gradients(checker *c, int n_inputs)
{
    for (int i = 0; i < n_inputs; i++)
        if (c->inputs[i]->requires_grad && nb_tensor_zero_grad(c->inputs[i]) != NB_OK)
            return nb_last_status();
    nb_tape_reset(c->tape);
    nb_tensor *loss = projected(c);
    if (!loss)
        return nb_last_status();
    if (c->constant_is_zero && !loss->requires_grad)
        return NB_OK;
    return nb_backward(loss);
}

static void compare(nb_gradcheck_result *r, int64_t index, double analytic, double numeric,
                    const nb_gradcheck_options *o, double *worst_excess)
{
    double abs_err = fabs(analytic - numeric);
    double scale = fmax(fabs(analytic), fabs(numeric));
    double rel_err = scale > 0 ? abs_err / scale : 0;
    double excess = abs_err - (o->atol + o->rtol * fabs(numeric));
    if (abs_err > r->max_abs_error)
        r->max_abs_error = abs_err;
    if (rel_err > r->max_rel_error)
        r->max_rel_error = rel_err;
    if (excess > 0 || isnan(excess))
        r->passed = false;
    if (index == 0 || excess > *worst_excess || isnan(excess)) {
        *worst_excess = isnan(excess) ? INFINITY : excess;
        r->worst_index = index;
        r->worst_analytic = analytic;
        r->worst_numeric = numeric;
    }
}

static nb_status check_input(checker *c, nb_tensor *x, const nb_gradcheck_options *o,
                             nb_gradcheck_result *r)
{
    r->checked = true;
    r->passed = true;
    double worst_excess = -INFINITY;
    for (int64_t i = 0; i < x->size; i++) {
        double analytic = nb_tensor_grad_get(x, i);
        double original = nb_tensor_get(x, i);
        double plus = 0, minus = 0;
        nb_tensor_set(x, i, original + o->eps);
        nb_status s = evaluate(c, &plus);
        nb_tensor_set(x, i, original - o->eps);
        if (s == NB_OK)
            s = evaluate(c, &minus);
        nb_tensor_set(x, i, original);
        if (s != NB_OK)
            return s;
        compare(r, i, analytic, (plus - minus) / (2 * o->eps), o, &worst_excess);
    }
    return NB_OK;
}

nb_status nb__gradcheck_validate(const char *fn, nb_gradcheck_fn f, int n_inputs,
                                 nb_tensor *const inputs[], nb_gradcheck_report *report)
{
    if (!f || !inputs || !report)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn,
                        !f ? "f" : !inputs ? "inputs" : "report");
    if (n_inputs < 1 || n_inputs > NB_GRADCHECK_MAX_INPUTS)
        return nb_error(NB_ERR_ARG, "%s: n_inputs is %d: expected 1 to %d", fn, n_inputs,
                        NB_GRADCHECK_MAX_INPUTS);
    for (int i = 0; i < n_inputs; i++) {
        if (!inputs[i])
            return nb_error(NB_ERR_NULL, "%s: input %d is NULL", fn, i);
        if (inputs[i]->tape)
            return nb_error(NB_ERR_ARG, "%s: input %d lives on a tape: expected a "
                            "caller-owned tensor", fn, i);
    }
    return NB_OK;
}

nb_status nb_gradcheck(nb_gradcheck_fn f, int n_inputs, nb_tensor *const inputs[], void *user,
                       const nb_gradcheck_options *options, nb_gradcheck_report *report)
{
    return nb__gradcheck_run("nb_gradcheck", f, n_inputs, inputs, user, options, report, false);
}

nb_status nb__gradcheck_run(const char *fn, nb_gradcheck_fn f, int n_inputs,
                            nb_tensor *const inputs[], void *user,
                            const nb_gradcheck_options *options, nb_gradcheck_report *report,
                            bool constant_is_zero)
{
    nb_status s = nb__gradcheck_validate(fn, f, n_inputs, inputs, report);
    if (s != NB_OK)
        return s;
    nb_gradcheck_options o = {1e-6, 1e-5, 1e-3, 0};
    if (options) {
        o = *options;
        if (!(o.eps > 0))
            return nb_error(NB_ERR_ARG, "%s: eps is %g: expected > 0", fn, o.eps);
    }
    memset(report, 0, sizeof *report);
    report->n_inputs = n_inputs;
    checker c = {f, inputs, user, nb_tape_new(), NULL, o.seed, fn, constant_is_zero};
    if (!c.tape)
        return nb_last_status();
    s = analytic_gradients(&c, n_inputs);
    report->passed = true;
    for (int i = 0; s == NB_OK && i < n_inputs; i++) {
        if (!inputs[i]->requires_grad)
            continue;
        s = check_input(&c, inputs[i], &o, &report->inputs[i]);
        report->passed = report->passed && report->inputs[i].passed;
    }
    nb_tape_free(c.tape);
    nb_tensor_free(c.projection);
    return s;
}

void nb_gradcheck_print(const nb_gradcheck_report *report, FILE *out)
{
    if (!report || !out)
        return;
    fprintf(out, "gradcheck: %s\n", report->passed ? "passed" : "FAILED");
    for (int i = 0; i < report->n_inputs; i++) {
        const nb_gradcheck_result *r = &report->inputs[i];
        if (!r->checked) {
            fprintf(out, "  input %d: not checked (requires no gradient)\n", i);
            continue;
        }
        fprintf(out,
                "  input %d: %s  max abs error %.3g, max rel error %.3g; worst at element %" PRId64
                ": analytic %.9g, numeric %.9g\n",
                i, r->passed ? "ok    " : "FAILED", r->max_abs_error, r->max_rel_error,
                r->worst_index, r->worst_analytic, r->worst_numeric);
    }
}
