/* Pooling layers: MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D
 * and their 1-D forms, each one op (src/ops/pool.c), no weights. */
#include <cjson/cJSON.h>
#include <string.h>

#include "internal.h"
#include "nabla/layer.h"
#include "nabla/ops.h"
#include "nn/layers_internal.h"
#include "ops/window.h"

typedef struct pool_state {
    int pool_size, strides; /* strides resolved: never 0 */
    nb_padding padding;
    int spatial;            /* 2 or 1 */
    bool max;               /* max, else average */
    bool global;            /* Global...: the mean over all positions */
} pool_state;

static nb_status pool_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    (void)rng;
    const pool_state *s = self->state;
    char sx[NB_SHAPE_BUF];
    if (in_rank != s->spatial + 1)
        return nb_error(NB_ERR_SHAPE, "%s layer '%s': input %s per sample: expected %s",
                        self->cls->type, self->name, nb__dims_str(in_rank, in_shape, sx, sizeof sx),
                        s->spatial == 2 ? "[height, width, channels]" : "[steps, channels]");
    if (s->global) {
        self->out_rank = 1;
        self->out_shape[0] = in_shape[s->spatial];
        return NB_OK;
    }
    for (int axis = 0; axis < s->spatial; axis++) {
        int64_t pad;
        if (!nb__window_axis(s->padding, in_shape[axis], s->pool_size, s->strides,
                             &self->out_shape[axis], &pad))
            return nb_error(NB_ERR_SHAPE, "%s layer '%s': input %s per sample is smaller than "
                            "the pool (%d) with padding valid", self->cls->type, self->name,
                            nb__dims_str(in_rank, in_shape, sx, sizeof sx), s->pool_size);
    }
    return NB_OK;
}

static nb_tensor *pool_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                               nb_rng *rng)
{
    (void)training, (void)rng;
    const pool_state *s = self->state;
    if (s->global)
        return s->spatial == 2 ? nb_global_avg_pool2d(tape, x) : nb_global_avg_pool1d(tape, x);
    if (s->spatial == 2)
        return (s->max ? nb_max_pool2d : nb_avg_pool2d)(tape, x, s->pool_size, s->strides,
                                                        s->padding);
    return (s->max ? nb_max_pool1d : nb_avg_pool1d)(tape, x, s->pool_size, s->strides,
                                                    s->padding);
}

/* {"pool_size": [2, 2], "strides": [2, 2], "padding": "valid"}; the global
 * layers have none */
static nb_status pool_config(const nb_layer *self, cJSON *json)
{
    const pool_state *s = self->state;
    if (s->global)
        return NB_OK;
    int pool[2] = {s->pool_size, s->pool_size}, strides[2] = {s->strides, s->strides};
    bool ok = nb__add_int_list(json, "pool_size", s->spatial, pool) == NB_OK &&
              nb__add_int_list(json, "strides", s->spatial, strides) == NB_OK &&
              cJSON_AddStringToObject(json, "padding", nb__padding_name(s->padding));
    return ok ? NB_OK : nb_error(NB_ERR_NOMEM, "%s layer '%s': out of memory for its config",
                                 self->cls->type, self->name);
}

static void pool_destroy(nb_layer *self) { nb_release(self->state); }

/* nb__<kind>_class, of type_name, made from its config by <kind>_from_config */
#define POOL_CLASS(kind, type_name)                                                          \
    static nb_layer *kind##_from_config(const cJSON *json);                                  \
    const nb_layer_class nb__##kind##_class = {.type = type_name,                            \
                                               .build = pool_build,                          \
                                               .forward = pool_forward,                      \
                                               .config = pool_config,                        \
                                               .destroy = pool_destroy,                      \
                                               .from_config = kind##_from_config}

POOL_CLASS(max_pooling2d, "MaxPooling2D");
POOL_CLASS(average_pooling2d, "AveragePooling2D");
POOL_CLASS(global_average_pooling2d, "GlobalAveragePooling2D");
POOL_CLASS(max_pooling1d, "MaxPooling1D");
POOL_CLASS(average_pooling1d, "AveragePooling1D");
POOL_CLASS(global_average_pooling1d, "GlobalAveragePooling1D");

static nb_layer *pool_layer(const char *fn, const nb_layer_class *cls, pool_state state)
{
    if (!state.global && (state.pool_size < 1 || state.strides < 0)) {
        nb_error(NB_ERR_ARG, "%s: %s is %d: expected at least 1", fn,
                 state.pool_size < 1 ? "pool_size" : "strides",
                 state.pool_size < 1 ? state.pool_size : state.strides);
        return NULL;
    }
    if (state.padding != NB_PADDING_VALID && state.padding != NB_PADDING_SAME) {
        nb_error(NB_ERR_ARG, "%s: padding %d is not NB_PADDING_VALID or NB_PADDING_SAME", fn,
                 (int)state.padding);
        return NULL;
    }
    pool_state *s = nb_alloc_zeroed(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *s = state;
    if (s->strides == 0) /* Keras: strides default to pool_size */
        s->strides = s->pool_size;
    nb_layer *layer = nb_layer_new(cls, NULL, s);
    if (!layer)
        nb_release(s);
    return layer;
}

nb_layer *nb_max_pooling2d(int pool_size, int strides, nb_padding padding)
{
    return pool_layer("nb_max_pooling2d", &nb__max_pooling2d_class,
                      (pool_state){pool_size, strides, padding, 2, true, false});
}

nb_layer *nb_average_pooling2d(int pool_size, int strides, nb_padding padding)
{
    return pool_layer("nb_average_pooling2d", &nb__average_pooling2d_class,
                      (pool_state){pool_size, strides, padding, 2, false, false});
}

nb_layer *nb_global_average_pooling2d(void)
{
    return pool_layer("nb_global_average_pooling2d", &nb__global_average_pooling2d_class,
                      (pool_state){1, 1, NB_PADDING_VALID, 2, false, true});
}

nb_layer *nb_max_pooling1d(int pool_size, int strides, nb_padding padding)
{
    return pool_layer("nb_max_pooling1d", &nb__max_pooling1d_class,
                      (pool_state){pool_size, strides, padding, 1, true, false});
}

nb_layer *nb_average_pooling1d(int pool_size, int strides, nb_padding padding)
{
    return pool_layer("nb_average_pooling1d", &nb__average_pooling1d_class,
                      (pool_state){pool_size, strides, padding, 1, false, false});
}

nb_layer *nb_global_average_pooling1d(void)
{
    return pool_layer("nb_global_average_pooling1d", &nb__global_average_pooling1d_class,
                      (pool_state){1, 1, NB_PADDING_VALID, 1, false, true});
}

/* A windowed pooling layer of `type` from its config. */
static nb_layer *pool_from(const cJSON *json, const char *type, int spatial,
                           nb_layer *(*make)(int, int, nb_padding))
{
    int pool[2], strides[2];
    nb_padding padding;
    if (nb__int_list_from_config(json, type, "pool_size", spatial, pool) != NB_OK ||
        nb__int_list_from_config(json, type, "strides", spatial, strides) != NB_OK ||
        nb__padding_from_config(json, type, &padding) != NB_OK)
        return NULL;
    return make(pool[0], strides[0], padding);
}

static nb_layer *max_pooling2d_from_config(const cJSON *json)
{
    return pool_from(json, "MaxPooling2D", 2, nb_max_pooling2d);
}

static nb_layer *average_pooling2d_from_config(const cJSON *json)
{
    return pool_from(json, "AveragePooling2D", 2, nb_average_pooling2d);
}

static nb_layer *max_pooling1d_from_config(const cJSON *json)
{
    return pool_from(json, "MaxPooling1D", 1, nb_max_pooling1d);
}

static nb_layer *average_pooling1d_from_config(const cJSON *json)
{
    return pool_from(json, "AveragePooling1D", 1, nb_average_pooling1d);
}

static nb_layer *global_average_pooling2d_from_config(const cJSON *json)
{
    (void)json;
    return nb_global_average_pooling2d();
}

static nb_layer *global_average_pooling1d_from_config(const cJSON *json)
{
    (void)json;
    return nb_global_average_pooling1d();
}
