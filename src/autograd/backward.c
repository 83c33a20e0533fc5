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

/* ---- parameters whose gradient is final (nb__backward_with_ready) ------ */

/* A parameter and the tape position of the first node that takes it as an
 * input (-1: none up to the seed). The sweep runs backwards, so once that
 * node's backward is done no other node adds to the parameter's gradient. */
typedef struct ready_param {
    int64_t first_use;
    int param;
} ready_param;

/* The parameters in the order their gradients become final, and the next
 * one to hand out. NULL for a plain backward. */
typedef struct ready_list {
    ready_param *order;
    int n, next;
    nb__grad_ready_fn on_ready;
    void *ctx;
} ready_list;

/* One forward scan over the nodes' inputs. Parameters are caller-owned
 * tensors (no tape), so only those inputs are looked up. */
static void find_first_uses(const nb_tape *tape, size_t last, ready_param *order, int n,
                            nb_tensor *const params[])
{
    for (int p = 0; p < n; p++)
        order[p] = (ready_param){.first_use = -1, .param = p};
    for (size_t i = 0; i <= last; i++) {
        const nb_node *node = tape->nodes[i];
        for (int k = 0; k < node->n_inputs; k++) {
            const nb_tensor *in = node->inputs[k];
            if (in->tape || !in->requires_grad)
                continue;
            for (int p = 0; p < n; p++)
                if (params[p] == in && order[p].first_use < 0)
                    order[p].first_use = (int64_t)i;
        }
    }
}

/* Latest first use first (its gradient is final soonest), unused ones last;
 * an insertion sort: there are few parameters, and it is stable. */
static void sort_by_first_use(ready_param *order, int n)
{
    for (int i = 1; i < n; i++) {
        ready_param item = order[i];
        int j = i;
        for (; j > 0 && order[j - 1].first_use < item.first_use; j--)
            order[j] = order[j - 1];
        order[j] = item;
    }
}

/* The order lives on the tape's arena, reused after a reset, so a step in
 * steady state allocates nothing. */
static nb_status make_ready_list(ready_list *r, nb_tape *tape, size_t last, int n,
                                 nb_tensor *const params[])
{
    r->next = 0;
    r->n = n;
    r->order = NULL;
    if (n == 0)
        return NB_OK;
    r->order = tape ? nb_arena_alloc(&tape->arena, (size_t)n * sizeof *r->order)
                    : nb_alloc((size_t)n * sizeof *r->order);
    if (!r->order)
        return nb_error(NB_ERR_NOMEM, "nabla: out of memory for the order of %d parameters", n);
    if (tape)
        find_first_uses(tape, last, r->order, n, params);
    else
        for (int p = 0; p < n; p++)
            r->order[p] = (ready_param){.first_use = -1, .param = p};
    sort_by_first_use(r->order, n);
    return NB_OK;
}

/* Hand out every parameter first used at position `done` or later: the
 * backward of nodes done .. last has run. done = -1 hands out the rest. */
static void hand_out_ready(ready_list *r, int64_t done)
{
    for (; r && r->next < r->n && r->order[r->next].first_use >= done; r->next++)
        r->on_ready(r->ctx, r->order[r->next].param);
}

/* ---- the sweep ------------------------------------------------------------ */

static nb_status sweep(nb_tape *tape, size_t last, ready_list *ready)
{
    for (size_t i = last + 1; i-- > 0;) {
        nb_node *node = tape->nodes[i];
        if (node->output->grad) { /* else the output does not lead to the seed */
            unsigned long failures = nb__grad_alloc_failures;
            nb_status status = node->op->backward(node);
            if (status == NB_OK && nb__grad_alloc_failures != failures)
                status = NB_ERR_NOMEM; /* a gradient was skipped: its message is set */
            if (status == NB_OK && nb__anomaly_enabled)
                status = nb__anomaly_check_backward(node);
            if (status != NB_OK)
                return status;
        }
        hand_out_ready(ready, (int64_t)i);
    }
    return NB_OK;
}

static nb_status run_backward(const char *fn, nb_tensor *out, const nb_tensor *seed,
                              ready_list *ready, int n_params, nb_tensor *const params[])
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
    size_t last = tape ? out->node->index : 0;
    nb_status status = ready ? make_ready_list(ready, tape, last, n_params, params) : NB_OK;
    if (status == NB_OK)
        status = add_seed(out, seed);
    if (status == NB_OK && tape)
        status = sweep(tape, last, ready);
    if (status == NB_OK)
        hand_out_ready(ready, -1); /* parameters no node used */
    if (ready && !tape)
        nb_release(ready->order);
    return status;
}

nb_status nb__backward_seeded(nb_tensor *out)
{
    nb_status status = add_seed(out, NULL);
    if (status != NB_OK || !out->node)
        return status;
    return sweep(out->node->tape, out->node->index, NULL);
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
    return run_backward("nb_backward", loss, NULL, NULL, 0, NULL);
}

nb_status nb__backward_with_ready(nb_tensor *loss, int n_params, nb_tensor *const params[],
                                  nb__grad_ready_fn on_ready, void *ctx)
{
    ready_list ready = {.on_ready = on_ready, .ctx = ctx};
    return run_backward("nb_backward", loss, NULL, &ready, n_params, params);
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
    return run_backward("nb_backward_from", output, grad, NULL, 0, NULL);
}
