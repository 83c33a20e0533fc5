/* Op-table entries (tests/op_table.h) of convolution and pooling
 * (src/ops/conv.c, pool.c, window.c): images NHWC [n, h, w, c] with
 * kernels [kh, kw, c, f], sequences [n, steps, c] with kernels [k, c, f]. */
#include <limits.h>

#include "op_table.h"

#define R1(a) {1, {a}}
#define R2(a, b) {2, {a, b}}
#define R3(a, b, c) {3, {a, b, c}}
#define R4(a, b, c, d) {4, {a, b, c, d}}

/* the int args of a sample or a reject */
#define A(...) {{__VA_ARGS__}, {0}}

#define VALID NB_PADDING_VALID
#define SAME NB_PADDING_SAME

/* An int argument from an args slot (any int64 from the fuzzer),
 * saturated so that a value past int's range stays out of range. */
static int to_int(int64_t v) { return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v; }

/* nb_padding from a slot: any int, so that the op meets paddings that are
 * neither VALID nor SAME and must reject them. */
static nb_padding to_padding(int64_t v) { return (nb_padding)to_int(v); }

/* ---- calls ----------------------------------------------------------------- */

/* nb_conv2d and nb_conv1d: i[0] the stride, i[1] the padding. */
static nb_tensor *call_conv2d(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *a)
{
    (void)n;
    return nb_conv2d(tape, in[0], in[1], to_int(a->i[0]), to_padding(a->i[1]));
}

static nb_tensor *call_conv1d(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *a)
{
    (void)n;
    return nb_conv1d(tape, in[0], in[1], to_int(a->i[0]), to_padding(a->i[1]));
}

/* nb_conv1d_bias: inputs x, kernel, bias; i[0] the stride, i[1] the padding. */
static nb_tensor *call_conv1d_bias(nb_tape *tape, int n, nb_tensor *const in[],
                                   const nb_op_args *a)
{
    (void)n;
    return nb_conv1d_bias(tape, in[0], in[1], in[2], to_int(a->i[0]), to_padding(a->i[1]));
}

/* nb_conv2d_options from i[0], i[1] (strides), i[2], i[3] (dilation), i[4]
 * (padding); zeros mean 1, as the options say. */
static nb_conv2d_options options_of(const nb_op_args *a)
{
    return (nb_conv2d_options){.strides = {to_int(a->i[0]), to_int(a->i[1])},
                               .dilation = {to_int(a->i[2]), to_int(a->i[3])},
                               .padding = to_padding(a->i[4])};
}

static nb_tensor *call_conv2d_with(nb_tape *tape, int n, nb_tensor *const in[],
                                   const nb_op_args *a)
{
    (void)n;
    return nb_conv2d_with(tape, in[0], in[1], options_of(a));
}

/* inputs x, kernel, bias; args as nb_conv2d_with's */
static nb_tensor *call_conv2d_bias(nb_tape *tape, int n, nb_tensor *const in[],
                                   const nb_op_args *a)
{
    (void)n;
    return nb_conv2d_bias(tape, in[0], in[1], in[2], options_of(a));
}

/* The poolings: i[0] the pool size, i[1] the stride, i[2] the padding. */
#define POOL_CALL(op)                                                                        \
    static nb_tensor *call_##op(nb_tape *tape, int n, nb_tensor *const in[],                 \
                                const nb_op_args *a)                                         \
    {                                                                                        \
        (void)n;                                                                             \
        return nb_##op(tape, in[0], to_int(a->i[0]), to_int(a->i[1]), to_padding(a->i[2]));  \
    }

POOL_CALL(max_pool1d)
POOL_CALL(max_pool2d)
POOL_CALL(avg_pool1d)
POOL_CALL(avg_pool2d)

static nb_tensor *call_global_avg_pool1d(nb_tape *tape, int n, nb_tensor *const in[],
                                         const nb_op_args *a)
{
    (void)n, (void)a;
    return nb_global_avg_pool1d(tape, in[0]);
}

static nb_tensor *call_global_avg_pool2d(nb_tape *tape, int n, nb_tensor *const in[],
                                         const nb_op_args *a)
{
    (void)n, (void)a;
    return nb_global_avg_pool2d(tape, in[0]);
}

/* ---- convolution ----------------------------------------------------------- */

/* Each differentiates twice (conv_grad.c: its backward is ops). f32 sums
 * up to 2 * 2 * 3 products per output: 2e-5 of slack over f64. */
#define CONV_FLAGS (NB_OPT_DIFF | NB_OPT_DIFF2)
#define CONV_F32_RTOL 2e-5

/* The products of these are past gemm.c's 2^18 multiply-adds, so the
 * thread pool splits them; OpenBLAS's sgemm then changes the last bits
 * (docs/testing.md, "Thread counts and the last bits": up to about 40 f32
 * epsilons measured, 64 allowed). */
#define CONV_THREADS_ULPS 64
#define CONV2D_THREADS_SAMPLE(BIAS, ARGS)                                                    \
    {"batch 8 of [16, 16, 16] by [3, 3, 16, 32], SAME", 2 BIAS,                              \
     {R4(8, 16, 16, 16), R4(3, 3, 16, 32) BIAS##_SHAPE(32)}, ARGS(1, SAME)}
#define CONV1D_THREADS_SAMPLE(BIAS)                                                          \
    {"batch 8 of [64, 16] by [3, 16, 32], SAME", 2 BIAS,                                     \
     {R3(8, 64, 16), R3(3, 16, 32) BIAS##_SHAPE(32)}, A(1, SAME)}

/* conv2d: {stride, padding} */
#define CONV2D_SAMPLES(BIAS)                                                                 \
    {"VALID stride 1 [2, 5, 5, 2] by [3, 3, 2, 3]", 2 BIAS,                                  \
     {R4(2, 5, 5, 2), R4(3, 3, 2, 3) BIAS##_SHAPE(3)}, A(1, VALID)},                         \
    {"SAME stride 2, batch 1, even kernel [1, 5, 4, 1] by [3, 2, 1, 2]", 2 BIAS,             \
     {R4(1, 5, 4, 1), R4(3, 2, 1, 2) BIAS##_SHAPE(2)}, A(2, SAME)},                          \
    {"SAME stride 1, odd padding [2, 3, 3, 2] by [2, 2, 2, 1]", 2 BIAS,                      \
     {R4(2, 3, 3, 2), R4(2, 2, 2, 1) BIAS##_SHAPE(1)}, A(1, SAME)},                          \
    {"1x1 kernel stride 1 (x is im2col's matrix) [2, 3, 3, 3] by [1, 1, 3, 2]", 2 BIAS,      \
     {R4(2, 3, 3, 3), R4(1, 1, 3, 2) BIAS##_SHAPE(2)}, A(1, VALID)},                         \
    {"VALID stride 3 drops the last column [1, 7, 8, 1] by [2, 2, 1, 2]", 2 BIAS,            \
     {R4(1, 7, 8, 1), R4(2, 2, 1, 2) BIAS##_SHAPE(2)}, A(3, VALID)},                         \
    {"kernel as large as the image, VALID [2, 3, 2, 2] by [3, 2, 2, 2]", 2 BIAS,             \
     {R4(2, 3, 2, 2), R4(3, 2, 2, 2) BIAS##_SHAPE(2)}, A(1, VALID)},                         \
    {"SAME stride 3 over a 2x2 image [1, 2, 2, 1] by [3, 3, 1, 1]", 2 BIAS,                  \
     {R4(1, 2, 2, 1), R4(3, 3, 1, 1) BIAS##_SHAPE(1)}, A(3, SAME)}

/* conv2d_with: {stride h, stride w, dilation h, dilation w, padding} */
#define CONV2D_WITH_SAMPLES(BIAS)                                                            \
    {"dilation 2, VALID [1, 6, 6, 2] by [2, 2, 2, 2]", 2 BIAS,                               \
     {R4(1, 6, 6, 2), R4(2, 2, 2, 2) BIAS##_SHAPE(2)}, A(1, 1, 2, 2, VALID)},                \
    {"strides (2, 1), SAME [2, 5, 4, 1] by [3, 3, 1, 2]", 2 BIAS,                            \
     {R4(2, 5, 4, 1), R4(3, 3, 1, 2) BIAS##_SHAPE(2)}, A(2, 1, 1, 1, SAME)},                 \
    {"strides (1, 2), dilation (1, 2), SAME [2, 4, 5, 2] by [2, 2, 2, 1]", 2 BIAS,           \
     {R4(2, 4, 5, 2), R4(2, 2, 2, 1) BIAS##_SHAPE(1)}, A(1, 2, 1, 2, SAME)},                 \
    {"zero strides and dilations mean 1 [1, 3, 3, 1] by [2, 2, 1, 1]", 2 BIAS,               \
     {R4(1, 3, 3, 1), R4(2, 2, 1, 1) BIAS##_SHAPE(1)}, A(0, 0, 0, 0, VALID)},                \
    {"dilated window past the image, SAME [1, 4, 4, 1] by [2, 2, 1, 3]", 2 BIAS,             \
     {R4(1, 4, 4, 1), R4(2, 2, 1, 3) BIAS##_SHAPE(3)}, A(1, 1, 5, 5, SAME)},                 \
    {"1x1 kernel, stride 2 [2, 3, 3, 2] by [1, 1, 2, 2]", 2 BIAS,                            \
     {R4(2, 3, 3, 2), R4(1, 1, 2, 2) BIAS##_SHAPE(2)}, A(2, 2, 1, 1, VALID)}

/* conv1d: {stride, padding} */
#define CONV1D_SAMPLES(BIAS)                                                                 \
    {"VALID stride 1 [2, 6, 2] by [3, 2, 3]", 2 BIAS,                                        \
     {R3(2, 6, 2), R3(3, 2, 3) BIAS##_SHAPE(3)}, A(1, VALID)},                               \
    {"SAME stride 2, batch 1 [1, 5, 1] by [2, 1, 2]", 2 BIAS,                                \
     {R3(1, 5, 1), R3(2, 1, 2) BIAS##_SHAPE(2)}, A(2, SAME)},                                \
    {"SAME stride 1, kernel longer than the sequence [2, 2, 2] by [4, 2, 1]", 2 BIAS,        \
     {R3(2, 2, 2), R3(4, 2, 1) BIAS##_SHAPE(1)}, A(1, SAME)},                                \
    {"kernel of 1 [2, 3, 3] by [1, 3, 2]", 2 BIAS,                                           \
     {R3(2, 3, 3), R3(1, 3, 2) BIAS##_SHAPE(2)}, A(1, VALID)},                               \
    {"VALID stride 3, one step [1, 3, 2] by [3, 2, 2]", 2 BIAS,                              \
     {R3(1, 3, 2), R3(3, 2, 2) BIAS##_SHAPE(2)}, A(3, VALID)}

/* Without a bias the third shape is left out; with one it is [filters]. */
#define NOBIAS
#define NOBIAS_SHAPE(f)
#define BIAS + 1
#define BIAS_SHAPE(f) , R1(f)

/* The errors every 2-D convolution shares: x of the wrong rank, channels
 * that differ, a window larger than the image with VALID, a stride below
 * 1, mixed dtypes (5 rejects). ARGS(stride, padding) spells the entry's
 * args. */
#define CONV2D_REJECTS(BIAS, ARGS)                                                           \
    {"x of rank 3", 2 BIAS, {R3(2, 5, 2), R4(3, 3, 2, 2) BIAS##_SHAPE(2)}, ARGS(1, VALID),   \
     NB_F32, false, "x has shape [2, 5, 2] (rank 3): expected rank 4, [batch, height, "      \
     "width, channels]", NB_ERR_SHAPE},                                                      \
    {"kernel's in_channels differ", 2 BIAS,                                                  \
     {R4(2, 5, 7, 3), R4(3, 3, 2, 4) BIAS##_SHAPE(4)}, ARGS(1, SAME), NB_F32, false,         \
     "x is [2, 5, 7, 3], kernel is [3, 3, 2, 4]: the kernel's in_channels (2) differ from "  \
     "x's channels (3)", NB_ERR_SHAPE},                                                      \
    {"kernel larger than the image, VALID", 2 BIAS,                                          \
     {R4(1, 2, 4, 1), R4(3, 3, 1, 1) BIAS##_SHAPE(1)}, ARGS(1, VALID), NB_F64, false,        \
     "the window (3x3) is larger than the input (2x4) with padding VALID", NB_ERR_SHAPE},    \
    {"stride -2", 2 BIAS, {R4(1, 3, 3, 1), R4(2, 2, 1, 1) BIAS##_SHAPE(1)}, ARGS(-2, VALID), \
     NB_F32, false, "stride is -2: expected 1 or more", NB_ERR_ARG},                         \
    {"mixed dtypes", 2 BIAS, {R4(1, 3, 3, 1), R4(2, 2, 1, 1) BIAS##_SHAPE(1)},               \
     ARGS(1, VALID), NB_F32, true, "is f64 but x is f32: expected the same dtype", NB_ERR_DTYPE}

/* a kernel of the wrong rank, a padding that is no nb_padding */
#define KERNEL_RANK_AND_PADDING_REJECTS(BIAS, ARGS)                                          \
    {"kernel of rank 3", 2 BIAS, {R4(1, 5, 5, 2), R3(3, 2, 2) BIAS##_SHAPE(2)},              \
     ARGS(1, VALID), NB_F64, false,                                                          \
     "kernel has shape [3, 2, 2] (rank 3): expected rank 4, [kernel_height, kernel_width, "  \
     "in_channels, filters]", NB_ERR_SHAPE},                                                 \
    {"padding 7", 2 BIAS, {R4(1, 3, 3, 1), R4(2, 2, 1, 1) BIAS##_SHAPE(1)}, ARGS(1, 7),      \
     NB_F32, false, "padding is 7: expected NB_PADDING_VALID or NB_PADDING_SAME", NB_ERR_ARG}

#define CONV1D_REJECTS(BIAS)                                                                 \
    {"x of rank 4", 2 BIAS, {R4(1, 3, 3, 1), R3(2, 1, 1) BIAS##_SHAPE(1)}, A(1, VALID),      \
     NB_F32, false, "x has shape [1, 3, 3, 1] (rank 4): expected rank 3, [batch, steps, "    \
     "channels]", NB_ERR_SHAPE},                                                             \
    {"kernel of rank 4", 2 BIAS, {R3(1, 3, 1), R4(1, 2, 1, 1) BIAS##_SHAPE(1)},              \
     A(1, VALID), NB_F64, false,                                                             \
     "kernel has shape [1, 2, 1, 1] (rank 4): expected rank 3, [kernel_size, in_channels, "  \
     "filters]", NB_ERR_SHAPE},                                                              \
    {"kernel's in_channels differ", 2 BIAS, {R3(2, 5, 3), R3(3, 2, 4) BIAS##_SHAPE(4)},      \
     A(1, SAME), NB_F32, false, "the kernel's in_channels (2) differ from x's channels (3)", \
     NB_ERR_SHAPE},                                                                          \
    {"kernel longer than the sequence, VALID", 2 BIAS,                                       \
     {R3(1, 2, 1), R3(3, 1, 1) BIAS##_SHAPE(1)}, A(1, VALID), NB_F64, false,                 \
     "x is [1, 2, 1], kernel is [3, 1, 1]: the window (3) is longer than the sequence (2) "  \
     "with padding VALID", NB_ERR_SHAPE},                                                    \
    {"stride 0", 2 BIAS, {R3(1, 3, 1), R3(2, 1, 1) BIAS##_SHAPE(1)}, A(0, SAME), NB_F32,     \
     false, "stride is 0: expected 1 or more", NB_ERR_ARG},                                  \
    {"padding -1", 2 BIAS, {R3(1, 3, 1), R3(2, 1, 1) BIAS##_SHAPE(1)}, A(1, -1), NB_F64,     \
     false, "padding is -1: expected NB_PADDING_VALID or NB_PADDING_SAME", NB_ERR_ARG},      \
    {"mixed dtypes", 2 BIAS, {R3(1, 3, 1), R3(2, 1, 1) BIAS##_SHAPE(1)}, A(1, VALID),        \
     NB_F64, true, "is f32 but x is f64: expected the same dtype", NB_ERR_DTYPE}

#define STRIDE_PADDING(s, p) A(s, p)
#define WITH_ARGS(s, p) A(s, s, 1, 1, p)

/* what only nb_conv2d_with's fuller options can get wrong */
#define CONV2D_WITH_ONLY_REJECTS                                                             \
    {"strides (2, -1)", 2, {R4(1, 3, 3, 1), R4(2, 2, 1, 1)}, A(2, -1, 1, 1, VALID), NB_F32,  \
     false, "strides are (2, -1): expected 1 or more", NB_ERR_ARG},                          \
    {"dilation -1", 2, {R4(1, 3, 3, 1), R4(2, 2, 1, 1)}, A(1, 1, -1, -1, VALID), NB_F64,     \
     false, "dilation is -1: expected 1 or more", NB_ERR_ARG},                               \
    {"dilated window larger than the image, VALID", 2, {R4(1, 2, 4, 1), R4(2, 2, 1, 1)},     \
     A(1, 1, 2, 2, VALID), NB_F32, false,                                                    \
     "the window (3x3 dilated) is larger than the input (2x4) with padding VALID", NB_ERR_SHAPE}

/* a bias that is not [filters] */
#define BIAS_REJECTS(X, K, ARGS)                                                             \
    {"bias [1, 4]", 3, {X, K, R2(1, 4)}, ARGS, NB_F32, false, "expected bias [4]",           \
     NB_ERR_SHAPE},                                                                          \
    {"bias of 3 for 4 filters", 3, {X, K, R1(3)}, ARGS, NB_F64, false,                       \
     "bias is [3], kernel is ", NB_ERR_SHAPE}

/* ---- pooling ---------------------------------------------------------------- */

/* {pool, stride, padding} */
#define POOL2D_SAMPLES                                                                       \
    .n_samples = 7,                                                                          \
    .samples = {                                                                             \
        {"2x2 windows, stride 2, VALID [2, 4, 4, 2]", 1, {R4(2, 4, 4, 2)}, A(2, 2, VALID)},  \
        {"overlapping 3x3 windows, stride 1, VALID [1, 5, 4, 1]", 1, {R4(1, 5, 4, 1)},       \
         A(3, 1, VALID)},                                                                    \
        {"SAME stride 2, odd sizes [2, 5, 3, 2]", 1, {R4(2, 5, 3, 2)}, A(2, 2, SAME)},       \
        {"SAME stride 1, windows over the padding [1, 3, 3, 3]", 1, {R4(1, 3, 3, 3)},        \
         A(3, 1, SAME)},                                                                     \
        {"pool as large as the image [2, 3, 3, 1]", 1, {R4(2, 3, 3, 1)}, A(3, 3, VALID)},    \
        {"pool 1, stride 2 (a subsampling) [1, 3, 4, 2]", 1, {R4(1, 3, 4, 2)},               \
         A(1, 2, VALID)},                                                                    \
        {"SAME pool larger than the image, batch 1 [1, 2, 2, 1]", 1, {R4(1, 2, 2, 1)},       \
         A(4, 3, SAME)},                                                                     \
    }

#define POOL1D_SAMPLES                                                                       \
    .n_samples = 6,                                                                          \
    .samples = {                                                                             \
        {"pool 2, stride 2, VALID [2, 6, 2]", 1, {R3(2, 6, 2)}, A(2, 2, VALID)},             \
        {"overlapping windows of 3, stride 1 [1, 5, 3]", 1, {R3(1, 5, 3)}, A(3, 1, VALID)},  \
        {"SAME stride 2, odd length [2, 5, 1]", 1, {R3(2, 5, 1)}, A(2, 2, SAME)},            \
        {"SAME stride 1 over the padding [1, 3, 2]", 1, {R3(1, 3, 2)}, A(3, 1, SAME)},       \
        {"pool of the whole sequence [2, 4, 1]", 1, {R3(2, 4, 1)}, A(4, 1, VALID)},          \
        {"SAME pool longer than the sequence [1, 2, 2]", 1, {R3(1, 2, 2)}, A(5, 2, SAME)},   \
    }

#define POOL2D_REJECTS                                                                       \
    .n_rejects = 6,                                                                          \
    .rejects = {                                                                             \
        {"x of rank 3", 1, {R3(2, 4, 4)}, A(2, 2, VALID), NB_F32, false,                     \
         "x has shape [2, 4, 4] (rank 3): expected rank 4, [batch, height, width, "          \
         "channels]", NB_ERR_SHAPE},                                                         \
        {"pool 0", 1, {R4(1, 4, 4, 1)}, A(0, 2, VALID), NB_F64, false,                       \
         "pool is 0: expected 1 or more", NB_ERR_ARG},                                       \
        {"stride -1", 1, {R4(1, 4, 4, 1)}, A(2, -1, SAME), NB_F32, false,                    \
         "stride is -1: expected 1 or more", NB_ERR_ARG},                                    \
        {"padding 5", 1, {R4(1, 4, 4, 1)}, A(2, 2, 5), NB_F64, false,                        \
         "padding is 5: expected NB_PADDING_VALID or NB_PADDING_SAME", NB_ERR_ARG},          \
        {"pool larger than the image, VALID", 1, {R4(1, 2, 4, 1)}, A(3, 1, VALID), NB_F32,   \
         false, "x is [1, 2, 4, 1]: the window (3x3) is larger than the input (2x4) with "   \
         "padding VALID", NB_ERR_SHAPE},                                                     \
        {"pool past int's range", 1, {R4(1, 2, 2, 1)}, A(INT64_MIN, 1, VALID), NB_F64,       \
         false, "expected 1 or more", NB_ERR_ARG},                                           \
    }

#define POOL1D_REJECTS                                                                       \
    .n_rejects = 5,                                                                          \
    .rejects = {                                                                             \
        {"x of rank 4", 1, {R4(1, 4, 4, 1)}, A(2, 2, VALID), NB_F32, false,                  \
         "x has shape [1, 4, 4, 1] (rank 4): expected rank 3, [batch, steps, channels]",     \
         NB_ERR_SHAPE},                                                                      \
        {"pool -3", 1, {R3(1, 4, 1)}, A(-3, 2, VALID), NB_F64, false,                        \
         "pool is -3: expected 1 or more", NB_ERR_ARG},                                      \
        {"stride 0", 1, {R3(1, 4, 1)}, A(2, 0, SAME), NB_F32, false,                         \
         "stride is 0: expected 1 or more", NB_ERR_ARG},                                     \
        {"padding 2", 1, {R3(1, 4, 1)}, A(2, 2, 2), NB_F64, false,                           \
         "padding is 2: expected NB_PADDING_VALID or NB_PADDING_SAME", NB_ERR_ARG},          \
        {"pool longer than the sequence, VALID", 1, {R3(2, 3, 1)}, A(4, 1, VALID), NB_F32,   \
         false, "x is [2, 3, 1]: the window (4) is longer than the sequence (3) with "       \
         "padding VALID", NB_ERR_SHAPE},                                                     \
    }

/* Pooling's backwards are ops (pool_grad.c): all differentiate twice. Max
 * pooling's inputs are kept apart (nb_opt_distinct_values): at a tie it is not
 * differentiable. */
#define POOL_FLAGS (NB_OPT_DIFF | NB_OPT_DIFF2)

/* ---- the table ------------------------------------------------------------- */

const nb_op_entry nb_op_table_conv[] = {
    {.name = "nb_conv1d", .call = call_conv1d, .arity = 2, .flags = CONV_FLAGS, .low = -1,
     .high = 1, .n_samples = 5, .samples = {CONV1D_SAMPLES(NOBIAS)}, .n_rejects = 7,
     .rejects = {CONV1D_REJECTS(NOBIAS)}, .f32_rtol = CONV_F32_RTOL,
     .threads_sample = CONV1D_THREADS_SAMPLE(NOBIAS), .threads_ulps = CONV_THREADS_ULPS},
    {.name = "nb_conv1d_bias", .call = call_conv1d_bias, .arity = 3, .flags = CONV_FLAGS,
     .low = -1, .high = 1, .n_samples = 5, .samples = {CONV1D_SAMPLES(BIAS)}, .n_rejects = 8,
     .rejects = {CONV1D_REJECTS(BIAS),
                 {"bias of 3 for 2 filters", 3, {R3(1, 3, 1), R3(2, 1, 2), R1(3)},
                  A(1, VALID), NB_F32, false,
                  "bias is [3], kernel is [2, 1, 2]: expected bias [2]", NB_ERR_SHAPE}},
     .f32_rtol = CONV_F32_RTOL,
     .threads_sample = CONV1D_THREADS_SAMPLE(BIAS), .threads_ulps = CONV_THREADS_ULPS},
    {.name = "nb_conv2d", .call = call_conv2d, .arity = 2, .flags = CONV_FLAGS, .low = -1,
     .high = 1, .n_samples = 7, .samples = {CONV2D_SAMPLES(NOBIAS)}, .n_rejects = 7,
     .rejects = {CONV2D_REJECTS(NOBIAS, STRIDE_PADDING),
                 KERNEL_RANK_AND_PADDING_REJECTS(NOBIAS, STRIDE_PADDING)},
     .f32_rtol = CONV_F32_RTOL,
     .threads_sample = CONV2D_THREADS_SAMPLE(NOBIAS, STRIDE_PADDING),
     .threads_ulps = CONV_THREADS_ULPS},
    {.name = "nb_conv2d_bias", .call = call_conv2d_bias, .arity = 3, .flags = CONV_FLAGS,
     .low = -1, .high = 1, .n_samples = 6, .samples = {CONV2D_WITH_SAMPLES(BIAS)},
     .n_rejects = 8,
     .rejects = {CONV2D_REJECTS(BIAS, WITH_ARGS),
                 {"padding 3", 3, {R4(1, 3, 3, 1), R4(2, 2, 1, 1), R1(1)}, WITH_ARGS(1, 3),
                  NB_F64, false, "padding is 3: expected NB_PADDING_VALID or NB_PADDING_SAME",
                   NB_ERR_ARG},
                 BIAS_REJECTS(R4(1, 3, 3, 1), R4(2, 2, 1, 4), WITH_ARGS(1, VALID))},
     .f32_rtol = CONV_F32_RTOL,
     .threads_sample = CONV2D_THREADS_SAMPLE(BIAS, WITH_ARGS), .threads_ulps = CONV_THREADS_ULPS},
    {.name = "nb_conv2d_with", .call = call_conv2d_with, .arity = 2, .flags = CONV_FLAGS,
     .low = -1, .high = 1, .n_samples = 6, .samples = {CONV2D_WITH_SAMPLES(NOBIAS)},
     .n_rejects = 8,
     .rejects = {CONV2D_REJECTS(NOBIAS, WITH_ARGS), CONV2D_WITH_ONLY_REJECTS},
     .f32_rtol = CONV_F32_RTOL,
     .threads_sample = CONV2D_THREADS_SAMPLE(NOBIAS, WITH_ARGS), .threads_ulps = CONV_THREADS_ULPS},
    {.name = "nb_max_pool1d", .call = call_max_pool1d, .arity = 1, .flags = POOL_FLAGS,
     .low = -1, .high = 1, .prepare = nb_opt_distinct_values, POOL1D_SAMPLES, POOL1D_REJECTS},
    {.name = "nb_max_pool2d", .call = call_max_pool2d, .arity = 1, .flags = POOL_FLAGS,
     .low = -1, .high = 1, .prepare = nb_opt_distinct_values, POOL2D_SAMPLES, POOL2D_REJECTS},
    {.name = "nb_avg_pool1d", .call = call_avg_pool1d, .arity = 1, .flags = POOL_FLAGS,
     .low = -1, .high = 1, POOL1D_SAMPLES, POOL1D_REJECTS},
    {.name = "nb_avg_pool2d", .call = call_avg_pool2d, .arity = 1, .flags = POOL_FLAGS,
     .low = -1, .high = 1, POOL2D_SAMPLES, POOL2D_REJECTS},
    {.name = "nb_global_avg_pool1d", .call = call_global_avg_pool1d, .arity = 1,
     .flags = POOL_FLAGS, .low = -1, .high = 1, .n_samples = 3,
     .samples = {{"[2, 3, 2]", 1, {R3(2, 3, 2)}, A(0)},
                 {"one step, batch 1 [1, 1, 3]", 1, {R3(1, 1, 3)}, A(0)},
                 {"one channel [3, 4, 1]", 1, {R3(3, 4, 1)}, A(0)}},
     .n_rejects = 2,
     .rejects = {{"x of rank 4", 1, {R4(1, 2, 2, 1)}, A(0), NB_F32, false,
                  "x has shape [1, 2, 2, 1] (rank 4): expected rank 3, [batch, steps, "
                  "channels]", NB_ERR_SHAPE},
                 {"x of rank 2", 1, {R2(2, 3)}, A(0), NB_F64, false,
                  "x has shape [2, 3] (rank 2): expected rank 3", NB_ERR_SHAPE}}},
    {.name = "nb_global_avg_pool2d", .call = call_global_avg_pool2d, .arity = 1,
     .flags = POOL_FLAGS, .low = -1, .high = 1, .n_samples = 3,
     .samples = {{"[2, 3, 2, 2]", 1, {R4(2, 3, 2, 2)}, A(0)},
                 {"one pixel, batch 1 [1, 1, 1, 3]", 1, {R4(1, 1, 1, 3)}, A(0)},
                 {"one row [2, 1, 4, 1]", 1, {R4(2, 1, 4, 1)}, A(0)}},
     .n_rejects = 1,
     .rejects = {{"x of rank 3", 1, {R3(1, 2, 2)}, A(0), NB_F32, false,
                  "x has shape [1, 2, 2] (rank 3): expected rank 4, [batch, height, width, "
                  "channels]", NB_ERR_SHAPE}}},
};

const int nb_op_table_conv_count = (int)(sizeof nb_op_table_conv / sizeof nb_op_table_conv[0]);
