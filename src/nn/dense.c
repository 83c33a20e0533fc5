/* Dense: y = activation(x W + b), composed of matmul, add_bias and the
 * activation op, so its gradient comes from those ops' backward passes. On
 * inputs of rank 3 or more it acts on the last axis, as Keras 3 does. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>

#include "nabla/alloc.h"
#include "nabla/layer.h"
#include "nabla/ops.h"
#include "nn/layers_internal.h"

typedef struct dense_state {
    nb_dense_options options;
} dense_state;

enum { KERNEL = 0, BIAS = 1 };

static nb_status dense_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    const dense_state *s = self->state;
    nb_tensor *kernel = nb_initialize(s->options.kernel_initializer, self->dtype,
                                      in_shape[in_rank - 1], s->options.units, rng);
    if (!kernel || nb_layer_add_param(self, "kernel", kernel) != NB_OK) {
        nb_tensor_free(kernel);
        return nb_last_status();
    }
    if (!s->options.no_bias) {
        nb_tensor *init = nb_initialize(s->options.bias_initializer, self->dtype, 1,
                                        s->options.units, rng);
        nb_tensor *bias = init ? nb_tensor_zeros(self->dtype, NB_SHAPE(s->options.units)) : NULL;
        if (bias)
            nb_tensor_copy_data(bias, init);
        nb_tensor_free(init);
        if (!bias || nb_layer_add_param(self, "bias", bias) != NB_OK) {
            nb_tensor_free(bias);
            return nb_last_status();
        }
    }
    /* the input's shape with the last axis replaced by the units */
    self->out_shape[in_rank - 1] = s->options.units;
    return NB_OK;
}

/* [batch, ..., in] -> [batch * ..., in], the rank-2 Dense, and back to
 * [batch, ..., units]: one large product instead of one per leading index.
 * Softmax then runs over the last axis, the units. */
static nb_tensor *dense_forward_last_axis(nb_layer *self, nb_tape *tape, nb_tensor *x)
{
    const dense_state *s = self->state;
    int64_t rows[2] = {-1, x->shape[x->rank - 1]};
    nb_tensor *y = nb_matmul(tape, nb_reshape(tape, x, 2, rows), self->params[KERNEL]);
    if (!s->options.no_bias)
        y = nb_add_bias(tape, y, self->params[BIAS]);
    int64_t out_shape[NB_MAX_RANK];
    memcpy(out_shape, x->shape, sizeof out_shape);
    out_shape[x->rank - 1] = s->options.units;
    return nb_activate(tape, nb_reshape(tape, y, x->rank, out_shape), s->options.activation);
}

static nb_tensor *dense_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                nb_rng *rng)
{
    (void)training;
    (void)rng;
    const dense_state *s = self->state;
    if (x->rank > 2)
        return dense_forward_last_axis(self, tape, x);
    nb_tensor *y = nb_matmul(tape, x, self->params[KERNEL]);
    if (!s->options.no_bias)
        y = nb_add_bias(tape, y, self->params[BIAS]);
    return nb_activate(tape, y, s->options.activation);
}

static nb_status dense_config(const nb_layer *self, cJSON *json)
{
    const dense_state *s = self->state;
    bool ok = cJSON_AddNumberToObject(json, "units", (double)s->options.units) &&
              cJSON_AddStringToObject(json, "activation", nb_activation_name(s->options.activation)) &&
              cJSON_AddBoolToObject(json, "use_bias", !s->options.no_bias) &&
              cJSON_AddStringToObject(json, "kernel_initializer",
                                      nb_initializer_name(s->options.kernel_initializer)) &&
              cJSON_AddStringToObject(json, "bias_initializer",
                                      nb_initializer_name(s->options.bias_initializer));
    return ok ? NB_OK : nb_error(NB_ERR_NOMEM, "Dense layer '%s': out of memory for its config", self->name);
}

static void dense_destroy(nb_layer *self) { nb_release(self->state); }

static nb_layer *dense_from_config(const cJSON *json);

const nb_layer_class nb__dense_class = {
    .type = "Dense",
    .build = dense_build,
    .forward = dense_forward,
    .config = dense_config,
    .destroy = dense_destroy,
    .from_config = dense_from_config,
};

nb_layer *nb_dense_with(const nb_dense_options *options)
{
    if (!options) {
        nb_error(NB_ERR_NULL, "nb_dense_with: options is NULL");
        return NULL;
    }
    if (options->units < 1) {
        nb_error(NB_ERR_ARG, "nb_dense: units is %" PRId64 ": expected at least 1", options->units);
        return NULL;
    }
    if ((unsigned)options->kernel_initializer > NB_ORTHOGONAL ||
        (unsigned)options->bias_initializer > NB_ORTHOGONAL) {
        nb_error(NB_ERR_ARG, "nb_dense: initializer %d is not an nb_initializer",
                 (unsigned)options->kernel_initializer > NB_ORTHOGONAL
                     ? (int)options->kernel_initializer
                     : (int)options->bias_initializer);
        return NULL;
    }
    if ((unsigned)options->activation >= NB_ACTIVATION_COUNT) {
        nb_error(NB_ERR_ARG, "nb_dense: activation %d is not an nb_activation", (int)options->activation);
        return NULL;
    }
    dense_state *s = nb_alloc_zeroed(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "nb_dense: out of memory");
        return NULL;
    }
    s->options = *options;
    /* resolve the defaults now, so the config names what was used */
    if (s->options.kernel_initializer == NB_INIT_DEFAULT)
        s->options.kernel_initializer = NB_GLOROT_UNIFORM;
    if (s->options.bias_initializer == NB_INIT_DEFAULT)
        s->options.bias_initializer = NB_ZEROS;
    nb_layer *layer = nb_layer_new(&nb__dense_class, NULL, s);
    if (!layer)
        nb_release(s);
    return layer;
}

nb_layer *nb_dense(int64_t units, nb_activation activation)
{
    return nb_dense_with(&(nb_dense_options){
        .units = units, .activation = activation});
}

/* {"units": 128, "activation": "relu", "use_bias": true,
 *  "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"} */
static nb_layer *dense_from_config(const cJSON *json)
{
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(json, "units");
    const cJSON *activation = cJSON_GetObjectItemCaseSensitive(json, "activation");
    const cJSON *use_bias = cJSON_GetObjectItemCaseSensitive(json, "use_bias");
    const cJSON *kernel_init = cJSON_GetObjectItemCaseSensitive(json, "kernel_initializer");
    const cJSON *bias_init = cJSON_GetObjectItemCaseSensitive(json, "bias_initializer");
    nb_dense_options o = {0}; /* absent initializers: the defaults */
    if (!cJSON_IsNumber(units) || units->valuedouble < 1 || units->valuedouble > 1e9 ||
        units->valuedouble != (double)(int64_t)units->valuedouble) {
        nb_error(NB_ERR_FORMAT, "Dense config: \"units\" is missing or not a positive integer");
        return NULL;
    }
    o.units = (int64_t)units->valuedouble;
    o.no_bias = cJSON_IsFalse(use_bias);
    if ((activation && nb_activation_from_name(cJSON_GetStringValue(activation), &o.activation) != NB_OK) ||
        (kernel_init && nb_initializer_from_name(cJSON_GetStringValue(kernel_init), &o.kernel_initializer) != NB_OK) ||
        (bias_init && nb_initializer_from_name(cJSON_GetStringValue(bias_init), &o.bias_initializer) != NB_OK))
        return NULL;
    return nb_dense_with(&o);
}
