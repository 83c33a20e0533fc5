/* Tests for max, average and global average pooling (src/ops/pool.c):
 * values by hand, Keras's SAME (padding ignored by max, not counted by
 * average), the tie rule of max's gradient and overlapping windows. Gradient
 * checks, the tape-free runs and the errors are the op table's
 * (tests/op_table_conv.c). */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* 1..(h*w) as an h x w one-channel image */
static nb_tensor *counting_image(nb_dtype dtype, int64_t h, int64_t w)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(dtype, NB_SHAPE(1, h, w, 1)));
    for (int64_t i = 0; i < h * w; i++)
        nb_tensor_set(x, i, (double)(i + 1));
    return x;
}

typedef nb_tensor *(*pool_fn)(nb_tape *, nb_tensor *, int, int, nb_padding);

static void assert_pool(const char *what, pool_fn f, nb_tensor *x, int pool, int stride,
                        nb_padding padding, int rank, const int64_t *dims, const double *expected)
{
    nb_tensor *y = nb_test_keep(f(NULL, x, pool, stride, padding));
    nb_test_assert_shape(what, y, rank, dims);
    nb_test_assert_close(what, y, false, expected, y->size);
}

/* ---- values ------------------------------------------------------------- */

START_TEST(max_pool_takes_the_largest_of_each_window)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = counting_image(dtypes[d], 4, 4);
        assert_pool("2x2/2 valid", nb_max_pool2d, x, 2, 2, NB_PADDING_VALID, 4,
                    (int64_t[]){1, 2, 2, 1}, (double[]){6, 8, 14, 16});
        assert_pool("3x3/1 valid", nb_max_pool2d, x, 3, 1, NB_PADDING_VALID, 4,
                    (int64_t[]){1, 2, 2, 1}, (double[]){11, 12, 15, 16});
    }
}
END_TEST

START_TEST(max_pool_same_ignores_the_padding)
{
    /* negative values, so a zero from the padding would win if it counted */
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(1, 3, 3, 1), -1, -2, -3, -4, -5, -6, -7, -8, -9);
    assert_pool("2x2/2 same", nb_max_pool2d, x, 2, 2, NB_PADDING_SAME, 4, (int64_t[]){1, 2, 2, 1},
                (double[]){-1, -3, -7, -9});
}
END_TEST

START_TEST(avg_pool_same_divides_by_the_real_elements)
{
    /* 1..9 as 3x3, 2x2 windows at stride 2; the padding is after the image:
     * (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1 */
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = counting_image(dtypes[d], 3, 3);
        assert_pool("2x2/2 same", nb_avg_pool2d, x, 2, 2, NB_PADDING_SAME, 4,
                    (int64_t[]){1, 2, 2, 1}, (double[]){3, 4.5, 7.5, 9});
        assert_pool("2x2/1 valid", nb_avg_pool2d, x, 2, 1, NB_PADDING_VALID, 4,
                    (int64_t[]){1, 2, 2, 1}, (double[]){3, 4, 6, 7});
    }
}
END_TEST

START_TEST(pooling_keeps_channels_apart)
{
    /* two channels: c0 = 1..4, c1 = 40, 30, 20, 10 */
    nb_tensor *x = NB_TEST_TENSOR(NB_F32, NB_SHAPE(1, 2, 2, 2), 1, 40, 2, 30, 3, 20, 4, 10);
    assert_pool("max", nb_max_pool2d, x, 2, 2, NB_PADDING_VALID, 4, (int64_t[]){1, 1, 1, 2},
                (double[]){4, 40});
    assert_pool("avg", nb_avg_pool2d, x, 2, 2, NB_PADDING_VALID, 4, (int64_t[]){1, 1, 1, 2},
                (double[]){2.5, 25});
}
END_TEST

START_TEST(pool1d_slides_along_the_steps)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(1, 5, 1), 1, 3, 2, 5, 4);
        assert_pool("max valid", nb_max_pool1d, x, 2, 2, NB_PADDING_VALID, 3,
                    (int64_t[]){1, 2, 1}, (double[]){3, 5});
        assert_pool("max same", nb_max_pool1d, x, 2, 2, NB_PADDING_SAME, 3, (int64_t[]){1, 3, 1},
                    (double[]){3, 5, 4});
        assert_pool("avg same", nb_avg_pool1d, x, 2, 2, NB_PADDING_SAME, 3, (int64_t[]){1, 3, 1},
                    (double[]){2, 3.5, 4});
    }
}
END_TEST

START_TEST(global_avg_pool_averages_over_space)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(1, 2, 2, 2), 1, 40, 2, 30, 3, 20, 4, 10);
        nb_tensor *y = nb_test_keep(nb_global_avg_pool2d(NULL, x));
        nb_test_assert_shape("2d", y, 2, (int64_t[]){1, 2});
        nb_test_assert_close("2d", y, false, (double[]){2.5, 25}, 2);
        nb_tensor *s = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3, 1), 1, 2, 3, 4, 6, 8);
        y = nb_test_keep(nb_global_avg_pool1d(NULL, s));
        nb_test_assert_shape("1d", y, 2, (int64_t[]){2, 1});
        nb_test_assert_close("1d", y, false, (double[]){2, 6}, 2);
    }
}
END_TEST

/* ---- gradients ------------------------------------------------------------ */

START_TEST(max_pool_grad_goes_to_the_first_of_tied_maxima)
{
    /* windows [3, 3 / 3, 3] and [1, 5 / 5, 2]: the first largest, in
     * row-major order, gets the whole gradient (as PyTorch and TF) */
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(1, 2, 4, 1), 3, 3, 1, 5, 3, 3, 5, 2);
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new();
    ck_assert_int_eq(nb_backward(nb_sum(tape, nb_max_pool2d(tape, x, 2, 2, NB_PADDING_VALID))),
                     NB_OK);
    nb_test_assert_close("dx", x, true, (double[]){1, 0, 0, 1, 0, 0, 0, 0}, 8);
    nb_tape_free(tape);
}
END_TEST

START_TEST(overlapping_max_windows_add_their_gradients)
{
    /* 1x3 windows of 2 at stride 1 over [1, 9, 2]: 9 wins both */
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(1, 3, 1), 1, 9, 2);
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new();
    ck_assert_int_eq(nb_backward(nb_sum(tape, nb_max_pool1d(tape, x, 2, 1, NB_PADDING_VALID))),
                     NB_OK);
    nb_test_assert_close("dx", x, true, (double[]){0, 2, 0}, 3);
    nb_tape_free(tape);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

/* The global averages check x themselves (before nb_op_apply could): a
 * NULL x with no earlier error gets a message naming the function. Their
 * other errors, and every pooling's, are the op table's rejects. */
START_TEST(global_avg_pool_of_null_names_the_function)
{
    ck_assert_ptr_null(nb_global_avg_pool1d(NULL, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_global_avg_pool1d: x is NULL");
    nb_clear_error();
    ck_assert_ptr_null(nb_global_avg_pool2d(NULL, NULL));
    ck_assert_error_contains("nb_global_avg_pool2d: x is NULL");
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("values");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, max_pool_takes_the_largest_of_each_window);
    tcase_add_test(tc, max_pool_same_ignores_the_padding);
    tcase_add_test(tc, avg_pool_same_divides_by_the_real_elements);
    tcase_add_test(tc, pooling_keeps_channels_apart);
    tcase_add_test(tc, pool1d_slides_along_the_steps);
    tcase_add_test(tc, global_avg_pool_averages_over_space);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, max_pool_grad_goes_to_the_first_of_tied_maxima);
    tcase_add_test(tc, overlapping_max_windows_add_their_gradients);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, global_avg_pool_of_null_names_the_function);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(pool_suite)
