/* Tests for the movement ops (src/ops/movement.c): transpose, slice,
 * squeeze and expand_dims: values against NumPy's and by hand, gradients by
 * hand, a graph mixing them with concat and stack, and NULL inputs named.
 * Gradient checks, the errors with their messages and the runs without a
 * tape are generated from the op table (tests/op_table_movement.c). concat
 * and stack themselves (src/ops/join.c) are tested in test_join.c. */
#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* The arguments of every op here, in one struct passed as `user`. */
typedef struct op_args {
    const int *perm;
    int axis;
    int64_t start, stop;
} op_args;

static nb_tensor *transpose_fn(nb_tape *tape, nb_tensor *const in[], void *user)
{
    return nb_transpose(tape, in[0], ((const op_args *)user)->perm);
}

static nb_tensor *slice_fn(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const op_args *a = user;
    return nb_slice(tape, in[0], a->axis, a->start, a->stop);
}

static nb_tensor *squeeze_fn(nb_tape *tape, nb_tensor *const in[], void *user)
{
    return nb_squeeze(tape, in[0], ((const op_args *)user)->axis);
}

static nb_tensor *expand_dims_fn(nb_tape *tape, nb_tensor *const in[], void *user)
{
    return nb_expand_dims(tape, in[0], ((const op_args *)user)->axis);
}

static nb_tensor *counting_from(nb_dtype dtype, int rank, const int64_t *shape, double first)
{
    return nb_test_counting(dtype, rank, shape, first);
}

static nb_tensor *counting(nb_dtype dtype, int rank, const int64_t *shape)
{
    return nb_test_counting(dtype, rank, shape, 0);
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

/* ---- transpose ---------------------------------------------------------- */

START_TEST(transpose_reverses_a_matrix_by_default)
{
    /* [[0, 1, 2], [3, 4, 5]]^T = [[0, 3], [1, 4], [2, 5]] */
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(2, 3));
        assert_op_values("[2, 3]^T", transpose_fn, &x, (op_args){.perm = NULL},
                         NB_SHAPE(3, 2), (double[]){0, 3, 1, 4, 2, 5});
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(transpose_moves_axes_as_perm_says_by_hand)
{
    /* x [1, 2, 3] = 0..5, perm (2, 0, 1): out[k][0][j] = x[0][j][k] = 3j + k,
     * so out [3, 1, 2] = [[[0, 3]], [[1, 4]], [[2, 5]]]; perm (-1, -3, -2)
     * is the same permutation */
    static const int perm[] = {2, 0, 1}, negative[] = {-1, -3, -2};
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(1, 2, 3));
        assert_op_values("perm (2, 0, 1)", transpose_fn, &x, (op_args){.perm = perm},
                         NB_SHAPE(3, 1, 2), (double[]){0, 3, 1, 4, 2, 5});
        assert_op_values("perm (-1, -3, -2)", transpose_fn, &x, (op_args){.perm = negative},
                         NB_SHAPE(3, 1, 2), (double[]){0, 3, 1, 4, 2, 5});
        nb_tensor_free(x);
    }
}
END_TEST

/* Shapes and permutations transpose is checked on (NULL: reversed). */
static const struct {
    nb_test_shape x;
    const int *perm;
} transpose_cases[] = {
    {{2, {2, 3}}, NULL},
    {{2, {1, 4}}, (const int[]){1, 0}},
    {{3, {2, 3, 4}}, (const int[]){1, 2, 0}},
    {{3, {2, 3, 4}}, (const int[]){-1, 0, -2}},
    {{3, {2, 3, 4}}, NULL},
    {{4, {2, 1, 3, 1}}, (const int[]){2, 0, 3, 1}},
    {{4, {2, 3, 2, 2}}, (const int[]){0, 2, 1, 3}},
    {{1, {5}}, NULL},
    {{1, {5}}, (const int[]){-1}},
    {{0, {0}}, NULL},
};
#define N_TRANSPOSE_CASES ((int)(sizeof transpose_cases / sizeof transpose_cases[0]))

START_TEST(transpose_values_follow_numpy_in_every_rank)
{
    /* out[j] = x[i] where i[perm[d]] = j[d]; x counts up, so x[i] is i's
     * row-major flat index */
    for (int c = 0; c < N_TRANSPOSE_CASES; c++)
        for (int d = 0; d < 2; d++) {
            const nb_test_shape *xs = &transpose_cases[c].x;
            int r = xs->rank, perm[NB_MAX_RANK];
            int64_t out_shape[NB_MAX_RANK], j[NB_MAX_RANK], i[NB_MAX_RANK];
            for (int a = 0; a < r; a++) {
                const int *p = transpose_cases[c].perm;
                perm[a] = p ? (p[a] < 0 ? p[a] + r : p[a]) : r - 1 - a;
                out_shape[a] = xs->shape[perm[a]];
            }
            nb_tensor *x = counting(dtypes[d], r, xs->shape);
            double expected[64];
            for (int64_t flat = 0; flat < x->size; flat++) {
                nb_test_unravel(flat, r, out_shape, j);
                for (int a = 0; a < r; a++)
                    i[perm[a]] = j[a];
                int64_t at = 0;
                for (int a = 0; a < r; a++)
                    at = at * xs->shape[a] + i[a];
                expected[flat] = (double)at;
            }
            assert_op_values("transpose", transpose_fn, &x,
                             (op_args){.perm = transpose_cases[c].perm}, r, out_shape, expected);
            nb_tensor_free(x);
        }
}
END_TEST

START_TEST(transpose_grad_is_the_gradient_permuted_back)
{
    /* y = x [2, 3] transposed; seeding dy = G [3, 2] = [[1, 2], [3, 4], [5, 6]]
     * gives dx = G^T = [[1, 3, 5], [2, 4, 6]] */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(2, 3));
        nb_tensor *g = counting_from(dtypes[d], NB_SHAPE(3, 2), 1);
        nb_tensor_set_requires_grad(x, true);
        ck_assert_int_eq(nb_backward_from(nb_transpose(tape, x, NULL), g), NB_OK);
        nb_test_assert_close("transpose dx", x, true, (double[]){1, 3, 5, 2, 4, 6}, 6);
        nb_tape_free(tape);
        nb_tensor_free(x);
        nb_tensor_free(g);
    }
}
END_TEST

/* ---- slice -------------------------------------------------------------- */

START_TEST(slice_values_by_hand)
{
    /* x [3, 4] = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] */
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(3, 4));
        assert_op_values("rows 1:3", slice_fn, &x, (op_args){.axis = 0, .start = 1, .stop = 3},
                         NB_SHAPE(2, 4), (double[]){4, 5, 6, 7, 8, 9, 10, 11});
        assert_op_values("columns 1:3", slice_fn, &x, (op_args){.axis = 1, .start = 1, .stop = 3},
                         NB_SHAPE(3, 2), (double[]){1, 2, 5, 6, 9, 10});
        assert_op_values("columns -3:-1", slice_fn, &x,
                         (op_args){.axis = -1, .start = -3, .stop = -1}, NB_SHAPE(3, 2),
                         (double[]){1, 2, 5, 6, 9, 10});
        assert_op_values("last column", slice_fn, &x, (op_args){.axis = 1, .start = -1, .stop = 4},
                         NB_SHAPE(3, 1), (double[]){3, 7, 11});
        assert_op_values("first row", slice_fn, &x, (op_args){.axis = -2, .start = 0, .stop = 1},
                         NB_SHAPE(1, 4), (double[]){0, 1, 2, 3});
        assert_op_values("everything", slice_fn, &x, (op_args){.axis = 0, .start = 0, .stop = 3},
                         NB_SHAPE(3, 4), (double[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        nb_tensor_free(x);

        /* x [2, 3, 2]: x[i][2][k] = 6i + 4 + k */
        nb_tensor *x3 = counting(dtypes[d], NB_SHAPE(2, 3, 2));
        assert_op_values("[2, 3, 2] middle 2:3", slice_fn, &x3,
                         (op_args){.axis = 1, .start = 2, .stop = 3}, NB_SHAPE(2, 1, 2),
                         (double[]){4, 5, 10, 11});
        nb_tensor_free(x3);
        nb_tensor *v = counting(dtypes[d], NB_SHAPE(5));
        assert_op_values("[5] 2:4", slice_fn, &v, (op_args){.axis = 0, .start = 2, .stop = 4},
                         NB_SHAPE(2), (double[]){2, 3});
        nb_tensor_free(v);
    }
}
END_TEST

START_TEST(slice_grad_scatters_into_the_slice)
{
    /* y = x[:, 1:3] of x [3, 4]; seeding dy = [[1, 2], [3, 4], [5, 6]] puts
     * those values in columns 1 and 2 of dx and zeros elsewhere */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(3, 4));
        nb_tensor *g = counting_from(dtypes[d], NB_SHAPE(3, 2), 1);
        nb_tensor_set_requires_grad(x, true);
        ck_assert_int_eq(nb_backward_from(nb_slice(tape, x, 1, 1, 3), g), NB_OK);
        nb_test_assert_close("slice dx", x, true,
                             (double[]){0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0}, 12);
        nb_tape_free(tape);
        nb_tensor_free(x);
        nb_tensor_free(g);
    }
}
END_TEST

/* ---- squeeze and expand_dims --------------------------------------------- */

START_TEST(squeeze_removes_one_size_1_axis)
{
    double six[] = {0, 1, 2, 3, 4, 5};
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(2, 1, 3));
        assert_op_values("axis 1", squeeze_fn, &x, (op_args){.axis = 1}, NB_SHAPE(2, 3), six);
        assert_op_values("axis -2", squeeze_fn, &x, (op_args){.axis = -2}, NB_SHAPE(2, 3), six);
        nb_tensor_free(x);
        nb_tensor *ones = counting_from(dtypes[d], NB_SHAPE(1, 1), 7);
        assert_op_values("[1, 1] axis -1", squeeze_fn, &ones, (op_args){.axis = -1}, NB_SHAPE(1),
                         (double[]){7});
        nb_tensor_free(ones);
        nb_tensor *one = counting_from(dtypes[d], NB_SHAPE(1), 7);
        assert_op_values("[1] to a scalar", squeeze_fn, &one, (op_args){.axis = 0}, 0, NULL,
                         (double[]){7});
        nb_tensor_free(one);
    }
}
END_TEST

START_TEST(expand_dims_adds_a_size_1_axis_where_asked)
{
    double six[] = {0, 1, 2, 3, 4, 5};
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = counting(dtypes[d], NB_SHAPE(2, 3));
        assert_op_values("axis 0", expand_dims_fn, &x, (op_args){.axis = 0},
                         NB_SHAPE(1, 2, 3), six);
        assert_op_values("axis 1", expand_dims_fn, &x, (op_args){.axis = 1},
                         NB_SHAPE(2, 1, 3), six);
        assert_op_values("axis 2", expand_dims_fn, &x, (op_args){.axis = 2},
                         NB_SHAPE(2, 3, 1), six);
        assert_op_values("axis -1", expand_dims_fn, &x, (op_args){.axis = -1}, NB_SHAPE(2, 3, 1),
                         six);
        assert_op_values("axis -3", expand_dims_fn, &x, (op_args){.axis = -3}, NB_SHAPE(1, 2, 3),
                         six);
        nb_tensor_free(x);
        nb_tensor *s = counting_from(dtypes[d], 0, NULL, 7);
        assert_op_values("scalar", expand_dims_fn, &s, (op_args){.axis = -1}, NB_SHAPE(1),
                         (double[]){7});
        nb_tensor_free(s);
        nb_tensor *x3 = counting(dtypes[d], NB_SHAPE(1, 2, 3));
        assert_op_values("to rank 4", expand_dims_fn, &x3, (op_args){.axis = 3},
                         NB_SHAPE(1, 2, 3, 1), six);
        nb_tensor_free(x3);
    }
}
END_TEST

/* ---- composed ----------------------------------------------------------- */

static nb_tensor *moved_twice(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    /* x [2, 3] reaches the output four ways: concat and stack of x with
     * itself, its transpose and a slice, so each backward must add */
    nb_tensor *x = in[0];
    nb_tensor *both = nb_concat(tape, 2, (nb_tensor *[]){x, x}, 0);                /* [4, 3] */
    nb_tensor *stacked = nb_stack(tape, 2, (nb_tensor *[]){x, x}, 0);              /* [2, 2, 3] */
    nb_tensor *flat = nb_reshape(tape, stacked, NB_SHAPE(4, 3));
    nb_tensor *t = nb_transpose(tape, nb_transpose(tape, both, NULL), NULL);       /* [4, 3] */
    nb_tensor *top = nb_slice(tape, nb_concat(tape, 2, (nb_tensor *[]){x, x}, 0), 0, 1, 3);
    nb_tensor *sum = nb_add(tape, nb_mul(tape, both, flat), t);
    return nb_concat(tape, 2, (nb_tensor *[]){sum, top}, 0);
}

START_TEST(movement_grads_accumulate_when_an_input_is_used_twice)
{
    nb_test_shape shape = {2, {2, 3}};
    assert_op_gradcheck(moved_twice, 1, &shape, (op_args){0}, 900);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(movement_of_null_keeps_the_earlier_message)
{
    nb_clear_error();
    ck_assert_ptr_null(nb_transpose(NULL, NULL, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_transpose: input 0 is NULL");
    nb_clear_error();
    ck_assert_ptr_null(nb_slice(NULL, NULL, 0, 0, 1));
    ck_assert_error_contains("nb_slice: input 0 is NULL");
    nb_clear_error();
    ck_assert_ptr_null(nb_squeeze(NULL, NULL, 0));
    ck_assert_error_contains("nb_squeeze: x is NULL");
    nb_clear_error();
    ck_assert_ptr_null(nb_expand_dims(NULL, NULL, 0));
    ck_assert_error_contains("nb_expand_dims: x is NULL");
    nb_clear_error();
    ck_assert_ptr_null(nb_stack(NULL, 1, (nb_tensor *[]){NULL}, 0));
    ck_assert_error_contains("nb_stack: xs[0] is NULL");
    /* after a failure, each passes its NULL on with the first message */
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3));
    nb_tensor *bad = nb_squeeze(NULL, x, 0);
    nb_tensor *chained = nb_transpose(NULL, nb_slice(NULL, bad, 0, 0, 1), NULL);
    ck_assert_ptr_null(nb_expand_dims(NULL, chained, 0));
    ck_assert_error_contains("nb_squeeze: axis 0 of x [2, 3] has size 2: expected size 1");
    nb_tensor_free(x);
}
END_TEST

static Suite *movement_suite(void)
{
    Suite *s = suite_create("movement");
    TCase *tc = tcase_create("transpose");
    tcase_add_test(tc, transpose_reverses_a_matrix_by_default);
    tcase_add_test(tc, transpose_moves_axes_as_perm_says_by_hand);
    tcase_add_test(tc, transpose_values_follow_numpy_in_every_rank);
    tcase_add_test(tc, transpose_grad_is_the_gradient_permuted_back);
    suite_add_tcase(s, tc);
    tc = tcase_create("slice");
    tcase_add_test(tc, slice_values_by_hand);
    tcase_add_test(tc, slice_grad_scatters_into_the_slice);
    suite_add_tcase(s, tc);
    tc = tcase_create("squeeze_expand_dims");
    tcase_add_test(tc, squeeze_removes_one_size_1_axis);
    tcase_add_test(tc, expand_dims_adds_a_size_1_axis_where_asked);
    tcase_add_test(tc, movement_grads_accumulate_when_an_input_is_used_twice);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, movement_of_null_keeps_the_earlier_message);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(movement_suite)
