/* Tests for nb_conv2d and nb_conv1d (src/ops/conv.c, src/ops/window.c):
 * values worked out by hand, Keras's SAME padding (the extra row at the
 * bottom and right), gradients adding to other uses', and a warm training
 * step that allocates nothing. Gradient checks, f32 against f64 and the
 * errors are the op table's (tests/op_table_conv.c). */
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

/* ---- gradients ------------------------------------------------------------
 * Gradient checks over strides, paddings, dilations, 1x1 kernels, batches
 * and channels, f32 against f64, the tape-free runs and every error are
 * generated from the op table (tests/op_table_conv.c). */

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
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, conv2d_grad_adds_to_gradients_from_other_uses);
    tcase_add_test(tc, a_training_step_allocates_nothing_once_warm);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(conv_suite)
