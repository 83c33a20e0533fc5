/* nb_grad: gradients as tensors, by the fast buffer backward or, with
 * create_graph, by each op's vjp recorded on the tape as ops. */
#include "nabla/grad.h"

#include <inttypes.h>
#include <string.h>

#include "internal.h"
#include "nabla/ops.h"

/* ---- checks --------------------------------------------------------------- */

static nb_status check_tensor(nb_tape *tape, const nb_tensor *t, const char *what, int i)
{
    char name[32];
    snprintf(name, sizeof name, i < 0 ? "%s" : "%s[%d]", what, i);
    if (!t)
        return nb_error(NB_ERR_NULL, "nb_grad: %s is NULL", name);
    if (nb__check_live("nb_grad", t) != NB_OK)
        return NB_ERR_STATE;
    if (t->tape && t->tape != tape)
        return nb_error(NB_ERR_STATE, "nb_grad: %s belongs to another tape than the one given",
                        name);
    return NB_OK;
}

static nb_status check_args(nb_tape *tape, const nb_tensor *y, int n, nb_tensor *const xs[],
                            nb_tensor *grads[])
{
    if (!y && nb_last_status() != NB_OK)
        return nb_last_status(); /* keep the message of the op that failed */
    if (!tape || !xs || !grads)
        return nb_error(NB_ERR_NULL, "nb_grad: %s is NULL", !tape ? "tape" : !xs ? "xs" : "grads");
    if (n < 1)
        return nb_error(NB_ERR_ARG, "nb_grad: n is %d: expected 1 or more tensors in xs", n);
    nb_status s = check_tensor(tape, y, "y", -1);
    if (s != NB_OK)
        return s;
    if (y->size != 1) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "nb_grad: y has shape %s (%" PRId64 " elements): expected a "
                        "single element (sum it, or use nb_jvp)",
                        nb_shape_str(y, buf, sizeof buf), y->size);
    }
    for (int i = 0; i < n; i++) {
        if ((s = check_tensor(tape, xs[i], "xs", i)) != NB_OK)
            return s;
        if (!xs[i]->requires_grad)
            return nb_error(NB_ERR_ARG, "nb_grad: xs[%d] ('%s') does not require a gradient: "
                            "expected a leaf marked with nb_tensor_set_requires_grad or an op's "
                            "result on the tape", i, xs[i]->name);
    }
    return NB_OK;
}

/* ---- which nodes matter --------------------------------------------------- */

static int index_in(const nb_tensor *t, int n, nb_tensor *const xs[])
{
    for (int i = 0; i < n; i++)
        if (xs[i] == t)
            return i;
    return -1;
}

/* The node index of t when t is an op's result on `tape` up to `last`. */
static bool node_of(const nb_tape *tape, const nb_tensor *t, size_t last, size_t *index)
{
    if (!t->node || t->node->tape != tape || t->node->index > last)
        return false;
    *index = t->node->index;
    return true;
}

/* leads[i]: node i has some xs[j] among the tensors it was computed from. */
static bool *nodes_leading_to(nb_tape *tape, size_t last, int n, nb_tensor *const xs[])
{
    bool *leads = nb_alloc_zeroed((last + 1) * sizeof *leads);
    if (!leads) {
        nb_error(NB_ERR_NOMEM, "nb_grad: out of memory for %zu nodes", last + 1);
        return NULL;
    }
    for (size_t i = 0; i <= last; i++) {
        const nb_node *node = tape->nodes[i];
        for (int k = 0; k < node->n_inputs && !leads[i]; k++) {
            size_t at;
            const nb_tensor *in = node->inputs[k];
            leads[i] = index_in(in, n, xs) >= 0 || (node_of(tape, in, last, &at) && leads[at]);
        }
    }
    return leads;
}

static nb_tensor *zeros_like(nb_tape *tape, const nb_tensor *x)
{
    return nb_tape_tensor(tape, x->dtype, x->rank, x->shape);
}

static nb_tensor *copy_to_tape(nb_tape *tape, const nb_tensor *x, const void *values)
{
    nb_tensor *t = zeros_like(tape, x);
    if (t && values)
        memcpy(t->data, values, (size_t)x->size * nb_dtype_size(x->dtype));
    return t;
}

/* ---- first order: the buffer backward into fresh buffers ------------------
 * Every ->grad the sweep could write (the outputs of nodes up to y's and
 * every leaf that requires a gradient) is set aside and cleared, the sweep
 * runs as nb_backward's does, the new buffers are copied into grads, and
 * the old pointers are put back. */

typedef struct saved_grad {
    nb_tensor *t;
    void *grad;
} saved_grad;

typedef struct saved_grads {
    saved_grad *items;
    size_t n;
} saved_grads;

static void set_aside(saved_grads *s, nb_tensor *t)
{
    s->items[s->n++] = (saved_grad){t, t->grad};
    t->grad = NULL;
}

static nb_status set_aside_all(nb_tape *tape, nb_tensor *y, size_t last, bool recorded,
                               saved_grads *s)
{
    size_t cap = 1;
    for (size_t i = 0; recorded && i <= last; i++)
        cap += 1 + (size_t)tape->nodes[i]->n_inputs;
    s->items = nb_alloc(cap * sizeof *s->items);
    s->n = 0;
    if (!s->items)
        return nb_error(NB_ERR_NOMEM, "nb_grad: out of memory for %zu gradient pointers", cap);
    set_aside(s, y);
    for (size_t i = 0; recorded && i <= last; i++) {
        nb_node *node = tape->nodes[i];
        set_aside(s, node->output);
        for (int k = 0; k < node->n_inputs; k++)
            if (node->inputs[k]->requires_grad && !node->inputs[k]->node)
                set_aside(s, node->inputs[k]);
    }
    return NB_OK;
}

/* Copy the new buffers of xs into grads and put every old pointer back, in
 * reverse so that a tensor set aside twice gets its first (real) one. */
static void collect_and_restore(nb_tape *tape, saved_grads *s, int n, nb_tensor *const xs[],
                                nb_tensor *grads[])
{
    for (size_t k = s->n; k-- > 0;) {
        nb_tensor *t = s->items[k].t;
        void *fresh = t->grad;
        if (fresh && fresh != s->items[k].grad) {
            for (int i = 0; i < n; i++)
                if (xs[i] == t && !grads[i])
                    grads[i] = copy_to_tape(tape, t, fresh);
            if (!t->tape)
                nb_release(fresh);
        }
        t->grad = s->items[k].grad;
    }
    nb_release(s->items);
}

static nb_status grad_by_buffers(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[],
                                 nb_tensor *grads[])
{
    size_t last = 0;
    bool recorded = node_of(tape, y, tape->n_nodes, &last);
    saved_grads s;
    nb_status status = set_aside_all(tape, y, last, recorded, &s);
    if (status != NB_OK)
        return status;
    if (y->requires_grad)
        status = nb__backward_seeded(y);
    collect_and_restore(tape, &s, n, xs, grads);
    return status;
}

/* ---- any order: each node's vjp, recorded -------------------------------- */

typedef struct accumulator {
    nb_tape *tape;
    size_t last;
    nb_tensor **node_grad; /* [last + 1]: d y / d (node i's output) */
    nb_tensor **leaf_grad; /* [n]: d y / d xs[j] for xs that are not nodes */
    const bool *leads;
    int n;
    nb_tensor *const *xs;
} accumulator;

static nb_tensor *add_into(nb_tape *tape, nb_tensor *sum, nb_tensor *g)
{
    return sum ? nb_add(tape, sum, g) : g;
}

/* Add g, the gradient of input k of `node`, where it is wanted. */
static nb_status accumulate(accumulator *a, const nb_node *node, int k, nb_tensor *g)
{
    const nb_tensor *in = node->inputs[k];
    if (!nb_same_shape(g, in)) {
        char sg[NB_SHAPE_BUF], si[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "nb_grad: the vjp of op '%s' gave input %d a gradient of "
                        "shape %s: expected the input's shape %s", node->op->name, k,
                        nb_shape_str(g, sg, sizeof sg), nb_shape_str(in, si, sizeof si));
    }
    size_t at;
    nb_tensor **slot = NULL;
    if (node_of(a->tape, in, a->last, &at))
        slot = a->leads[at] || index_in(in, a->n, a->xs) >= 0 ? &a->node_grad[at] : NULL;
    else if (index_in(in, a->n, a->xs) >= 0)
        slot = &a->leaf_grad[index_in(in, a->n, a->xs)];
    if (slot && !(*slot = add_into(a->tape, *slot, g)))
        return nb_last_status();
    return NB_OK;
}

static nb_status node_vjp(accumulator *a, const nb_node *node, nb_tensor *g)
{
    if (!node->op->vjp)
        return nb_error(NB_ERR_STATE, "nb_grad: op '%s' has no differentiable backward (vjp): "
                        "it gives first-order gradients only (nb_backward, or nb_grad without "
                        "create_graph); give the op a vjp (nabla/op.h) to differentiate "
                        "through it twice", node->op->name);
    nb_tensor *grad_in[NB_MAX_INPUTS] = {NULL};
    nb_status s = node->op->vjp(a->tape, node, g, grad_in);
    if (s != NB_OK)
        return nb__error_context(s, "nb_grad: the vjp of op '%s' failed", node->op->name);
    /* a NULL gradient is a zero one */
    for (int k = 0; k < node->n_inputs; k++)
        if (grad_in[k] && (s = accumulate(a, node, k, grad_in[k])) != NB_OK)
            return s;
    return NB_OK;
}

static nb_status sweep_vjps(accumulator *a)
{
    for (size_t i = a->last + 1; i-- > 0;) {
        const nb_node *node = a->tape->nodes[i];
        if (!a->node_grad[i] || !a->leads[i])
            continue;
        nb_status s = node_vjp(a, node, a->node_grad[i]);
        if (s != NB_OK)
            return s;
    }
    return NB_OK;
}

static nb_status grad_by_vjps(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[],
                              nb_tensor *grads[])
{
    nb_tensor *seed = zeros_like(tape, y);
    if (!seed || nb_tensor_fill(seed, 1.0) != NB_OK)
        return nb_last_status();
    nb_tensor_set_name(seed, "seed"); /* d y / d y, as printed tapes show it */
    size_t last = 0;
    bool recorded = node_of(tape, y, tape->n_nodes, &last);
    accumulator a = {tape, last, NULL, NULL, NULL, n, xs};
    a.node_grad = nb_alloc_zeroed((last + 1) * sizeof *a.node_grad);
    a.leaf_grad = nb_alloc_zeroed((size_t)n * sizeof *a.leaf_grad);
    a.leads = recorded ? nodes_leading_to(tape, last, n, xs) : NULL;
    nb_status s = NB_OK;
    if (!a.node_grad || !a.leaf_grad || (recorded && !a.leads))
        s = nb_error(NB_ERR_NOMEM, "nb_grad: out of memory for %zu nodes", last + 1);
    if (s == NB_OK && recorded) {
        a.node_grad[last] = seed;
        s = sweep_vjps(&a);
    } else if (s == NB_OK && index_in(y, n, xs) >= 0) {
        a.leaf_grad[index_in(y, n, xs)] = seed;
    }
    for (int i = 0; s == NB_OK && i < n; i++) {
        size_t at;
        int first = index_in(xs[i], n, xs);
        grads[i] = node_of(tape, xs[i], last, &at) && recorded ? a.node_grad[at]
                                                               : a.leaf_grad[first];
        if (!grads[i] && !(grads[i] = zeros_like(tape, xs[i])))
            s = nb_last_status();
    }
    nb_release(a.node_grad);
    nb_release(a.leaf_grad);
    nb_release((void *)a.leads);
    return s;
}

nb_status nb_grad(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[], nb_tensor *grads[],
                  bool create_graph)
{
    nb_status s = check_args(tape, y, n, xs, grads);
    if (s != NB_OK)
        return s;
    memset(grads, 0, (size_t)n * sizeof *grads);
    if (create_graph) {
        bool was = nb_tape_set_grad_enabled(tape, true);
        s = grad_by_vjps(tape, y, n, xs, grads);
        nb_tape_set_grad_enabled(tape, was);
    } else {
        s = grad_by_buffers(tape, y, n, xs, grads);
        for (int i = 0; s == NB_OK && i < n; i++)
            if (!grads[i] && !(grads[i] = zeros_like(tape, xs[i])))
                s = nb_last_status();
    }
    if (s != NB_OK)
        memset(grads, 0, (size_t)n * sizeof *grads);
    return s;
}

/* ---- Hessian-vector and Jacobian-vector products -------------------------- */

static nb_status check_directions(const char *fn, int n, nb_tensor *const xs[],
                                  nb_tensor *const vs[], const void *out)
{
    if (!vs || !out)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, !vs ? "vs" : "out");
    for (int i = 0; xs && i < n; i++) {
        if (!vs[i])
            return nb_error(NB_ERR_NULL, "%s: vs[%d] is NULL", fn, i);
        if (xs[i] && !nb_same_shape(xs[i], vs[i])) {
            char sx[NB_SHAPE_BUF], sv[NB_SHAPE_BUF];
            return nb_error(NB_ERR_SHAPE, "%s: vs[%d] has shape %s but xs[%d] has %s: expected "
                            "the same shape", fn, i, nb_shape_str(vs[i], sv, sizeof sv), i,
                            nb_shape_str(xs[i], sx, sizeof sx));
        }
    }
    return NB_OK;
}

/* sum over i of sum(grads[i] * vs[i]), recorded; NULL on error. */
static nb_tensor *dot_all(nb_tape *tape, int n, nb_tensor *const grads[], nb_tensor *const vs[])
{
    nb_tensor *total = NULL;
    for (int i = 0; i < n; i++) {
        nb_tensor *term = nb_sum(tape, nb_mul(tape, grads[i], vs[i]));
        total = total ? nb_add(tape, total, term) : term;
    }
    return total;
}

/* The gradient of sum_i sum((d y / d xs[i]) vs[i]) with respect to wrt. */
static nb_status grad_of_vjp_dot(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[],
                                 nb_tensor *const vs[], int n_wrt, nb_tensor *const wrt[],
                                 nb_tensor *out[])
{
    nb_tensor **grads = nb_alloc((size_t)n * sizeof *grads);
    if (!grads)
        return nb_error(NB_ERR_NOMEM, "nb_grad: out of memory for %d gradients", n);
    bool was = nb_tape_set_grad_enabled(tape, true);
    nb_status s = nb_grad(tape, y, n, xs, grads, true);
    nb_tensor *dot = s == NB_OK ? dot_all(tape, n, grads, vs) : NULL;
    if (s == NB_OK)
        s = dot ? nb_grad(tape, dot, n_wrt, wrt, out, false) : nb_last_status();
    nb_tape_set_grad_enabled(tape, was);
    nb_release(grads);
    return s;
}

nb_status nb_hvp(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[], nb_tensor *const vs[],
                 nb_tensor *out[])
{
    nb_status s = check_directions("nb_hvp", n, xs, vs, out);
    if (s != NB_OK)
        return s;
    return grad_of_vjp_dot(tape, y, n, xs, vs, n, xs, out);
}

/* u, a zero tensor of y's shape on the tape that requires a gradient:
 * sum(y u) has gradient J^T u for the xs, linear in u, and the gradient of
 * sum(J^T u vs) with respect to u is J vs. */
nb_status nb_jvp(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[], nb_tensor *const vs[],
                 nb_tensor **out)
{
    nb_status s = check_directions("nb_jvp", n, xs, vs, out);
    if (s != NB_OK)
        return s;
    *out = NULL;
    if (!y || !tape)
        return check_args(tape, y, n, xs, out);
    if ((s = check_tensor(tape, y, "y", -1)) != NB_OK)
        return s;
    nb_tensor *u = nb_tape_tensor(tape, y->dtype, y->rank, y->shape);
    if (!u)
        return nb_last_status();
    u->requires_grad = true;
    bool was = nb_tape_set_grad_enabled(tape, true);
    nb_tensor *seeded = nb_sum(tape, nb_mul(tape, y, u));
    nb_tape_set_grad_enabled(tape, was);
    if (!seeded)
        return nb_last_status();
    return grad_of_vjp_dot(tape, seeded, n, xs, vs, 1, &u, out);
}
