/* Bidirectional (Keras's, merge_mode "concat"): a recurrent layer run over
 * the sequence as it is, a copy of it (same config, its own weights) run
 * over the sequence reversed in time, and their outputs joined on the last
 * axis; with return_sequences the backward layer's steps are put back in
 * the input's order first. Reversal is one nb_take along the time axis, so
 * this too is only ops. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "nabla/indexing.h"
#include "nabla/ops.h"
#include "nn/layers_internal.h"
#include "nn/recurrent_internal.h"

typedef struct bidirectional_state {
    nb_layer *forward, *backward; /* owned; their weights are the wrapper's */
} bidirectional_state;

/* Build an inner layer, then hand its weights to the wrapper under
 * "<direction>/<name>": the model sees, trains and saves them as the
 * wrapper's, and the inner layer keeps using them (it no longer frees them). */
static nb_status build_direction(nb_layer *self, nb_layer *inner, const char *direction,
                                 int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    nb_status status = nb_layer_build(inner, in_rank, in_shape, self->dtype, rng);
    int moved = 0;
    for (; status == NB_OK && moved < inner->n_params; moved++) {
        char name[sizeof inner->param_names[moved]];
        snprintf(name, sizeof name, "%s/%.16s", direction, inner->param_names[moved]);
        status = nb_layer_add_param(self, name, inner->params[moved]);
        if (status != NB_OK)
            break;
    }
    if (status == NB_OK) {
        inner->n_params = 0; /* the pointers stay, for the inner forward */
        return NB_OK;
    }
    /* the weights not handed over are still the inner layer's to free */
    for (int k = moved; k < inner->n_params; k++)
        inner->params[k - moved] = inner->params[k];
    inner->n_params -= moved;
    return status;
}

static nb_status bidirectional_build(nb_layer *self, int in_rank, const int64_t *in_shape,
                                     nb_rng *rng)
{
    const bidirectional_state *s = self->state;
    nb_status status = build_direction(self, s->forward, "forward", in_rank, in_shape, rng);
    if (status == NB_OK)
        status = build_direction(self, s->backward, "backward", in_rank, in_shape, rng);
    if (status != NB_OK)
        return status;
    self->out_rank = s->forward->out_rank;
    memcpy(self->out_shape, s->forward->out_shape, sizeof self->out_shape);
    self->out_shape[self->out_rank - 1] *= 2;
    return NB_OK;
}

/* x [batch, time, ...] with the time axis reversed */
static nb_tensor *reverse_time(nb_tape *tape, nb_tensor *x)
{
    if (!x)
        return NULL;
    int64_t time = x->shape[1];
    nb_tensor *indices = nb_tape_tensor(tape, NB_F32, NB_SHAPE(time));
    for (int64_t t = 0; indices && t < time; t++)
        nb_tensor_set(indices, t, (double)(time - 1 - t));
    return indices ? nb_take(tape, x, indices, 1) : NULL;
}

static nb_tensor *bidirectional_forward(nb_layer *self, nb_tape *tape, nb_tensor *x,
                                        bool training, nb_rng *rng)
{
    const bidirectional_state *s = self->state;
    nb_tensor *ahead = nb_layer_forward(s->forward, tape, x, training, rng);
    nb_tensor *back = nb_layer_forward(s->backward, tape, reverse_time(tape, x), training, rng);
    if (back && back->rank == 3)
        back = reverse_time(tape, back);
    if (!ahead || !back)
        return NULL;
    return nb_concat(tape, 2, (nb_tensor *const[]){ahead, back}, -1);
}

static nb_status bidirectional_config(const nb_layer *self, cJSON *json)
{
    const bidirectional_state *s = self->state;
    cJSON *layer = cJSON_AddObjectToObject(json, "layer");
    cJSON *config = layer && cJSON_AddStringToObject(layer, "class_name", s->forward->cls->type)
                        ? cJSON_AddObjectToObject(layer, "config")
                        : NULL;
    if (!config || !cJSON_AddStringToObject(json, "merge_mode", "concat"))
        return nb_error(NB_ERR_NOMEM, "Bidirectional layer '%s': out of memory for its config",
                        self->name);
    return s->forward->cls->config(s->forward, config);
}

static void bidirectional_destroy(nb_layer *self)
{
    bidirectional_state *s = self->state;
    nb_layer_free(s->forward);
    nb_layer_free(s->backward);
    nb_release(s);
}

/* {"layer": {"class_name": "LSTM", "config": {...}}, "merge_mode": "concat"} */
static nb_layer *bidirectional_from_config(const cJSON *json)
{
    const cJSON *layer = cJSON_GetObjectItemCaseSensitive(json, "layer");
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(layer, "class_name"));
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(layer, "config");
    const char *merge = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "merge_mode"));
    if (!type || !cJSON_IsObject(config)) {
        nb_error(NB_ERR_FORMAT, "Bidirectional config: \"layer\" lacks a \"class_name\" or a "
                 "\"config\"");
        return NULL;
    }
    if (merge && strcmp(merge, "concat") != 0) {
        nb_error(NB_ERR_FORMAT, "Bidirectional config: merge_mode '%s': only \"concat\" is "
                 "supported", merge);
        return NULL;
    }
    const nb_layer_class *cls = nb_layer_find_class(type);
    nb_layer *inner = cls && cls->from_config ? cls->from_config(config) : NULL;
    return inner ? nb_bidirectional(inner) : NULL;
}

const nb_layer_class nb__bidirectional_class = {
    .type = "Bidirectional",
    .build = bidirectional_build,
    .forward = bidirectional_forward,
    .config = bidirectional_config,
    .destroy = bidirectional_destroy,
    .from_config = bidirectional_from_config,
};

nb_layer *nb_bidirectional(nb_layer *layer)
{
    const char *fn = "nb_bidirectional";
    if (!layer) {
        nb_error(NB_ERR_NULL, "%s: layer is NULL", fn);
        return NULL;
    }
    bool recurrent = layer->cls == &nb__simple_rnn_class || layer->cls == &nb__lstm_class ||
                     layer->cls == &nb__gru_class;
    if (!recurrent || layer->built || layer->owner) {
        nb_error(NB_ERR_ARG, "%s: layer '%s' is a %s%s: expected a new SimpleRNN, LSTM or GRU",
                 fn, layer->name, layer->built ? "built " : "", layer->cls->type);
        if (!layer->owner)
            nb_layer_free(layer);
        return NULL;
    }
    /* the backward layer: the same config, through the loader's path */
    cJSON *config = cJSON_CreateObject();
    nb_layer *backward = config && layer->cls->config(layer, config) == NB_OK
                             ? layer->cls->from_config(config)
                             : NULL;
    cJSON_Delete(config);
    bidirectional_state *s = backward ? nb_alloc_zeroed(sizeof *s) : NULL;
    nb_layer *self = s ? nb_layer_new(&nb__bidirectional_class, NULL, s) : NULL;
    if (!self) {
        if (backward && !s)
            nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        nb_release(s);
        nb_layer_free(backward);
        nb_layer_free(layer);
        return NULL;
    }
    snprintf(layer->name, sizeof layer->name, "forward");
    snprintf(backward->name, sizeof backward->name, "backward");
    s->forward = layer;
    s->backward = backward;
    return self;
}
