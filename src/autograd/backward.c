/* Reverse-mode sweep over the tape. */
#include <inttypes.h>
#include <string.h>

#include "internal.h"

/* Intermediates' gradients from an earlier backward on the same tape must not
 * leak into this one; dropping the pointers makes them start from zero (the
 * old buffers stay in the arena until reset). */
static void forget_intermediate_grads(nb_tape *tape)
{
    for (size_t i = 0; i < tape->n_nodes; i++)
        tape->nodes[i]->output->grad = NULL;
}

static nb_status add_seed(nb_tensor *out, const nb_tensor *seed)
{
    void *grad = nb__ensure_grad(out);
    if (!grad)
        return NB_ERR_NOMEM;
    for (int64_t i = 0; i < out->size; i++) {
        double g = seed ? nb_tensor_get(seed, i) : 1.0;
        if (out->dtype == NB_F32)
            ((float *)grad)[i] += (float)g;
        else
            ((double *)grad)[i] += g;
    }
    return NB_OK;
}

static nb_status sweep(nb_tape *tape, size_t last)
{
    for (size_t i = last + 1; i-- > 0;) {
        nb_node *node = tape->nodes[i];
        if (!node->output->grad)
            continue; /* the output does not lead to the seed */
        unsigned long failures = nb__grad_alloc_failures;
        nb_status status = node->op->backward(node);
        if (status == NB_OK && nb__grad_alloc_failures != failures)
            status = NB_ERR_NOMEM; /* a gradient was skipped: its message is set */
        if (status == NB_OK && nb__anomaly_enabled)
            status = nb__anomaly_check_backward(node);
        if (status != NB_OK)
            return status;
    }
    return NB_OK;
}

static nb_status run_backward(const char *fn, nb_tensor *out, const nb_tensor *seed)
{
    if (nb__check_live(fn, out) != NB_OK || (seed && nb__check_live(fn, seed) != NB_OK))
        return NB_ERR_STATE;
    if (!out->requires_grad)
        return nb_error(NB_ERR_STATE,
                        "%s: the tensor does not require a gradient: no recorded op leads to "
                        "it (were its inputs marked with nb_tensor_set_requires_grad, and was "
                        "the tape recording?)",
                        fn);
    nb_tape *tape = out->node ? out->node->tape : NULL;
    if (tape)
        forget_intermediate_grads(tape);
    nb_status status = add_seed(out, seed);
    if (status != NB_OK || !tape)
        return status;
    return sweep(tape, out->node->index);
}

nb_status nb__backward_seeded(nb_tensor *out)
{
    nb_status status = add_seed(out, NULL);
    if (status != NB_OK || !out->node)
        return status;
    return sweep(out->node->tape, out->node->index);
}

nb_status nb_backward(nb_tensor *loss)
{
    if (!loss)
        return nb_last_status() != NB_OK ? nb_last_status()
                                         : nb_error(NB_ERR_NULL, "nb_backward: loss is NULL");
    if (loss->size != 1) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE,
                        "nb_backward: loss has shape %s (%" PRId64 " elements): expected a "
                        "single element; use nb_backward_from with a gradient",
                        nb_shape_str(loss, buf, sizeof buf), loss->size);
    }
    return run_backward("nb_backward", loss, NULL);
}

nb_status nb_backward_from(nb_tensor *output, const nb_tensor *grad)
{
    if (!output || !grad)
        return nb_error(NB_ERR_NULL, "nb_backward_from: %s is NULL", output ? "grad" : "output");
    if (!nb_same_shape(output, grad)) {
        char a[NB_SHAPE_BUF], b[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "nb_backward_from: output is %s but grad is %s: expected the same shape",
                        nb_shape_str(output, a, sizeof a), nb_shape_str(grad, b, sizeof b));
    }
    return run_backward("nb_backward_from", output, grad);
}
