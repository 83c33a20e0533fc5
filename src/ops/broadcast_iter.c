/* Row-by-row walk over a broadcast output (see broadcast_iter.h). */
#include "ops/broadcast.h"
#include "ops/broadcast_iter.h"

/* Keep the output axes of size > 1, right to left, merging an axis into the
 * one kept last when, for every input, one step along it is one whole run
 * of the kept axis (also when both strides are 0). Then reverse them. */
static void merge_axes(nb__bcast_iter *it, const nb_tensor *out,
                       int64_t st[NB_MAX_INPUTS][NB_MAX_RANK])
{
    int64_t shape[NB_MAX_RANK], strides[NB_MAX_INPUTS][NB_MAX_RANK];
    int kept = 0;
    for (int d = out->rank - 1; d >= 0; d--) {
        if (out->shape[d] == 1)
            continue;
        bool runs_on = kept > 0;
        for (int i = 0; i < it->n_inputs && runs_on; i++)
            runs_on = st[i][d] == strides[i][kept - 1] * shape[kept - 1];
        if (runs_on) {
            shape[kept - 1] *= out->shape[d];
            continue;
        }
        shape[kept] = out->shape[d];
        for (int i = 0; i < it->n_inputs; i++)
            strides[i][kept] = st[i][d];
        kept++;
    }
    if (kept == 0) { /* a single element */
        shape[0] = 1;
        for (int i = 0; i < it->n_inputs; i++)
            strides[i][0] = 0;
        kept = 1;
    }
    it->rank = kept;
    for (int k = 0; k < kept; k++) {
        it->shape[k] = shape[kept - 1 - k];
        for (int i = 0; i < it->n_inputs; i++)
            it->strides[i][k] = strides[i][kept - 1 - k];
    }
}

void nb__bcast_iter_init(nb__bcast_iter *it, const nb_node *node, int n_inputs)
{
    const nb_tensor *out = node->output;
    int64_t st[NB_MAX_INPUTS][NB_MAX_RANK];
    it->n_inputs = n_inputs;
    for (int i = 0; i < n_inputs; i++)
        nb__broadcast_strides(node->inputs[i]->rank, node->inputs[i]->shape, out->rank,
                              out->shape, st[i]);
    merge_axes(it, out, st);
    it->row_len = it->shape[it->rank - 1];
    it->rows = 1;
    for (int k = 0; k < it->rank - 1; k++) {
        it->rows *= it->shape[k];
        it->index[k] = 0;
    }
    for (int i = 0; i < n_inputs; i++) {
        it->step[i] = it->strides[i][it->rank - 1];
        it->offset[i] = 0;
    }
}

void nb__bcast_iter_next(nb__bcast_iter *it)
{
    for (int k = it->rank - 2; k >= 0; k--) {
        for (int i = 0; i < it->n_inputs; i++)
            it->offset[i] += it->strides[i][k];
        if (++it->index[k] < it->shape[k])
            return;
        for (int i = 0; i < it->n_inputs; i++)
            it->offset[i] -= it->strides[i][k] * it->shape[k];
        it->index[k] = 0;
    }
}
