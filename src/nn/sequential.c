/* Sequential: a list of layers, built for an input shape, compiled with an
 * optimizer, a loss and metrics. Training lives in fit.c. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "nn/model_internal.h"

nb_model *nb_sequential(void)
{
    nb_model *model = nb_alloc_zeroed(sizeof *model);
    nb_tape *tape = nb_tape_new();
    if (!model || !tape) {
        nb_release(model);
        nb_tape_free(tape);
        nb_error(NB_ERR_NOMEM, "nb_sequential: out of memory");
        return NULL;
    }
    model->in_rank = -1;
    model->resume_epoch = -1;
    model->dtype = NB_F32;
    model->tape = tape;
    nb_model_set_seed(model, 0);
    return model;
}

void nb_model_free(nb_model *model)
{
    if (!model)
        return;
    for (int i = 0; i < model->n_layers; i++)
        nb_layer_free(model->layers[i]);
    nb_release(model->layers);
    nb_release(model->weights);
    nb_optimizer_free(model->optimizer);
    nb_tape_free(model->tape);
    nb__replicas_free(model->replicas);
    nb_release(model);
}

static nb_status require_model(const char *fn, const nb_model *model)
{
    return model ? NB_OK : nb_error(NB_ERR_NULL, "%s: model is NULL", fn);
}

nb_status nb_model_set_input_shape(nb_model *model, int rank, const int64_t *shape)
{
    const char *fn = "nb_model_set_input_shape";
    if (require_model(fn, model) != NB_OK)
        return NB_ERR_NULL;
    if (model->built)
        return nb_error(NB_ERR_STATE, "%s: the model is already built", fn);
    if (rank < 1 || rank > NB_MAX_RANK - 1)
        return nb_error(NB_ERR_SHAPE, "%s: rank %d: expected 1 to %d (the batch axis takes one more)",
                        fn, rank, NB_MAX_RANK - 1);
    if (nb__check_shape(fn, rank, shape, NULL) != NB_OK)
        return nb_last_status();
    model->in_rank = rank;
    memcpy(model->in_shape, shape, (size_t)rank * sizeof *shape);
    return NB_OK;
}

nb_status nb_model_set_seed(nb_model *model, uint64_t seed)
{
    if (require_model("nb_model_set_seed", model) != NB_OK)
        return NB_ERR_NULL;
    model->seed = seed;
    /* a stream apart from weight initialisation, so adding a Dropout layer
     * does not change the initial weights */
    nb_rng_seed(&model->train_rng, seed ^ 0x5eed5eed5eed5eedULL);
    return NB_OK;
}

nb_status nb_model_set_dtype(nb_model *model, nb_dtype dtype)
{
    const char *fn = "nb_model_set_dtype";
    if (require_model(fn, model) != NB_OK)
        return NB_ERR_NULL;
    if (model->built)
        return nb_error(NB_ERR_STATE, "%s: the model is already built with %s parameters", fn,
                        nb_dtype_name(model->dtype));
    if (dtype != NB_F32 && dtype != NB_F64)
        return nb_error(NB_ERR_DTYPE, "%s: dtype %d is not NB_F32 or NB_F64", fn, (int)dtype);
    model->dtype = dtype;
    return NB_OK;
}

static bool name_taken(const nb_model *model, const char *name)
{
    for (int i = 0; i < model->n_layers; i++)
        if (strcmp(model->layers[i]->name, name) == 0)
            return true;
    return false;
}

/* Keras names layers after their type in snake case, numbering repeats:
 * dense, dense_1, dense_2; a name a layer was given by hand is skipped. */
static void name_layer(const nb_model *model, nb_layer *layer)
{
    char base[24];
    size_t n = 0;
    for (const char *c = layer->cls->type; *c && n + 2 < sizeof base; c++) {
        /* conv2d, max_pooling2d: a capital after a digit starts no word */
        if (isupper((unsigned char)*c) && n > 0 && islower((unsigned char)c[-1]))
            base[n++] = '_';
        base[n++] = (char)tolower((unsigned char)*c);
    }
    base[n] = '\0';
    snprintf(layer->name, sizeof layer->name, "%s", base);
    for (int k = 1; name_taken(model, layer->name); k++)
        snprintf(layer->name, sizeof layer->name, "%.20s_%d", base, k);
}

nb_status nb_model_add(nb_model *model, nb_layer *layer)
{
    const char *fn = "nb_model_add";
    nb_status s = NB_OK;
    /* a model owns the layer already: freeing it would leave a dangling
     * pointer behind, keeping it a second time would free it twice */
    if (layer && layer->owner) /* also with no model: the owner keeps it */
        return nb_error(NB_ERR_ARG, "%s: layer '%s' is already in %s model: create a new "
                        "layer for every position", fn, layer->name,
                        layer->owner == model ? "this" : "another");
    if (!model)
        s = nb_error(NB_ERR_NULL, "%s: model is NULL", fn);
    else if (!layer)
        s = nb_last_status() != NB_OK ? nb_last_status() : nb_error(NB_ERR_NULL, "%s: layer is NULL", fn);
    else if (model->built)
        s = nb_error(NB_ERR_STATE, "%s: the model is already built: add every layer before "
                     "compiling", fn);
    else if (layer->built)
        s = nb_error(NB_ERR_STATE, "%s: layer '%s' is already built (in another model?)", fn,
                     layer->name);
    else if (layer->name[0] && name_taken(model, layer->name))
        s = nb_error(NB_ERR_ARG, "%s: a layer named '%s' is already in this model: layer names "
                     "must be unique (they name the weights in saved files)", fn, layer->name);
    if (s == NB_OK && model->n_layers == model->cap_layers) {
        int cap = model->cap_layers ? 2 * model->cap_layers : 8;
        nb_layer **bigger = nb_alloc((size_t)cap * sizeof *bigger);
        if (!bigger)
            s = nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        else {
            if (model->layers)
                memcpy(bigger, model->layers, (size_t)model->n_layers * sizeof *bigger);
            nb_release(model->layers);
            model->layers = bigger;
            model->cap_layers = cap;
        }
    }
    if (s != NB_OK) {
        nb_layer_free(layer);
        return s;
    }
    if (!layer->name[0])
        name_layer(model, layer);
    layer->owner = model;
    model->layers[model->n_layers++] = layer;
    return NB_OK;
}

static nb_status collect_weights(nb_model *model)
{
    int n = 0;
    for (int i = 0; i < model->n_layers; i++)
        n += model->layers[i]->n_params;
    model->weights = nb_alloc((size_t)(n ? n : 1) * sizeof *model->weights);
    if (!model->weights)
        return nb_error(NB_ERR_NOMEM, "nb_model_build: out of memory");
    for (int i = 0; i < model->n_layers; i++)
        for (int k = 0; k < model->layers[i]->n_params; k++)
            model->weights[model->n_weights++] = model->layers[i]->params[k];
    return NB_OK;
}

nb_status nb_model_build(nb_model *model)
{
    const char *fn = "nb_model_build";
    if (require_model(fn, model) != NB_OK)
        return NB_ERR_NULL;
    if (model->built)
        return NB_OK;
    if (model->in_rank < 0)
        return nb_error(NB_ERR_STATE, "%s: the input shape is not set: call "
                        "nb_model_set_input_shape first", fn);
    if (model->n_layers == 0)
        return nb_error(NB_ERR_STATE, "%s: the model has no layers", fn);
    nb_rng init_rng;
    nb_rng_seed(&init_rng, model->seed);
    int rank = model->in_rank;
    const int64_t *shape = model->in_shape;
    for (int i = 0; i < model->n_layers; i++) {
        nb_layer *layer = model->layers[i];
        if (nb_layer_build(layer, rank, shape, model->dtype, &init_rng) != NB_OK)
            return nb_last_status();
        rank = layer->out_rank;
        shape = layer->out_shape;
    }
    if (collect_weights(model) != NB_OK)
        return NB_ERR_NOMEM;
    model->built = true;
    return NB_OK;
}

static nb_status set_loss_and_metrics(nb_model *model, const nb_compile_options *o)
{
    const char *fn = "nb_model_compile";
    if (o->custom_loss) {
        if (!o->custom_loss->fn)
            return nb_error(NB_ERR_NULL, "%s: custom_loss has no function", fn);
        model->loss = *o->custom_loss;
    } else if (o->loss) {
        const nb_loss *loss = nb_loss_get(o->loss);
        if (!loss)
            return nb_last_status();
        model->loss = *loss;
    } else
        return nb_error(NB_ERR_ARG, "%s: no loss: set loss (a name) or custom_loss", fn);
    model->n_metrics = 0;
    for (int i = 0; i < NB_MAX_METRICS && o->metrics[i]; i++) {
        const nb_metric *metric = nb_metric_get(o->metrics[i], &model->loss);
        if (!metric)
            return nb_last_status();
        model->metrics[model->n_metrics++] = metric;
    }
    return NB_OK;
}

nb_status nb_model_compile(nb_model *model, const nb_compile_options *options)
{
    const char *fn = "nb_model_compile";
    nb_status s = NB_OK;
    if (!model || !options)
        s = nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, model ? "options" : "model");
    else if (!options->optimizer)
        s = nb_last_status() != NB_OK ? nb_last_status()
                                      : nb_error(NB_ERR_NULL, "%s: optimizer is NULL", fn);
    if (s != NB_OK) {
        if (options)
            nb_optimizer_free(options->optimizer);
        return s;
    }
    if (model->optimizer != options->optimizer)
        nb_optimizer_free(model->optimizer);
    model->optimizer = options->optimizer;
    s = set_loss_and_metrics(model, options);
    if (s == NB_OK && model->in_rank >= 0)
        s = nb_model_build(model);
    model->compiled = s == NB_OK;
    return s;
}

/* ---- inspection ---------------------------------------------------------- */

int64_t nb_model_param_count(const nb_model *model)
{
    int64_t n = 0;
    for (int i = 0; model && i < model->n_layers; i++)
        n += nb_layer_param_count(model->layers[i]);
    return n;
}

/* Elements of the non-trainable weights (nb_layer_add_state). */
static int64_t state_count(const nb_model *model)
{
    int64_t n = 0;
    for (int i = 0; i < model->n_layers; i++)
        for (int k = 0; k < model->layers[i]->n_params; k++)
            n += model->layers[i]->param_is_state[k] ? model->layers[i]->params[k]->size : 0;
    return n;
}

/* 109386 -> "109,386", as Keras prints counts */
static const char *with_commas(int64_t n, char *buf, size_t len)
{
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%" PRId64, n);
    size_t out = 0;
    for (int i = 0; i < nd && out + 2 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            buf[out++] = ',';
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

static void shape_with_batch(const nb_layer *layer, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "(None");
    for (int d = 0; d < layer->out_rank && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, ", %" PRId64, layer->out_shape[d]);
    if (used < len)
        snprintf(buf + used, len - used, ")");
}

nb_status nb_model_summary(const nb_model *model, FILE *out)
{
    const char *fn = "nb_model_summary";
    if (!model || !out)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, model ? "out" : "model");
    if (!model->built)
        return nb_error(NB_ERR_STATE, "%s: the model is not built: set its input shape and "
                        "compile it (or call nb_model_build)", fn);
    const char *rule = "_________________________________________________________________";
    const char *double_rule = "=================================================================";
    char count[32], shape[64], label[80];
    fprintf(out, "Model: \"sequential\"\n%s\n %-28s%-26s%-10s\n%s\n", rule, "Layer (type)",
            "Output Shape", "Param #", double_rule);
    for (int i = 0; i < model->n_layers; i++) {
        const nb_layer *layer = model->layers[i];
        snprintf(label, sizeof label, "%s (%s)", layer->name, layer->cls->type);
        shape_with_batch(layer, shape, sizeof shape);
        /* cut long labels as Keras does, so the columns stay aligned */
        fprintf(out, " %-28.27s%-26s%-10s\n", label, shape,
                with_commas(nb_layer_param_count(layer), count, sizeof count));
        if (i + 1 < model->n_layers)
            fprintf(out, "\n");
    }
    int64_t total = nb_model_param_count(model), state = state_count(model);
    fprintf(out, "%s\n", double_rule);
    fprintf(out, "Total params: %s\n", with_commas(total, count, sizeof count));
    fprintf(out, "Trainable params: %s\n", with_commas(total - state, count, sizeof count));
    fprintf(out, "Non-trainable params: %s\n%s\n", with_commas(state, count, sizeof count), rule);
    return NB_OK;
}

int nb_model_layer_count(const nb_model *model) { return model ? model->n_layers : 0; }

nb_layer *nb_model_layer(const nb_model *model, int i)
{
    return model && i >= 0 && i < model->n_layers ? model->layers[i] : NULL;
}

int nb_model_weight_count(const nb_model *model) { return model ? model->n_weights : 0; }

nb_tensor *nb_model_weight(const nb_model *model, int i)
{
    return model && i >= 0 && i < model->n_weights ? model->weights[i] : NULL;
}

nb_status nb_model_set_weights(nb_model *model, int n, const nb_tensor *const weights[])
{
    const char *fn = "nb_model_set_weights";
    if (!model || !weights)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, model ? "weights" : "model");
    if (!model->built)
        return nb_error(NB_ERR_STATE, "%s: the model is not built", fn);
    if (n != model->n_weights)
        return nb_error(NB_ERR_ARG, "%s: got %d tensors: the model has %d weights", fn, n,
                        model->n_weights);
    for (int i = 0; i < n; i++) {
        char a[NB_SHAPE_BUF], b[NB_SHAPE_BUF];
        if (!weights[i])
            return nb_error(NB_ERR_NULL, "%s: weight %d is NULL", fn, i);
        if (!nb_same_shape(weights[i], model->weights[i]))
            return nb_error(NB_ERR_SHAPE, "%s: weight %d (%s) is %s: expected %s", fn, i,
                            model->weights[i]->name, nb_shape_str(weights[i], a, sizeof a),
                            nb_shape_str(model->weights[i], b, sizeof b));
    }
    for (int i = 0; i < n; i++)
        nb_tensor_copy_data(model->weights[i], weights[i]);
    return NB_OK;
}

const nb_optimizer *nb_model_optimizer(const nb_model *model)
{
    return model ? model->optimizer : NULL;
}

const nb_loss *nb_model_loss(const nb_model *model)
{
    return model && model->compiled ? &model->loss : NULL;
}

int nb_model_metric_count(const nb_model *model) { return model ? model->n_metrics : 0; }

const nb_metric *nb_model_metric(const nb_model *model, int i)
{
    return model && i >= 0 && i < model->n_metrics ? model->metrics[i] : NULL;
}

nb_dtype nb_model_dtype(const nb_model *model) { return model ? model->dtype : NB_F32; }

int nb_model_input_shape(const nb_model *model, int64_t shape[NB_MAX_RANK])
{
    if (!model || model->in_rank < 0)
        return -1;
    memcpy(shape, model->in_shape, (size_t)model->in_rank * sizeof *shape);
    return model->in_rank;
}

void nb_model_stop_training(nb_model *model)
{
    if (model)
        model->stop_training = true;
}

int nb_model_epoch(const nb_model *model) { return model ? model->epoch : 0; }
