/* Tests for NumPy broadcasting in the binary elementwise ops (add, sub, mul,
 * div, maximum, minimum, pow: src/ops/binary.c): values against numbers
 * worked out by hand and against NumPy's rule, and the gradients at ties,
 * zero bases and zero exponents. Gradient checks over broadcast shapes, the
 * errors, the runs without a tape and NULL inputs are generated from the op
 * table (tests/op_table_binary.c). Equal shapes are tested in
 * test_elementwise.c. */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* ---- the ops and the shapes they are tried on ----------------------------- */

typedef nb_tensor *(*binary_fn)(nb_tape *tape, nb_tensor *a, nb_tensor *b);

typedef struct binary_case {
    const char *name;
    binary_fn apply;
    double (*reference)(double a, double b);
} binary_case;

static double add_ref(double a, double b) { return a + b; }
static double sub_ref(double a, double b) { return a - b; }
static double mul_ref(double a, double b) { return a * b; }
static double div_ref(double a, double b) { return a / b; }
static double maximum_ref(double a, double b) { return a > b ? a : b; }
static double minimum_ref(double a, double b) { return a < b ? a : b; }

static const binary_case binary_cases[] = {
    {"add", nb_add, add_ref},          {"sub", nb_sub, sub_ref},
    {"mul", nb_mul, mul_ref},          {"div", nb_div, div_ref},
    {"maximum", nb_maximum, maximum_ref}, {"minimum", nb_minimum, minimum_ref},
    {"pow", nb_pow, pow},
};
#define N_BINARY_CASES (int)(sizeof binary_cases / sizeof binary_cases[0])

typedef struct shape_pair {
    nb_test_shape a, b;
} shape_pair;

/* Each pair is also tried the other way round (b, a). */
static const shape_pair pairs[] = {
    {{2, {2, 3}}, {1, {3}}},             /* a row added to every row */
    {{2, {2, 1}}, {2, {1, 3}}},          /* an outer product */
    {{3, {4, 1, 3}}, {2, {2, 1}}},       /* a missing leading dimension, stretched both ways */
    {{0, {1}}, {2, {2, 2}}},             /* a rank-0 scalar */
    {{2, {1, 1}}, {1, {1}}},             /* size 1 on both sides */
    {{2, {5, 1}}, {2, {5, 4}}},          /* stretched along the last axis */
    {{4, {2, 1, 3, 1}}, {3, {4, 1, 2}}}, /* rank 4, stretched on every other axis */
    {{3, {2, 3, 4}}, {3, {2, 3, 4}}},    /* equal shapes */
};
#define N_PAIRS (int)(sizeof pairs / sizeof pairs[0])

/* The pair of loop index i: pairs[i / 2], swapped when i is odd. */
static void pair_shapes(int i, const nb_test_shape **a, const nb_test_shape **b)
{
    *a = i % 2 ? &pairs[i / 2].b : &pairs[i / 2].a;
    *b = i % 2 ? &pairs[i / 2].a : &pairs[i / 2].b;
}

/* ---- a reference: NumPy's rule written out per element -------------------- */

/* The broadcast shape of a and b, for shapes that broadcast. */
static int broadcast_shape(const nb_tensor *a, const nb_tensor *b, int64_t shape[NB_MAX_RANK])
{
    int rank = a->rank > b->rank ? a->rank : b->rank;
    for (int k = 1; k <= rank; k++) {
        int64_t da = k <= a->rank ? a->shape[a->rank - k] : 1;
        int64_t db = k <= b->rank ? b->shape[b->rank - k] : 1;
        shape[rank - k] = da > db ? da : db;
    }
    return rank;
}

/* The element of t read for the output index idx (of rank out_rank): t's
 * axes aligned from the right, index 0 along its size-1 axes. */
static double element_for(const nb_tensor *t, int out_rank, const int64_t *idx)
{
    int64_t flat = 0;
    for (int d = 0; d < t->rank; d++) {
        int64_t i = t->shape[d] == 1 ? 0 : idx[out_rank - t->rank + d];
        flat = flat * t->shape[d] + i;
    }
    return nb_tensor_get(t, flat);
}

/* Output element n's index in shape (rank). */
static void unravel(int64_t n, int rank, const int64_t *shape, int64_t *idx)
{
    for (int d = rank - 1; d >= 0; d--) {
        idx[d] = n % shape[d];
        n /= shape[d];
    }
}

/* ---- forward values, worked out by hand ------------------------------------ */

/* y = f(a, b) for a (rank_a, shape_a) and b given as doubles, in f32 and f64,
 * with and without a tape: the shape and the values. */
static void check_forward(const char *what, binary_fn f, int rank_a, const int64_t *shape_a,
                          const double *a, int rank_b, const int64_t *shape_b, const double *b,
                          int rank_y, const int64_t *shape_y, const double *y)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *at = nb_test_keep(nb_tensor_from_doubles(dtypes[d], rank_a, shape_a, a));
        nb_tensor *bt = nb_test_keep(nb_tensor_from_doubles(dtypes[d], rank_b, shape_b, b));
        nb_tape *tape = nb_tape_new();
        nb_tensor *on_tape = f(tape, at, bt);
        nb_test_assert_shape(what, on_tape, rank_y, shape_y);
        nb_test_assert_close(what, on_tape, false, y, on_tape->size);
        nb_tensor *off_tape = nb_test_keep(f(NULL, at, bt));
        nb_test_assert_close(what, off_tape, false, y, off_tape->size);
        nb_tape_free(tape);
    }
}

START_TEST(add_broadcasts_a_row_over_every_row)
{
    check_forward("[2, 3] + [3]", nb_add, NB_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6},
                  NB_SHAPE(3), (double[]){10, 20, 30}, NB_SHAPE(2, 3),
                  (double[]){11, 22, 33, 14, 25, 36});
}
END_TEST

START_TEST(mul_of_a_column_and_a_row_is_the_outer_product)
{
    check_forward("[2, 1] * [1, 3]", nb_mul, NB_SHAPE(2, 1), (double[]){2, 3}, NB_SHAPE(1, 3),
                  (double[]){1, 10, 100}, NB_SHAPE(2, 3), (double[]){2, 20, 200, 3, 30, 300});
}
END_TEST

START_TEST(sub_stretches_both_inputs_and_adds_a_leading_axis)
{
    /* y[i, j, k] = a[i, 0, k] - b[j, 0] */
    const double a[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    check_forward("[4, 1, 3] - [2, 1]", nb_sub, NB_SHAPE(4, 1, 3), a, NB_SHAPE(2, 1),
                  (double[]){100, 200}, NB_SHAPE(4, 2, 3),
                  (double[]){-100, -99, -98, -200, -199, -198, -97, -96, -95, -197, -196, -195,
                             -94,  -93, -92, -194, -193, -192, -91, -90, -89, -191, -190, -189});
}
END_TEST

START_TEST(div_of_a_rank0_scalar_by_a_matrix)
{
    check_forward("6 / [2, 2]", nb_div, 0, NULL, (double[]){6}, NB_SHAPE(2, 2),
                  (double[]){1, 2, 3, 6}, NB_SHAPE(2, 2), (double[]){6, 3, 2, 1});
    check_forward("[2, 2] / 4", nb_div, NB_SHAPE(2, 2), (double[]){1, 2, 3, 6}, 0, NULL,
                  (double[]){4}, NB_SHAPE(2, 2), (double[]){0.25, 0.5, 0.75, 1.5});
}
END_TEST

START_TEST(maximum_and_minimum_of_size1_shapes_keep_the_larger_rank)
{
    check_forward("maximum [1, 1], [1]", nb_maximum, NB_SHAPE(1, 1), (double[]){2}, NB_SHAPE(1),
                  (double[]){5}, NB_SHAPE(1, 1), (double[]){5});
    check_forward("minimum [1, 1], [1]", nb_minimum, NB_SHAPE(1, 1), (double[]){2}, NB_SHAPE(1),
                  (double[]){5}, NB_SHAPE(1, 1), (double[]){2});
    check_forward("maximum [2, 1], [1, 3]", nb_maximum, NB_SHAPE(2, 1), (double[]){0, 2},
                  NB_SHAPE(1, 3), (double[]){-1, 1, 3}, NB_SHAPE(2, 3),
                  (double[]){0, 1, 3, 2, 2, 3});
    check_forward("minimum [2, 1], [1, 3]", nb_minimum, NB_SHAPE(2, 1), (double[]){0, 2},
                  NB_SHAPE(1, 3), (double[]){-1, 1, 3}, NB_SHAPE(2, 3),
                  (double[]){-1, 0, 0, -1, 1, 2});
}
END_TEST

START_TEST(pow_raises_each_row_to_the_exponents)
{
    check_forward("pow [2, 2], [2]", nb_pow, NB_SHAPE(2, 2), (double[]){1, 2, 3, 4}, NB_SHAPE(2),
                  (double[]){2, 0.5}, NB_SHAPE(2, 2), (double[]){1, 1.4142135623730951, 9, 2});
    check_forward("pow 2, [3]", nb_pow, 0, NULL, (double[]){2}, NB_SHAPE(3),
                  (double[]){-1, 0, 10}, NB_SHAPE(3), (double[]){0.5, 1, 1024});
}
END_TEST

START_TEST(pow_of_a_negative_base_and_a_fraction_is_nan)
{
    nb_tensor *a = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2), -8, -2);
    nb_tensor *b = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2), 1.0 / 3, 3);
    nb_tensor *y = nb_test_keep(nb_pow(NULL, a, b));
    ck_assert(isnan(nb_tensor_get(y, 0)));
    ck_assert_double_eq(nb_tensor_get(y, 1), -8); /* an integer exponent is fine */
}
END_TEST

START_TEST(maximum_and_minimum_propagate_nan)
{
    nb_tensor *a = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2), NAN, 1);
    nb_tensor *b = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2), 1, NAN);
    for (int i = 0; i < 2; i++) {
        nb_tensor *y = nb_test_keep((i ? nb_minimum : nb_maximum)(NULL, a, b));
        ck_assert(isnan(nb_tensor_get(y, 0)));
        ck_assert(isnan(nb_tensor_get(y, 1)));
    }
}
END_TEST

/* ---- forward values against the reference, every op and pair ------------- */

/* Loop test: _i picks the shape pair (see pair_shapes). */
START_TEST(binary_ops_follow_numpys_rule_element_by_element)
{
    const nb_test_shape *sa, *sb;
    pair_shapes(_i, &sa, &sb);
    for (int d = 0; d < 2; d++) {
        nb_tensor *a = nb_test_uniform(dtypes[d], sa->rank, sa->shape, 0.5, 2, 10 + _i);
        nb_tensor *b = nb_test_uniform(dtypes[d], sb->rank, sb->shape, -2, 2, 20 + _i);
        int64_t shape[NB_MAX_RANK], idx[NB_MAX_RANK];
        int rank = broadcast_shape(a, b, shape);
        for (int c = 0; c < N_BINARY_CASES; c++) {
            nb_tensor *y = binary_cases[c].apply(NULL, a, b);
            nb_test_assert_shape(binary_cases[c].name, y, rank, shape);
            double expected[256];
            for (int64_t n = 0; n < y->size; n++) {
                unravel(n, rank, shape, idx);
                expected[n] = binary_cases[c].reference(element_for(a, rank, idx),
                                                        element_for(b, rank, idx));
            }
            nb_test_assert_close(binary_cases[c].name, y, false, expected, y->size);
            nb_tensor_free(y);
        }
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}
END_TEST

/* ---- gradients ---------------------------------------------------------- */

/* the sum of y with every input requiring a gradient */
static void backward_of_sum(nb_tape *tape, nb_tensor *y)
{
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(nb_backward(nb_sum(tape, y)), NB_OK);
}

START_TEST(maximum_and_minimum_split_ties_evenly)
{
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *a = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4), 1, 2, 3, 2);
        nb_tensor *b = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4), 1, 5, 3, 0);
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, true);
        backward_of_sum(tape, nb_maximum(tape, a, b));
        nb_test_assert_close("maximum da", a, true, (double[]){0.5, 0, 0.5, 1}, 4);
        nb_test_assert_close("maximum db", b, true, (double[]){0.5, 1, 0.5, 0}, 4);
        nb_tape_reset(tape);
        nb_tensor_zero_grad(a);
        nb_tensor_zero_grad(b);
        backward_of_sum(tape, nb_minimum(tape, a, b));
        nb_test_assert_close("minimum da", a, true, (double[]){0.5, 1, 0.5, 0}, 4);
        nb_test_assert_close("minimum db", b, true, (double[]){0.5, 0, 0.5, 1}, 4);
        /* a broadcast scalar collects its shares: below 2 it loses, at 2 half */
        nb_tensor *s = nb_test_keep(nb_tensor_from_doubles(dtypes[d], 0, NULL, (double[]){2}));
        nb_tensor_set_requires_grad(s, true);
        nb_tape_reset(tape);
        nb_tensor_zero_grad(a);
        backward_of_sum(tape, nb_maximum(tape, a, s));
        nb_test_assert_close("maximum da, scalar b", a, true, (double[]){0, 0.5, 1, 0.5}, 4);
        nb_test_assert_close("maximum ds", s, true, (double[]){1 + 0.5 + 0.5}, 1);
        nb_tape_free(tape);
    }
}
END_TEST

START_TEST(pow_grads_at_zero_base_and_zero_exponent_are_zero)
{
    /* a = [0, 0, 2], b = [2, 0, 3]: da = b a^(b-1) = [0, 0 (b == 0), 12];
     * db = a^b ln a = [0 (a == 0), 0 (a == 0), 8 ln 2] */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *a = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), 0, 0, 2);
        nb_tensor *b = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), 2, 0, 3);
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, true);
        nb_tensor *y = nb_pow(tape, a, b);
        nb_test_assert_close("pow", y, false, (double[]){0, 1, 8}, 3);
        backward_of_sum(tape, y);
        nb_test_assert_close("pow da", a, true, (double[]){0, 0, 12}, 3);
        nb_test_assert_close("pow db", b, true, (double[]){0, 0, 8 * 0.6931471805599453}, 3);
        nb_tape_free(tape);
    }
}
END_TEST

static Suite *binary_suite(void)
{
    Suite *s = suite_create("binary");
    TCase *tc = tcase_create("forward");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, add_broadcasts_a_row_over_every_row);
    tcase_add_test(tc, mul_of_a_column_and_a_row_is_the_outer_product);
    tcase_add_test(tc, sub_stretches_both_inputs_and_adds_a_leading_axis);
    tcase_add_test(tc, div_of_a_rank0_scalar_by_a_matrix);
    tcase_add_test(tc, maximum_and_minimum_of_size1_shapes_keep_the_larger_rank);
    tcase_add_test(tc, pow_raises_each_row_to_the_exponents);
    tcase_add_test(tc, pow_of_a_negative_base_and_a_fraction_is_nan);
    tcase_add_test(tc, maximum_and_minimum_propagate_nan);
    tcase_add_loop_test(tc, binary_ops_follow_numpys_rule_element_by_element, 0, 2 * N_PAIRS);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, maximum_and_minimum_split_ties_evenly);
    tcase_add_test(tc, pow_grads_at_zero_base_and_zero_exponent_are_zero);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(binary_suite)
