/* Gradients of graphs that mix broadcasting, batched matmul, transpose,
 * concat, slice, take, max and the newer activations, against PyTorch's in
 * f64 (tests/torch_graphs.py wrote torch_graphs_expected.h). Inputs and the
 * weights that reduce each output to a loss come from the same formulas on
 * both sides. Every gradient must match to 1e-10 relative, and every
 * Hessian-vector product (nb_hvp, double backward through the vjps) PyTorch's
 * torch.autograd.functional.hvp (tests/torch_hvp.py) to 1e-9 relative. */
#include <math.h>

#include "nb_test.h"
#include "torch_graphs_expected.h"
#include "torch_hvp_expected.h"

#define REL_TOL 1e-10

/* input k: element i is sin(0.7 i + 1.3 k + 0.1) * scale + offset */
static nb_tensor *make(int k, int rank, const int64_t *shape, double scale, double offset)
{
    nb_tensor *t = nb_tensor_zeros(NB_F64, rank, shape);
    ck_assert_ptr_nonnull(t);
    for (int64_t i = 0; i < t->size; i++)
        nb_tensor_set(t, i, sin(0.7 * (double)i + 1.3 * k + 0.1) * scale + offset);
    nb_tensor_set_requires_grad(t, true);
    return nb_test_keep(t);
}

/* sum(out * w), w[i] = cos(0.3 i + 0.5) */
static nb_tensor *reduce(nb_tape *tape, nb_tensor *out)
{
    ck_assert_msg(out != NULL, "%s", nb_last_error());
    nb_tensor *w = nb_tape_tensor(tape, NB_F64, out->rank, out->shape);
    for (int64_t i = 0; i < w->size; i++)
        nb_tensor_set(w, i, cos(0.3 * (double)i + 0.5));
    return nb_sum(tape, nb_mul(tape, out, w));
}

static void assert_matches(const char *what, const nb_tensor *t, const double *expected)
{
    for (int64_t i = 0; i < t->size; i++) {
        double got = nb_tensor_grad_get(t, i), want = expected[i];
        ck_assert_msg(fabs(got - want) <= REL_TOL * fmax(1.0, fabs(want)),
                      "%s: gradient element %lld is %.17g, PyTorch's %.17g", what, (long long)i,
                      got, want);
    }
}

#define HVP_REL_TOL 1e-9

/* nb_hvp of the loss along direction k, element i cos(0.9 i + 0.4 k + 0.2),
 * against PyTorch's; before check(), which frees the tape. */
static void check_hvp(nb_tape *tape, nb_tensor *loss, int n, nb_tensor *const xs[],
                      const double *const hvps[])
{
    nb_tensor *vs[4], *products[4];
    for (int k = 0; k < n; k++) {
        vs[k] = nb_tape_tensor(tape, NB_F64, xs[k]->rank, xs[k]->shape);
        for (int64_t i = 0; i < vs[k]->size; i++)
            nb_tensor_set(vs[k], i, cos(0.9 * (double)i + 0.4 * k + 0.2));
    }
    ck_assert_msg(nb_hvp(tape, loss, n, xs, vs, products) == NB_OK, "%s", nb_last_error());
    for (int k = 0; k < n; k++)
        for (int64_t i = 0; i < xs[k]->size; i++) {
            double got = nb_tensor_get(products[k], i), want = hvps[k][i];
            ck_assert_msg(fabs(got - want) <= HVP_REL_TOL * fmax(1.0, fabs(want)),
                          "input %d: Hessian-vector product element %lld is %.17g, PyTorch's "
                          "%.17g", k, (long long)i, got, want);
        }
}

/* backward from the loss, then compare the loss and each input's gradient */
static void check(nb_tape *tape, nb_tensor *loss, double torch_loss, int n, nb_tensor *const xs[],
                  const double *const grads[])
{
    ck_assert_msg(loss != NULL, "%s", nb_last_error());
    ck_assert_double_eq_tol(nb_tensor_item(loss), torch_loss, REL_TOL * fmax(1, fabs(torch_loss)));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    for (int k = 0; k < n; k++) {
        char what[32];
        snprintf(what, sizeof what, "input %d", k);
        assert_matches(what, xs[k], grads[k]);
    }
    nb_tape_free(tape);
}

START_TEST(broadcast_matmul_transpose_gelu_max_match_torch)
{
    nb_tensor *a = make(0, NB_SHAPE(2, 3, 4), 1, 0), *b = make(1, NB_SHAPE(4), 1, 0);
    nb_tensor *w = make(2, NB_SHAPE(4, 5), 1, 0);
    nb_tape *tape = nb_tape_new();
    nb_tensor *c = nb_matmul(tape, nb_mul(tape, a, b), w);
    nb_tensor *d = nb_gelu(tape, nb_transpose(tape, c, (const int[]){0, 2, 1}));
    nb_tensor *loss = reduce(tape, nb_max_axis(tape, d, -1, false));
    check_hvp(tape, loss, 3, (nb_tensor *[]){a, b, w},
              (const double *[]){torch_broadcast_matmul_hvp0, torch_broadcast_matmul_hvp1, torch_broadcast_matmul_hvp2});
    check(tape, loss, torch_broadcast_matmul_loss, 3, (nb_tensor *[]){a, b, w},
          (const double *[]){torch_broadcast_matmul_grad0, torch_broadcast_matmul_grad1,
                             torch_broadcast_matmul_grad2});
}
END_TEST

START_TEST(concat_slice_take_softplus_silu_logsumexp_match_torch)
{
    nb_tensor *x = make(3, NB_SHAPE(3, 4), 1, 0), *y = make(4, NB_SHAPE(3, 2), 1, 0);
    nb_tape *tape = nb_tape_new();
    nb_tensor *cat = nb_concat(tape, 2, (nb_tensor *[]){x, y}, 1);
    nb_tensor *s = nb_slice(tape, cat, 1, 1, 5);
    nb_tensor *rows = nb_tape_tensor(tape, NB_F64, NB_SHAPE(3));
    nb_tensor_set(rows, 0, 2);
    nb_tensor_set(rows, 1, 0);
    nb_tensor_set(rows, 2, 2);
    nb_tensor *t = nb_take(tape, s, rows, 0);
    nb_tensor *u = nb_mul(tape, nb_softplus(tape, t), nb_silu(tape, t));
    nb_tensor *loss = reduce(tape, nb_logsumexp_axis(tape, u, 1, false));
    check_hvp(tape, loss, 2, (nb_tensor *[]){x, y},
              (const double *[]){torch_concat_slice_take_hvp0, torch_concat_slice_take_hvp1});
    check(tape, loss, torch_concat_slice_take_loss, 2, (nb_tensor *[]){x, y},
          (const double *[]){torch_concat_slice_take_grad0, torch_concat_slice_take_grad1});
}
END_TEST

START_TEST(batched_broadcast_matmul_elu_leaky_where_softmax_match_torch)
{
    nb_tensor *a = make(5, NB_SHAPE(2, 1, 3, 4), 1, 0), *b = make(6, NB_SHAPE(3, 4, 2), 1, 0);
    nb_tensor *c = make(7, NB_SHAPE(3, 2), 1, 0);
    nb_tape *tape = nb_tape_new();
    nb_tensor *m = nb_matmul(tape, a, b);
    nb_tensor *e = nb_elu(tape, m, 0.7), *l = nb_leaky_relu(tape, m, 0.2);
    nb_tensor *cond = nb_tape_tensor(tape, NB_F64, NB_SHAPE(3, 2));
    for (int64_t i = 0; i < 6; i++)
        nb_tensor_set(cond, i, i % 2 == 0);
    nb_tensor *w = nb_where(tape, cond, e, nb_mul(tape, l, c));
    nb_tensor *loss = reduce(tape, nb_softmax_axis(tape, w, 1));
    check_hvp(tape, loss, 3, (nb_tensor *[]){a, b, c},
              (const double *[]){torch_batched_broadcast_hvp0, torch_batched_broadcast_hvp1, torch_batched_broadcast_hvp2});
    check(tape, loss, torch_batched_broadcast_loss, 3, (nb_tensor *[]){a, b, c},
          (const double *[]){torch_batched_broadcast_grad0, torch_batched_broadcast_grad1,
                             torch_batched_broadcast_grad2});
}
END_TEST

START_TEST(pow_trig_maximum_minimum_var_min_match_torch)
{
    nb_tensor *p = make(8, NB_SHAPE(2, 3), 0.5, 1.5), *q = make(9, NB_SHAPE(3), 0.5, 0);
    nb_tensor *r = make(10, NB_SHAPE(2, 1), 1, 0);
    nb_tape *tape = nb_tape_new();
    nb_tensor *base = nb_add(tape, nb_pow(tape, p, q), nb_mul(tape, nb_sin(tape, r), nb_cos(tape, p)));
    nb_tensor *mx = nb_sub(tape, nb_maximum(tape, base, r), nb_minimum(tape, base, q));
    nb_tensor *ratio = nb_div(tape, mx, nb_add_scalar(tape, p, 2.0));
    nb_tensor *v = nb_var_axis(tape, ratio, 1, true);
    nb_tensor *loss = reduce(tape, nb_min_axis(tape, nb_sub(tape, ratio, v), 0, false));
    check_hvp(tape, loss, 3, (nb_tensor *[]){p, q, r},
              (const double *[]){torch_pow_trig_minmax_hvp0, torch_pow_trig_minmax_hvp1, torch_pow_trig_minmax_hvp2});
    check(tape, loss, torch_pow_trig_minmax_loss, 3, (nb_tensor *[]){p, q, r},
          (const double *[]){torch_pow_trig_minmax_grad0, torch_pow_trig_minmax_grad1,
                             torch_pow_trig_minmax_grad2});
}
END_TEST

START_TEST(stack_transpose_log_softmax_broadcast_to_match_torch)
{
    nb_tensor *a = make(11, NB_SHAPE(2, 3), 1, 0), *b = make(12, NB_SHAPE(2, 3), 1, 0);
    nb_tensor *c = make(13, NB_SHAPE(1, 3), 1, 0);
    nb_tape *tape = nb_tape_new();
    nb_tensor *s = nb_stack(tape, 3, (nb_tensor *[]){a, b, nb_mul(tape, a, b)}, 1);
    nb_tensor *t = nb_transpose(tape, s, (const int[]){2, 0, 1});
    nb_tensor *ls = nb_log_softmax_axis(tape, t, 0);
    nb_tensor *loss = reduce(tape, nb_mul(tape, ls, nb_broadcast_to(tape, c, NB_SHAPE(2, 3))));
    check_hvp(tape, loss, 3, (nb_tensor *[]){a, b, c},
              (const double *[]){torch_stack_logsoftmax_hvp0, torch_stack_logsoftmax_hvp1, torch_stack_logsoftmax_hvp2});
    check(tape, loss, torch_stack_logsoftmax_loss, 3, (nb_tensor *[]){a, b, c},
          (const double *[]){torch_stack_logsoftmax_grad0, torch_stack_logsoftmax_grad1,
                             torch_stack_logsoftmax_grad2});
}
END_TEST

static Suite *torch_graphs_suite(void)
{
    Suite *s = suite_create("torch_graphs");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, broadcast_matmul_transpose_gelu_max_match_torch);
    tcase_add_test(tc, concat_slice_take_softplus_silu_logsumexp_match_torch);
    tcase_add_test(tc, batched_broadcast_matmul_elu_leaky_where_softmax_match_torch);
    tcase_add_test(tc, pow_trig_maximum_minimum_var_min_match_torch);
    tcase_add_test(tc, stack_transpose_log_softmax_broadcast_to_match_torch);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(torch_graphs_suite)
