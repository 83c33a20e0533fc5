/* Layers without parameters: Activation, Flatten, Dropout. */
#include <cjson/cJSON.h>

#include "nabla/alloc.h"
#include "nabla/layer.h"
#include "nabla/ops.h"
#include "nn/layers_internal.h"

/* ---- Activation ---------------------------------------------------------- */

static nb_tensor *activation_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                     nb_rng *rng)
{
    (void)training;
    (void)rng;
    return nb_activate(tape, x, *(const nb_activation *)self->state);
}

static nb_status activation_config(const nb_layer *self, cJSON *json)
{
    const char *name = nb_activation_name(*(const nb_activation *)self->state);
    return cJSON_AddStringToObject(json, "activation", name)
               ? NB_OK
               : nb_error(NB_ERR_NOMEM, "Activation layer '%s': out of memory", self->name);
}

static void release_state(nb_layer *self) { nb_release(self->state); }

static nb_layer *activation_from_config(const cJSON *json)
{
    nb_activation a;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "activation");
    if (nb_activation_from_name(cJSON_GetStringValue(name), &a) != NB_OK)
        return NULL;
    return nb_activation_layer(a);
}

const nb_layer_class nb__activation_class = {
    .type = "Activation",
    .forward = activation_forward,
    .config = activation_config,
    .destroy = release_state,
    .from_config = activation_from_config,
};

nb_layer *nb_activation_layer(nb_activation activation)
{
    if ((unsigned)activation >= NB_ACTIVATION_COUNT) {
        nb_error(NB_ERR_ARG, "nb_activation_layer: activation %d is not an nb_activation",
                 (int)activation);
        return NULL;
    }
    nb_activation *state = nb_alloc(sizeof *state);
    if (!state) {
        nb_error(NB_ERR_NOMEM, "nb_activation_layer: out of memory");
        return NULL;
    }
    *state = activation;
    nb_layer *layer = nb_layer_new(&nb__activation_class, NULL, state);
    if (!layer)
        nb_release(state);
    return layer;
}

/* ---- Flatten --------------------------------------------------------------- */

static nb_status flatten_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    (void)rng;
    int64_t n = 1;
    for (int d = 0; d < in_rank; d++)
        n *= in_shape[d];
    self->out_rank = 1;
    self->out_shape[0] = n;
    return NB_OK;
}

static nb_tensor *flatten_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                  nb_rng *rng)
{
    (void)self;
    (void)training;
    (void)rng;
    return nb_flatten(tape, x);
}

static nb_layer *flatten_from_config(const cJSON *json)
{
    (void)json;
    return nb_flatten_layer();
}

const nb_layer_class nb__flatten_class = {
    .type = "Flatten",
    .build = flatten_build,
    .forward = flatten_forward,
    .from_config = flatten_from_config,
};

nb_layer *nb_flatten_layer(void) { return nb_layer_new(&nb__flatten_class, NULL, NULL); }

/* ---- Dropout ----------------------------------------------------------------- */

/* Inverted dropout: x * mask, where the mask holds 0 (probability rate) or
 * 1 / (1 - rate), so the expected output equals the input and inference needs
 * no rescaling. The mask is a constant on the tape; nb_mul's backward gives
 * the gradient. */
static nb_tensor *dropout_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                  nb_rng *rng)
{
    double rate = *(const double *)self->state;
    if (!training || rate == 0.0)
        return x;
    if (!rng) {
        nb_error(NB_ERR_NULL, "Dropout layer '%s': rng is NULL in training", self->name);
        return NULL;
    }
    nb_tensor *mask = nb_tape_tensor(tape, x->dtype, x->rank, x->shape);
    if (!mask)
        return NULL;
    double keep = 1.0 / (1.0 - rate);
    for (int64_t i = 0; i < mask->size; i++)
        nb_tensor_set(mask, i, nb_rng_uniform(rng) < rate ? 0.0 : keep);
    nb_tensor *y = nb_mul(tape, x, mask);
    if (!tape)
        nb_tensor_free(mask);
    return y;
}

static nb_status dropout_config(const nb_layer *self, cJSON *json)
{
    return cJSON_AddNumberToObject(json, "rate", *(const double *)self->state)
               ? NB_OK
               : nb_error(NB_ERR_NOMEM, "Dropout layer '%s': out of memory", self->name);
}

static nb_layer *dropout_from_config(const cJSON *json)
{
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(json, "rate");
    if (!cJSON_IsNumber(rate)) {
        nb_error(NB_ERR_FORMAT, "Dropout config: \"rate\" is missing or not a number");
        return NULL;
    }
    return nb_dropout(rate->valuedouble);
}

const nb_layer_class nb__dropout_class = {
    .type = "Dropout",
    .forward = dropout_forward,
    .config = dropout_config,
    .destroy = release_state,
    .from_config = dropout_from_config,
};

nb_layer *nb_dropout(double rate)
{
    if (!(rate >= 0.0 && rate < 1.0)) {
        nb_error(NB_ERR_ARG, "nb_dropout: rate is %g: expected 0 <= rate < 1", rate);
        return NULL;
    }
    double *state = nb_alloc(sizeof *state);
    if (!state) {
        nb_error(NB_ERR_NOMEM, "nb_dropout: out of memory");
        return NULL;
    }
    *state = rate;
    nb_layer *layer = nb_layer_new(&nb__dropout_class, NULL, state);
    if (!layer)
        nb_release(state);
    return layer;
}
