/* Tests for the matrix product with batch dimensions (src/ops/matmul.c):
 * batches against matrices and NumPy broadcasting of the batch dimensions,
 * values by hand and against NumPy's rule, gradients by hand and with one
 * side constant. Gradient checks of both inputs, the errors, the runs
 * without a tape and NULL inputs are generated from the op table
 * (tests/op_table_binary.c). Rank-2 products are tested in test_matmul.c. */
#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* nb_test_assert_close, but products sum many f32 terms: 1e-5 relative in f32. */
static void assert_close(const char *what, const nb_tensor *t, bool grad, const double *expected,
                         int64_t n)
{
    nb_test_assert_close_rel(what, t, grad, expected, n, 1e-5);
}

/* A caller-owned f64 or f32 tensor of uniform values in [-1, 1) that requires
 * a gradient. */
static nb_tensor *random_param(nb_dtype dtype, int rank, const int64_t *shape, uint64_t seed)
{
    return nb_test_uniform_param(dtype, rank, shape, -1, 1, seed);
}

static nb_tensor *matmul_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_matmul(tape, in[0], in[1]);
}

/* ---- matmul with batch dimensions -------------------------------------- */

START_TEST(matmul_batched_values_and_grads_by_hand)
{
    /* A [2, 2, 3]: A0 = [[1, 2, 3], [4, 5, 6]], A1 = [[-1, 0, 1], [2, -2, 0]];
     * B [3, 4] = [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]]: column j < 3
     * picks a column of A, column 3 sums a row.
     *   C0 = [[1, 2, 3, 6], [4, 5, 6, 15]], C1 = [[-1, 0, 1, 0], [2, -2, 0, 0]]
     * seeding dC with G0 = [[1, 0, 0, 0], [0, 0, 0, 2]],
     *                 G1 = [[0, 1, 0, 0], [0, 0, 3, 0]]:
     *   dA_b = G_b B^T: row i of dA_b is sum_j G_b[i][j] (row j of B^T)
     *        = [[1, 0, 0], [2, 2, 2]] and [[0, 1, 0], [0, 0, 3]]
     *   dB = A0^T G0 + A1^T G1 (B is shared by both batches, so it sums):
     *        column 0 = A0 row 0, column 3 = 2 (A0 row 1),
     *        column 1 = A1 row 0, column 2 = 3 (A1 row 1) */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *a = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 2, 3),
                                              (double[]){1, 2, 3, 4, 5, 6, -1, 0, 1, 2, -2, 0});
        nb_tensor *b = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3, 4),
                                              (double[]){1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1});
        nb_tensor *g = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 2, 4),
                                              (double[]){1, 0, 0, 0, 0, 0, 0, 2,
                                                         0, 1, 0, 0, 0, 0, 3, 0});
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, true);
        nb_tensor *c = nb_matmul(tape, a, b);
        nb_test_assert_shape("[2, 2, 3] x [3, 4]", c, 3, (int64_t[]){2, 2, 4});
        assert_close("batched matmul", c, false,
                     (double[]){1, 2, 3, 6, 4, 5, 6, 15, -1, 0, 1, 0, 2, -2, 0, 0}, 16);
        ck_assert_int_eq(nb_backward_from(c, g), NB_OK);
        assert_close("batched dA", a, true, (double[]){1, 0, 0, 2, 2, 2, 0, 1, 0, 0, 0, 3}, 12);
        assert_close("batched dB", b, true, (double[]){1, -1, 6, 8, 2, 0, -6, 10, 3, 1, 0, 12},
                     12);
        nb_tape_free(tape);
        nb_tensor_free(a);
        nb_tensor_free(b);
        nb_tensor_free(g);
    }
}
END_TEST

START_TEST(matmul_batch_dims_broadcast_both_ways)
{
    /* A [2, 1, 1, 2] holds rows A0 = [1, 2], A1 = [3, 4]; B [3, 2, 1] holds
     * columns B0 = [1, 0], B1 = [0, 1], B2 = [1, 1]. The batch [2, 1] with
     * [3] broadcasts to [2, 3]: C[b][j] = A_b . B_j = [[1, 2, 3], [3, 4, 7]].
     * For sum(C): dA_b = sum_j B_j^T = [2, 2] (each A_b is read 3 times) and
     * dB_j = sum_b A_b^T = [4, 6] (each B_j is read twice). */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *a = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 1, 1, 2),
                                              (double[]){1, 2, 3, 4});
        nb_tensor *b = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3, 2, 1),
                                              (double[]){1, 0, 0, 1, 1, 1});
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, true);
        nb_tensor *c = nb_matmul(tape, a, b);
        nb_test_assert_shape("[2, 1, 1, 2] x [3, 2, 1]", c, 4, (int64_t[]){2, 3, 1, 1});
        assert_close("broadcast matmul", c, false, (double[]){1, 2, 3, 3, 4, 7}, 6);
        ck_assert_int_eq(nb_backward(nb_sum(tape, c)), NB_OK);
        assert_close("broadcast dA", a, true, (double[]){2, 2, 2, 2}, 4);
        assert_close("broadcast dB", b, true, (double[]){4, 6, 4, 6, 4, 6}, 6);
        nb_tape_free(tape);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}
END_TEST

START_TEST(matmul_rank_2_operand_is_shared_by_every_batch)
{
    /* A [3, 2] = [[1, 0], [0, 1], [1, 1]] times B [2, 2, 3] with
     * B0 = [[1, 2, 3], [4, 5, 6]], B1 = [[0, 1, 0], [1, 0, -1]]:
     *   C_b = A B_b: rows B_b[0], B_b[1], B_b[0] + B_b[1]
     * For sum(C): dA[i][p] = sum_b sum_j B_b[p][j] = [6 + 1, 15 + 0] on each
     * row, dB_b[p][j] = sum_i A[i][p] = 2 everywhere. */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *a = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3, 2),
                                              (double[]){1, 0, 0, 1, 1, 1});
        nb_tensor *b = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 2, 3),
                                              (double[]){1, 2, 3, 4, 5, 6, 0, 1, 0, 1, 0, -1});
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, true);
        nb_tensor *c = nb_matmul(tape, a, b);
        nb_test_assert_shape("[3, 2] x [2, 2, 3]", c, 3, (int64_t[]){2, 3, 3});
        assert_close("shared A", c, false,
                     (double[]){1, 2, 3, 4, 5, 6, 5, 7, 9, 0, 1, 0, 1, 0, -1, 1, 1, -1}, 18);
        ck_assert_int_eq(nb_backward(nb_sum(tape, c)), NB_OK);
        assert_close("shared dA", a, true, (double[]){7, 15, 7, 15, 7, 15}, 6);
        double twos[12] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
        assert_close("shared dB", b, true, twos, 12);
        nb_tape_free(tape);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}
END_TEST

START_TEST(matmul_batch_of_one_is_the_plain_product)
{
    /* the by-hand product of matmul_values_and_grads_by_hand, in a batch of 1 */
    for (int d = 0; d < 2; d++) {
        nb_tensor *a = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(1, 1, 2, 3),
                                              (double[]){1, 2, 3, 4, 5, 6});
        nb_tensor *b = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(1, 3, 2),
                                              (double[]){7, 8, 9, 10, 11, 12});
        nb_tensor *c = nb_matmul(NULL, a, b);
        nb_test_assert_shape("[1, 1, 2, 3] x [1, 3, 2]", c, 4, (int64_t[]){1, 1, 2, 2});
        assert_close("batch of 1", c, false, (double[]){58, 64, 139, 154}, 4);
        nb_tensor_free(c);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}
END_TEST

/* Shape pairs the batched product is checked on: batch against a matrix,
 * stretching on either side, a shared rank-2 operand, batch 1, 1x1 matrices
 * and rank 4 against rank 3. */
static const nb_test_shape batched_pairs[][2] = {
    {{3, {2, 2, 3}}, {2, {3, 4}}},
    {{4, {2, 1, 2, 3}}, {3, {3, 3, 2}}},
    {{2, {3, 2}}, {3, {2, 2, 3}}},
    {{3, {1, 2, 3}}, {3, {1, 3, 2}}},
    {{3, {3, 1, 1}}, {4, {2, 1, 1, 1}}},
    {{4, {2, 3, 1, 4}}, {3, {3, 4, 2}}},
};
#define N_BATCHED_PAIRS ((int)(sizeof batched_pairs / sizeof batched_pairs[0]))

/* C[i] by NumPy's rules from the definition: the batch index of C mapped to
 * A's and B's (size-1 or missing dims read index 0), then a dot product. */
static double reference_element(const nb_tensor *a, const nb_tensor *b, const nb_tensor *c,
                                int64_t flat)
{
    int64_t idx[NB_MAX_RANK], rest = flat;
    for (int d = c->rank - 1; d >= 0; d--) {
        idx[d] = rest % c->shape[d];
        rest /= c->shape[d];
    }
    int64_t ia[NB_MAX_RANK] = {0}, ib[NB_MAX_RANK] = {0};
    for (int k = 1; k <= 2; k++) { /* the matrix axes, counted from the right */
        ia[a->rank - k] = k == 2 ? idx[c->rank - 2] : 0;
        ib[b->rank - k] = k == 1 ? idx[c->rank - 1] : 0;
    }
    for (int k = 3; k <= c->rank; k++) { /* batch axes */
        if (a->rank >= k)
            ia[a->rank - k] = a->shape[a->rank - k] == 1 ? 0 : idx[c->rank - k];
        if (b->rank >= k)
            ib[b->rank - k] = b->shape[b->rank - k] == 1 ? 0 : idx[c->rank - k];
    }
    double sum = 0;
    for (int64_t p = 0; p < a->shape[a->rank - 1]; p++) {
        ia[a->rank - 1] = p;
        ib[b->rank - 2] = p;
        sum += nb_tensor_at(a, ia) * nb_tensor_at(b, ib);
    }
    return sum;
}

START_TEST(matmul_batched_values_follow_numpy_and_need_no_tape)
{
    for (int s = 0; s < N_BATCHED_PAIRS; s++)
        for (int d = 0; d < 2; d++) {
            const nb_test_shape *pa = &batched_pairs[s][0], *pb = &batched_pairs[s][1];
            nb_tensor *a = random_param(dtypes[d], pa->rank, pa->shape, (uint64_t)(70 + s));
            nb_tensor *b = random_param(dtypes[d], pb->rank, pb->shape, (uint64_t)(80 + s));
            nb_tape *tape = nb_tape_new();
            nb_tensor *c = nb_matmul(tape, a, b);
            nb_tensor *free_c = nb_matmul(NULL, a, b);
            ck_assert_ptr_nonnull(c);
            ck_assert_ptr_nonnull(free_c);
            double expected[64];
            ck_assert_int_le(c->size, 64);
            for (int64_t i = 0; i < c->size; i++)
                expected[i] = reference_element(a, b, c, i);
            assert_close("batched, on a tape", c, false, expected, c->size);
            assert_close("batched, no tape", free_c, false, expected, c->size);
            nb_test_assert_shape("no tape", free_c, c->rank, c->shape);
            nb_tensor_free(free_c);
            nb_tape_free(tape);
            nb_tensor_free(a);
            nb_tensor_free(b);
        }
}
END_TEST

/* The op table checks both inputs at once; with one side constant the
 * backward takes another path */
START_TEST(matmul_batched_grad_with_one_side_constant_matches_finite_differences)
{
    for (int s = 0; s < N_BATCHED_PAIRS; s++) {
        const nb_test_shape *pa = &batched_pairs[s][0], *pb = &batched_pairs[s][1];
        nb_tensor *a = random_param(NB_F64, pa->rank, pa->shape, (uint64_t)(90 + s));
        nb_tensor *b = random_param(NB_F64, pb->rank, pb->shape, (uint64_t)(100 + s));
        nb_tensor_set_requires_grad(a, false);
        ck_assert_gradcheck(matmul_of, 2, ((nb_tensor *[]){a, b}), NULL);
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, false);
        ck_assert_gradcheck(matmul_of, 2, ((nb_tensor *[]){a, b}), NULL);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}
END_TEST

static Suite *matmul_batched_suite(void)
{
    Suite *s = suite_create("matmul_batched");
    TCase *tc = tcase_create("batched");
    tcase_add_test(tc, matmul_batched_values_and_grads_by_hand);
    tcase_add_test(tc, matmul_batch_dims_broadcast_both_ways);
    tcase_add_test(tc, matmul_rank_2_operand_is_shared_by_every_batch);
    tcase_add_test(tc, matmul_batch_of_one_is_the_plain_product);
    tcase_add_test(tc, matmul_batched_values_follow_numpy_and_need_no_tape);
    tcase_add_test(tc, matmul_batched_grad_with_one_side_constant_matches_finite_differences);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(matmul_batched_suite)
