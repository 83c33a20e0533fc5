/* Activations by name and weight initializers, as Keras defines them. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "nabla/alloc.h"
#include "nabla/layer.h"
#include "nabla/ops.h"

static const char *const activation_names[NB_ACTIVATION_COUNT] = {
    "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "gelu", "softplus", "silu",
    "leaky_relu"};

/* Keras 3's defaults for the activations that take a parameter */
#define ELU_ALPHA 1.0
#define LEAKY_RELU_SLOPE 0.2

nb_tensor *nb_activate(nb_tape *tape, nb_tensor *x, nb_activation activation)
{
    switch (activation) {
    case NB_LINEAR:
        /* no op runs, so check here what nb_op_apply checks for the others */
        return x && nb__check_live("nb_activate", x) == NB_OK ? x : NULL;
    case NB_RELU: return nb_relu(tape, x);
    case NB_SIGMOID: return nb_sigmoid(tape, x);
    case NB_TANH: return nb_tanh(tape, x);
    case NB_SOFTMAX: return nb_softmax(tape, x);
    case NB_ELU: return nb_elu(tape, x, ELU_ALPHA);
    case NB_GELU: return nb_gelu(tape, x);
    case NB_SOFTPLUS: return nb_softplus(tape, x);
    case NB_SILU: return nb_silu(tape, x);
    case NB_LEAKY_RELU: return nb_leaky_relu(tape, x, LEAKY_RELU_SLOPE);
    case NB_ACTIVATION_COUNT: break;
    }
    nb_error(NB_ERR_ARG, "nb_activate: activation %d is not an nb_activation", (int)activation);
    return NULL;
}

const char *nb_activation_name(nb_activation activation)
{
    unsigned i = (unsigned)activation;
    return i < sizeof activation_names / sizeof *activation_names ? activation_names[i] : "?";
}

nb_status nb_activation_from_name(const char *name, nb_activation *out)
{
    if (name && strcmp(name, "swish") == 0) { /* Keras's other name for silu */
        *out = NB_SILU;
        return NB_OK;
    }
    for (unsigned i = 0; name && i < sizeof activation_names / sizeof *activation_names; i++)
        if (strcmp(name, activation_names[i]) == 0) {
            *out = (nb_activation)i;
            return NB_OK;
        }
    return nb_error(NB_ERR_ARG, "nb_activation_from_name: unknown activation '%s': expected "
                    "linear, relu, sigmoid, tanh, softmax, elu, gelu, softplus, silu, swish or "
                    "leaky_relu", name ? name : "(null)");
}

static const char *const initializer_names[] = {
    "default", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "zeros", "ones", "random_normal", "orthogonal"};

const char *nb_initializer_name(nb_initializer init)
{
    unsigned i = (unsigned)init;
    return i < sizeof initializer_names / sizeof *initializer_names ? initializer_names[i] : "?";
}

nb_status nb_initializer_from_name(const char *name, nb_initializer *out)
{
    for (unsigned i = 0; name && i < sizeof initializer_names / sizeof *initializer_names; i++)
        if (strcmp(name, initializer_names[i]) == 0) {
            *out = (nb_initializer)i;
            return NB_OK;
        }
    return nb_error(NB_ERR_ARG, "nb_initializer_from_name: unknown initializer '%s': expected "
                    "glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, "
                    "lecun_normal, zeros, ones, random_normal or orthogonal", name ? name : "(null)");
}

/* Normal cut at two standard deviations by redrawing, as Keras's
 * TruncatedNormal; its standard deviation is then 0.8796 of the untruncated
 * one, which Keras's variance-scaling initializers compensate for. */
static double truncated_normal(nb_rng *rng)
{
    double z;
    do {
        z = nb_rng_normal(rng);
    } while (fabs(z) > 2.0);
    return z;
}

#define TRUNCATION_STDDEV 0.87962566103423978

static void fill(nb_tensor *t, nb_rng *rng, bool uniform, double scale)
{
    for (int64_t i = 0; i < t->size; i++) {
        double v = uniform ? scale * (2.0 * nb_rng_uniform(rng) - 1.0)
                           : scale / TRUNCATION_STDDEV * truncated_normal(rng);
        nb_tensor_set(t, i, v);
    }
}

/* Keras's Orthogonal: the Q of a QR factorisation of a normal matrix of
 * shape [max(r, c), min(r, c)], its columns' signs made those of R's
 * diagonal, transposed when r < c. Gram-Schmidt (done twice, for accuracy)
 * gives exactly that Q: it is the QR factor whose R has a positive diagonal. */
static nb_status fill_orthogonal(nb_tensor *t, nb_rng *rng)
{
    int64_t rows = t->shape[0], cols = t->shape[1];
    int64_t n = rows > cols ? rows : cols, m = rows > cols ? cols : rows;
    double *q = nb_alloc((size_t)(n * m) * sizeof *q); /* column j at q + j * n */
    if (!q)
        return nb_error(NB_ERR_NOMEM, "nb_initialize: out of memory for a [%lld, %lld] "
                        "orthogonal matrix", (long long)rows, (long long)cols);
    for (int64_t i = 0; i < n * m; i++)
        q[i] = nb_rng_normal(rng);
    for (int64_t j = 0; j < m; j++) {
        double *v = q + j * n;
        for (int pass = 0; pass < 2; pass++)
            for (int64_t k = 0; k < j; k++) {
                const double *u = q + k * n;
                double dot = 0;
                for (int64_t i = 0; i < n; i++)
                    dot += u[i] * v[i];
                for (int64_t i = 0; i < n; i++)
                    v[i] -= dot * u[i];
            }
        double norm = 0;
        for (int64_t i = 0; i < n; i++)
            norm += v[i] * v[i];
        norm = sqrt(norm);
        for (int64_t i = 0; i < n; i++)
            v[i] /= norm;
    }
    /* [n, m] with columns q_j; transposed (rows q_j) when rows < cols */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < m; j++)
            nb_tensor_set(t, rows >= cols ? i * cols + j : j * cols + i, q[j * n + i]);
    nb_release(q);
    return NB_OK;
}

nb_tensor *nb_initialize(nb_initializer init, nb_dtype dtype, int64_t fan_in, int64_t fan_out,
                         nb_rng *rng)
{
    return nb_initialize_shaped(init, dtype, NB_SHAPE(fan_in, fan_out), fan_in, fan_out, rng);
}

nb_tensor *nb_initialize_shaped(nb_initializer init, nb_dtype dtype, int rank,
                                const int64_t *shape, int64_t fan_in, int64_t fan_out,
                                nb_rng *rng)
{
    if (!rng) {
        nb_error(NB_ERR_NULL, "nb_initialize: rng is NULL");
        return NULL;
    }
    nb_tensor *t = nb_tensor_zeros(dtype, rank, shape);
    if (!t)
        return NULL;
    double in = (double)fan_in, avg = (double)(fan_in + fan_out) / 2.0;
    switch (init) {
    case NB_INIT_DEFAULT: /* a layer resolves its default before calling */
    case NB_GLOROT_UNIFORM: fill(t, rng, true, sqrt(3.0 / avg)); break;
    case NB_GLOROT_NORMAL: fill(t, rng, false, sqrt(1.0 / avg)); break;
    case NB_HE_UNIFORM: fill(t, rng, true, sqrt(6.0 / in)); break;
    case NB_HE_NORMAL: fill(t, rng, false, sqrt(2.0 / in)); break;
    case NB_LECUN_UNIFORM: fill(t, rng, true, sqrt(3.0 / in)); break;
    case NB_LECUN_NORMAL: fill(t, rng, false, sqrt(1.0 / in)); break;
    case NB_ZEROS: break;
    case NB_ONES: nb_tensor_fill(t, 1.0); break;
    case NB_RANDOM_NORMAL:
        for (int64_t i = 0; i < t->size; i++)
            nb_tensor_set(t, i, 0.05 * nb_rng_normal(rng));
        break;
    case NB_ORTHOGONAL:
        if (fill_orthogonal(t, rng) != NB_OK) {
            nb_tensor_free(t);
            return NULL;
        }
        break;
    default:
        nb_tensor_free(t);
        nb_error(NB_ERR_ARG, "nb_initialize: initializer %d is not an nb_initializer", (int)init);
        return NULL;
    }
    return t;
}
