/* Tests for max, average and global average pooling (src/ops/pool.c):
 * values by hand, Keras's SAME (padding ignored by max, not counted by
 * average), the tie rule of max's gradient, finite differences and errors. */
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

START_TEST(pooling_without_a_tape_gives_the_values_of_a_taped_run)
{
    nb_tensor *x = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(2, 5, 7, 3), -1, 1, 7));
    pool_fn fns[] = {nb_max_pool2d, nb_avg_pool2d};
    nb_tape *tape = nb_tape_new();
    for (int f = 0; f < 2; f++) {
        nb_tensor *free_y = nb_test_keep(fns[f](NULL, x, 3, 2, NB_PADDING_SAME));
        nb_tensor *taped = fns[f](tape, x, 3, 2, NB_PADDING_SAME);
        ck_assert(nb_same_shape(taped, free_y));
        for (int64_t i = 0; i < taped->size; i++)
            ck_assert_double_eq(nb_tensor_get(taped, i), nb_tensor_get(free_y, i));
    }
    nb_tape_free(tape);
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

typedef struct pool_case {
    int64_t n, h, w, c;
    int pool, stride;
    nb_padding padding;
} pool_case;

static const pool_case grad_cases[] = {
    {1, 4, 4, 1, 2, 2, NB_PADDING_VALID}, {2, 5, 7, 3, 2, 2, NB_PADDING_VALID},
    {2, 5, 7, 3, 2, 2, NB_PADDING_SAME},  {1, 5, 7, 3, 3, 1, NB_PADDING_SAME},
    {2, 5, 7, 1, 3, 2, NB_PADDING_VALID}, {1, 5, 7, 3, 3, 2, NB_PADDING_SAME},
};
#define N_GRAD_CASES (int)(sizeof grad_cases / sizeof grad_cases[0])

typedef struct pool_args {
    pool_fn f;
    const pool_case *pc;
} pool_args;

static nb_tensor *pool_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const pool_args *a = user;
    return a->f(tape, in[0], a->pc->pool, a->pc->stride, a->pc->padding);
}

static nb_tensor *global_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_global_avg_pool2d(tape, in[0]);
}

START_TEST(pool_grads_match_finite_differences)
{
    pool_fn fns[] = {nb_max_pool2d, nb_avg_pool2d};
    for (int i = 0; i < N_GRAD_CASES; i++) {
        const pool_case *pc = &grad_cases[i];
        /* random values: two maxima of a window within a finite-difference step
         * of each other are too unlikely to matter (checked with these seeds) */
        nb_tensor *x = nb_test_keep(nb_test_uniform_param(
            NB_F64, NB_SHAPE(pc->n, pc->h, pc->w, pc->c), -1, 1, (uint64_t)(20 + i)));
        for (int f = 0; f < 2; f++) {
            pool_args args = {fns[f], pc};
            ck_assert_gradcheck(pool_of, 1, (nb_tensor *[]){x}, &args);
        }
        ck_assert_gradcheck(global_of, 1, (nb_tensor *[]){x}, NULL);
        nb_test_free_kept();
    }
}
END_TEST

static nb_tensor *pool1d_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const int *kind_stride_padding = user; /* kind 0: average, 1: max, 2: global */
    if (kind_stride_padding[0] == 2)
        return nb_global_avg_pool1d(tape, in[0]);
    pool_fn f = kind_stride_padding[0] == 1 ? nb_max_pool1d : nb_avg_pool1d;
    return f(tape, in[0], 3, kind_stride_padding[1], (nb_padding)kind_stride_padding[2]);
}

START_TEST(pool1d_grads_match_finite_differences)
{
    nb_tensor *x = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(2, 7, 3), -1, 1, 40));
    for (int kind = 0; kind < 3; kind++)
        for (int stride = 1; stride <= 2; stride++)
            for (int padding = 0; padding < 2; padding++) {
                int args[] = {kind, stride, padding};
                ck_assert_gradcheck(pool1d_of, 1, (nb_tensor *[]){x}, args);
            }
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(bad_pool_sizes_and_strides_are_errors)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 2, 2, 1)));
    ck_assert_ptr_null(nb_max_pool2d(NULL, x, 0, 1, NB_PADDING_VALID));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_max_pool2d: pool is 0: expected 1 or more");
    ck_assert_ptr_null(nb_avg_pool2d(NULL, x, 2, 0, NB_PADDING_VALID));
    ck_assert_error_contains("nb_avg_pool2d: stride is 0: expected 1 or more");
    nb_tensor *s = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 2, 1)));
    ck_assert_ptr_null(nb_max_pool1d(NULL, s, -1, 1, NB_PADDING_SAME));
    ck_assert_error_contains("nb_max_pool1d: pool is -1: expected 1 or more");
}
END_TEST

START_TEST(a_pool_larger_than_the_input_is_an_error_with_valid_only)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 2, 2, 1)));
    ck_assert_ptr_null(nb_max_pool2d(NULL, x, 3, 1, NB_PADDING_VALID));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_max_pool2d: x is [1, 2, 2, 1]: the window (3x3) is larger than "
                             "the input (2x2) with padding VALID");
    nb_tensor *y = nb_test_keep(nb_max_pool2d(NULL, x, 3, 1, NB_PADDING_SAME));
    nb_test_assert_shape("same", y, 4, (int64_t[]){1, 2, 2, 1});
    nb_tensor *s = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 2, 1)));
    ck_assert_ptr_null(nb_avg_pool1d(NULL, s, 3, 1, NB_PADDING_VALID));
    ck_assert_error_contains("nb_avg_pool1d: x is [1, 2, 1]: the window (3) is longer than the "
                             "sequence (2) with padding VALID");
}
END_TEST

START_TEST(pooling_of_a_wrong_rank_is_an_error_naming_the_layout)
{
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3)));
    ck_assert_ptr_null(nb_max_pool2d(NULL, x, 2, 2, NB_PADDING_VALID));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_max_pool2d: x has shape [2, 3] (rank 2): expected rank 4, "
                             "[batch, height, width, channels]");
    ck_assert_ptr_null(nb_avg_pool1d(NULL, x, 2, 2, NB_PADDING_VALID));
    ck_assert_error_contains("nb_avg_pool1d: x has shape [2, 3] (rank 2): expected rank 3, "
                             "[batch, steps, channels]");
    ck_assert_ptr_null(nb_global_avg_pool2d(NULL, x));
    ck_assert_error_contains("nb_global_avg_pool2d: x has shape [2, 3] (rank 2): expected rank "
                             "4, [batch, height, width, channels]");
    nb_clear_error();
    ck_assert_ptr_null(nb_global_avg_pool1d(NULL, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_global_avg_pool1d: x is NULL");
    ck_assert_ptr_null(nb_max_pool2d(NULL, NULL, 2, 2, NB_PADDING_VALID));
    ck_assert_error_contains("nb_global_avg_pool1d: x is NULL"); /* kept */
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
    tcase_add_test(tc, pooling_without_a_tape_gives_the_values_of_a_taped_run);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, max_pool_grad_goes_to_the_first_of_tied_maxima);
    tcase_add_test(tc, overlapping_max_windows_add_their_gradients);
    tcase_add_test(tc, pool_grads_match_finite_differences);
    tcase_add_test(tc, pool1d_grads_match_finite_differences);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, bad_pool_sizes_and_strides_are_errors);
    tcase_add_test(tc, a_pool_larger_than_the_input_is_an_error_with_valid_only);
    tcase_add_test(tc, pooling_of_a_wrong_rank_is_an_error_naming_the_layout);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(pool_suite)
