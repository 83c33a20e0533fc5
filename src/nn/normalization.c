/* LayerNormalization and BatchNormalization, composed of mean, subtract,
 * square, sqrt, divide, multiply and add: the ops' backward passes give
 * their gradients. */
#include <cjson/cJSON.h>
#include <math.h>

#include "internal.h"
#include "nabla/layer.h"
#include "nabla/ops.h"
#include "nn/layers_internal.h"

typedef struct layer_norm_state {
    double epsilon;
} layer_norm_state;

enum { GAMMA = 0, BETA = 1 };

/* A weight of shape [n] filled with value: a parameter, or with is_state a
 * non-trainable weight (nb_layer_add_state). */
static nb_status add_filled(nb_layer *self, const char *name, int64_t n, double value,
                            bool is_state)
{
    nb_tensor *t = nb_tensor_full(self->dtype, NB_SHAPE(n), value);
    nb_status s = t ? (is_state ? nb_layer_add_state : nb_layer_add_param)(self, name, t)
                    : nb_last_status();
    if (s != NB_OK)
        nb_tensor_free(t);
    return s;
}

static nb_status layer_norm_build(nb_layer *self, int in_rank, const int64_t *in_shape,
                                  nb_rng *rng)
{
    (void)rng;
    int64_t features = in_shape[in_rank - 1];
    nb_status s = add_filled(self, "gamma", features, 1.0, false);
    return s == NB_OK ? add_filled(self, "beta", features, 0.0, false) : s;
}

/* y = (x - mean) / sqrt(var + epsilon) * gamma + beta over the last axis,
 * var the mean of the squared deviations (divisor n, as Keras). gamma and
 * beta [features] broadcast over the leading axes. */
static nb_tensor *layer_norm_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                     nb_rng *rng)
{
    (void)training;
    (void)rng;
    const layer_norm_state *s = self->state;
    nb_tensor *centered = nb_sub(tape, x, nb_mean_axis(tape, x, -1, true));
    nb_tensor *var = nb_mean_axis(tape, nb_square(tape, centered), -1, true);
    nb_tensor *normed = nb_div(tape, centered, nb_sqrt(tape, nb_add_scalar(tape, var, s->epsilon)));
    return nb_add(tape, nb_mul(tape, normed, self->params[GAMMA]), self->params[BETA]);
}

static nb_status layer_norm_config(const nb_layer *self, cJSON *json)
{
    const layer_norm_state *s = self->state;
    bool ok = cJSON_AddNumberToObject(json, "axis", -1) &&
              cJSON_AddNumberToObject(json, "epsilon", s->epsilon);
    return ok ? NB_OK : nb_error(NB_ERR_NOMEM, "LayerNormalization layer '%s': out of memory "
                                 "for its config", self->name);
}

static void layer_norm_destroy(nb_layer *self) { nb_release(self->state); }

static nb_layer *layer_norm_from_config(const cJSON *json)
{
    const cJSON *axis = cJSON_GetObjectItemCaseSensitive(json, "axis");
    const cJSON *epsilon = cJSON_GetObjectItemCaseSensitive(json, "epsilon");
    if (axis && !(cJSON_IsNumber(axis) && axis->valuedouble == -1)) {
        nb_error(NB_ERR_FORMAT, "LayerNormalization config: \"axis\" must be -1 (the last "
                 "axis), the only one nabla normalises over");
        return NULL;
    }
    if (epsilon && !cJSON_IsNumber(epsilon)) {
        nb_error(NB_ERR_FORMAT, "LayerNormalization config: \"epsilon\" is not a number");
        return NULL;
    }
    return nb_layer_normalization(epsilon ? epsilon->valuedouble : NB_LAYER_NORM_EPSILON);
}

const nb_layer_class nb__layer_norm_class = {
    .type = "LayerNormalization",
    .build = layer_norm_build,
    .forward = layer_norm_forward,
    .config = layer_norm_config,
    .destroy = layer_norm_destroy,
    .from_config = layer_norm_from_config,
};

nb_layer *nb_layer_normalization(double epsilon)
{
    if (!(epsilon > 0) || !isfinite(epsilon)) {
        nb_error(NB_ERR_ARG, "nb_layer_normalization: epsilon is %g: expected a positive "
                 "number (Keras's default is 1e-3)", epsilon);
        return NULL;
    }
    layer_norm_state *s = nb_alloc(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "nb_layer_normalization: out of memory");
        return NULL;
    }
    s->epsilon = epsilon;
    nb_layer *layer = nb_layer_new(&nb__layer_norm_class, NULL, s);
    if (!layer)
        nb_release(s);
    return layer;
}

/* ---- BatchNormalization ------------------------------------------------------ */

typedef struct batch_norm_state {
    double momentum, epsilon;
} batch_norm_state;

enum { MOVING_MEAN = 2, MOVING_VARIANCE = 3 };

/* Keras's weights, in Keras's order: gamma and beta (trainable), then the
 * moving mean (zeros) and moving variance (ones), all [features]. */
static nb_status batch_norm_build(nb_layer *self, int in_rank, const int64_t *in_shape,
                                  nb_rng *rng)
{
    (void)rng;
    int64_t features = in_shape[in_rank - 1];
    nb_status s = add_filled(self, "gamma", features, 1.0, false);
    if (s == NB_OK)
        s = add_filled(self, "beta", features, 0.0, false);
    if (s == NB_OK)
        s = add_filled(self, "moving_mean", features, 0.0, true);
    return s == NB_OK ? add_filled(self, "moving_variance", features, 1.0, true) : s;
}

/* moving = moving * momentum + batch * (1 - momentum), off the tape: the
 * moving statistics are state, not something to differentiate. */
static void update_moving(nb_tensor *moving, const nb_tensor *batch, double momentum)
{
    for (int64_t i = 0; i < moving->size; i++)
        nb_tensor_set(moving, i, nb_tensor_get(moving, i) * momentum +
                                     nb_tensor_get(batch, i) * (1.0 - momentum));
}

/* Over every axis but the last (the features): in training, normalise with
 * the batch's mean and population variance and move the moving statistics
 * toward them; otherwise normalise with the moving statistics. Then
 * y = normalised * gamma + beta. */
static nb_tensor *batch_norm_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                     nb_rng *rng)
{
    (void)rng;
    const batch_norm_state *s = self->state;
    nb_tensor *const *p = self->params;
    int64_t rows[2] = {-1, x->shape[x->rank - 1]};
    nb_tensor *x2 = nb_reshape(tape, x, 2, rows);
    nb_tensor *mean = p[MOVING_MEAN], *var = p[MOVING_VARIANCE];
    if (training) {
        mean = nb_mean_axis(tape, x2, 0, false);
        var = nb_mean_axis(tape, nb_square(tape, nb_sub(tape, x2, mean)), 0, false);
        if (!var)
            return NULL;
        update_moving(p[MOVING_MEAN], mean, s->momentum);
        update_moving(p[MOVING_VARIANCE], var, s->momentum);
    }
    nb_tensor *normed = nb_div(tape, nb_sub(tape, x2, mean),
                               nb_sqrt(tape, nb_add_scalar(tape, var, s->epsilon)));
    nb_tensor *y = nb_add(tape, nb_mul(tape, normed, p[GAMMA]), p[BETA]);
    return nb_reshape(tape, y, x->rank, x->shape);
}

static nb_status batch_norm_config(const nb_layer *self, cJSON *json)
{
    const batch_norm_state *s = self->state;
    bool ok = cJSON_AddNumberToObject(json, "axis", -1) &&
              cJSON_AddNumberToObject(json, "momentum", s->momentum) &&
              cJSON_AddNumberToObject(json, "epsilon", s->epsilon);
    return ok ? NB_OK : nb_error(NB_ERR_NOMEM, "BatchNormalization layer '%s': out of memory "
                                 "for its config", self->name);
}

static nb_layer *batch_norm_from_config(const cJSON *json)
{
    const cJSON *axis = cJSON_GetObjectItemCaseSensitive(json, "axis");
    const cJSON *momentum = cJSON_GetObjectItemCaseSensitive(json, "momentum");
    const cJSON *epsilon = cJSON_GetObjectItemCaseSensitive(json, "epsilon");
    if (axis && !(cJSON_IsNumber(axis) && axis->valuedouble == -1)) {
        nb_error(NB_ERR_FORMAT, "BatchNormalization config: \"axis\" must be -1 (the last "
                 "axis), the only one nabla normalises over");
        return NULL;
    }
    if ((momentum && !cJSON_IsNumber(momentum)) || (epsilon && !cJSON_IsNumber(epsilon))) {
        nb_error(NB_ERR_FORMAT, "BatchNormalization config: \"%s\" is not a number",
                 momentum && !cJSON_IsNumber(momentum) ? "momentum" : "epsilon");
        return NULL;
    }
    return nb_batch_normalization(momentum ? momentum->valuedouble : NB_BATCH_NORM_MOMENTUM,
                                  epsilon ? epsilon->valuedouble : NB_BATCH_NORM_EPSILON);
}

const nb_layer_class nb__batch_norm_class = {
    .type = "BatchNormalization",
    .build = batch_norm_build,
    .forward = batch_norm_forward,
    .config = batch_norm_config,
    .destroy = layer_norm_destroy, /* both states are plain structs */
    .from_config = batch_norm_from_config,
};

nb_layer *nb_batch_normalization(double momentum, double epsilon)
{
    if (!(momentum >= 0 && momentum <= 1) || !(epsilon > 0) || !isfinite(epsilon)) {
        nb_error(NB_ERR_ARG, "nb_batch_normalization: momentum is %g and epsilon %g: expected "
                 "0 <= momentum <= 1 and a positive epsilon (Keras's defaults are 0.99 and "
                 "1e-3)", momentum, epsilon);
        return NULL;
    }
    batch_norm_state *s = nb_alloc(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "nb_batch_normalization: out of memory");
        return NULL;
    }
    *s = (batch_norm_state){momentum, epsilon};
    nb_layer *layer = nb_layer_new(&nb__batch_norm_class, NULL, s);
    if (!layer)
        nb_release(s);
    return layer;
}
