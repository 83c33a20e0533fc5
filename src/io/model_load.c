/* Loading whole models from safetensors files (docs/formats.md).
 *
 * The loader trusts the file in nothing: safetensors.c has checked the
 * container (every offset and length against the file) before this file
 * looks at it, and here every weight the architecture implies is compared
 * with the tensor the file declares, by name, dtype and shape. For the
 * built-in Dense layer the comparison happens before the model is built, so
 * an absurd "units" is refused before anything is allocated for it. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "io/safetensors.h"
#include "nabla/model_io.h"
#include "nn/model_internal.h"

/* ---- the architecture ------------------------------------------------------ */

typedef struct loader {
    nb_st_file file;
    cJSON *arch;    /* parsed __metadata__["nabla_model"] */
    nb_model *model;
    bool *used;       /* [file.n]: the tensor belongs to a weight or the state */
    int saved_state;  /* optimizer state tensors in the file; -1: none saved */
    bool restore;     /* compiled as saved: restore the optimizer state */
} loader;

#define LAYER_NAME_MAX (sizeof ((nb_layer *)0)->name)

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static nb_status bad(const loader *ld, const char *fmt, ...)
{
    char what[400];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    return nb_error(NB_ERR_FORMAT, "nb_model_load: '%s': %s", ld->file.path, what);
}

/* Put the path and a context ("layer 2 ('dense')") before the message of a
 * call that failed, keeping its status. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static nb_status wrap(const loader *ld, const char *fmt, ...)
{
    nb_status status = nb_last_status();
    char inner[512], context[128];
    snprintf(inner, sizeof inner, "%s", nb_last_error());
    va_list args;
    va_start(args, fmt);
    vsnprintf(context, sizeof context, fmt, args);
    va_end(args);
    return nb_error(status != NB_OK ? status : NB_ERR_FORMAT, "nb_model_load: '%s': %s: %s",
                    ld->file.path, context, inner);
}

static bool whole_number(const cJSON *item, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(item) || !(item->valuedouble >= lo && item->valuedouble <= hi) ||
        item->valuedouble != (double)(int64_t)item->valuedouble)
        return false;
    *out = (int64_t)item->valuedouble;
    return true;
}

/* A string of digits in `base` that fits 64 bits, e.g. a seed. */
static bool parse_u64(const char *text, int base, uint64_t *out)
{
    if (!text || !*text || strspn(text, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") !=
                               strlen(text))
        return false;
    errno = 0;
    *out = strtoull(text, NULL, base);
    return errno == 0;
}

static nb_status open_architecture(loader *ld)
{
    const char *format = nb__st_metadata(&ld->file, "format");
    const char *text = nb__st_metadata(&ld->file, "nabla_model");
    if (!format || strcmp(format, NB_MODEL_FORMAT) != 0)
        return bad(ld, "not a nabla model file: __metadata__ \"format\" is %s%.32s%s: expected "
                   "\"" NB_MODEL_FORMAT "\"", format ? "\"" : "", format ? format : "missing",
                   format ? "\"" : "");
    if (!text)
        return bad(ld, "__metadata__ has no \"nabla_model\" (the architecture)");
    ld->arch = cJSON_Parse(text);
    if (!cJSON_IsObject(ld->arch))
        return bad(ld, "__metadata__ \"nabla_model\" is not a JSON object: the architecture "
                   "is damaged");
    return NB_OK;
}

static nb_status set_model_basics(loader *ld)
{
    const cJSON *a = ld->arch;
    const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "class"));
    const char *dtype = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "dtype"));
    const char *seed_text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "seed"));
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(a, "input_shape");
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(a, "train_rng");
    const cJSON *epoch = cJSON_GetObjectItemCaseSensitive(a, "epoch");
    uint64_t seed = 0;
    int64_t epochs_done = 0;
    if (!cls || strcmp(cls, "Sequential") != 0)
        return bad(ld, "the architecture's \"class\" is not \"Sequential\"");
    if (!dtype || (strcmp(dtype, "f32") != 0 && strcmp(dtype, "f64") != 0))
        return bad(ld, "the architecture's \"dtype\" is not \"f32\" or \"f64\"");
    if (seed_text && !parse_u64(seed_text, 10, &seed))
        return bad(ld, "the architecture's \"seed\" is not a 64-bit unsigned integer");
    int rank = cJSON_GetArraySize(shape);
    int64_t dims[NB_MAX_RANK];
    if (!cJSON_IsArray(shape) || rank < 1 || rank > NB_MAX_RANK - 1)
        return bad(ld, "the architecture's \"input_shape\" is not a list of 1 to %d sizes",
                   NB_MAX_RANK - 1);
    for (int d = 0; d < rank; d++)
        if (!whole_number(cJSON_GetArrayItem(shape, d), 1, 1e12, &dims[d]))
            return bad(ld, "the architecture's \"input_shape\" entry %d is not a whole number "
                       ">= 1", d);
    nb_model *m = ld->model;
    if (nb_model_set_dtype(m, dtype[1] == '6' ? NB_F64 : NB_F32) != NB_OK ||
        nb_model_set_input_shape(m, rank, dims) != NB_OK || nb_model_set_seed(m, seed) != NB_OK)
        return wrap(ld, "the architecture");
    if (rng && (!cJSON_IsArray(rng) || cJSON_GetArraySize(rng) != 4))
        return bad(ld, "the architecture's \"train_rng\" is not a list of 4 hex strings");
    if (epoch && !whole_number(epoch, 0, INT_MAX, &epochs_done))
        return bad(ld, "the architecture's \"epoch\" is not a whole number from 0 to %d",
                   INT_MAX);
    m->epoch = (int)epochs_done; /* absent in files saved before it was kept */
    for (int k = 0; rng && k < 4; k++)
        if (!parse_u64(cJSON_GetStringValue(cJSON_GetArrayItem(rng, k)), 16,
                       &m->train_rng.s[k]))
            return bad(ld, "the architecture's \"train_rng\" entry %d is not a 64-bit hex "
                       "number", k);
    return NB_OK;
}

static nb_status add_layer(loader *ld, int i, const cJSON *json)
{
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "type"));
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "name"));
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(json, "config");
    if (!type || !name || (config && !cJSON_IsObject(config)))
        return bad(ld, "layer %d has no \"type\" or \"name\" string, or a \"config\" that is "
                   "not an object", i);
    if (name[0] == '\0' || strlen(name) >= LAYER_NAME_MAX)
        return bad(ld, "layer %d's name '%.40s' is empty or longer than %zu characters", i,
                   name, LAYER_NAME_MAX - 1);
    for (int j = 0; j < ld->model->n_layers; j++)
        if (strcmp(ld->model->layers[j]->name, name) == 0)
            return bad(ld, "layers %d and %d are both named '%s'", j, i, name);
    const nb_layer_class *cls = nb_layer_find_class(type);
    if (!cls)
        return wrap(ld, "layer %d ('%s')", i, name);
    if (!cls->from_config)
        return bad(ld, "layer %d ('%s'): layer type '%.32s' cannot be loaded: its class has no "
                   "from_config", i, name, type);
    cJSON *empty = config ? NULL : cJSON_CreateObject();
    nb_layer *layer = cls->from_config(config ? config : empty);
    cJSON_Delete(empty);
    if (!layer)
        return wrap(ld, "layer %d ('%s')", i, name);
    snprintf(layer->name, sizeof layer->name, "%s", name);
    return nb_model_add(ld->model, layer) == NB_OK ? NB_OK : wrap(ld, "layer %d ('%s')", i, name);
}

static nb_status add_layers(loader *ld)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(ld->arch, "layers");
    if (!cJSON_IsArray(layers) || !layers->child)
        return bad(ld, "the architecture's \"layers\" is missing or empty");
    int i = 0;
    for (const cJSON *layer = layers->child; layer; layer = layer->next, i++)
        if (add_layer(ld, i, layer) != NB_OK)
            return nb_last_status();
    return NB_OK;
}

/* ---- weights the architecture implies, before building --------------------- */

/* The file's tensor `name` must have `rank` and `shape`. */
static nb_status expect_shape(const loader *ld, const char *layer, const char *name, int rank,
                              const int64_t *shape)
{
    int i = nb__st_find(&ld->file, name);
    if (i < 0)
        return bad(ld, "tensor '%s' of layer '%s' is missing", name, layer);
    const nb_st_tensor *t = &ld->file.tensors[i];
    bool same = t->rank == rank;
    for (int d = 0; same && d < rank; d++)
        same = t->shape[d] == shape[d];
    if (same)
        return NB_OK;
    char got[NB_SHAPE_BUF], want[NB_SHAPE_BUF];
    return bad(ld, "tensor '%s' is %s but layer '%s' as configured needs %s", name,
               nb__dims_str(t->rank, t->shape, got, sizeof got), layer,
               nb__dims_str(rank, shape, want, sizeof want));
}

/* Dense's kernel [in, units] and bias [units] against the file. `in` is -1
 * when unknown (after a custom layer); units is checked all the same. */
static nb_status expect_dense(const loader *ld, const nb_layer *layer, const cJSON *config,
                              int64_t in)
{
    int64_t units = 0; /* from_config has checked it */
    whole_number(cJSON_GetObjectItemCaseSensitive(config, "units"), 1, 1e18, &units);
    nb_weight_name name;
    snprintf(name, sizeof name, "%s/kernel", layer->name);
    int i = nb__st_find(&ld->file, name);
    int64_t kernel[2] = {in >= 0 ? in : (i >= 0 ? ld->file.tensors[i].shape[0] : 0), units};
    nb_status s = expect_shape(ld, layer->name, name, 2, kernel);
    snprintf(name, sizeof name, "%s/bias", layer->name);
    if (s == NB_OK && !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(config, "use_bias")))
        s = expect_shape(ld, layer->name, name, 1, &units);
    return s;
}

/* Follow the shapes through the built-in layers and compare each Dense's
 * weights with the file, so that no config can make build allocate more
 * than the file holds. After a custom layer the shapes are unknown; its
 * class's from_config is trusted to refuse absurd sizes. */
static nb_status check_before_build(const loader *ld)
{
    const nb_model *m = ld->model;
    const cJSON *json = cJSON_GetObjectItemCaseSensitive(ld->arch, "layers")->child;
    int rank = m->in_rank;
    int64_t shape[NB_MAX_RANK];
    memcpy(shape, m->in_shape, sizeof shape);
    for (int i = 0; i < m->n_layers; i++, json = json->next) {
        const char *type = m->layers[i]->cls->type;
        const cJSON *config = cJSON_GetObjectItemCaseSensitive(json, "config");
        if (strcmp(type, "Dense") == 0) {
            nb_status s = expect_dense(ld, m->layers[i], config, rank == 1 ? shape[0] : -1);
            if (s != NB_OK)
                return s;
            whole_number(cJSON_GetObjectItemCaseSensitive(config, "units"), 1, 1e18, &shape[0]);
            rank = 1; /* [units], whatever came in */
        } else if (strcmp(type, "Flatten") == 0 && rank > 0) {
            for (int d = 1; d < rank; d++)
                shape[0] *= shape[d]; /* set_input_shape checked the product */
            rank = 1;
        } else if (strcmp(type, "Activation") != 0 && strcmp(type, "Dropout") != 0)
            rank = -1;
    }
    return NB_OK;
}

/* ---- compiling ---------------------------------------------------------------- */

static nb_optimizer *optimizer_from_json(loader *ld, const cJSON *json)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "name"));
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(json, "config");
    const char *names[NB_OPTIMIZER_CONFIG_MAX];
    double values[NB_OPTIMIZER_CONFIG_MAX];
    int n = 0;
    if (!name || !cJSON_IsObject(config)) {
        bad(ld, "the optimizer has no \"name\" or no \"config\" object");
        return NULL;
    }
    for (const cJSON *item = config->child; item; item = item->next, n++)
        if (n == NB_OPTIMIZER_CONFIG_MAX || !cJSON_IsNumber(item)) {
            bad(ld, "the optimizer's config has more than %d entries or a value that is not a "
                "number", NB_OPTIMIZER_CONFIG_MAX);
            return NULL;
        } else {
            names[n] = item->string;
            values[n] = item->valuedouble;
        }
    nb_optimizer *opt = nb_optimizer_from_config(name, n, names, values);
    if (!opt)
        wrap(ld, "the saved optimizer");
    return opt;
}

/* Compile as saved; build only when the model was not compiled, or with a
 * loss nabla does not know (the caller compiles it again). */
static nb_status compile_model(loader *ld)
{
    const cJSON *a = ld->arch;
    const char *loss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "loss"));
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(a, "metrics");
    const cJSON *opt_json = cJSON_GetObjectItemCaseSensitive(a, "optimizer");
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(opt_json, "state_tensors");
    bool custom = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "custom_loss"));
    int64_t k = -1;
    if (state && (!whole_number(state, 0, 1e9, &k) || k > ld->file.n))
        return bad(ld, "the optimizer's \"state_tensors\" is not a whole number from 0 to the "
                   "%d tensors in the file", ld->file.n);
    ld->saved_state = (int)k;
    if (!loss || !opt_json || custom || !nb_loss_get(loss)) {
        nb_clear_error();
        return nb_model_build(ld->model) == NB_OK ? NB_OK : wrap(ld, "building the model");
    }
    nb_compile_options options = {.loss = loss};
    int n = cJSON_GetArraySize(metrics);
    if (metrics && (!cJSON_IsArray(metrics) || n > NB_MAX_METRICS))
        return bad(ld, "the architecture's \"metrics\" is not a list of at most %d names",
                   NB_MAX_METRICS);
    for (int i = 0; i < n; i++)
        if (!(options.metrics[i] = cJSON_GetStringValue(cJSON_GetArrayItem(metrics, i))))
            return bad(ld, "metric %d is not a string", i);
    options.optimizer = optimizer_from_json(ld, opt_json);
    if (!options.optimizer)
        return nb_last_status();
    ld->restore = ld->saved_state >= 0;
    if (nb_model_compile(ld->model, &options) != NB_OK)
        return wrap(ld, "compiling the model");
    return NB_OK;
}

/* ---- the tensors -------------------------------------------------------------- */

/* Tensor `name` must exist and fit dst; marks it used. */
static nb_status match(loader *ld, const char *name, const nb_tensor *dst, int *index)
{
    *index = nb__st_find(&ld->file, name);
    if (*index < 0)
        return bad(ld, "tensor '%s' is missing", name);
    ld->used[*index] = true;
    return nb__st_check(&ld->file, *index, dst);
}

/* The optimizer state: built now (zeros) so the file can fill it. */
static nb_status prepare_state(loader *ld)
{
    if (!ld->restore || ld->saved_state == 0)
        return NB_OK;
    nb_model *m = ld->model;
    if (nb_optimizer_build(m->optimizer, m->n_weights, m->weights) != NB_OK)
        return wrap(ld, "the optimizer state");
    int have = nb_optimizer_state_count(m->optimizer);
    if (have != ld->saved_state)
        return bad(ld, "the file has %d optimizer state tensors but %s over %d weights keeps %d",
                   ld->saved_state, nb_optimizer_name(m->optimizer), m->n_weights, have);
    return NB_OK;
}

/* The optimizer state of a model loaded without its optimizer (a custom
 * loss): known, so not unexpected, but not read. */
static void skip_state(loader *ld)
{
    nb_weight_name name;
    for (int k = 0; !ld->restore && k < ld->saved_state; k++) {
        snprintf(name, sizeof name, "optimizer/%d", k);
        int i = nb__st_find(&ld->file, name);
        if (i >= 0)
            ld->used[i] = true;
    }
}

/* Check every tensor, then read them all: nothing is read from a file with
 * a problem anywhere in its tensors. */
static nb_status load_tensors(loader *ld)
{
    nb_model *m = ld->model;
    int n_state = ld->restore && ld->saved_state > 0 ? ld->saved_state : 0;
    int n = m->n_weights + n_state;
    int *index = nb_alloc((size_t)(n ? n : 1) * sizeof *index);
    nb_tensor **dst = nb_alloc((size_t)(n ? n : 1) * sizeof *dst);
    ld->used = nb_alloc_zeroed((size_t)(ld->file.n ? ld->file.n : 1) * sizeof *ld->used);
    nb_status s = index && dst && ld->used ? NB_OK
                                           : nb_error(NB_ERR_NOMEM, "nb_model_load: out of memory");
    nb_weight_name name;
    for (int l = 0, i = 0; s == NB_OK && l < m->n_layers; l++)
        for (int k = 0; s == NB_OK && k < m->layers[l]->n_params; k++, i++) {
            nb__weight_name(name, m->layers[l], k);
            dst[i] = m->layers[l]->params[k];
            s = match(ld, name, dst[i], &index[i]);
        }
    if (s == NB_OK)
        skip_state(ld);
    for (int k = 0; s == NB_OK && k < n_state; k++) {
        int i = m->n_weights + k;
        snprintf(name, sizeof name, "optimizer/%d", k);
        dst[i] = nb_optimizer_state(m->optimizer, k);
        s = match(ld, name, dst[i], &index[i]);
    }
    for (int i = 0; s == NB_OK && i < ld->file.n; i++)
        if (!ld->used[i])
            s = bad(ld, "unexpected tensor '%.64s': the model has no such weight%s",
                    ld->file.tensors[i].name,
                    strncmp(ld->file.tensors[i].name, "optimizer/", 10) == 0
                        ? " (or optimizer state)" : "");
    for (int i = 0; s == NB_OK && i < n; i++)
        s = nb__st_read(&ld->file, index[i], dst[i]);
    nb_release(index);
    nb_release(dst);
    return s;
}

static nb_status restore_iterations(loader *ld)
{
    const cJSON *opt = cJSON_GetObjectItemCaseSensitive(ld->arch, "optimizer");
    int64_t iterations;
    if (!ld->restore)
        return NB_OK;
    if (!whole_number(cJSON_GetObjectItemCaseSensitive(opt, "iterations"), 0, 9e15, &iterations))
        return bad(ld, "the optimizer's \"iterations\" is not a whole number >= 0");
    nb_optimizer_set_iterations(ld->model->optimizer, iterations); /* >= 0: cannot fail */
    return NB_OK;
}

nb_model *nb__model_load(const char *path, int *saved_state)
{
    loader ld = {.saved_state = -1};
    nb_status s = nb__st_open(&ld.file, "nb_model_load", path);
    if (s == NB_OK)
        s = open_architecture(&ld);
    if (s == NB_OK && !(ld.model = nb_sequential()))
        s = nb_last_status();
    if (s == NB_OK)
        s = set_model_basics(&ld);
    if (s == NB_OK)
        s = add_layers(&ld);
    if (s == NB_OK)
        s = check_before_build(&ld);
    if (s == NB_OK)
        s = compile_model(&ld);
    if (s == NB_OK)
        s = prepare_state(&ld);
    if (s == NB_OK)
        s = load_tensors(&ld);
    if (s == NB_OK)
        s = restore_iterations(&ld);
    nb__st_close(&ld.file);
    cJSON_Delete(ld.arch);
    nb_release(ld.used);
    if (s != NB_OK) {
        nb_model_free(ld.model);
        return NULL;
    }
    *saved_state = ld.restore ? ld.saved_state : -1;
    return ld.model;
}

nb_model *nb_model_load(const char *path)
{
    int saved_state;
    return nb__model_load(path, &saved_state);
}
