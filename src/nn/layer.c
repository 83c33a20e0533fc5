/* The layer base: creation, parameters, build and forward checks. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "nabla/layer.h"
#include "nn/layers_internal.h"

nb_layer *nb_layer_new(const nb_layer_class *cls, const char *name, void *state)
{
    if (!cls || !cls->forward) {
        nb_error(NB_ERR_NULL, "nb_layer_new: the class or its forward function is NULL");
        return NULL;
    }
    nb_layer *layer = nb_alloc_zeroed(sizeof *layer);
    if (!layer) {
        nb_error(NB_ERR_NOMEM, "nb_layer_new: out of memory for a %s layer", cls->type);
        return NULL;
    }
    layer->cls = cls;
    layer->state = state;
    snprintf(layer->name, sizeof layer->name, "%s", name ? name : "");
    return layer;
}

/* A weight of the layer; fn names the public function for errors. */
static nb_status add_weight(const char *fn, nb_layer *layer, const char *name, nb_tensor *t,
                            bool is_state)
{
    if (!layer || !t)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, layer ? "the tensor" : "layer");
    if (layer->n_params == NB_LAYER_MAX_PARAMS)
        return nb_error(NB_ERR_ARG, "%s: layer '%s' already has %d weights: the most a layer "
                        "can have", fn, layer->name, NB_LAYER_MAX_PARAMS);
    if (t->tape || t->node)
        return nb_error(NB_ERR_ARG, "%s: weight '%s' of layer '%s' lives on a tape: expected a "
                        "caller-owned tensor", fn, name ? name : "", layer->name);
    int i = layer->n_params++;
    layer->params[i] = t;
    layer->param_is_state[i] = is_state;
    snprintf(layer->param_names[i], sizeof layer->param_names[i], "%s", name ? name : "param");
    /* names in model files are "<layer>/<param>", e.g. dense/kernel */
    snprintf(t->name, sizeof t->name, "%.14s/%.16s", layer->name, layer->param_names[i]);
    t->requires_grad = !is_state;
    return NB_OK;
}

nb_status nb_layer_add_param(nb_layer *layer, const char *name, nb_tensor *param)
{
    return add_weight("nb_layer_add_param", layer, name, param, false);
}

nb_status nb_layer_add_state(nb_layer *layer, const char *name, nb_tensor *state)
{
    return add_weight("nb_layer_add_state", layer, name, state, true);
}

nb_status nb_layer_build(nb_layer *layer, int in_rank, const int64_t *in_shape, nb_dtype dtype,
                         nb_rng *rng)
{
    if (!layer || !rng)
        return nb_error(NB_ERR_NULL, "nb_layer_build: %s is NULL", layer ? "rng" : "layer");
    if (layer->built)
        return nb_error(NB_ERR_STATE, "nb_layer_build: layer '%s' is already built", layer->name);
    if (in_rank < 1 || in_rank > NB_MAX_RANK - 1)
        return nb_error(NB_ERR_SHAPE, "nb_layer_build: layer '%s': input rank %d per sample: "
                        "expected 1 to %d (the batch axis takes one more)", layer->name, in_rank,
                        NB_MAX_RANK - 1);
    if (nb__check_shape("nb_layer_build", in_rank, in_shape, NULL) != NB_OK)
        return nb_last_status();
    if (dtype != NB_F32 && dtype != NB_F64)
        return nb_error(NB_ERR_DTYPE, "nb_layer_build: dtype %d is not NB_F32 or NB_F64", (int)dtype);
    layer->dtype = dtype;
    layer->in_rank = in_rank;
    memcpy(layer->in_shape, in_shape, (size_t)in_rank * sizeof *in_shape);
    /* the default output shape is the input shape; build may change it */
    layer->out_rank = in_rank;
    memcpy(layer->out_shape, in_shape, (size_t)in_rank * sizeof *in_shape);
    if (layer->cls->build) {
        nb_status s = layer->cls->build(layer, in_rank, in_shape, rng);
        if (s != NB_OK)
            return s;
    }
    layer->built = true;
    return NB_OK;
}

static nb_status check_input(const nb_layer *layer, const nb_tensor *x)
{
    char got[NB_SHAPE_BUF], want[NB_SHAPE_BUF];
    bool fits = x->rank == layer->in_rank + 1;
    for (int d = 0; fits && d < layer->in_rank; d++)
        fits = x->shape[d + 1] == layer->in_shape[d];
    if (!fits) {
        int64_t batch_shape[NB_MAX_RANK + 1] = {0};
        batch_shape[0] = -1;
        memcpy(batch_shape + 1, layer->in_shape, (size_t)layer->in_rank * sizeof(int64_t));
        nb__dims_str(layer->in_rank + 1, batch_shape, want, sizeof want);
        return nb_error(NB_ERR_SHAPE, "%s layer '%s': input has shape %s: expected %s (-1: any batch size)",
                        layer->cls->type, layer->name, nb_shape_str(x, got, sizeof got),
                        want);
    }
    return NB_OK;
}

/* Without a tape, a class's forward would hand the caller its intermediates
 * (Dense's x W before the bias) or x itself (an identity) with no way to tell
 * which to free. Run it on a scratch tape instead and return a caller-owned
 * copy of the output, as ops do with tape == NULL. */
static nb_tensor *forward_untaped(nb_layer *layer, nb_tensor *x, bool training, nb_rng *rng)
{
    nb_tape *scratch = nb_tape_new();
    if (!scratch)
        return NULL;
    nb_tape_set_grad_enabled(scratch, false);
    nb_tensor *y = layer->cls->forward(layer, scratch, x, training, rng);
    nb_tensor *result = y ? nb_tensor_copy(y, y->dtype) : NULL;
    nb_tape_free(scratch);
    return result;
}

nb_tensor *nb_layer_forward(nb_layer *layer, nb_tape *tape, nb_tensor *x, bool training,
                            nb_rng *rng)
{
    if (!layer) {
        nb_error(NB_ERR_NULL, "nb_layer_forward: layer is NULL");
        return NULL;
    }
    if (!x)
        return NULL; /* keep the message of whatever produced the NULL */
    if (!layer->built) {
        nb_error(NB_ERR_STATE, "nb_layer_forward: layer '%s' is not built: add it to a model "
                 "with an input shape, or call nb_layer_build", layer->name);
        return NULL;
    }
    if (check_input(layer, x) != NB_OK)
        return NULL;
    if (!tape)
        return forward_untaped(layer, x, training, rng);
    return layer->cls->forward(layer, tape, x, training, rng);
}

int64_t nb_layer_param_count(const nb_layer *layer)
{
    int64_t n = 0;
    for (int i = 0; layer && i < layer->n_params; i++)
        n += layer->params[i]->size;
    return n;
}

void nb_layer_free(nb_layer *layer)
{
    if (!layer)
        return;
    if (layer->cls->destroy)
        layer->cls->destroy(layer);
    for (int i = 0; i < layer->n_params; i++)
        nb_tensor_free(layer->params[i]);
    nb_release(layer);
}

/* ---- class registry, for loading model files --------------------------- */

#define MAX_CLASSES 32

static const nb_layer_class *registered[MAX_CLASSES];
static int n_registered;

static const nb_layer_class *builtin_class(int i)
{
    const nb_layer_class *builtins[] = {
        &nb__dense_class,   &nb__activation_class, &nb__flatten_class,   &nb__dropout_class,
        &nb__reshape_class, &nb__permute_class,    &nb__embedding_class, &nb__layer_norm_class,
        &nb__batch_norm_class, &nb__simple_rnn_class, &nb__lstm_class, &nb__gru_class,
        &nb__repeat_vector_class, &nb__bidirectional_class, &nb__conv2d_class,
        &nb__conv1d_class, &nb__max_pooling2d_class, &nb__average_pooling2d_class,
        &nb__global_average_pooling2d_class, &nb__max_pooling1d_class,
        &nb__average_pooling1d_class, &nb__global_average_pooling1d_class};
    return i < (int)(sizeof builtins / sizeof *builtins) ? builtins[i] : NULL;
}

nb_status nb_layer_register_class(const nb_layer_class *cls)
{
    const char *fn = "nb_layer_register_class";
    if (!cls || !cls->type)
        return nb_error(NB_ERR_NULL, "%s: the class or its type name is NULL", fn);
    const nb_layer_class *known = NULL;
    for (int i = 0; builtin_class(i); i++)
        if (strcmp(builtin_class(i)->type, cls->type) == 0)
            known = builtin_class(i);
    for (int i = 0; i < n_registered; i++)
        if (strcmp(registered[i]->type, cls->type) == 0)
            known = registered[i];
    if (known == cls)
        return NB_OK;
    if (known)
        return nb_error(NB_ERR_ARG, "%s: another class is registered as '%s'", fn, cls->type);
    if (n_registered == MAX_CLASSES)
        return nb_error(NB_ERR_ARG, "%s: %d classes are registered already: the most there can be",
                        fn, MAX_CLASSES);
    registered[n_registered++] = cls;
    return NB_OK;
}

const nb_layer_class *nb_layer_find_class(const char *type)
{
    for (int i = 0; type && builtin_class(i); i++)
        if (strcmp(builtin_class(i)->type, type) == 0)
            return builtin_class(i);
    for (int i = 0; type && i < n_registered; i++)
        if (strcmp(registered[i]->type, type) == 0)
            return registered[i];
    nb_error(NB_ERR_ARG, "nb_layer_find_class: unknown layer type '%s': expected Dense, "
             "Activation, Flatten, Dropout, Reshape, Permute, Embedding, LayerNormalization, "
             "BatchNormalization, SimpleRNN, LSTM, GRU, RepeatVector, Bidirectional, Conv2D, "
             "Conv1D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, MaxPooling1D, "
             "AveragePooling1D, GlobalAveragePooling1D or a class given to "
             "nb_layer_register_class",
             type ? type : "(null)");
    return NULL;
}
