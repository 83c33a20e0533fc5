/* nabla/layer.h: the layer interface, and the built-in layers.
 *
 * A layer is a struct with a class (a table of functions) and the state the
 * class keeps. Every layer, built-in or written by a user, composes ops in its
 * forward function: no layer has a backward pass of its own; nb_backward
 * differentiates through the ops it recorded.
 *
 * A custom layer fills an nb_layer_class and creates its layers with
 * nb_layer_new; see examples/custom_layer.c. Its build function receives the
 * input shape (without the batch axis), creates its parameters with
 * nb_layer_add_param and sets the output shape; its forward function gets a
 * batch x with the batch on axis 0.
 */
#ifndef NABLA_LAYER_H
#define NABLA_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla/conv.h"
#include "nabla/rng.h"
#include "nabla/tape.h"
#include "nabla/tensor.h"

#define NB_LAYER_MAX_PARAMS 8

struct cJSON;
typedef struct nb_layer nb_layer;

typedef struct nb_layer_class {
    const char *type; /* "Dense", shown by summaries and saved in model files */
    /* Create the parameters (of dtype self->dtype) for inputs of shape
     * in_shape[0..in_rank) (no batch axis), drawing initial values from rng,
     * and set
     * self->out_rank / self->out_shape. NULL: the output is shaped as the
     * input and there are no parameters. */
    nb_status (*build)(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng);
    /* Compute the output for the batch x on tape. `training` is true inside
     * fit (dropout is active only then). rng gives randomness for this call. */
    nb_tensor *(*forward)(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                          nb_rng *rng);
    /* Add the layer's configuration to a JSON object (units, activation...);
     * may be NULL. */
    nb_status (*config)(const nb_layer *self, struct cJSON *json);
    /* Free self->state; may be NULL. Parameters are freed by nb_layer_free. */
    void (*destroy)(nb_layer *self);
    /* Create an unbuilt layer from the JSON object that config wrote, for
     * loading model files; NULL when the class cannot be loaded. */
    nb_layer *(*from_config)(const struct cJSON *json);
} nb_layer_class;

struct nb_layer {
    const nb_layer_class *cls;
    char name[32];      /* unique in its model: "dense", "dense_1", ... */
    bool built;
    nb_dtype dtype;     /* of the parameters: the model's dtype */
    int in_rank, out_rank; /* shapes without the batch axis */
    int64_t in_shape[NB_MAX_RANK], out_shape[NB_MAX_RANK];
    int n_params;
    nb_tensor *params[NB_LAYER_MAX_PARAMS]; /* owned by the layer */
    char param_names[NB_LAYER_MAX_PARAMS][32]; /* "kernel", "backward/recurrent_kernel" */
    /* true for a non-trainable weight (nb_layer_add_state): saved and loaded
     * with the model, never given a gradient or an optimizer step */
    bool param_is_state[NB_LAYER_MAX_PARAMS];
    void *state; /* the class's own data */
    const void *owner; /* the model that holds it (nb_model_add), or NULL */
};

/* A new unbuilt layer of a class; it takes ownership of `state` (freed by the
 * class's destroy). name may be NULL (the model names it from the type). */
nb_layer *nb_layer_new(const nb_layer_class *cls, const char *name, void *state);
/* Give a parameter (caller-owned tensor) to the layer during build; it is
 * marked as requiring gradients and freed with the layer. */
nb_status nb_layer_add_param(nb_layer *layer, const char *name, nb_tensor *param);
/* Give a non-trainable weight (caller-owned tensor) to the layer during
 * build, as Keras's non-trainable weights (BatchNormalization's moving
 * mean): it is saved and loaded with the model and counted by summaries as
 * non-trainable, but it requires no gradient and no optimizer changes it;
 * the layer's forward updates it. Freed with the layer. */
nb_status nb_layer_add_state(nb_layer *layer, const char *name, nb_tensor *state);
/* Build for an input shape (no batch axis) with parameters of `dtype`; the
 * model does this when it is built. */
nb_status nb_layer_build(nb_layer *layer, int in_rank, const int64_t *in_shape, nb_dtype dtype,
                         nb_rng *rng);
/* Forward a batch after checking that the layer is built and x fits it. With
 * tape == NULL nothing is recorded and the result is caller-owned. */
nb_tensor *nb_layer_forward(nb_layer *layer, nb_tape *tape, nb_tensor *x, bool training,
                            nb_rng *rng);
/* Number of parameter elements. */
int64_t nb_layer_param_count(const nb_layer *layer);
/* Free the layer, its state and its parameters. NULL is ignored. */
void nb_layer_free(nb_layer *layer);

/* Make a custom class known to the model loader (by its type name), so model
 * files with such layers can be loaded; built-in classes are known already.
 * The class must stay valid for the life of the program. */
nb_status nb_layer_register_class(const nb_layer_class *cls);
/* The class of a type name ("Dense"), or NULL with an error. */
const nb_layer_class *nb_layer_find_class(const char *type);

/* ---- activations and initializers -------------------------------------- */

typedef enum nb_activation {
    NB_LINEAR = 0, /* no activation */
    NB_RELU,
    NB_SIGMOID,
    NB_TANH,
    NB_SOFTMAX,
    NB_ELU,        /* alpha 1, as Keras's "elu" */
    NB_GELU,       /* the exact erf form, Keras's "gelu" default */
    NB_SOFTPLUS,
    NB_SILU,       /* x sigmoid(x), Keras's "silu" (also "swish") */
    NB_LEAKY_RELU, /* negative slope 0.2, as Keras 3's "leaky_relu" */
    NB_ACTIVATION_COUNT /* not an activation: the number of them */
} nb_activation;

/* Apply an activation as its op; NB_LINEAR returns x. */
nb_tensor *nb_activate(nb_tape *tape, nb_tensor *x, nb_activation activation);
const char *nb_activation_name(nb_activation activation); /* "relu" */
/* Parse "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "gelu",
 * "softplus", "silu" (or "swish") and "leaky_relu"; NB_ERR_ARG otherwise. */
nb_status nb_activation_from_name(const char *name, nb_activation *out);

typedef enum nb_initializer {
    NB_INIT_DEFAULT = 0,   /* the layer's default: what a zeroed options struct means */
    NB_GLOROT_UNIFORM,     /* U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
    NB_GLOROT_NORMAL,      /* truncated normal, std sqrt(2 / (fan_in + fan_out)) */
    NB_HE_UNIFORM,         /* l = sqrt(6 / fan_in) */
    NB_HE_NORMAL,          /* std sqrt(2 / fan_in) */
    NB_LECUN_UNIFORM,      /* l = sqrt(3 / fan_in) */
    NB_LECUN_NORMAL,       /* std sqrt(1 / fan_in) */
    NB_ZEROS,
    NB_ONES,
    NB_RANDOM_NORMAL,      /* N(0, 0.05), Keras's RandomNormal default */
    NB_ORTHOGONAL          /* Keras's Orthogonal (gain 1): orthonormal columns when
                            * fan_in >= fan_out (W^T W = I), else orthonormal rows
                            * (W W^T = I); the recurrent kernels' default */
} nb_initializer;

/* A [fan_in, fan_out] tensor initialised as named (truncated normals are cut
 * at two standard deviations, as Keras does). Caller-owned. */
nb_tensor *nb_initialize(nb_initializer init, nb_dtype dtype, int64_t fan_in, int64_t fan_out,
                         nb_rng *rng);
/* nb_initialize for a tensor of any shape, with the fans given: Keras gives
 * a convolution kernel [kh, kw, in, filters] fan_in kh * kw * in and
 * fan_out kh * kw * filters. Caller-owned. */
nb_tensor *nb_initialize_shaped(nb_initializer init, nb_dtype dtype, int rank,
                                const int64_t *shape, int64_t fan_in, int64_t fan_out,
                                nb_rng *rng);
const char *nb_initializer_name(nb_initializer init);
nb_status nb_initializer_from_name(const char *name, nb_initializer *out);

/* ---- built-in layers (src/nn/) ------------------------------------------ */

typedef struct nb_dense_options {
    int64_t units;
    nb_activation activation;          /* default NB_LINEAR */
    nb_initializer kernel_initializer; /* default (NB_INIT_DEFAULT): glorot_uniform */
    nb_initializer bias_initializer;   /* default (NB_INIT_DEFAULT): zeros, as Keras */
    bool no_bias;                      /* Keras use_bias=False */
} nb_dense_options;

/* Dense: y = activation(x W + b), x [batch, in], W [in, units], b [units].
 * On samples of rank 2 or more it acts on the last axis, as Keras 3 does:
 * [batch, steps, in] -> [batch, steps, units] with the same W and b for
 * every step (softmax too runs over the units). */
nb_layer *nb_dense(int64_t units, nb_activation activation);
nb_layer *nb_dense_with(const nb_dense_options *options);
/* An activation alone. */
nb_layer *nb_activation_layer(nb_activation activation);
/* [batch, d1, d2, ...] -> [batch, d1 * d2 * ...]. */
nb_layer *nb_flatten_layer(void);
/* Inverted dropout: in training, zero each element with probability rate and
 * scale the rest by 1 / (1 - rate); the identity otherwise. 0 <= rate < 1. */
nb_layer *nb_dropout(double rate);

/* Reshape (Keras's Reshape): each sample takes target_shape (rank entries,
 * the batch axis not included); one entry may be -1 and is then inferred.
 * Building fails when the sample's element count does not fit. */
nb_layer *nb_reshape_layer(int rank, const int64_t *target_shape);
/* Permute (Keras's Permute): reorder a sample's axes; dims are numbered from
 * 1, as Keras numbers them, so (2, 1) swaps the two axes of a rank-2 sample
 * and the batch axis stays first. */
nb_layer *nb_permute_layer(int rank, const int *dims);
/* Embedding (Keras's Embedding): integer indices in [0, input_dim), held as
 * floats, of shape [batch, ...] -> [batch, ..., output_dim], the rows of a
 * trainable table "embeddings" [input_dim, output_dim] initialised uniform
 * in [-0.05, 0.05] as Keras does. An index out of range is an error of the
 * forward pass naming it. */
nb_layer *nb_embedding(int64_t input_dim, int64_t output_dim);
/* LayerNormalization (Keras's, axis -1): over the last axis of each sample,
 * y = (x - mean) / sqrt(var + epsilon) * gamma + beta, var the population
 * variance; gamma starts at ones and beta at zeros, both [features].
 * NB_LAYER_NORM_EPSILON is Keras's default epsilon. */
#define NB_LAYER_NORM_EPSILON 1e-3
nb_layer *nb_layer_normalization(double epsilon);
/* BatchNormalization (Keras's, axis -1): over every axis but the last, in
 * training (fit), y = (x - mean) / sqrt(var + epsilon) * gamma + beta with
 * the batch's mean and population variance, and the non-trainable
 * moving_mean and moving_variance move toward them:
 * moving = moving * momentum + batch * (1 - momentum). Outside training
 * (evaluate, predict) the moving statistics take the batch's place. Weights
 * in Keras's order: gamma (ones), beta (zeros), moving_mean (zeros),
 * moving_variance (ones), all [features]; the moving ones are saved with the
 * model. A model with this layer trains on one thread (the statistics are
 * the whole batch's). */
#define NB_BATCH_NORM_MOMENTUM 0.99
#define NB_BATCH_NORM_EPSILON 1e-3
nb_layer *nb_batch_normalization(double momentum, double epsilon);

/* ---- recurrent layers (src/nn/recurrent.c, lstm.c, gru.c) ---------------
 * Keras's SimpleRNN, LSTM and GRU on inputs [batch, time, features], built
 * only from ops: the layer unrolls its cell over the time steps on the tape
 * and nb_backward walks them in reverse (backpropagation through time). The
 * input projection x W + b of every step is one product before the loop;
 * each step then adds h U (one product for all the gates), slices the gate
 * blocks and applies the activations. The initial state is zero.
 *
 * Weights, with Keras's names, shapes and gate order (docs/recurrent.md maps
 * them to PyTorch's):
 *   SimpleRNN  kernel [features, units], recurrent_kernel [units, units],
 *              bias [units];  h = tanh(x W + h U + b)
 *   LSTM       kernel [features, 4 units], recurrent_kernel [units, 4 units],
 *              bias [4 units], gates i, f, c, o;
 *              c = f c + i tanh(zc), h = o tanh(c)
 *   GRU        (reset_after=True, Keras 2.3+) kernel [features, 3 units],
 *              recurrent_kernel [units, 3 units], bias [2, 3 units] (row 0
 *              input bias, row 1 recurrent bias), gates z, r, h;
 *              hh = tanh(x Wh + b_in,h + r (h Uh + b_rec,h)),
 *              h = z h + (1 - z) hh
 * Output: [batch, units], the last h; with return_sequences [batch, time,
 * units], every step's h.
 *
 * return_state: a Sequential model passes one tensor between layers, so the
 * final states are not extra outputs here. A layer made with return_state
 * keeps a copy of the last forward's final states, read with
 * nb_recurrent_state (values only: no gradient flows through them). */
typedef struct nb_recurrent_options {
    int64_t units;
    /* NB_LINEAR (0) means the default: tanh and, for LSTM and GRU, the
     * recurrent activation sigmoid; a linear activation is not offered */
    nb_activation activation;
    nb_activation recurrent_activation;
    bool return_sequences;
    bool return_state;
    nb_initializer kernel_initializer;    /* default glorot_uniform */
    nb_initializer recurrent_initializer; /* default orthogonal */
    nb_initializer bias_initializer;      /* default zeros */
    /* LSTM: Keras's unit_forget_bias (default true) adds 1 to the forget
     * gate's bias at initialisation; set this to turn it off */
    bool no_unit_forget_bias;
} nb_recurrent_options;

/* SimpleRNN(units) with Keras's defaults. Errors (NB_ERR_ARG): units < 1,
 * an activation or initializer out of range; building for samples that are
 * not [time, features] is NB_ERR_SHAPE. */
nb_layer *nb_simple_rnn(int64_t units);
/* SimpleRNN with Keras's arguments in options; a zeroed field means the default. */
nb_layer *nb_simple_rnn_with(const nb_recurrent_options *options);
/* LSTM(units) with Keras's defaults; errors as nb_simple_rnn's. */
nb_layer *nb_lstm(int64_t units);
/* LSTM with Keras's arguments in options; a zeroed field means the default. */
nb_layer *nb_lstm_with(const nb_recurrent_options *options);
/* GRU(units), reset_after=True, with Keras's defaults; errors as
 * nb_simple_rnn's. */
nb_layer *nb_gru(int64_t units);
/* GRU with Keras's arguments in options; a zeroed field means the default. */
nb_layer *nb_gru_with(const nb_recurrent_options *options);

/* State i of a recurrent layer made with return_state after its last
 * forward: 0 is h [batch, units]; 1 is an LSTM's c. Owned by the layer,
 * overwritten by the next forward. NULL with an error for another layer,
 * one without return_state, before any forward, or i out of range. */
const nb_tensor *nb_recurrent_state(const nb_layer *layer, int i);

/* Bidirectional (Keras's, merge_mode "concat") around a new SimpleRNN, LSTM
 * or GRU: the layer runs over the sequence, a copy of it (same config, its
 * own weights) over the sequence reversed in time, and the outputs are
 * joined on the last axis: [batch, 2 units], or with return_sequences
 * [batch, time, 2 units] (the backward steps put back in time order).
 * Takes ownership of layer, also on failure. Weights are named
 * forward/kernel ... backward/bias. NB_ERR_ARG for another layer type or a
 * layer already built or in a model. */
nb_layer *nb_bidirectional(nb_layer *layer);

/* RepeatVector (Keras's): [batch, features] -> [batch, n, features], the
 * input repeated n times; the bridge from an encoder's last state to a
 * decoder's steps. n >= 1. */
nb_layer *nb_repeat_vector(int64_t n);

/* ---- convolution and pooling layers (src/nn/conv_layers.c, pool_layers.c) */

/* Conv2D and Conv1D options, with Keras's names and defaults. A 1-D layer
 * reads entry 0 of kernel_size, strides and dilation_rate. */
typedef struct nb_conv_options {
    int64_t filters;
    int kernel_size[2];                /* [height, width] of the window */
    int strides[2];                    /* default (0): 1 */
    int dilation_rate[2];              /* default (0): 1 */
    nb_padding padding;                /* default NB_PADDING_VALID */
    nb_activation activation;          /* default NB_LINEAR */
    nb_initializer kernel_initializer; /* default: glorot_uniform */
    nb_initializer bias_initializer;   /* default: zeros */
    bool no_bias;                      /* Keras use_bias=False */
} nb_conv_options;

/* Conv2D (Keras's, channels_last): samples [height, width, channels] ->
 * [out_height, out_width, filters] by nb_conv2d with a "kernel"
 * [kernel_size, kernel_size, channels, filters] (glorot_uniform with
 * Keras's fans), plus a "bias" [filters] (zeros), then the activation.
 * Building fails, naming the shapes, when a sample is not of rank 3 or,
 * with VALID, is smaller than the window. */
nb_layer *nb_conv2d_layer(int64_t filters, int kernel_size, int stride, nb_padding padding,
                          nb_activation activation);
nb_layer *nb_conv2d_layer_with(const nb_conv_options *options);
/* Conv1D: samples [steps, channels] -> [out_steps, filters], a "kernel"
 * [kernel_size, channels, filters] and a "bias" [filters], as Conv2D. */
nb_layer *nb_conv1d_layer(int64_t filters, int kernel_size, int stride, nb_padding padding,
                          nb_activation activation);
nb_layer *nb_conv1d_layer_with(const nb_conv_options *options);

/* MaxPooling2D and AveragePooling2D: pool_size x pool_size windows at
 * `strides` (0: pool_size, Keras's default), by nb_max_pool2d and
 * nb_avg_pool2d. No weights. */
nb_layer *nb_max_pooling2d(int pool_size, int strides, nb_padding padding);
nb_layer *nb_average_pooling2d(int pool_size, int strides, nb_padding padding);
/* GlobalAveragePooling2D: [height, width, channels] -> [channels]. */
nb_layer *nb_global_average_pooling2d(void);
/* The 1-D forms, over samples [steps, channels]. */
nb_layer *nb_max_pooling1d(int pool_size, int strides, nb_padding padding);
nb_layer *nb_average_pooling1d(int pool_size, int strides, nb_padding padding);
nb_layer *nb_global_average_pooling1d(void);

#endif
