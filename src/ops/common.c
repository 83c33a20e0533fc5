/* Input checks shared by the op families. */
#include <stdio.h>

#include "ops/ops_internal.h"

nb_status nb__require_same_dtype(const nb_node *node)
{
    for (int i = 1; i < node->n_inputs; i++)
        if (node->inputs[i]->dtype != node->inputs[0]->dtype)
            return nb_error(NB_ERR_DTYPE, "nb_%s: input %d is %s but input 0 is %s: expected the same dtype",
                            node->op->name, i, nb_dtype_name(node->inputs[i]->dtype),
                            nb_dtype_name(node->inputs[0]->dtype));
    return NB_OK;
}

nb_status nb__require_same_shape(const nb_node *node)
{
    nb_status s = nb__require_same_dtype(node);
    if (s != NB_OK)
        return s;
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    if (!nb_same_shape(a, b)) {
        char sa[NB_SHAPE_BUF], sb[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "nb_%s: shapes differ: a is %s, b is %s: expected the same shape",
                        node->op->name, nb_shape_str(a, sa, sizeof sa), nb_shape_str(b, sb, sizeof sb));
    }
    return NB_OK;
}

nb_status nb__require_rank(const nb_node *node, int input, int min_rank, int max_rank)
{
    const nb_tensor *t = node->inputs[input];
    if (t->rank < min_rank || t->rank > max_rank) {
        char buf[NB_SHAPE_BUF];
        if (min_rank == max_rank)
            return nb_error(NB_ERR_SHAPE, "nb_%s: input %d has shape %s (rank %d): expected rank %d",
                            node->op->name, input, nb_shape_str(t, buf, sizeof buf), t->rank, min_rank);
        return nb_error(NB_ERR_SHAPE, "nb_%s: input %d has shape %s (rank %d): expected rank %d to %d",
                        node->op->name, input, nb_shape_str(t, buf, sizeof buf), t->rank, min_rank,
                        max_rank);
    }
    return NB_OK;
}

nb_tensor *nb__apply_unary(nb_tape *tape, const nb_op *op, nb_tensor *x, double c, double d)
{
    nb_scalar_attrs attrs = {c, d};
    return nb_op_apply(tape, op, 1, (nb_tensor *[]){x}, &attrs, sizeof attrs);
}

nb_status nb__vjp_failed(void)
{
    nb_status s = nb_last_status();
    return s != NB_OK ? s : nb_error(NB_ERR_STATE, "nabla: a vjp's op returned NULL");
}

nb_tensor *nb__sum_to(nb_tape *tape, nb_tensor *g, const nb_tensor *like)
{
    while (g && g->rank > like->rank)
        g = nb_sum_axis(tape, g, 0, false);
    for (int d = 0; g && d < like->rank; d++)
        if (like->shape[d] == 1 && g->shape[d] != 1)
            g = nb_sum_axis(tape, g, d, true);
    return g;
}
