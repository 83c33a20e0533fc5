/* Softmax and log-softmax over the last axis, stable for large inputs. */
#include "ops/ops_internal.h"

static nb_status softmax_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                               int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_rank(node, 0, 1, NB_MAX_RANK);
    return s == NB_OK ? nb_infer_same_as_input(node, dtype, rank, shape) : s;
}

/* Each row: m = max(x); y = x - m - log(sum exp(x - m)) for log-softmax, or
 * exp(x - m) / sum exp(x - m) for softmax. Subtracting m keeps every exp in
 * (0, 1], so nothing overflows and the sum is at least 1. */
#define SOFTMAX_ROWS(T, LOG)                                                                 \
    do {                                                                                     \
        const T *x = node->inputs[0]->data;                                                  \
        T *y = node->output->data;                                                           \
        for (int64_t r = 0; r < rows; r++) {                                                 \
            const T *xr = x + r * n;                                                         \
            T *yr = y + r * n;                                                               \
            T m = xr[0];                                                                     \
            for (int64_t j = 1; j < n; j++)                                                  \
                m = xr[j] > m ? xr[j] : m;                                                   \
            T sum = 0;                                                                       \
            for (int64_t j = 0; j < n; j++) {                                                \
                yr[j] = exp(xr[j] - m);                                                      \
                sum += yr[j];                                                                \
            }                                                                                \
            if (LOG) {                                                                       \
                T log_sum = log(sum);                                                        \
                for (int64_t j = 0; j < n; j++)                                              \
                    yr[j] = xr[j] - m - log_sum;                                             \
            } else {                                                                         \
                for (int64_t j = 0; j < n; j++)                                              \
                    yr[j] /= sum;                                                            \
            }                                                                                \
        }                                                                                    \
    } while (0)

static nb_status softmax_rows(nb_node *node, bool log_space)
{
    int64_t n = node->output->shape[node->output->rank - 1];
    int64_t rows = node->output->size / n;
    if (node->output->dtype == NB_F32)
        SOFTMAX_ROWS(float, log_space);
    else
        SOFTMAX_ROWS(double, log_space);
    return NB_OK;
}

static nb_status softmax_forward(nb_node *node) { return softmax_rows(node, false); }
static nb_status log_softmax_forward(nb_node *node) { return softmax_rows(node, true); }

/* softmax: dx_j = y_j (g_j - sum_k g_k y_k)
 * log-softmax: dx_j = g_j - softmax_j sum_k g_k, with softmax_j = exp(y_j) */
#define SOFTMAX_GRAD_ROWS(T, LOG)                                                            \
    do {                                                                                     \
        const T *y = node->output->data, *g = node->output->grad;                            \
        T *dx = grad_in;                                                                     \
        for (int64_t r = 0; r < rows; r++) {                                                 \
            const T *yr = y + r * n, *gr = g + r * n;                                        \
            T *dr = dx + r * n;                                                              \
            T dot = 0;                                                                       \
            for (int64_t j = 0; j < n; j++)                                                  \
                dot += LOG ? gr[j] : gr[j] * yr[j];                                          \
            for (int64_t j = 0; j < n; j++)                                                  \
                dr[j] += LOG ? gr[j] - exp(yr[j]) * dot : yr[j] * (gr[j] - dot);             \
        }                                                                                    \
    } while (0)

static nb_status softmax_grad(nb_node *node, bool log_space)
{
    void *grad_in = nb_node_input_grad(node, 0);
    if (!grad_in)
        return NB_ERR_NOMEM; /* recorded, so the input wants a gradient */
    int64_t n = node->output->shape[node->output->rank - 1];
    int64_t rows = node->output->size / n;
    if (node->output->dtype == NB_F32)
        SOFTMAX_GRAD_ROWS(float, log_space);
    else
        SOFTMAX_GRAD_ROWS(double, log_space);
    return NB_OK;
}

static nb_status softmax_backward(nb_node *node) { return softmax_grad(node, false); }
static nb_status log_softmax_backward(nb_node *node) { return softmax_grad(node, true); }

static const nb_op softmax_op = {
    .name = "softmax",
    .n_inputs = 1,
    .infer = softmax_infer,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .overwrites_output = true,
};

static const nb_op log_softmax_op = {
    .name = "log_softmax",
    .n_inputs = 1,
    .infer = softmax_infer,
    .forward = log_softmax_forward,
    .backward = log_softmax_backward,
    .overwrites_output = true,
};

nb_tensor *nb_softmax(nb_tape *tape, nb_tensor *x)
{
    return nb_op_apply(tape, &softmax_op, 1, (nb_tensor *[]){x}, NULL, 0);
}

nb_tensor *nb_log_softmax(nb_tape *tape, nb_tensor *x)
{
    return nb_op_apply(tape, &log_softmax_op, 1, (nb_tensor *[]){x}, NULL, 0);
}
