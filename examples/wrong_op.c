/* wrong_op: a custom op with a bug in its backward, and how nb_gradcheck
 * finds it: which input, which element.
 *
 * The op is y = a * b^2, elementwise, so
 *     dL/da = g * b^2        dL/db = g * 2 a b        (g = dL/dy).
 * Its backward gets dL/da right, but the loop for dL/db stops one element
 * short (`i < n - 1`), a classic slip: the last element of b gets no
 * gradient. Training would still run, just slightly wrong. The gradient check
 * catches it and its report names input 1 (b) and element n - 1.
 *
 * This is how to test a new op: gradient-check it in f64 on small random
 * inputs, and let the report point at what is wrong (docs/custom-layers.md).
 *
 *     wrong_op     prints the report; exits 0 when the check FAILED at
 *                  input 1, element 5 as expected, 1 otherwise
 */
#include <stdio.h>

#include "nabla/nabla.h"

/* y = a * b^2 */
static nb_status mul_square_forward(nb_node *node)
{
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    for (int64_t i = 0; i < a->size; i++) {
        double bi = nb_tensor_get(b, i);
        nb_tensor_set(node->output, i, nb_tensor_get(a, i) * bi * bi);
    }
    return NB_OK;
}

/* d/da (a b^2) = b^2; d/db (a b^2) = 2 a b. THE BUG: the second loop
 * stops at n - 1. (f64 only, to keep the example short.) */
static nb_status mul_square_backward(nb_node *node)
{
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    const double *g = node->output->grad;
    int64_t n = a->size;
    double *da = nb_node_input_grad(node, 0);
    double *db = nb_node_input_grad(node, 1);
    if (da)
        for (int64_t i = 0; i < n; i++)
            da[i] += g[i] * nb_tensor_get(b, i) * nb_tensor_get(b, i);
    if (db)
        for (int64_t i = 0; i < n - 1; i++) /* BUG: should be i < n */
            db[i] += g[i] * 2 * nb_tensor_get(a, i) * nb_tensor_get(b, i);
    return NB_OK;
}

/* Both inputs must have the same shape. */
static nb_status mul_square_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                                  int64_t shape[NB_MAX_RANK])
{
    if (!nb_same_shape(node->inputs[0], node->inputs[1]) || node->inputs[0]->dtype != NB_F64)
        return nb_error(NB_ERR_SHAPE, "nb_mul_square: expected two f64 tensors of one shape");
    return nb_infer_same_as_input(node, dtype, rank, shape);
}

static const nb_op mul_square_op = {
    .name = "mul_square",
    .n_inputs = 2,
    .infer = mul_square_infer,
    .forward = mul_square_forward,
    .backward = mul_square_backward,
};

static nb_tensor *checked(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_op_apply(tape, &mul_square_op, 2, in, NULL, 0);
}

int main(void)
{
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    nb_tensor *a = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(2, 3), -2, 2, &rng);
    nb_tensor *b = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(2, 3), -2, 2, &rng);
    nb_tensor_set_requires_grad(a, true);
    nb_tensor_set_requires_grad(b, true);
    nb_gradcheck_report report;
    nb_status status = nb_gradcheck(checked, 2, (nb_tensor *[]){a, b}, NULL, NULL, &report);
    nb_tensor_free(a);
    nb_tensor_free(b);
    if (status != NB_OK) {
        fprintf(stderr, "wrong_op: the check could not run: %s\n", nb_last_error());
        return 1;
    }
    printf("gradient check of mul_square(a, b) = a * b^2 (input 0 is a, 1 is b):\n");
    nb_gradcheck_print(&report, stdout);
    const nb_gradcheck_result *rb = &report.inputs[1];
    bool caught = !report.passed && report.inputs[0].passed && !rb->passed &&
                  rb->worst_index == 5;
    printf("\n%s\n", caught ? "caught, as expected: input 1 (b), element 5, the last one, "
                              "gets no gradient (the loop stops at n - 1)"
                            : "NOT caught as expected");
    return caught ? 0 : 1;
}
