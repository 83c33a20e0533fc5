/* Tests for nb_conv2d and nb_conv1d (src/ops/conv.c, src/ops/window.c):
 * values worked out by hand, Keras's SAME padding (the extra row at the
 * bottom and right), gradients against finite differences over strides,
 * paddings, odd sizes, batches, channels and dilations, and the errors. */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* x = 1..9 as a 3x3 one-channel image, and the kernel [[1, 2], [3, 4]] */
static nb_tensor *image_1_to_9(nb_dtype dtype)
{
    return NB_TEST_TENSOR(dtype, NB_SHAPE(1, 3, 3, 1), 1, 2, 3, 4, 5, 6, 7, 8, 9);
}

static nb_tensor *kernel_1_to_4(nb_dtype dtype)
{
    return NB_TEST_TENSOR(dtype, NB_SHAPE(2, 2, 1, 1), 1, 2, 3, 4);
}

static void assert_conv2d(const char *what, nb_tensor *x, nb_tensor *k, int stride,
                          nb_padding padding, int64_t oh, int64_t ow, const double *expected)
{
    nb_tensor *y = nb_test_keep(nb_conv2d(NULL, x, k, stride, padding));
    nb_test_assert_shape(what, y, 4, (int64_t[]){1, oh, ow, k->shape[3]});
    nb_test_assert_close(what, y, false, expected, y->size);
}

/* ---- values ------------------------------------------------------------- */

START_TEST(conv2d_valid_slides_the_kernel_over_whole_windows)
{
    /* y[0][0] = 1*1 + 2*2 + 4*3 + 5*4 = 37, and so on */
    for (int d = 0; d < 2; d++)
        assert_conv2d("valid, stride 1", image_1_to_9(dtypes[d]), kernel_1_to_4(dtypes[d]), 1,
                      NB_PADDING_VALID, 2, 2, (double[]){37, 47, 67, 77});
}
END_TEST

START_TEST(conv2d_same_puts_the_extra_row_and_column_at_the_bottom_right)
{
    /* 3 outputs of a 2-wide kernel need 1 padded row: Keras puts it after
     * the image, so y[0][0] is still 37 and the last row and column see
     * zeros below and to the right: y[0][2] = 3*1 + 6*3 = 21. */
    for (int d = 0; d < 2; d++) {
        assert_conv2d("same, stride 1", image_1_to_9(dtypes[d]), kernel_1_to_4(dtypes[d]), 1,
                      NB_PADDING_SAME, 3, 3, (double[]){37, 47, 21, 67, 77, 33, 23, 26, 9});
        assert_conv2d("same, stride 2", image_1_to_9(dtypes[d]), kernel_1_to_4(dtypes[d]), 2,
                      NB_PADDING_SAME, 2, 2, (double[]){37, 21, 23, 9});
    }
}
END_TEST

START_TEST(conv2d_valid_stride_2_drops_what_a_window_cannot_reach)
{
    /* 3x3 kernel of ones over 1..25 as 5x5, stride 2: windows at 0 and 2 */
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F64, NB_SHAPE(1, 5, 5, 1)));
    for (int i = 0; i < 25; i++)
        nb_tensor_set(x, i, i + 1);
    nb_tensor *k = nb_test_keep(nb_tensor_ones(NB_F64, NB_SHAPE(3, 3, 1, 1)));
    assert_conv2d("valid, stride 2", x, k, 2, NB_PADDING_VALID, 2, 2,
                  (double[]){63, 81, 153, 171});
}
END_TEST

START_TEST(conv2d_mixes_channels_like_a_matrix_product)
{
    /* a 1x1 kernel [in 2, out 2] at pixels (1, 2) and (3, 4) */
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(1, 1, 2, 2), 1, 2, 3, 4);
        nb_tensor *k = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(1, 1, 2, 2), 1, 2, 3, 4);
        assert_conv2d("1x1", x, k, 1, NB_PADDING_VALID, 1, 2, (double[]){7, 10, 15, 22});
    }
}
END_TEST

START_TEST(conv2d_dilation_spaces_the_taps)
{
    /* taps 2 apart: y[i] = x[i] + x[i + 2] over 1..5 */
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(1, 1, 5, 1), 1, 2, 3, 4, 5);
    nb_tensor *k = NB_TEST_TENSOR(NB_F64, NB_SHAPE(1, 2, 1, 1), 1, 1);
    nb_conv2d_options o = {.dilation = {1, 2}};
    nb_tensor *y = nb_test_keep(nb_conv2d_with(NULL, x, k, o));
    nb_test_assert_shape("dilation 2", y, 4, (int64_t[]){1, 1, 3, 1});
    nb_test_assert_close("dilation 2", y, false, (double[]){4, 6, 8}, 3);
    o.padding = NB_PADDING_SAME; /* 2 padded: one each side */
    y = nb_test_keep(nb_conv2d_with(NULL, x, k, o));
    nb_test_assert_close("dilation 2, same", y, false, (double[]){2, 4, 6, 8, 4}, 5);
}
END_TEST

START_TEST(conv1d_is_conv2d_of_height_1)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(1, 4, 1), 1, 2, 4, 8);
        nb_tensor *k = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 1, 1), 1, -1);
        nb_tensor *y = nb_test_keep(nb_conv1d(NULL, x, k, 1, NB_PADDING_VALID));
        nb_test_assert_shape("conv1d valid", y, 3, (int64_t[]){1, 3, 1});
        nb_test_assert_close("conv1d valid", y, false, (double[]){-1, -2, -4}, 3);
        y = nb_test_keep(nb_conv1d(NULL, x, k, 1, NB_PADDING_SAME));
        nb_test_assert_close("conv1d same", y, false, (double[]){-1, -2, -4, 8}, 4);
        y = nb_test_keep(nb_conv1d(NULL, x, k, 2, NB_PADDING_VALID));
        nb_test_assert_close("conv1d stride 2", y, false, (double[]){-1, -4}, 2);
    }
}
END_TEST

START_TEST(conv_bias_adds_the_bias_to_every_pixel)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *b = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(1), 0.5);
        nb_tensor *y = nb_test_keep(nb_conv2d_bias(NULL, image_1_to_9(dtypes[d]),
                                                   kernel_1_to_4(dtypes[d]), b,
                                                   (nb_conv2d_options){0}));
        nb_test_assert_shape("conv2d_bias", y, 4, (int64_t[]){1, 2, 2, 1});
        nb_test_assert_close("conv2d_bias", y, false, (double[]){37.5, 47.5, 67.5, 77.5}, 4);
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(1, 3, 1), 1, 2, 4);
        nb_tensor *k = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 1, 2), 1, 0, -1, 1);
        nb_tensor *b2 = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2), 10, 20);
        y = nb_test_keep(nb_conv1d_bias(NULL, x, k, b2, 1, NB_PADDING_VALID));
        /* filter 0: x[i] - x[i+1], filter 1: x[i+1] */
        nb_test_assert_close("conv1d_bias", y, false, (double[]){9, 22, 8, 24}, 4);
    }
}
END_TEST

/* conv, relu, max pool; without a tape the intermediates are the caller's */
static nb_tensor *conv_relu_pool(nb_tape *tape, nb_tensor *x, nb_tensor *k)
{
    nb_tensor *c = nb_conv2d(tape, x, k, 1, NB_PADDING_SAME);
    nb_tensor *y = nb_relu(tape, c);
    nb_tensor *p = nb_max_pool2d(tape, y, 2, 2, NB_PADDING_VALID);
    if (!tape) {
        nb_tensor_free(c);
        nb_tensor_free(y);
    }
    return p;
}

START_TEST(conv2d_without_a_tape_gives_the_values_of_a_taped_run)
{
    nb_tensor *x = nb_test_keep(nb_test_uniform(NB_F32, NB_SHAPE(2, 6, 5, 3), -1, 1, 1));
    nb_tensor *k = nb_test_keep(nb_test_uniform_param(NB_F32, NB_SHAPE(3, 3, 3, 4), -1, 1, 2));
    nb_tensor *free_y = nb_test_keep(conv_relu_pool(NULL, x, k));
    nb_tape *tape = nb_tape_new();
    nb_tensor *taped = conv_relu_pool(tape, x, k);
    ck_assert_ptr_nonnull(taped);
    ck_assert(nb_same_shape(taped, free_y));
    for (int64_t i = 0; i < taped->size; i++)
        ck_assert_float_eq(nb_tensor_get(taped, i), nb_tensor_get(free_y, i));
    nb_tape_free(tape);
}
END_TEST

START_TEST(conv2d_in_f32_is_close_to_f64)
{
    nb_tensor *x = nb_test_keep(nb_test_uniform(NB_F64, NB_SHAPE(2, 7, 5, 3), -1, 1, 3));
    nb_tensor *k = nb_test_keep(nb_test_uniform(NB_F64, NB_SHAPE(3, 3, 3, 4), -1, 1, 4));
    nb_tensor *x32 = nb_test_keep(nb_tensor_copy(x, NB_F32));
    nb_tensor *k32 = nb_test_keep(nb_tensor_copy(k, NB_F32));
    nb_tensor *y = nb_test_keep(nb_conv2d(NULL, x, k, 2, NB_PADDING_SAME));
    nb_tensor *y32 = nb_test_keep(nb_conv2d(NULL, x32, k32, 2, NB_PADDING_SAME));
    for (int64_t i = 0; i < y->size; i++)
        ck_assert_double_eq_tol(nb_tensor_get(y32, i), nb_tensor_get(y, i), 1e-5);
}
END_TEST

/* ---- gradients ------------------------------------------------------------ */

typedef struct conv_case {
    int64_t n, h, w, c, kh, kw, f;
    int strides[2], dilation[2];
    nb_padding padding;
} conv_case;

static const conv_case grad_cases[] = {
    {1, 3, 3, 1, 2, 2, 1, {1, 1}, {1, 1}, NB_PADDING_VALID},
    {1, 3, 3, 1, 2, 2, 1, {1, 1}, {1, 1}, NB_PADDING_SAME},
    {2, 5, 7, 3, 3, 3, 2, {1, 1}, {1, 1}, NB_PADDING_VALID},
    {2, 5, 7, 3, 3, 3, 2, {1, 1}, {1, 1}, NB_PADDING_SAME},
    {2, 5, 7, 3, 3, 3, 2, {2, 2}, {1, 1}, NB_PADDING_VALID},
    {2, 5, 7, 3, 3, 3, 2, {2, 2}, {1, 1}, NB_PADDING_SAME},
    {1, 5, 7, 1, 2, 4, 3, {2, 1}, {1, 1}, NB_PADDING_SAME}, /* even kernel, odd padding */
    {2, 5, 7, 3, 2, 2, 2, {1, 1}, {2, 2}, NB_PADDING_VALID},
    {1, 5, 7, 3, 3, 2, 2, {2, 1}, {2, 3}, NB_PADDING_SAME},
    {2, 4, 4, 3, 1, 1, 2, {1, 1}, {1, 1}, NB_PADDING_VALID}, /* 1x1: x is col */
    {1, 5, 5, 2, 1, 1, 3, {2, 2}, {1, 1}, NB_PADDING_SAME},  /* 1x1 strided */
};
#define N_GRAD_CASES (int)(sizeof grad_cases / sizeof grad_cases[0])

static nb_tensor *conv_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const conv_case *cc = user;
    nb_conv2d_options o = {{cc->strides[0], cc->strides[1]}, {cc->dilation[0], cc->dilation[1]},
                           cc->padding};
    return nb_conv2d_with(tape, in[0], in[1], o);
}

START_TEST(conv2d_grads_match_finite_differences)
{
    for (int i = 0; i < N_GRAD_CASES; i++) {
        const conv_case *cc = &grad_cases[i];
        nb_tensor *x = nb_test_keep(nb_test_uniform_param(
            NB_F64, NB_SHAPE(cc->n, cc->h, cc->w, cc->c), -1, 1, (uint64_t)(10 + i)));
        nb_tensor *k = nb_test_keep(nb_test_uniform_param(
            NB_F64, NB_SHAPE(cc->kh, cc->kw, cc->c, cc->f), -1, 1, (uint64_t)(50 + i)));
        ck_assert_gradcheck(conv_of, 2, ((nb_tensor *[]){x, k}), (void *)cc);
        nb_test_free_kept();
    }
}
END_TEST

static nb_tensor *conv1d_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const int *stride_and_padding = user;
    return nb_conv1d(tape, in[0], in[1], stride_and_padding[0],
                     (nb_padding)stride_and_padding[1]);
}

START_TEST(conv1d_grads_match_finite_differences)
{
    for (int stride = 1; stride <= 2; stride++)
        for (int padding = 0; padding < 2; padding++) {
            nb_tensor *x = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(2, 7, 3), -1, 1,
                                                              (uint64_t)(stride * 2 + padding)));
            nb_tensor *k = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(3, 3, 2), -1, 1, 9));
            int args[] = {stride, padding};
            ck_assert_gradcheck(conv1d_of, 2, ((nb_tensor *[]){x, k}), args);
            nb_test_free_kept();
        }
}
END_TEST

static nb_tensor *conv_bias_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const conv_case *cc = user;
    nb_conv2d_options o = {{cc->strides[0], cc->strides[1]}, {cc->dilation[0], cc->dilation[1]},
                           cc->padding};
    return nb_conv2d_bias(tape, in[0], in[1], in[2], o);
}

static nb_tensor *conv1d_bias_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_conv1d_bias(tape, in[0], in[1], in[2], 2, NB_PADDING_SAME);
}

START_TEST(conv_bias_grads_match_finite_differences)
{
    for (int i = 0; i < N_GRAD_CASES; i += 3) {
        const conv_case *cc = &grad_cases[i];
        nb_tensor *x = nb_test_keep(nb_test_uniform_param(
            NB_F64, NB_SHAPE(cc->n, cc->h, cc->w, cc->c), -1, 1, (uint64_t)(70 + i)));
        nb_tensor *k = nb_test_keep(nb_test_uniform_param(
            NB_F64, NB_SHAPE(cc->kh, cc->kw, cc->c, cc->f), -1, 1, (uint64_t)(90 + i)));
        nb_tensor *b = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(cc->f), -1, 1, 7));
        ck_assert_gradcheck(conv_bias_of, 3, ((nb_tensor *[]){x, k, b}), (void *)cc);
        nb_test_free_kept();
    }
    nb_tensor *x = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(1, 5, 2), -1, 1, 1));
    nb_tensor *k = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(3, 2, 3), -1, 1, 2));
    nb_tensor *b = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(3), -1, 1, 3));
    ck_assert_gradcheck(conv1d_bias_of, 3, ((nb_tensor *[]){x, k, b}), NULL);
}
END_TEST

START_TEST(conv2d_grad_adds_to_gradients_from_other_uses)
{
    /* loss = sum(conv(x, k)) + sum(x): dx = (sum of the taps covering each
     * pixel) + 1; with a 1x1 kernel of 2 that is 3 everywhere. */
    nb_tensor *x = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(1, 2, 2, 1), -1, 1, 5));
    nb_tensor *k = nb_test_keep(nb_tensor_full(NB_F64, NB_SHAPE(1, 1, 1, 1), 2));
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = nb_add(tape, nb_sum(tape, nb_conv2d(tape, x, k, 1, NB_PADDING_VALID)),
                             nb_sum(tape, x));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    nb_test_assert_close("dx", x, true, (double[]){3, 3, 3, 3}, 4);
    nb_tape_free(tape);
}
END_TEST

/* conv + bias -> relu -> pools -> conv -> mean, forward and backward, on a
 * reset tape */
static void conv_step(nb_tape *tape, nb_tensor *x, nb_tensor *k, nb_tensor *b)
{
    nb_tape_reset(tape);
    nb_tensor_zero_grad(k);
    nb_tensor_zero_grad(b);
    nb_tensor *y = nb_relu(tape, nb_conv2d_bias(tape, x, k, b, (nb_conv2d_options){0}));
    nb_tensor *p = nb_avg_pool2d(tape, nb_max_pool2d(tape, y, 2, 2, NB_PADDING_SAME), 2, 1,
                                 NB_PADDING_SAME);
    ck_assert_int_eq(nb_backward(nb_mean(tape, nb_conv2d(tape, p, k, 2, NB_PADDING_SAME))),
                     NB_OK);
}

START_TEST(a_training_step_allocates_nothing_once_warm)
{
    nb_tensor *x = nb_test_keep(nb_test_uniform(NB_F32, NB_SHAPE(4, 9, 9, 3), -1, 1, 1));
    nb_tensor *k = nb_test_keep(nb_test_uniform_param(NB_F32, NB_SHAPE(3, 3, 3, 3), -1, 1, 2));
    nb_tensor *b = nb_test_keep(nb_test_uniform_param(NB_F32, NB_SHAPE(3), -1, 1, 3));
    nb_tape *tape = nb_tape_new();
    conv_step(tape, x, k, b);
    conv_step(tape, x, k, b);
    nb_test_count_allocations();
    for (int i = 0; i < 3; i++)
        conv_step(tape, x, k, b);
    nb_set_allocator(NULL);
    ck_assert_msg(nb_test_allocations == 0, "%ld allocations in 3 warm steps: expected none",
                  nb_test_allocations);
    nb_tape_free(tape);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(conv2d_of_wrong_ranks_is_an_error_naming_the_layout)
{
    nb_tensor *x3 = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 3, 3)));
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 3, 3, 1)));
    nb_tensor *k3 = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 1, 1)));
    ck_assert_ptr_null(nb_conv2d(NULL, x3, k3, 1, NB_PADDING_VALID));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_conv2d: x has shape [1, 3, 3] (rank 3): expected rank 4, "
                             "[batch, height, width, channels]");
    ck_assert_ptr_null(nb_conv2d(NULL, x, k3, 1, NB_PADDING_VALID));
    ck_assert_error_contains("nb_conv2d: kernel has shape [2, 1, 1] (rank 3): expected rank 4, "
                             "[kernel_height, kernel_width, in_channels, filters]");
    ck_assert_ptr_null(nb_conv1d(NULL, x, k3, 1, NB_PADDING_VALID));
    ck_assert_error_contains("nb_conv1d: x has shape [1, 3, 3, 1] (rank 4): expected rank 3, "
                             "[batch, steps, channels]");
}
END_TEST

START_TEST(conv2d_channel_mismatch_is_an_error_naming_both_shapes)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 5, 7, 3)));
    nb_tensor *k = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(3, 3, 2, 4)));
    ck_assert_ptr_null(nb_conv2d(NULL, x, k, 1, NB_PADDING_SAME));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_conv2d: x is [2, 5, 7, 3], kernel is [3, 3, 2, 4]: the "
                             "kernel's in_channels (2) differ from x's channels (3)");
}
END_TEST

START_TEST(a_kernel_larger_than_the_input_is_an_error_with_valid_only)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 2, 4, 1)));
    nb_tensor *k = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(3, 3, 1, 1)));
    ck_assert_ptr_null(nb_conv2d(NULL, x, k, 1, NB_PADDING_VALID));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_conv2d: x is [1, 2, 4, 1], kernel is [3, 3, 1, 1]: the window "
                             "(3x3) is larger than the input (2x4) with padding VALID");
    nb_tensor *y = nb_test_keep(nb_conv2d(NULL, x, k, 1, NB_PADDING_SAME));
    nb_test_assert_shape("same", y, 4, (int64_t[]){1, 2, 4, 1});
    nb_tensor *k2 = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 2, 1, 1)));
    ck_assert_ptr_null(nb_conv2d_with(NULL, x, k2, (nb_conv2d_options){.dilation = {2, 2}}));
    ck_assert_error_contains("the window (3x3 dilated) is larger than the input (2x4)");
    nb_tensor *s = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 2, 1)));
    nb_tensor *k1 = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(3, 1, 1)));
    ck_assert_ptr_null(nb_conv1d(NULL, s, k1, 1, NB_PADDING_VALID));
    ck_assert_error_contains("nb_conv1d: x is [1, 2, 1], kernel is [3, 1, 1]: the window (3) "
                             "is longer than the sequence (2) with padding VALID");
}
END_TEST

START_TEST(bad_strides_dilations_and_paddings_are_errors)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 3, 3, 1)));
    nb_tensor *k = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 2, 1, 1)));
    ck_assert_ptr_null(nb_conv2d(NULL, x, k, 0, NB_PADDING_VALID));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_conv2d: stride is 0: expected 1 or more");
    ck_assert_ptr_null(nb_conv2d_with(NULL, x, k, (nb_conv2d_options){.strides = {2, -1}}));
    ck_assert_error_contains("nb_conv2d_with: strides are (2, -1): expected 1 or more");
    ck_assert_ptr_null(nb_conv2d_with(NULL, x, k, (nb_conv2d_options){.dilation = {-1, -1}}));
    ck_assert_error_contains("nb_conv2d_with: dilation is -1: expected 1 or more");
    ck_assert_ptr_null(nb_conv2d(NULL, x, k, 1, (nb_padding)7));
    ck_assert_error_contains("nb_conv2d: padding is 7: expected NB_PADDING_VALID or "
                             "NB_PADDING_SAME");
    nb_tensor *s = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 3, 1)));
    nb_tensor *k1 = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 1, 1)));
    ck_assert_ptr_null(nb_conv1d(NULL, s, k1, -2, NB_PADDING_SAME));
    ck_assert_error_contains("nb_conv1d: stride is -2: expected 1 or more");
}
END_TEST

START_TEST(a_bias_that_is_not_one_per_filter_is_an_error)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 3, 3, 1)));
    nb_tensor *k = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 2, 1, 4)));
    nb_tensor *b = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 4)));
    ck_assert_ptr_null(nb_conv2d_bias(NULL, x, k, b, (nb_conv2d_options){0}));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_conv2d_bias: bias is [1, 4], kernel is [2, 2, 1, 4]: expected "
                             "bias [4]");
    nb_tensor *s = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 3, 1)));
    nb_tensor *k1 = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 1, 2)));
    nb_tensor *b3 = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(3)));
    ck_assert_ptr_null(nb_conv1d_bias(NULL, s, k1, b3, 1, NB_PADDING_VALID));
    ck_assert_error_contains("nb_conv1d_bias: bias is [3], kernel is [2, 1, 2]: expected bias [2]");
    nb_tensor *b64 = nb_test_keep(nb_tensor_zeros(NB_F64, NB_SHAPE(4)));
    ck_assert_ptr_null(nb_conv2d_bias(NULL, x, k, b64, (nb_conv2d_options){0}));
    ck_assert_error_contains("nb_conv2d_bias: bias is f64 but x is f32");
}
END_TEST

START_TEST(conv2d_of_different_dtypes_or_null_is_an_error)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 3, 3, 1)));
    nb_tensor *k = nb_test_keep(nb_tensor_zeros(NB_F64, NB_SHAPE(2, 2, 1, 1)));
    ck_assert_ptr_null(nb_conv2d(NULL, x, k, 1, NB_PADDING_VALID));
    ck_assert_int_eq(nb_last_status(), NB_ERR_DTYPE);
    ck_assert_error_contains("nb_conv2d: kernel is f64 but x is f32");
    nb_clear_error();
    ck_assert_ptr_null(nb_conv2d(NULL, NULL, k, 1, NB_PADDING_VALID));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_conv2d: input 0 is NULL");
}
END_TEST

static Suite *conv_suite(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = tcase_create("values");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, conv2d_valid_slides_the_kernel_over_whole_windows);
    tcase_add_test(tc, conv2d_same_puts_the_extra_row_and_column_at_the_bottom_right);
    tcase_add_test(tc, conv2d_valid_stride_2_drops_what_a_window_cannot_reach);
    tcase_add_test(tc, conv2d_mixes_channels_like_a_matrix_product);
    tcase_add_test(tc, conv2d_dilation_spaces_the_taps);
    tcase_add_test(tc, conv1d_is_conv2d_of_height_1);
    tcase_add_test(tc, conv_bias_adds_the_bias_to_every_pixel);
    tcase_add_test(tc, conv2d_without_a_tape_gives_the_values_of_a_taped_run);
    tcase_add_test(tc, conv2d_in_f32_is_close_to_f64);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conv2d_grads_match_finite_differences);
    tcase_add_test(tc, conv1d_grads_match_finite_differences);
    tcase_add_test(tc, conv_bias_grads_match_finite_differences);
    tcase_add_test(tc, conv2d_grad_adds_to_gradients_from_other_uses);
    tcase_add_test(tc, a_training_step_allocates_nothing_once_warm);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, conv2d_of_wrong_ranks_is_an_error_naming_the_layout);
    tcase_add_test(tc, conv2d_channel_mismatch_is_an_error_naming_both_shapes);
    tcase_add_test(tc, a_kernel_larger_than_the_input_is_an_error_with_valid_only);
    tcase_add_test(tc, bad_strides_dilations_and_paddings_are_errors);
    tcase_add_test(tc, a_bias_that_is_not_one_per_filter_is_an_error);
    tcase_add_test(tc, conv2d_of_different_dtypes_or_null_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(conv_suite)
