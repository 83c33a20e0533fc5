/* Conv2D and Conv1D: y = activation(conv(x, kernel) + bias), composed of
 * nb_conv2d_bias (or nb_conv1d_bias; the bias added inside the product,
 * which measured faster than a broadcasting nb_add after it) and the
 * activation op; the gradients come from theirs. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "nabla/layer.h"
#include "nabla/ops.h"
#include "nn/layers_internal.h"
#include "ops/window.h"

/* ---- config helpers, shared with pool_layers.c --------------------------- */

const char *nb__padding_name(nb_padding padding)
{
    return padding == NB_PADDING_SAME ? "same" : "valid";
}

nb_status nb__add_int_list(cJSON *json, const char *key, int n, const int *values)
{
    cJSON *list = cJSON_AddArrayToObject(json, key);
    for (int i = 0; list && i < n; i++) {
        cJSON *item = cJSON_CreateNumber(values[i]);
        if (!item || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            list = NULL;
        }
    }
    return list ? NB_OK : nb_error(NB_ERR_NOMEM, "out of memory for a layer config");
}

nb_status nb__int_list_from_config(const cJSON *json, const char *type, const char *key, int n,
                                   int *values)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, key);
    bool ok = cJSON_IsArray(list) && cJSON_GetArraySize(list) == n;
    for (int i = 0; ok && i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(list, i);
        ok = cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 1e6 &&
             v->valuedouble == floor(v->valuedouble);
        if (ok)
            values[i] = (int)v->valuedouble;
    }
    return ok ? NB_OK : nb_error(NB_ERR_FORMAT, "%s config: \"%s\" is missing or not a list of %d "
                                 "positive integers", type, key, n);
}

nb_status nb__padding_from_config(const cJSON *json, const char *type, nb_padding *padding)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "padding"));
    if (name && (strcmp(name, "valid") == 0 || strcmp(name, "same") == 0)) {
        *padding = name[0] == 's' ? NB_PADDING_SAME : NB_PADDING_VALID;
        return NB_OK;
    }
    return nb_error(NB_ERR_FORMAT, "%s config: \"padding\" is missing or not \"valid\" or \"same\"",
                    type);
}

/* ---- the layer --------------------------------------------------------------- */

typedef struct conv_state {
    nb_conv_options options; /* defaults resolved */
    int spatial;             /* 2: Conv2D, 1: Conv1D */
} conv_state;

enum { KERNEL = 0, BIAS = 1 };

/* The output size along one axis, or an error naming the layer and shape. */
static nb_status conv_out_axis(const nb_layer *self, const int64_t *in_shape, int axis,
                               int64_t *out)
{
    const conv_state *s = self->state;
    const nb_conv_options *o = &s->options;
    int k = o->kernel_size[axis], k_eff = o->dilation_rate[axis] * (k - 1) + 1;
    int64_t pad;
    if (nb__window_axis(o->padding, in_shape[axis], k_eff, o->strides[axis], out, &pad))
        return NB_OK;
    char sx[NB_SHAPE_BUF];
    return nb_error(NB_ERR_SHAPE, "%s layer '%s': input %s per sample is smaller than the "
                    "window (%d after dilation) with padding valid", self->cls->type, self->name,
                    nb__dims_str(s->spatial + 1, in_shape, sx, sizeof sx), k_eff);
}

static nb_status conv_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    const conv_state *s = self->state;
    const nb_conv_options *o = &s->options;
    char sx[NB_SHAPE_BUF];
    if (in_rank != s->spatial + 1)
        return nb_error(NB_ERR_SHAPE, "%s layer '%s': input %s per sample: expected %s",
                        self->cls->type, self->name, nb__dims_str(in_rank, in_shape, sx, sizeof sx),
                        s->spatial == 2 ? "[height, width, channels]" : "[steps, channels]");
    for (int axis = 0; axis < s->spatial; axis++) {
        nb_status st = conv_out_axis(self, in_shape, axis, &self->out_shape[axis]);
        if (st != NB_OK)
            return st;
    }
    self->out_shape[s->spatial] = o->filters;
    int64_t taps = o->kernel_size[0] * (s->spatial == 2 ? o->kernel_size[1] : 1);
    int64_t in_c = in_shape[s->spatial];
    int64_t shape[4] = {o->kernel_size[0], o->kernel_size[1], in_c, o->filters};
    if (s->spatial == 1)
        shape[1] = in_c, shape[2] = o->filters;
    nb_tensor *kernel = nb_initialize_shaped(o->kernel_initializer, self->dtype, s->spatial + 2,
                                             shape, taps * in_c, taps * o->filters, rng);
    if (!kernel || nb_layer_add_param(self, "kernel", kernel) != NB_OK) {
        nb_tensor_free(kernel);
        return nb_last_status();
    }
    if (o->no_bias)
        return NB_OK;
    nb_tensor *bias = nb_initialize_shaped(o->bias_initializer, self->dtype, NB_SHAPE(o->filters),
                                           1, o->filters, rng);
    if (!bias || nb_layer_add_param(self, "bias", bias) != NB_OK) {
        nb_tensor_free(bias);
        return nb_last_status();
    }
    return NB_OK;
}

static nb_tensor *conv_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                               nb_rng *rng)
{
    (void)training, (void)rng;
    const conv_state *s = self->state;
    const nb_conv_options *o = &s->options;
    nb_tensor *y, *kernel = self->params[KERNEL], *bias = self->params[BIAS];
    nb_conv2d_options geometry = {{o->strides[0], o->strides[1]},
                                  {o->dilation_rate[0], o->dilation_rate[1]}, o->padding};
    if (s->spatial == 2)
        y = o->no_bias ? nb_conv2d_with(tape, x, kernel, geometry)
                       : nb_conv2d_bias(tape, x, kernel, bias, geometry);
    else
        y = o->no_bias ? nb_conv1d(tape, x, kernel, o->strides[0], o->padding)
                       : nb_conv1d_bias(tape, x, kernel, bias, o->strides[0], o->padding);
    return nb_activate(tape, y, o->activation);
}

static nb_status conv_config(const nb_layer *self, cJSON *json)
{
    const conv_state *s = self->state;
    const nb_conv_options *o = &s->options;
    bool ok = cJSON_AddNumberToObject(json, "filters", (double)o->filters) &&
              nb__add_int_list(json, "kernel_size", s->spatial, o->kernel_size) == NB_OK &&
              nb__add_int_list(json, "strides", s->spatial, o->strides) == NB_OK &&
              cJSON_AddStringToObject(json, "padding", nb__padding_name(o->padding)) &&
              nb__add_int_list(json, "dilation_rate", s->spatial, o->dilation_rate) == NB_OK &&
              cJSON_AddStringToObject(json, "activation", nb_activation_name(o->activation)) &&
              cJSON_AddBoolToObject(json, "use_bias", !o->no_bias) &&
              cJSON_AddStringToObject(json, "kernel_initializer",
                                      nb_initializer_name(o->kernel_initializer)) &&
              cJSON_AddStringToObject(json, "bias_initializer",
                                      nb_initializer_name(o->bias_initializer));
    return ok ? NB_OK : nb_error(NB_ERR_NOMEM, "%s layer '%s': out of memory for its config",
                                 self->cls->type, self->name);
}

static void conv_destroy(nb_layer *self) { nb_release(self->state); }

static nb_layer *conv2d_from_config(const cJSON *json);
static nb_layer *conv1d_from_config(const cJSON *json);

const nb_layer_class nb__conv2d_class = {
    .type = "Conv2D",
    .build = conv_build,
    .forward = conv_forward,
    .config = conv_config,
    .destroy = conv_destroy,
    .from_config = conv2d_from_config,
};

const nb_layer_class nb__conv1d_class = {
    .type = "Conv1D",
    .build = conv_build,
    .forward = conv_forward,
    .config = conv_config,
    .destroy = conv_destroy,
    .from_config = conv1d_from_config,
};

static int or_one(int v) { return v == 0 ? 1 : v; }

static nb_status check_conv_options(const char *fn, const nb_conv_options *o, int spatial)
{
    if (o->filters < 1)
        return nb_error(NB_ERR_ARG, "%s: filters is %" PRId64 ": expected at least 1", fn,
                        o->filters);
    for (int a = 0; a < spatial; a++) {
        if (o->kernel_size[a] < 1)
            return nb_error(NB_ERR_ARG, "%s: kernel_size is %d: expected at least 1", fn,
                            o->kernel_size[a]);
        if (o->strides[a] < 0 || o->dilation_rate[a] < 0)
            return nb_error(NB_ERR_ARG, "%s: %s is %d: expected at least 1", fn,
                            o->strides[a] < 0 ? "strides" : "dilation_rate",
                            o->strides[a] < 0 ? o->strides[a] : o->dilation_rate[a]);
    }
    if (spatial == 1 && o->dilation_rate[0] > 1)
        return nb_error(NB_ERR_ARG, "%s: dilation_rate is %d: Conv1D supports only 1", fn,
                        o->dilation_rate[0]);
    if (o->padding != NB_PADDING_VALID && o->padding != NB_PADDING_SAME)
        return nb_error(NB_ERR_ARG, "%s: padding %d is not NB_PADDING_VALID or NB_PADDING_SAME",
                        fn, (int)o->padding);
    if ((unsigned)o->activation >= NB_ACTIVATION_COUNT)
        return nb_error(NB_ERR_ARG, "%s: activation %d is not an nb_activation", fn,
                        (int)o->activation);
    if ((unsigned)o->kernel_initializer > NB_RANDOM_NORMAL ||
        (unsigned)o->bias_initializer > NB_RANDOM_NORMAL)
        return nb_error(NB_ERR_ARG, "%s: an initializer is not an nb_initializer", fn);
    return NB_OK;
}

static nb_layer *conv_layer_with(const char *fn, const nb_layer_class *cls, int spatial,
                                 const nb_conv_options *options)
{
    if (!options) {
        nb_error(NB_ERR_NULL, "%s: options is NULL", fn);
        return NULL;
    }
    if (check_conv_options(fn, options, spatial) != NB_OK)
        return NULL;
    conv_state *s = nb_alloc_zeroed(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    s->spatial = spatial;
    s->options = *options;
    nb_conv_options *o = &s->options;
    /* resolve the defaults now, so the config names what was used */
    for (int a = 0; a < 2; a++) {
        o->strides[a] = a < spatial ? or_one(o->strides[a]) : 1;
        o->dilation_rate[a] = a < spatial ? or_one(o->dilation_rate[a]) : 1;
        o->kernel_size[a] = a < spatial ? o->kernel_size[a] : 1;
    }
    if (o->kernel_initializer == NB_INIT_DEFAULT)
        o->kernel_initializer = NB_GLOROT_UNIFORM;
    if (o->bias_initializer == NB_INIT_DEFAULT)
        o->bias_initializer = NB_ZEROS;
    nb_layer *layer = nb_layer_new(cls, NULL, s);
    if (!layer)
        nb_release(s);
    return layer;
}

nb_layer *nb_conv2d_layer_with(const nb_conv_options *options)
{
    return conv_layer_with("nb_conv2d_layer", &nb__conv2d_class, 2, options);
}

nb_layer *nb_conv1d_layer_with(const nb_conv_options *options)
{
    return conv_layer_with("nb_conv1d_layer", &nb__conv1d_class, 1, options);
}

nb_layer *nb_conv2d_layer(int64_t filters, int kernel_size, int stride, nb_padding padding,
                          nb_activation activation)
{
    return nb_conv2d_layer_with(&(nb_conv_options){
        .filters = filters, .kernel_size = {kernel_size, kernel_size},
        .strides = {stride, stride}, .padding = padding, .activation = activation});
}

nb_layer *nb_conv1d_layer(int64_t filters, int kernel_size, int stride, nb_padding padding,
                          nb_activation activation)
{
    return nb_conv1d_layer_with(&(nb_conv_options){.filters = filters,
                                                   .kernel_size = {kernel_size},
                                                   .strides = {stride},
                                                   .padding = padding,
                                                   .activation = activation});
}

/* {"filters": 32, "kernel_size": [3, 3], "strides": [1, 1], "padding":
 *  "valid", "dilation_rate": [1, 1], "activation": "relu", "use_bias": true,
 *  "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"} */
static nb_layer *conv_from_config(const cJSON *json, const char *type, int spatial)
{
    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(json, "filters");
    const cJSON *activation = cJSON_GetObjectItemCaseSensitive(json, "activation");
    const cJSON *kernel_init = cJSON_GetObjectItemCaseSensitive(json, "kernel_initializer");
    const cJSON *bias_init = cJSON_GetObjectItemCaseSensitive(json, "bias_initializer");
    nb_conv_options o = {0};
    if (!cJSON_IsNumber(filters) || filters->valuedouble < 1 || filters->valuedouble > 1e9 ||
        filters->valuedouble != floor(filters->valuedouble)) {
        nb_error(NB_ERR_FORMAT, "%s config: \"filters\" is missing or not a positive integer",
                 type);
        return NULL;
    }
    o.filters = (int64_t)filters->valuedouble;
    o.no_bias = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(json, "use_bias"));
    if (nb__int_list_from_config(json, type, "kernel_size", spatial, o.kernel_size) != NB_OK ||
        nb__int_list_from_config(json, type, "strides", spatial, o.strides) != NB_OK ||
        nb__int_list_from_config(json, type, "dilation_rate", spatial, o.dilation_rate) != NB_OK ||
        nb__padding_from_config(json, type, &o.padding) != NB_OK)
        return NULL;
    /* absent names keep the defaults */
    const char *act = cJSON_GetStringValue(activation);
    const char *k_init = cJSON_GetStringValue(kernel_init);
    const char *b_init = cJSON_GetStringValue(bias_init);
    if ((activation && nb_activation_from_name(act, &o.activation) != NB_OK) ||
        (kernel_init && nb_initializer_from_name(k_init, &o.kernel_initializer) != NB_OK) ||
        (bias_init && nb_initializer_from_name(b_init, &o.bias_initializer) != NB_OK))
        return NULL;
    return spatial == 2 ? nb_conv2d_layer_with(&o) : nb_conv1d_layer_with(&o);
}

static nb_layer *conv2d_from_config(const cJSON *json)
{
    return conv_from_config(json, "Conv2D", 2);
}

static nb_layer *conv1d_from_config(const cJSON *json)
{
    return conv_from_config(json, "Conv1D", 1);
}
