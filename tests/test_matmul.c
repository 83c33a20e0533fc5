/* Tests for the matrix product of rank-2 tensors and the row bias
 * (src/ops/matmul.c): values and gradients by hand, one side constant,
 * gradients adding to other uses, dimensions beyond int, and a two-layer
 * network checked against hand-derived gradient formulas. Gradient checks
 * over shapes, the other errors, the runs without a tape, thread counts and
 * NULL inputs are generated from the op table (tests/op_table_binary.c).
 * Batched products are tested in test_matmul_batched.c. */
#include <math.h>

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

/* ---- matmul ------------------------------------------------------------- */

START_TEST(matmul_values_and_grads_by_hand)
{
    /* A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]
     * C = A B = [[58, 64], [139, 154]]
     * seeding dC = G = [[1, 0], [0, 2]]:
     *   dA = G B^T = [[7, 9, 11], [16, 20, 24]]
     *   dB = A^T G = [[1, 8], [2, 10], [3, 12]] */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *a = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6});
        nb_tensor *b = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3, 2),
                                              (double[]){7, 8, 9, 10, 11, 12});
        nb_tensor *g = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 2), (double[]){1, 0, 0, 2});
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, true);
        nb_tensor *c = nb_matmul(tape, a, b);
        assert_close("matmul", c, false, (double[]){58, 64, 139, 154}, 4);
        ck_assert_int_eq(c->shape[0], 2);
        ck_assert_int_eq(c->shape[1], 2);
        ck_assert_int_eq(nb_backward_from(c, g), NB_OK);
        assert_close("matmul dA", a, true, (double[]){7, 9, 11, 16, 20, 24}, 6);
        assert_close("matmul dB", b, true, (double[]){1, 8, 2, 10, 3, 12}, 6);
        nb_tape_free(tape);
        nb_tensor_free(a);
        nb_tensor_free(b);
        nb_tensor_free(g);
    }
}
END_TEST

START_TEST(matmul_of_1x1_is_a_product)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *a = nb_tensor_full(dtypes[d], NB_SHAPE(1, 1), 3);
        nb_tensor *b = nb_tensor_full(dtypes[d], NB_SHAPE(1, 1), -2.5);
        nb_tensor *c = nb_matmul(NULL, a, b);
        assert_close("[1, 1] x [1, 1]", c, false, (double[]){-7.5}, 1);
        nb_tensor_free(c);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}
END_TEST

START_TEST(matmul_grad_only_reaches_inputs_that_want_one)
{
    /* with only B requiring a gradient, A gets none, and dB is unchanged */
    nb_tape *tape = nb_tape_new();
    nb_tensor *a = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6});
    nb_tensor *b = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3, 2), (double[]){7, 8, 9, 10, 11, 12});
    nb_tensor_set_requires_grad(b, true);
    ck_assert_int_eq(nb_backward(nb_sum(tape, nb_matmul(tape, a, b))), NB_OK);
    ck_assert_ptr_null(a->grad);
    /* d sum(AB) / dB[p][j] = sum_i A[i][p] */
    assert_close("dB", b, true, (double[]){5, 5, 7, 7, 9, 9}, 6);
    nb_tape_free(tape);
    nb_tensor_free(a);
    nb_tensor_free(b);
}
END_TEST

static nb_tensor *matmul_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_matmul(tape, in[0], in[1]);
}

/* The op table checks both inputs at once; with one side constant the
 * backward takes another path (only one product) */
START_TEST(matmul_grad_with_one_side_constant_matches_finite_differences)
{
    /* m, k, n: 1x1, batch 1, an outer product (k = 1) and larger ones */
    static const int64_t sizes[][3] = {{1, 1, 1}, {1, 4, 3}, {2, 1, 3}, {3, 5, 2}, {6, 7, 4}};
    for (int s = 0; s < (int)(sizeof sizes / sizeof sizes[0]); s++) {
        int64_t m = sizes[s][0], k = sizes[s][1], n = sizes[s][2];
        nb_tensor *a = random_param(NB_F64, NB_SHAPE(m, k), (uint64_t)(10 + s));
        nb_tensor *b = random_param(NB_F64, NB_SHAPE(k, n), (uint64_t)(20 + s));
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

static nb_tensor *matmul_twice(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_add(tape, nb_matmul(tape, in[0], in[1]), nb_matmul(tape, in[0], in[1]));
}

static nb_tensor *matmul_square(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_matmul(tape, in[0], in[0]);
}

START_TEST(matmul_grad_accumulates_with_other_uses)
{
    /* two products of the same factors, and x x (both of its gradients go to
     * the same buffer): backward must add to gradients, never overwrite */
    nb_tensor *a = random_param(NB_F64, NB_SHAPE(3, 4), 60);
    nb_tensor *b = random_param(NB_F64, NB_SHAPE(4, 2), 61);
    nb_tensor *x = random_param(NB_F64, NB_SHAPE(3, 3), 62);
    ck_assert_gradcheck(matmul_twice, 2, ((nb_tensor *[]){a, b}), NULL);
    ck_assert_gradcheck(matmul_square, 1, ((nb_tensor *[]){x}), NULL);
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(x);
}
END_TEST

/* ---- add_bias ----------------------------------------------------------- */

START_TEST(add_bias_values_and_grads_by_hand_for_both_bias_shapes)
{
    /* y[i][j] = x[i][j] + bias[j]; seeding dy = G: dx = G and dbias[j] is the
     * column sum of G. G = [[1, 0, 2], [3, 1, 0]] gives dbias = [4, 1, 2]. */
    for (int d = 0; d < 2; d++)
        for (int bias_rank = 1; bias_rank <= 2; bias_rank++) {
            nb_tape *tape = nb_tape_new();
            nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 3),
                                                  (double[]){1, 2, 3, 4, 5, 6});
            nb_tensor *bias = nb_tensor_from_doubles(dtypes[d], bias_rank,
                                                     (const int64_t[]){bias_rank == 1 ? 3 : 1, 3},
                                                     (double[]){10, 20, 30});
            nb_tensor *g = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 3),
                                                  (double[]){1, 0, 2, 3, 1, 0});
            nb_tensor_set_requires_grad(x, true);
            nb_tensor_set_requires_grad(bias, true);
            nb_tensor *y = nb_add_bias(tape, x, bias);
            assert_close("add_bias", y, false, (double[]){11, 22, 33, 14, 25, 36}, 6);
            ck_assert_int_eq(nb_backward_from(y, g), NB_OK);
            assert_close("add_bias dx", x, true, (double[]){1, 0, 2, 3, 1, 0}, 6);
            assert_close("add_bias dbias", bias, true, (double[]){4, 1, 2}, 3);
            nb_tape_free(tape);
            nb_tensor_free(x);
            nb_tensor_free(bias);
            nb_tensor_free(g);
        }
}
END_TEST

static nb_tensor *add_bias_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    /* (x + b) * (x / 2 + b): a product, so each element's gradient differs
     * from the others'. x and b are used twice, and the first add_bias runs
     * backward last, so it must add to their gradients, not overwrite them.
     * (Separate statements fix the order the ops are recorded in.) */
    nb_tensor *x = in[0], *b = in[1];
    nb_tensor *first = nb_add_bias(tape, x, b);
    nb_tensor *second = nb_add_bias(tape, nb_scale(tape, x, 0.5), b);
    return nb_mul(tape, first, second);
}

/* The op table gradient-checks add_bias over shapes; this is about the
 * second use */
START_TEST(add_bias_grads_add_up_over_two_uses)
{
    nb_tensor *x = random_param(NB_F64, NB_SHAPE(4, 3), 30);
    nb_tensor *row = random_param(NB_F64, NB_SHAPE(3), 40);
    nb_tensor *row2 = random_param(NB_F64, NB_SHAPE(1, 3), 50);
    ck_assert_gradcheck(add_bias_of, 2, ((nb_tensor *[]){x, row}), NULL);
    ck_assert_gradcheck(add_bias_of, 2, ((nb_tensor *[]){x, row2}), NULL);
    nb_tensor_free(x);
    nb_tensor_free(row);
    nb_tensor_free(row2);
}
END_TEST

/* ---- a two-layer network ------------------------------------------------ */

/* y = sum(relu(x W1 + b1) W2 + b2) with x [B, D], W1 [D, H], b1 [H],
 * W2 [H, O], b2 [1, O]. Writing Z = x W1 + b1, A = relu(Z), Y = A W2 + b2 and
 * dY = 1 (every output counts once in the sum):
 *   db2[o]    = B
 *   dW2[h][o] = sum_i A[i][h]
 *   dA[i][h]  = sum_o W2[h][o]
 *   dZ[i][h]  = dA[i][h] * (Z[i][h] > 0)
 *   db1[h]    = sum_i dZ[i][h]
 *   dW1[d][h] = sum_i x[i][d] dZ[i][h]
 *   dx[i][d]  = sum_h dZ[i][h] W1[d][h] */
enum { B = 3, D = 4, H = 5, O = 2 };

typedef struct network {
    nb_tensor *x, *w1, *b1, *w2, *b2;
} network;

static network network_new(nb_dtype dtype)
{
    network n = {
        random_param(dtype, NB_SHAPE(B, D), 1), random_param(dtype, NB_SHAPE(D, H), 2),
        random_param(dtype, NB_SHAPE(H), 3),    random_param(dtype, NB_SHAPE(H, O), 4),
        random_param(dtype, NB_SHAPE(1, O), 5),
    };
    return n;
}

static void network_free(network *n)
{
    nb_tensor_free(n->x);
    nb_tensor_free(n->w1);
    nb_tensor_free(n->b1);
    nb_tensor_free(n->w2);
    nb_tensor_free(n->b2);
}

static nb_tensor *network_loss(nb_tape *tape, const network *n)
{
    nb_tensor *hidden = nb_relu(tape, nb_add_bias(tape, nb_matmul(tape, n->x, n->w1), n->b1));
    return nb_sum(tape, nb_add_bias(tape, nb_matmul(tape, hidden, n->w2), n->b2));
}

START_TEST(two_layer_network_grads_match_hand_derived_formulas)
{
    for (int dt = 0; dt < 2; dt++) {
        network n = network_new(dtypes[dt]);
        nb_tape *tape = nb_tape_new();
        nb_tensor *loss = network_loss(tape, &n);
        ck_assert_ptr_nonnull(loss);
        ck_assert_int_eq(nb_backward(loss), NB_OK);

        /* the forward pass and the formulas above, in plain loops */
#define AT(t, i, j, cols) nb_tensor_get((t), (i) * (cols) + (j))
        double z[B][H], a[B][H], dz[B][H], y = 0;
        for (int i = 0; i < B; i++)
            for (int h = 0; h < H; h++) {
                z[i][h] = nb_tensor_get(n.b1, h);
                for (int d = 0; d < D; d++)
                    z[i][h] += AT(n.x, i, d, D) * AT(n.w1, d, h, H);
                a[i][h] = z[i][h] > 0 ? z[i][h] : 0;
            }
        for (int i = 0; i < B; i++)
            for (int o = 0; o < O; o++) {
                y += nb_tensor_get(n.b2, o);
                for (int h = 0; h < H; h++)
                    y += a[i][h] * AT(n.w2, h, o, O);
            }
        double db2[O], dw2[H][O], db1[H] = {0}, dw1[D][H] = {{0}}, dx[B][D] = {{0}};
        for (int o = 0; o < O; o++)
            db2[o] = B;
        for (int h = 0; h < H; h++)
            for (int o = 0; o < O; o++) {
                dw2[h][o] = 0;
                for (int i = 0; i < B; i++)
                    dw2[h][o] += a[i][h];
            }
        for (int i = 0; i < B; i++)
            for (int h = 0; h < H; h++) {
                double da = 0;
                for (int o = 0; o < O; o++)
                    da += AT(n.w2, h, o, O);
                dz[i][h] = z[i][h] > 0 ? da : 0;
                db1[h] += dz[i][h];
                for (int d = 0; d < D; d++) {
                    dw1[d][h] += AT(n.x, i, d, D) * dz[i][h];
                    dx[i][d] += dz[i][h] * AT(n.w1, d, h, H);
                }
            }
#undef AT
        assert_close("network loss", loss, false, &y, 1);
        assert_close("db2", n.b2, true, db2, O);
        assert_close("dW2", n.w2, true, &dw2[0][0], H * O);
        assert_close("db1", n.b1, true, db1, H);
        assert_close("dW1", n.w1, true, &dw1[0][0], D * H);
        assert_close("dx", n.x, true, &dx[0][0], B * D);

        /* the check is not vacuous: some hidden units are off, some on */
        int off = 0;
        for (int i = 0; i < B; i++)
            for (int h = 0; h < H; h++)
                off += z[i][h] <= 0;
        ck_assert(off > 0 && off < B * H);
        nb_tape_free(tape);
        network_free(&n);
    }
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(matmul_with_dimensions_beyond_int_is_an_error)
{
    /* cblas takes int sizes. The shapes are rejected before any data is
     * read, so header-only tensors stand in for 8 GiB ones. */
    nb_tensor a = {.dtype = NB_F32, .rank = 2, .shape = {1, 2147483648LL, 1, 1}};
    nb_tensor b = {.dtype = NB_F32, .rank = 2, .shape = {2147483648LL, 1, 1, 1}};
    a.size = b.size = 2147483648LL;
    ck_assert_ptr_null(nb_matmul(NULL, &a, &b));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_matmul: a is [1, 2147483648], b is [2147483648, 1]: "
                             "dimensions above 2147483647 are not supported");
}
END_TEST

static Suite *matmul_suite(void)
{
    Suite *s = suite_create("matmul");
    TCase *tc = tcase_create("matmul");
    tcase_add_test(tc, matmul_values_and_grads_by_hand);
    tcase_add_test(tc, matmul_of_1x1_is_a_product);
    tcase_add_test(tc, matmul_grad_only_reaches_inputs_that_want_one);
    tcase_add_test(tc, matmul_grad_with_one_side_constant_matches_finite_differences);
    tcase_add_test(tc, matmul_grad_accumulates_with_other_uses);
    suite_add_tcase(s, tc);
    tc = tcase_create("add_bias");
    tcase_add_test(tc, add_bias_values_and_grads_by_hand_for_both_bias_shapes);
    tcase_add_test(tc, add_bias_grads_add_up_over_two_uses);
    suite_add_tcase(s, tc);
    tc = tcase_create("network");
    tcase_add_test(tc, two_layer_network_grads_match_hand_derived_formulas);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, matmul_with_dimensions_beyond_int_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(matmul_suite)
