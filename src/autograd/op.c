/* nb_op_apply: the single entry point through which every op runs. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Heap scratch of an unrecorded node, freed right after its forward. The
 * data follows the header, rounded up to 64 bytes by hand: the allocator
 * gives 16-byte alignment, so a 64-aligned member would be misaligned. */
typedef struct heap_scratch {
    struct heap_scratch *next;
} heap_scratch;

void *nb_node_scratch(nb_node *node, size_t bytes)
{
    if (node->tape)
        return nb_arena_alloc(&node->tape->arena, bytes);
    heap_scratch *s = nb_alloc(sizeof *s + bytes + 64);
    if (!s)
        return NULL;
    s->next = node->heap_scratch;
    node->heap_scratch = s;
    return (void *)(((uintptr_t)(s + 1) + 63) & ~(uintptr_t)63);
}

static void release_heap_scratch(nb_node *node)
{
    heap_scratch *s = node->heap_scratch;
    while (s) {
        heap_scratch *next = s->next;
        nb_release(s);
        s = next;
    }
    node->heap_scratch = NULL;
}

void *nb_node_input_grad(nb_node *node, int i)
{
    nb_tensor *in = node->inputs[i];
    return in->requires_grad ? nb__ensure_grad(in) : NULL;
}

nb_status nb_infer_same_as_input(const nb_node *node, nb_dtype *dtype, int *rank,
                                 int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0];
    *dtype = x->dtype;
    *rank = x->rank;
    memcpy(shape, x->shape, sizeof x->shape);
    return NB_OK;
}

static nb_status check_inputs(nb_tape *tape, const nb_op *op, int n_inputs,
                              nb_tensor *const inputs[])
{
    if (n_inputs != op->n_inputs)
        return nb_error(NB_ERR_ARG, "nb_%s: got %d inputs: expected %d", op->name, n_inputs,
                        op->n_inputs);
    for (int i = 0; i < n_inputs; i++) {
        const nb_tensor *in = inputs[i];
        if (!in) {
            /* keep the message of the call that produced the NULL */
            if (nb_last_status() == NB_OK)
                nb_error(NB_ERR_NULL, "nb_%s: input %d is NULL", op->name, i);
            return NB_ERR_NULL;
        }
        if (nb__check_op_live(op->name, in) != NB_OK)
            return NB_ERR_STATE;
        if (tape && in->tape && in->tape != tape)
            return nb_error(NB_ERR_STATE, "nb_%s: input %d belongs to another tape", op->name, i);
    }
    return NB_OK;
}

static bool wants_record(const nb_tape *tape, const nb_op *op, const nb_node *node)
{
    if (!tape || !tape->grad_enabled || !op->backward)
        return false;
    for (int i = 0; i < node->n_inputs; i++)
        if (node->inputs[i]->requires_grad)
            return true;
    return false;
}

static nb_node *make_node(nb_tape *tape, nb_node *stack_node, const nb_op *op, int n_inputs,
                          nb_tensor *const inputs[], const void *attrs, size_t attrs_size)
{
    nb_node *node = tape ? nb_arena_alloc(&tape->arena, sizeof *node) : stack_node;
    void *attrs_copy = tape && attrs_size ? nb_arena_alloc(&tape->arena, attrs_size) : NULL;
    if (!node || (tape && attrs_size && !attrs_copy)) {
        nb_error(NB_ERR_NOMEM, "nb_%s: out of memory for a tape node", op->name);
        return NULL;
    }
    memset(node, 0, sizeof *node);
    node->op = op;
    node->n_inputs = n_inputs;
    memcpy(node->inputs, inputs, (size_t)n_inputs * sizeof *inputs);
    if (attrs_copy)
        memcpy(attrs_copy, attrs, attrs_size);
    node->attrs = tape ? attrs_copy : attrs;
    node->attrs_size = attrs_size;
    node->tape = tape;
    return node;
}

static nb_tensor *alloc_output(nb_tape *tape, nb_node *node)
{
    nb_dtype dtype;
    int rank = 0;
    int64_t shape[NB_MAX_RANK] = {1, 1, 1, 1};
    int64_t size;
    if (node->op->infer(node, &dtype, &rank, shape) != NB_OK ||
        nb__check_op_shape(node->op->name, rank, shape, &size) != NB_OK)
        return NULL;
    nb_tensor *out = nb__tensor_alloc_for(tape, dtype, rank, shape, !node->op->overwrites_output);
    if (!out) {
        /* the allocator's message cannot say which op asked (one_hot with
         * 2^40 classes, broadcast_to a huge shape) */
        char buf[NB_SHAPE_BUF];
        nb_error(NB_ERR_NOMEM, "nb_%s: out of memory for its result %s %s (%" PRId64 " bytes)",
                 node->op->name, nb__dims_str(rank, shape, buf, sizeof buf),
                 nb_dtype_name(dtype), size * (int64_t)nb_dtype_size(dtype));
    }
    return out;
}

nb_tensor *nb_op_apply(nb_tape *tape, const nb_op *op, int n_inputs, nb_tensor *const inputs[],
                       const void *attrs, size_t attrs_size)
{
    if (!op || !op->infer || !op->forward) {
        nb_error(NB_ERR_NULL, "nb_op_apply: op or its infer/forward function is NULL");
        return NULL;
    }
    if (n_inputs < 1 || n_inputs > NB_MAX_INPUTS || !inputs) {
        nb_error(NB_ERR_ARG, "nb_op_apply: op '%s' given %d inputs: expected 1 to %d", op->name,
                 n_inputs, NB_MAX_INPUTS);
        return NULL;
    }
    if (check_inputs(tape, op, n_inputs, inputs) != NB_OK)
        return NULL;
    nb_node stack_node;
    nb_node *node = make_node(tape, &stack_node, op, n_inputs, inputs, attrs, attrs_size);
    nb_tensor *out = node ? alloc_output(tape, node) : NULL;
    if (!out)
        return NULL;
    node->output = out;
    nb_status status = op->forward(node);
    release_heap_scratch(node);
    if (status == NB_OK && nb__anomaly_enabled)
        status = nb__anomaly_check_forward(node, wants_record(tape, op, node)
                                                     ? tape->n_nodes
                                                     : NB_ANOMALY_NOT_RECORDED);
    if (status != NB_OK) {
        nb_tensor_free(out);
        return NULL;
    }
    if (wants_record(tape, op, node)) {
        if (!nb__tape_push_node(tape, node)) {
            nb_error(NB_ERR_NOMEM, "nb_%s: out of memory for the tape's node list", op->name);
            return NULL;
        }
        out->requires_grad = true;
        out->node = node;
    }
    return out;
}
