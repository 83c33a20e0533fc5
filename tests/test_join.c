/* Tests for the ops that join tensors (src/ops/join.c): concat and stack,
 * their values and gradients by hand, nine inputs, and the bad calls the op
 * table cannot make. Gradient checks of up to six inputs, the errors with
 * their messages and the runs without a tape are generated from the op
 * table (tests/op_table_movement.c). The movement ops are tested in
 * test_movement.c. */
#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* The arguments of every op here, in one struct passed as `user`. */
typedef struct op_args {
    int axis;
    int n;
} op_args;

static nb_tensor *concat_fn(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const op_args *a = user;
    return nb_concat(tape, a->n, in, a->axis);
}

static nb_tensor *stack_fn(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const op_args *a = user;
    return nb_stack(tape, a->n, in, a->axis);
}

static nb_tensor *counting_from(nb_dtype dtype, int rank, const int64_t *shape, double first)
{
    return nb_test_counting(dtype, rank, shape, first);
}

static nb_tensor *counting(nb_dtype dtype, int rank, const int64_t *shape)
{
    return nb_test_counting(dtype, rank, shape, 0);
}

static void free_all(int n, nb_tensor *const xs[])
{
    for (int i = 0; i < n; i++)
        nb_tensor_free(xs[i]);
}

/* nb_test_assert_op_values (nb_test.h) with the op's arguments. */
static void assert_op_values(const char *what, nb_gradcheck_fn f, nb_tensor *const in[],
                             op_args args, int rank, const int64_t *shape, const double *expected)
{
    nb_test_assert_op_values(what, f, in, &args, rank, shape, expected);
}

/* nb_test_assert_op_gradcheck (nb_test.h) with the op's arguments. */
static void assert_op_gradcheck(nb_gradcheck_fn f, int n, const nb_test_shape *shapes,
                                op_args args, uint64_t seed)
{
    nb_test_assert_op_gradcheck(f, n, shapes, &args, seed);
}

/* ---- concat ------------------------------------------------------------- */

START_TEST(concat_values_by_hand)
{
    /* a = [[0, 1], [2, 3]], b = [[10], [11]], c = [[20, 21]] */
    for (int d = 0; d < 2; d++) {
        nb_tensor *a = counting(dtypes[d], NB_SHAPE(2, 2));
        nb_tensor *b = counting_from(dtypes[d], NB_SHAPE(2, 1), 10);
        nb_tensor *c = counting_from(dtypes[d], NB_SHAPE(1, 2), 20);
        assert_op_values("a | b on axis 1", concat_fn, (nb_tensor *[]){a, b},
                         (op_args){.n = 2, .axis = 1}, NB_SHAPE(2, 3),
                         (double[]){0, 1, 10, 2, 3, 11});
        assert_op_values("a | b on axis -1", concat_fn, (nb_tensor *[]){a, b},
                         (op_args){.n = 2, .axis = -1}, NB_SHAPE(2, 3),
                         (double[]){0, 1, 10, 2, 3, 11});
        assert_op_values("a, c, a on axis 0", concat_fn, (nb_tensor *[]){a, c, a},
                         (op_args){.n = 3, .axis = 0}, NB_SHAPE(5, 2),
                         (double[]){0, 1, 2, 3, 20, 21, 0, 1, 2, 3});
        assert_op_values("a alone", concat_fn, (nb_tensor *[]){a}, (op_args){.n = 1, .axis = 0},
                         NB_SHAPE(2, 2), (double[]){0, 1, 2, 3});
        nb_tensor_free(a);
        nb_tensor_free(b);
        nb_tensor_free(c);
    }
}
END_TEST

/* The concatenation of xs along axis by its definition: output index j
 * reads input t at j with j[axis] less the sizes of inputs before t. */
static void concat_expected(int n, nb_tensor *const xs[], int axis, const nb_tensor *out,
                            double *expected)
{
    int64_t idx[NB_MAX_RANK];
    for (int64_t flat = 0; flat < out->size; flat++) {
        nb_test_unravel(flat, out->rank, out->shape, idx);
        int t = 0;
        while (idx[axis] >= xs[t]->shape[axis])
            idx[axis] -= xs[t++]->shape[axis];
        ck_assert_int_lt(t, n);
        expected[flat] = nb_tensor_at(xs[t], idx);
    }
}

START_TEST(concat_of_many_keeps_their_order)
{
    /* 5 and 9 tensors (more than an op's 4 inputs, so joined in groups) of
     * sizes 1 to 3 on the joined axis, each counting from 100 i */
    static const int counts[] = {2, 5, 9};
    for (int k = 0; k < 3; k++)
        for (int axis = -2; axis <= 1; axis++)
            for (int d = 0; d < 2; d++) {
                int n = counts[k], a = axis < 0 ? axis + 2 : axis;
                nb_tensor *xs[9];
                int64_t total = 0;
                for (int i = 0; i < n; i++) {
                    int64_t shape[2] = {2, 3};
                    shape[a] = i % 3 + 1;
                    total += shape[a];
                    xs[i] = counting_from(dtypes[d], 2, shape, 100.0 * i);
                }
                int64_t out_shape[2] = {2, 3};
                out_shape[a] = total;
                nb_tensor *out = nb_concat(NULL, n, xs, axis);
                ck_assert_ptr_nonnull(out);
                double expected[64];
                ck_assert_int_le(out->size, 64);
                concat_expected(n, xs, a, out, expected);
                assert_op_values("concat of many", concat_fn, xs, (op_args){.n = n, .axis = axis},
                                 2, out_shape, expected);
                nb_tensor_free(out);
                free_all(n, xs);
            }
}
END_TEST

START_TEST(concat_grad_hands_each_input_its_part)
{
    /* y = a | b on axis 1 with a [2, 2], b [2, 1]; seeding
     * dy = [[1, 2, 3], [4, 5, 6]] gives da = [[1, 2], [4, 5]], db = [[3], [6]] */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *a = counting(dtypes[d], NB_SHAPE(2, 2));
        nb_tensor *b = counting(dtypes[d], NB_SHAPE(2, 1));
        nb_tensor *g = counting_from(dtypes[d], NB_SHAPE(2, 3), 1);
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, true);
        ck_assert_int_eq(nb_backward_from(nb_concat(tape, 2, (nb_tensor *[]){a, b}, 1), g), NB_OK);
        nb_test_assert_close("concat da", a, true, (double[]){1, 2, 4, 5}, 4);
        nb_test_assert_close("concat db", b, true, (double[]){3, 6}, 2);
        nb_tape_free(tape);
        nb_tensor_free(a);
        nb_tensor_free(b);
        nb_tensor_free(g);
    }
}
END_TEST

START_TEST(concat_grad_reaches_only_inputs_that_want_one)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *a = counting(NB_F64, NB_SHAPE(3));
    nb_tensor *b = counting(NB_F64, NB_SHAPE(2));
    nb_tensor_set_requires_grad(b, true);
    nb_tensor *y = nb_concat(tape, 2, (nb_tensor *[]){a, b}, 0);
    ck_assert_int_eq(nb_backward(nb_sum(tape, nb_square(tape, y))), NB_OK);
    ck_assert_ptr_null(a->grad);
    /* d sum(y^2) / db = 2 b */
    nb_test_assert_close("db", b, true, (double[]){0, 2}, 2);
    nb_tape_free(tape);
    nb_tensor_free(a);
    nb_tensor_free(b);
}
END_TEST

/* More inputs than the op table's entries take (six): groups of four
 * joined, and their results joined in turn, on every axis */
START_TEST(concat_of_nine_grads_match_finite_differences)
{
    static const nb_test_shape bases[] = {{1, {3}}, {2, {2, 3}}, {3, {2, 1, 3}}, {4, {1, 2, 1, 2}}};
    for (int b = 0; b < 4; b++)
        for (int axis = -bases[b].rank; axis < bases[b].rank; axis++) {
            int a = axis < 0 ? axis + bases[b].rank : axis;
            nb_test_shape shapes[9];
            for (int i = 0; i < 9; i++) {
                shapes[i] = bases[b];
                shapes[i].shape[a] = i % 2 + 1;
            }
            assert_op_gradcheck(concat_fn, 9, shapes, (op_args){.n = 9, .axis = axis},
                                (uint64_t)(300 + 10 * b + a));
        }
}
END_TEST

/* ---- stack -------------------------------------------------------------- */

START_TEST(stack_values_by_hand)
{
    /* a = [0, 1, 2], b = [10, 11, 12]: on axis 0 the rows a and b, on axis 1
     * (the rank, a new last axis) the pairs (a[i], b[i]) */
    for (int d = 0; d < 2; d++) {
        nb_tensor *a = counting(dtypes[d], NB_SHAPE(3));
        nb_tensor *b = counting_from(dtypes[d], NB_SHAPE(3), 10);
        nb_tensor *ab[] = {a, b};
        double rows[] = {0, 1, 2, 10, 11, 12}, pairs[] = {0, 10, 1, 11, 2, 12};
        assert_op_values("axis 0", stack_fn, ab, (op_args){.n = 2, .axis = 0},
                         NB_SHAPE(2, 3), rows);
        assert_op_values("axis -2", stack_fn, ab, (op_args){.n = 2, .axis = -2},
                         NB_SHAPE(2, 3), rows);
        assert_op_values("axis 1", stack_fn, ab, (op_args){.n = 2, .axis = 1},
                         NB_SHAPE(3, 2), pairs);
        assert_op_values("axis -1", stack_fn, ab, (op_args){.n = 2, .axis = -1}, NB_SHAPE(3, 2),
                         pairs);
        assert_op_values("one", stack_fn, ab, (op_args){.n = 1, .axis = 1}, NB_SHAPE(3, 1),
                         (double[]){0, 1, 2});
        nb_tensor_free(a);
        nb_tensor_free(b);
        /* scalars stack into a vector */
        nb_tensor *s[3];
        for (int i = 0; i < 3; i++)
            s[i] = counting_from(dtypes[d], 0, NULL, 5.0 * i);
        assert_op_values("scalars", stack_fn, s, (op_args){.n = 3, .axis = 0}, NB_SHAPE(3),
                         (double[]){0, 5, 10});
        free_all(3, s);
    }
}
END_TEST

START_TEST(stack_of_five_puts_the_new_axis_where_asked)
{
    /* five [2, 3] tensors, x_t counting from 100 t: out[j] = x_{j[axis]} at
     * j without its axis entry */
    for (int axis = -3; axis <= 2; axis++)
        for (int d = 0; d < 2; d++) {
            int a = axis < 0 ? axis + 3 : axis;
            nb_tensor *xs[5];
            for (int t = 0; t < 5; t++)
                xs[t] = counting_from(dtypes[d], NB_SHAPE(2, 3), 100.0 * t);
            int64_t out_shape[3], idx[3], inner[2];
            for (int k = 0, from = 0; k < 3; k++)
                out_shape[k] = k == a ? 5 : (int64_t[]){2, 3}[from++];
            double expected[30];
            for (int64_t flat = 0; flat < 30; flat++) {
                nb_test_unravel(flat, 3, out_shape, idx);
                for (int k = 0, to = 0; k < 3; k++)
                    if (k != a)
                        inner[to++] = idx[k];
                expected[flat] = 100.0 * (double)idx[a] + (double)(inner[0] * 3 + inner[1]);
            }
            assert_op_values("stack of 5", stack_fn, xs, (op_args){.n = 5, .axis = axis}, 3,
                             out_shape, expected);
            free_all(5, xs);
        }
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

/* What the table's calls cannot pass: no tensors, a NULL array, a NULL
 * tensor with no earlier message */
START_TEST(join_of_no_tensors_or_a_null_one_is_an_error)
{
    nb_tensor *a = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3));
    ck_assert_ptr_null(nb_concat(NULL, 0, (nb_tensor *[]){a}, 0));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_concat: n is 0 and xs is an array: expected an array of 1 or "
                             "more tensors");
    ck_assert_ptr_null(nb_concat(NULL, 2, NULL, 0));
    ck_assert_error_contains("nb_concat: n is 2 and xs is NULL");
    ck_assert_ptr_null(nb_stack(NULL, -1, (nb_tensor *[]){a}, 0));
    ck_assert_error_contains("nb_stack: n is -1 and xs is an array: expected an array of 1 or "
                             "more tensors");
    nb_clear_error();
    ck_assert_ptr_null(nb_concat(NULL, 2, (nb_tensor *[]){a, NULL}, 0));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_concat: xs[1] is NULL");
    /* a NULL from a failed op keeps that op's message */
    ck_assert_ptr_null(nb_concat(NULL, 2, (nb_tensor *[]){a, nb_slice(NULL, a, 0, 2, 2)}, 0));
    ck_assert_error_contains("nb_slice: start 2, stop 2");
    nb_tensor_free(a);
}
END_TEST

static Suite *join_suite(void)
{
    Suite *s = suite_create("join");
    TCase *tc = tcase_create("concat");
    tcase_add_test(tc, concat_values_by_hand);
    tcase_add_test(tc, concat_of_many_keeps_their_order);
    tcase_add_test(tc, concat_grad_hands_each_input_its_part);
    tcase_add_test(tc, concat_grad_reaches_only_inputs_that_want_one);
    tcase_add_test(tc, concat_of_nine_grads_match_finite_differences);
    suite_add_tcase(s, tc);
    tc = tcase_create("stack");
    tcase_add_test(tc, stack_values_by_hand);
    tcase_add_test(tc, stack_of_five_puts_the_new_axis_where_asked);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, join_of_no_tensors_or_a_null_one_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(join_suite)
