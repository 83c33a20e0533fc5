/* A tape as a Graphviz digraph: what the forward pass did, and (after
 * backward) the gradients that flowed back.
 *
 * The tape's nodes already hold everything: each node knows its op, its input
 * tensors and its output. Tensors are numbered in order of first appearance
 * (a parameter used twice is one ellipse); the numbering comes from a first
 * pass, so the second pass can write all tensors, then all ops, then all
 * edges, and mark results nobody consumed (the loss) with a double border.
 *
 * With on_edges, an op result that another op reads is not drawn as an
 * ellipse: it is the edge from the op that made it to the op that reads it,
 * and that edge's label carries its name, values and gradient. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "io/atomic.h"
#include "nabla/viz.h"

#define DEFAULT_MAX_VALUES 4

/* Fill colours: leaves (data, targets, constants), parameters (leaves that
 * require gradients), intermediates (op results), ops. */
#define COLOUR_LEAF "#dbe9f6"
#define COLOUR_PARAM "#d5efd5"
#define COLOUR_INTERMEDIATE "#fff2cc"
#define COLOUR_OP "#eeeeee"
#define COLOUR_GRAD "#c0392b" /* gradients on edge labels */

/* ---- numbering tensors ------------------------------------------------------ */

/* Open addressing from tensor pointer to its number; tensors[] maps back. */
typedef struct tensor_table {
    size_t cap;               /* a power of two, at least twice the tensors */
    const nb_tensor **keys;   /* cap slots, NULL when free */
    int *slot_ids;            /* cap slots */
    const nb_tensor **tensors; /* by number */
    bool *consumed;           /* by number: some op reads it */
    int n;
} tensor_table;

static size_t slot_of(const tensor_table *t, const nb_tensor *key)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15u;
    size_t i = (size_t)(h >> 20) & (t->cap - 1);
    while (t->keys[i] && t->keys[i] != key)
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* The number of tensor x, giving it the next one on first sight. */
static int number_of(tensor_table *t, const nb_tensor *x)
{
    size_t i = slot_of(t, x);
    if (!t->keys[i]) {
        t->keys[i] = x;
        t->slot_ids[i] = t->n;
        t->tensors[t->n++] = x;
    }
    return t->slot_ids[i];
}

static void table_free(tensor_table *t)
{
    nb_release(t->keys);
    nb_release(t->slot_ids);
    nb_release(t->tensors);
    nb_release(t->consumed);
}

static nb_status table_build(const char *fn, tensor_table *t, const nb_tape *tape)
{
    size_t n_nodes = nb_tape_size(tape);
    size_t most = n_nodes * (NB_MAX_INPUTS + 1);
    *t = (tensor_table){.cap = 16};
    while (t->cap < 2 * most)
        t->cap *= 2;
    t->keys = nb_alloc_zeroed(t->cap * sizeof *t->keys);
    t->slot_ids = nb_alloc(t->cap * sizeof *t->slot_ids);
    t->tensors = nb_alloc((most + 1) * sizeof *t->tensors);
    t->consumed = nb_alloc_zeroed((most + 1) * sizeof *t->consumed);
    if (!t->keys || !t->slot_ids || !t->tensors || !t->consumed) {
        table_free(t);
        return nb_error(NB_ERR_NOMEM, "%s: out of memory for %zu nodes", fn, n_nodes);
    }
    for (size_t i = 0; i < n_nodes; i++) {
        const nb_node *node = nb_tape_node(tape, i);
        for (int k = 0; k < node->n_inputs; k++)
            t->consumed[number_of(t, node->inputs[k])] = true;
        number_of(t, node->output);
    }
    return NB_OK;
}

/* ---- writing --------------------------------------------------------------- */

/* Text inside a DOT double-quoted string. */
static void write_escaped(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', out);
        fputc(*p, out);
    }
}

/* Text inside a Graphviz HTML-like label <...>. */
static void write_html_escaped(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*p, out);
        }
    }
}

/* "[v0, v1, ...]" with at most max values, read by get. */
static void write_numbers(FILE *out, const nb_tensor *t, int max,
                          double (*get)(const nb_tensor *, int64_t))
{
    fputc('[', out);
    int64_t shown = t->size < max ? t->size : max;
    for (int64_t i = 0; i < shown; i++) {
        double v = get(t, i);
        fprintf(out, "%s%.4g", i ? ", " : "", v == 0 ? 0.0 : v); /* "0", not "-0" */
    }
    fprintf(out, "%s]", t->size > shown ? ", ..." : "");
}

/* "\n<what>: [v0, v1, ...]" inside a quoted label. */
static void write_values(FILE *out, const char *what, const nb_tensor *t, int max,
                         double (*get)(const nb_tensor *, int64_t))
{
    fprintf(out, "\\n%s: ", what);
    write_numbers(out, t, max, get);
}

static const char *tensor_colour(const nb_tensor *t)
{
    if (t->node)
        return COLOUR_INTERMEDIATE;
    return t->requires_grad ? COLOUR_PARAM : COLOUR_LEAF;
}

/* Whether tensor `id` is an ellipse: always, except with on_edges for an
 * op result of this tape that some op reads (then it is an op -> op edge). */
static bool is_drawn(const nb_tape *tape, const tensor_table *table, int id,
                     const nb_dot_options *o)
{
    const nb_tensor *t = table->tensors[id];
    return !o->on_edges || !t->node || t->node->tape != tape || !table->consumed[id];
}

static void write_tensor(FILE *out, const tensor_table *table, int id,
                         const nb_dot_options *o)
{
    const nb_tensor *t = table->tensors[id];
    char shape[NB_SHAPE_BUF];
    fprintf(out, "  t%d [shape=ellipse, style=filled, fillcolor=\"%s\"%s, label=\"", id,
            tensor_colour(t), table->consumed[id] ? "" : ", peripheries=2");
    if (t->name[0])
        write_escaped(out, t->name);
    else
        fprintf(out, "t%d", id);
    fprintf(out, "\\n%s %s", nb_shape_str(t, shape, sizeof shape), nb_dtype_name(t->dtype));
    bool values = o->show_values && !o->on_edges; /* with on_edges, they are on its edges */
    bool grads = o->show_grads && !o->on_edges;
    if (values)
        write_values(out, "values", t, o->max_values, nb_tensor_get);
    if (grads && t->grad)
        write_values(out, "grad", t, o->max_values, nb_tensor_grad_get);
    else if (grads)
        fprintf(out, "\\ngrad: none");
    fprintf(out, "\"];\n");
}

/* " [label=<...>]" of an edge carrying tensor t (on_edges): its name and
 * shape when it has no ellipse of its own (unnamed, "t<i>" after the node
 * that made it, as nb_tape_trace_backward calls it), its values, its
 * gradient in red. */
static void write_edge_label(FILE *out, const nb_tensor *t, bool drawn,
                             const nb_dot_options *o)
{
    char shape[NB_SHAPE_BUF];
    const char *sep = "";
    if (drawn && !o->show_values && !o->show_grads)
        return; /* nothing to say that the ellipse does not */
    fputs(" [label=<", out);
    if (!drawn) {
        if (t->name[0])
            write_html_escaped(out, t->name);
        else
            fprintf(out, "t%zu", t->node->index);
        fprintf(out, " %s", nb_shape_str(t, shape, sizeof shape));
        sep = "<br/>";
    }
    if (o->show_values) {
        fprintf(out, "%svalues: ", sep);
        write_numbers(out, t, o->max_values, nb_tensor_get);
        sep = "<br/>";
    }
    if (o->show_grads) {
        fprintf(out, "%s<font color=\"%s\">grad: ", sep, COLOUR_GRAD);
        if (t->grad)
            write_numbers(out, t, o->max_values, nb_tensor_grad_get);
        else
            fputs("none", out);
        fputs("</font>", out);
    }
    fputs(">]", out);
}

/* One edge: from the tensor's ellipse, or from the op that made it. */
static void write_edge(FILE *out, const nb_tape *tape, tensor_table *table, const nb_tensor *t,
                       size_t to_op, const nb_dot_options *o)
{
    int id = number_of(table, t);
    bool drawn = is_drawn(tape, table, id, o);
    if (drawn)
        fprintf(out, "  t%d -> op%zu", id, to_op);
    else
        fprintf(out, "  op%zu -> op%zu", t->node->index, to_op);
    if (o->on_edges)
        write_edge_label(out, t, drawn, o);
    fputs(";\n", out);
}

static void write_graph(FILE *out, const nb_tape *tape, tensor_table *table,
                        const nb_dot_options *o)
{
    size_t n_nodes = nb_tape_size(tape);
    fprintf(out, "digraph tape {\n"
                 "  // nabla tape: %zu ops, %d tensors\n"
                 "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=10, labelloc=b,\n"
                 "         label=\"blue: inputs and constants   green: parameters   "
                 "yellow: op results   double border: not used by any op%s\"];\n"
                 "  node [fontname=\"Helvetica\", fontsize=10];\n"
                 "  edge [color=\"#555555\", arrowsize=0.7%s];\n",
            n_nodes, table->n,
            o->on_edges ? "\\non each edge: the tensor flowing along it, its values (forward) "
                          "and, in red, its gradient dL/d(tensor) (backward)"
                        : "",
            o->on_edges ? ", fontname=\"Helvetica\", fontsize=9" : "");
    for (int id = 0; id < table->n; id++)
        if (is_drawn(tape, table, id, o))
            write_tensor(out, table, id, o);
    for (size_t i = 0; i < n_nodes; i++) {
        fprintf(out, "  op%zu [shape=box, style=\"filled,rounded\", fillcolor=\"%s\", "
                     "label=\"",
                i, COLOUR_OP);
        write_escaped(out, nb_tape_node(tape, i)->op->name);
        fprintf(out, "\"];\n");
    }
    for (size_t i = 0; i < n_nodes; i++) {
        const nb_node *node = nb_tape_node(tape, i);
        for (int k = 0; k < node->n_inputs; k++)
            write_edge(out, tape, table, node->inputs[k], i, o);
        int id = number_of(table, node->output);
        if (!is_drawn(tape, table, id, o))
            continue; /* its edges start at this op */
        fprintf(out, "  op%zu -> t%d", i, id);
        if (o->on_edges)
            write_edge_label(out, node->output, true, o);
        fputs(";\n", out);
    }
    fprintf(out, "}\n");
}

static nb_status check_args(const char *fn, const nb_tape *tape, const void *out,
                            const char *out_name, const nb_dot_options *options,
                            nb_dot_options *o)
{
    if (!tape || !out)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, tape ? out_name : "tape");
    *o = options ? *options : (nb_dot_options){0};
    if (o->max_values < 0)
        return nb_error(NB_ERR_ARG, "%s: max_values is %d: expected 0 (the default, %d) or more",
                        fn, o->max_values, DEFAULT_MAX_VALUES);
    if (o->max_values == 0)
        o->max_values = DEFAULT_MAX_VALUES;
    return NB_OK;
}

static nb_status write_dot(const char *fn, const nb_tape *tape, FILE *out,
                           const nb_dot_options *o)
{
    tensor_table table;
    if (table_build(fn, &table, tape) != NB_OK)
        return nb_last_status();
    write_graph(out, tape, &table, o);
    table_free(&table);
    return NB_OK;
}

nb_status nb_tape_write_dot(const nb_tape *tape, FILE *out, const nb_dot_options *options)
{
    const char *fn = "nb_tape_write_dot";
    nb_dot_options o;
    if (check_args(fn, tape, out, "out", options, &o) != NB_OK)
        return nb_last_status();
    if (write_dot(fn, tape, out, &o) != NB_OK)
        return nb_last_status();
    if (fflush(out) != 0 || ferror(out))
        return nb_error(NB_ERR_IO, "%s: writing the graph failed: %s", fn,
                        strerror(errno ? errno : EIO));
    return NB_OK;
}

nb_status nb_tape_write_dot_file(const nb_tape *tape, const char *path,
                                 const nb_dot_options *options)
{
    const char *fn = "nb_tape_write_dot_file";
    nb_dot_options o;
    nb_atomic_file f;
    if (check_args(fn, tape, path, "path", options, &o) != NB_OK ||
        nb__atomic_begin(&f, fn, path) != NB_OK)
        return nb_last_status();
    if (write_dot(fn, tape, f.stream, &o) != NB_OK) {
        nb__atomic_discard(&f);
        return nb_last_status();
    }
    return nb__atomic_commit(&f);
}
