/* The tape: arena ownership, node list, reset, printing. */
#include <string.h>

#include "internal.h"

nb_tape *nb_tape_new(void)
{
    nb_tape *tape = nb_alloc_zeroed(sizeof *tape);
    if (!tape) {
        nb_error(NB_ERR_NOMEM, "nb_tape_new: out of memory");
        return NULL;
    }
    tape->generation = 1;
    tape->grad_enabled = true;
    return tape;
}

static void mark_owned_dead(nb_tape *tape)
{
    for (size_t i = 0; i < tape->n_owned; i++)
        tape->owned[i]->generation = 0;
}

void nb_tape_free(nb_tape *tape)
{
    if (!tape)
        return;
    nb_arena_destroy(&tape->arena);
    nb_release(tape->nodes);
    nb_release(tape->owned);
    nb_release(tape);
}

void nb_tape_reset(nb_tape *tape)
{
    if (!tape)
        return;
    mark_owned_dead(tape);
    tape->n_owned = 0;
    tape->n_nodes = 0;
    nb_arena_rewind(&tape->arena);
    /* generation 0 means dead, so skip it when wrapping around */
    if (++tape->generation == 0)
        tape->generation = 1;
}

bool nb_tape_set_grad_enabled(nb_tape *tape, bool enabled)
{
    if (!tape)
        return false;
    bool previous = tape->grad_enabled;
    tape->grad_enabled = enabled;
    return previous;
}

bool nb_tape_grad_enabled(const nb_tape *tape) { return tape && tape->grad_enabled; }

size_t nb_tape_size(const nb_tape *tape) { return tape ? tape->n_nodes : 0; }

nb_node *nb_tape_node(const nb_tape *tape, size_t i)
{
    return tape && i < tape->n_nodes ? tape->nodes[i] : NULL;
}

size_t nb_tape_arena_bytes(const nb_tape *tape) { return tape ? tape->arena.reserved : 0; }

/* Grow a heap array of pointers; the array survives resets, so growth stops
 * once the largest step has been seen. */
static bool grow(void ***items, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t new_cap = *cap ? *cap * 2 : 256;
    while (new_cap < need)
        new_cap *= 2;
    void **bigger = nb_alloc(new_cap * sizeof *bigger);
    if (!bigger)
        return false;
    if (*items)
        memcpy(bigger, *items, *cap * sizeof *bigger);
    nb_release(*items);
    *items = bigger;
    *cap = new_cap;
    return true;
}

bool nb__tape_track(nb_tape *tape, nb_tensor *t)
{
    if (!grow((void ***)&tape->owned, &tape->cap_owned, tape->n_owned + 1))
        return false;
    tape->owned[tape->n_owned++] = t;
    return true;
}

bool nb__tape_push_node(nb_tape *tape, nb_node *node)
{
    if (!grow((void ***)&tape->nodes, &tape->cap_nodes, tape->n_nodes + 1))
        return false;
    node->index = tape->n_nodes;
    tape->nodes[tape->n_nodes++] = node;
    return true;
}

/* The message names prefix followed by fn ("nb_" and an op's name). */
static nb_status check_live(const char *prefix, const char *fn, const nb_tensor *t)
{
    if (t->tape && t->generation != t->tape->generation)
        return nb_error(NB_ERR_STATE,
                        "%s%s: tensor '%s' was freed by nb_tape_reset: results from before a "
                        "reset cannot be used after it",
                        prefix, fn, t->name);
    return NB_OK;
}

nb_status nb__check_live(const char *fn, const nb_tensor *t) { return check_live("", fn, t); }

nb_status nb__check_op_live(const char *op_name, const nb_tensor *t)
{
    return check_live("nb_", op_name, t);
}

nb_tensor *nb_tape_tensor(nb_tape *tape, nb_dtype dtype, int rank, const int64_t *shape)
{
    if (nb__check_shape("nb_tape_tensor", rank, shape, NULL) != NB_OK)
        return NULL;
    if (dtype != NB_F32 && dtype != NB_F64) {
        nb_error(NB_ERR_DTYPE, "nb_tape_tensor: dtype %d is not NB_F32 or NB_F64", (int)dtype);
        return NULL;
    }
    return nb__tensor_alloc(tape, dtype, rank, shape);
}

nb_tensor *nb_detach(nb_tape *tape, nb_tensor *t)
{
    if (!t)
        return NULL;
    if (nb__check_live("nb_detach", t) != NB_OK)
        return NULL;
    nb_tensor *copy = nb__tensor_alloc(tape, t->dtype, t->rank, t->shape);
    if (copy) {
        memcpy(copy->data, t->data, (size_t)t->size * nb_dtype_size(t->dtype));
        nb_tensor_set_name(copy, t->name);
    }
    return copy;
}

nb_status nb_tape_print(const nb_tape *tape, FILE *out)
{
    if (!tape || !out)
        return nb_error(NB_ERR_NULL, "nb_tape_print: %s is NULL", tape ? "out" : "tape");
    fprintf(out, "tape: %zu nodes\n", tape->n_nodes);
    for (size_t i = 0; i < tape->n_nodes; i++) {
        const nb_node *node = tape->nodes[i];
        char buf[NB_SHAPE_BUF];
        fprintf(out, "  #%-3zu %-14s (", i, node->op->name);
        for (int k = 0; k < node->n_inputs; k++) {
            const nb_tensor *in = node->inputs[k];
            fprintf(out, "%s", k ? ", " : "");
            if (in->node && in->tape == tape)
                fprintf(out, "#%zu", in->node->index);
            else
                fprintf(out, "%s", in->name[0] ? in->name : "leaf");
            fprintf(out, " %s", nb_shape_str(in, buf, sizeof buf));
        }
        fprintf(out, ") -> %s %s\n", nb_shape_str(node->output, buf, sizeof buf),
                nb_dtype_name(node->output->dtype));
    }
    return NB_OK;
}
