/* Tests for reshape and flatten (src/ops/shape.c): values and gradients
 * by hand, a reshape's gradient adding to other uses, a NULL shape.
 * Gradient checks, the errors with their messages, the runs without a tape
 * and NULL inputs are generated from the op table
 * (tests/op_table_movement.c). */

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* Assert t holds 0, 1, 2, ... in row-major order (values are exact). */
static void assert_counts_up(const char *what, const nb_tensor *t)
{
    for (int64_t i = 0; i < t->size; i++)
        ck_assert_msg(nb_tensor_get(t, i) == (double)i, "%s: element %d is %g", what, (int)i,
                      nb_tensor_get(t, i));
}

/* A caller-owned tensor of shape `shape` holding 0, 1, 2, ... */
static nb_tensor *counting(nb_dtype dtype, int rank, const int64_t *shape)
{
    nb_tensor *t = nb_tensor_zeros(dtype, rank, shape);
    ck_assert_ptr_nonnull(t);
    for (int64_t i = 0; i < t->size; i++)
        nb_tensor_set(t, i, (double)i);
    return t;
}

/* ---- values ------------------------------------------------------------- */

START_TEST(reshape_keeps_values_in_row_major_order)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(2, 3));
        nb_tensor *a = nb_reshape(NULL, x, NB_SHAPE(3, 2));
        nb_tensor *b = nb_reshape(NULL, x, NB_SHAPE(6));
        nb_tensor *c = nb_reshape(NULL, x, NB_SHAPE(1, 2, 1, 3));
        nb_test_assert_shape("[3, 2]", a, 2, (int64_t[]){3, 2});
        nb_test_assert_shape("[6]", b, 1, (int64_t[]){6});
        nb_test_assert_shape("[1, 2, 1, 3]", c, 4, (int64_t[]){1, 2, 1, 3});
        assert_counts_up("[3, 2]", a);
        assert_counts_up("[6]", b);
        assert_counts_up("[1, 2, 1, 3]", c);
        ck_assert_int_eq(a->dtype, dtypes[d]);
        ck_assert(a->data != x->data); /* a copy, not a view */
        nb_tensor_free(a);
        nb_tensor_free(b);
        nb_tensor_free(c);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(reshape_infers_the_minus_one_dimension)
{
    nb_tensor *x = counting(NB_F32, NB_SHAPE(2, 3, 2));
    nb_tensor *a = nb_reshape(NULL, x, NB_SHAPE(-1, 4));
    nb_tensor *b = nb_reshape(NULL, x, NB_SHAPE(2, -1, 1));
    nb_tensor *c = nb_reshape(NULL, x, NB_SHAPE(-1));
    nb_test_assert_shape("[-1, 4]", a, 2, (int64_t[]){3, 4});
    nb_test_assert_shape("[2, -1, 1]", b, 3, (int64_t[]){2, 6, 1});
    nb_test_assert_shape("[-1]", c, 1, (int64_t[]){12});
    assert_counts_up("[-1, 4]", a);
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(c);
    nb_tensor_free(x);
}
END_TEST

START_TEST(reshape_between_one_element_and_a_scalar)
{
    nb_tensor *x = nb_tensor_full(NB_F64, NB_SHAPE(1, 1), 4.5);
    nb_tensor *s = nb_reshape(NULL, x, 0, NULL);
    nb_test_assert_shape("scalar", s, 0, NULL);
    ck_assert_double_eq(nb_tensor_item(s), 4.5);
    nb_tensor *back = nb_reshape(NULL, s, NB_SHAPE(1, -1, 1));
    nb_test_assert_shape("[1, -1, 1]", back, 3, (int64_t[]){1, 1, 1});
    nb_tensor_free(back);
    nb_tensor_free(s);
    nb_tensor_free(x);
}
END_TEST

START_TEST(flatten_keeps_the_batch_axis)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x3 = counting(dtypes[d], NB_SHAPE(2, 3, 4));
        nb_tensor *x4 = counting(dtypes[d], NB_SHAPE(1, 2, 2, 2));
        nb_tensor *x2 = counting(dtypes[d], NB_SHAPE(2, 3));
        nb_tensor *x1 = counting(dtypes[d], NB_SHAPE(5));
        nb_tensor *f3 = nb_flatten(NULL, x3), *f4 = nb_flatten(NULL, x4);
        nb_tensor *f2 = nb_flatten(NULL, x2), *f1 = nb_flatten(NULL, x1);
        nb_test_assert_shape("flatten [2, 3, 4]", f3, 2, (int64_t[]){2, 12});
        nb_test_assert_shape("flatten [1, 2, 2, 2]", f4, 2, (int64_t[]){1, 8});
        nb_test_assert_shape("flatten [2, 3]", f2, 2, (int64_t[]){2, 3});
        nb_test_assert_shape("flatten [5]", f1, 2, (int64_t[]){5, 1});
        assert_counts_up("flatten [2, 3, 4]", f3);
        assert_counts_up("flatten [1, 2, 2, 2]", f4);
        nb_tensor *all[] = {x3, x4, x2, x1, f3, f4, f2, f1};
        for (int i = 0; i < 8; i++)
            nb_tensor_free(all[i]);
    }
}
END_TEST

/* ---- gradients ---------------------------------------------------------- */

START_TEST(reshape_grad_is_the_upstream_gradient_in_the_old_shape)
{
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(2, 3));
        nb_tensor_set_requires_grad(x, true);
        nb_tensor *g = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3, 2),
                                              (double[]){0.5, -1, 2, 3, -4, 8});
        ck_assert_int_eq(nb_backward_from(nb_reshape(tape, x, NB_SHAPE(3, -1)), g), NB_OK);
        const double expected[] = {0.5, -1, 2, 3, -4, 8};
        for (int64_t i = 0; i < 6; i++)
            ck_assert_double_eq(nb_tensor_grad_get(x, i), expected[i]);
        nb_tape_free(tape);
        nb_tensor_free(x);
        nb_tensor_free(g);
    }
}
END_TEST

/* reshape(x) * reshape(x^2): the first reshape is recorded first, so it runs
 * backward last, after the square has put its part into x's gradient; it
 * must add to it, not overwrite it. */
static nb_tensor *two_reshapes_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    nb_tensor *first = nb_reshape(tape, in[0], NB_SHAPE(-1));
    nb_tensor *second = nb_flatten(tape, nb_square(tape, in[0]));
    return nb_mul(tape, nb_reshape(tape, first, NB_SHAPE(3, 4)), second);
}

START_TEST(reshape_grad_adds_to_gradients_from_other_uses)
{
    nb_rng rng;
    nb_rng_seed(&rng, 80);
    nb_tensor *x = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(3, 2, 2), -2, 2, &rng);
    nb_tensor_set_requires_grad(x, true);
    ck_assert_gradcheck(two_reshapes_of, 1, (nb_tensor *[]){x}, NULL);
    nb_tensor_free(x);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

/* the table's call always passes a shape */
START_TEST(reshape_with_a_null_shape_is_an_error)
{
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3));
    ck_assert_ptr_null(nb_reshape(NULL, x, 2, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_reshape: rank 2 with a NULL shape: expected 0 to 4 with a shape");
    nb_tensor_free(x);
}
END_TEST

static Suite *shape_suite(void)
{
    Suite *s = suite_create("shape");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, reshape_keeps_values_in_row_major_order);
    tcase_add_test(tc, reshape_infers_the_minus_one_dimension);
    tcase_add_test(tc, reshape_between_one_element_and_a_scalar);
    tcase_add_test(tc, flatten_keeps_the_batch_axis);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, reshape_grad_is_the_upstream_gradient_in_the_old_shape);
    tcase_add_test(tc, reshape_grad_adds_to_gradients_from_other_uses);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, reshape_with_a_null_shape_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(shape_suite)
