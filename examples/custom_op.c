/* custom_op: add your own differentiable op to nabla, and check it.
 *
 * An op is a struct of three functions, the same interface nabla's built-in
 * ops use (see nabla/op.h):
 *   infer     checks the inputs and gives the output's dtype and shape,
 *   forward   computes the output from the inputs,
 *   backward  adds d(loss)/d(input) to each input's gradient, given
 *             d(loss)/d(output).
 * nb_op_apply() runs it: it allocates the output, calls forward, and records
 * the op on the tape so that nb_backward() calls backward later.
 *
 * This program defines softplus,
 *     y = log(1 + exp(x)),        dy/dx = sigmoid(x) = 1 / (1 + exp(-x)),
 * uses it in a tiny computation, and checks its backward against finite
 * differences with nb_gradcheck. Copy it as the start of your own op.
 *
 *     custom_op              values, gradients and the gradient check
 *     custom_op --seed 7     another random input for the check
 *
 * Exit status: 0 when the gradient check passed, 1 when it failed, 2 on a
 * usage error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

/* ---- 1. the math for one element --------------------------------------- */

/* log(1 + exp(x)) written as max(x, 0) + log1p(exp(-|x|)): exp never sees a
 * positive argument, so it cannot overflow (the naive formula gives inf for
 * x > 709 in double, x > 88 in float), and log1p keeps the digits when
 * exp(-|x|) is tiny. */
static double softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }

/* The derivative, sigmoid(x), also without overflow. */
static double sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* ---- 2. forward --------------------------------------------------------- */

/* node->inputs[0] is x; node->output is already allocated with the dtype and
 * shape that infer gave. Tensors are f32 or f64, so handle both. */
static nb_status softplus_forward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    nb_tensor *y = node->output;
    for (int64_t i = 0; i < x->size; i++) {
        if (x->dtype == NB_F32)
            ((float *)y->data)[i] = (float)softplus(((const float *)x->data)[i]);
        else
            ((double *)y->data)[i] = softplus(((const double *)x->data)[i]);
    }
    return NB_OK;
}

/* ---- 3. backward -------------------------------------------------------- */

/* The chain rule: dL/dx = dL/dy * dy/dx = g * sigmoid(x), with g the output's
 * gradient. Add (+=) rather than assign: x may feed other ops too, and their
 * contributions sum. nb_node_input_grad gives the buffer to add to, or NULL
 * when x needs no gradient. */
static nb_status softplus_backward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    const nb_tensor *y = node->output;
    void *dx = nb_node_input_grad(node, 0);
    if (!dx) /* no gradient wanted, or no memory for it (then it said so) */
        return x->requires_grad ? NB_ERR_NOMEM : NB_OK;
    for (int64_t i = 0; i < x->size; i++) {
        if (x->dtype == NB_F32) {
            float g = ((const float *)y->grad)[i];
            ((float *)dx)[i] += g * (float)sigmoid(((const float *)x->data)[i]);
        } else {
            double g = ((const double *)y->grad)[i];
            ((double *)dx)[i] += g * sigmoid(((const double *)x->data)[i]);
        }
    }
    return NB_OK;
}

/* ---- 4. the op ---------------------------------------------------------- */

/* softplus is elementwise, so the output is shaped like the input: the
 * ready-made nb_infer_same_as_input says so. An op with rules about its
 * inputs writes its own infer and reports violations with nb_error. */
static const nb_op softplus_op = {
    .name = "softplus",
    .n_inputs = 1,
    .infer = nb_infer_same_as_input,
    .forward = softplus_forward,
    .backward = softplus_backward,
};

/* A function in the style of the built-ins: tape first; NULL in, NULL out. */
static nb_tensor *apply_softplus(nb_tape *tape, nb_tensor *x)
{
    return nb_op_apply(tape, &softplus_op, 1, (nb_tensor *[]){x}, NULL, 0);
}

/* ---- 5. use it ---------------------------------------------------------- */

/* loss = mean(softplus(x)), so d loss / dx_i = sigmoid(x_i) / n. The large
 * inputs show the stable formula: softplus(1000) = 1000, not inf. */
static int demo(void)
{
    const double values[] = {-1000, -30, -2, -0.5, 0, 0.5, 2, 30, 1000};
    const int n = (int)(sizeof values / sizeof values[0]);
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F32, NB_SHAPE(n), values);
    if (!tape || !x || nb_tensor_set_requires_grad(x, true) != NB_OK)
        goto fail;
    nb_tensor *y = apply_softplus(tape, x);
    nb_tensor *loss = nb_mean(tape, y);
    if (!loss || nb_backward(loss) != NB_OK) /* one check for the whole chain */
        goto fail;

    printf("softplus in f32, loss = mean(softplus(x)) = %.6g\n\n", nb_tensor_item(loss));
    printf("%10s %14s %14s %14s\n", "x", "softplus(x)", "d loss/dx", "sigmoid(x)/n");
    for (int i = 0; i < n; i++)
        printf("%10g %14.6g %14.6g %14.6g\n", values[i], nb_tensor_get(y, i),
               nb_tensor_grad_get(x, i), sigmoid(values[i]) / n);
    nb_tape_free(tape);
    nb_tensor_free(x);
    return 0;
fail:
    fprintf(stderr, "custom_op: %s\n", nb_last_error());
    nb_tape_free(tape);
    nb_tensor_free(x);
    return 1;
}

/* ---- 6. check it -------------------------------------------------------- */

/* The checked function: softplus between two built-in ops, so the check also
 * shows gradients flowing through the custom op into the others:
 * f(x, w) = softplus(x w) for x [3, 4] and w [4, 2]. */
static nb_tensor *checked(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    (void)user;
    return apply_softplus(tape, nb_matmul(tape, inputs[0], inputs[1]));
}

/* Compare backward with finite differences, in f64: in f32 the round-off of
 * a finite difference is larger than the errors the check looks for. */
static int gradient_check(uint64_t seed)
{
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    nb_tensor *x = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(3, 4), -2, 2, &rng);
    nb_tensor *w = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(4, 2), -2, 2, &rng);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_set_requires_grad(w, true);
    nb_gradcheck_report report;
    nb_status status = nb_gradcheck(checked, 2, (nb_tensor *[]){x, w}, NULL, NULL, &report);
    nb_tensor_free(x);
    nb_tensor_free(w);
    if (status != NB_OK) {
        fprintf(stderr, "custom_op: the gradient check could not run: %s\n", nb_last_error());
        return 1;
    }
    printf("\ngradient check of softplus(x w) in f64 (seed %llu; input 0 is x, 1 is w):\n",
           (unsigned long long)seed);
    nb_gradcheck_print(&report, stdout);
    return report.passed ? 0 : 1;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--seed N]\n", argv[0]);
            return 2;
        }
    }
    if (demo() != 0)
        return 1;
    return gradient_check(seed);
}
