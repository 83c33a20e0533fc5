/* Traces of a tape for teaching: the forward values, and a backward sweep
 * that shows what every op sends to every input. The words and numbers of
 * each node come from trace_step.c (shared with the explorer page, html.c);
 * this file lays them out as text. */
#include "nabla/trace.h"

#include <string.h>

#include "autograd/trace_internal.h"

#define INDENT 18 /* column of the rule, local and sends lines */

/* ---- forward ----------------------------------------------------------------- */

/* "    in   x        [1, 2]   = [1, 2]" */
static void print_tensor(FILE *out, const char *role, const nb__namer *nm,
                         const nb__number_format *f, const nb_tensor *x)
{
    nb__text t = {0};
    nb__trace_tensor_line(&t, nm, f, x);
    fprintf(out, "    %-4s %s\n", role, t.s ? t.s : "");
    nb__text_free(&t);
}

static void print_node_values(FILE *out, const nb__namer *nm, const nb__number_format *f,
                              const nb_node *node)
{
    nb__text t = {0};
    nb__trace_node_header(&t, nm, node);
    fprintf(out, "%s\n", t.s ? t.s : "");
    nb__text_free(&t);
    for (int j = 0; j < node->n_inputs; j++)
        print_tensor(out, "in", nm, f, node->inputs[j]);
    print_tensor(out, "out", nm, f, node->output);
}

nb_status nb_tape_print_values(const nb_tape *tape, FILE *out, const nb_trace_options *options)
{
    const char *fn = "nb_tape_print_values";
    if (!tape || !out)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, tape ? "out" : "tape");
    nb__number_format f;
    nb__namer nm = {0};
    if (nb__number_format_init(&f, options, fn) != NB_OK)
        return nb_last_status();
    if (tape->n_nodes && !nb__namer_init(&nm, tape, tape->n_nodes - 1)) {
        nb__namer_free(&nm);
        return NB_ERR_NOMEM;
    }
    fprintf(out, "forward: %zu op%s in tape order\n", tape->n_nodes,
            tape->n_nodes == 1 ? "" : "s");
    for (size_t i = 0; i < tape->n_nodes; i++)
        print_node_values(out, &nm, &f, tape->nodes[i]);
    nb__namer_free(&nm);
    if (fflush(out) != 0 || ferror(out))
        return nb_error(NB_ERR_IO, "%s: writing the trace failed", fn);
    return NB_OK;
}

/* ---- backward ------------------------------------------------------------------ */

/*  [3] hW2 = matmul(h, W2)
 *      upstream      dL/d(hW2) = [-0.8]
 *      to h          rule:  C = A B, so dA = dC B^T
 *                    sends: dL/d(h) = [-0.4, 0.4]                          */
static void print_step(FILE *out, const nb__trace_step *step)
{
    fprintf(out, "%s\n    %-*s %s\n", step->header, INDENT - 5, "upstream", step->upstream);
    for (int j = 0; j < step->node->n_inputs; j++) {
        const nb__trace_input *in = &step->inputs[j];
        fprintf(out, "    to %-*s ", INDENT - 8, in->name);
        for (int k = 0; k < in->n_lines; k++) {
            const nb__trace_line *line = &in->lines[k];
            if (k)
                fprintf(out, "%*s", INDENT, "");
            if (line->label)
                fprintf(out, "%s:%*s", line->label, 6 - (int)strlen(line->label), "");
            fprintf(out, "%s\n", line->text);
        }
    }
}

/* Backward through one node, then its lines. */
static nb_status trace_node(FILE *out, const nb__namer *nm, const nb__number_format *f,
                            nb_node *node)
{
    nb__trace_step step;
    nb_status s = nb__trace_step_run(&step, node, true, "nb_tape_trace_backward");
    if (s == NB_OK) {
        const void *totals[NB_MAX_INPUTS] = {0};
        for (int j = 0; j < node->n_inputs; j++)
            if (step.real[j] && node->inputs[j]->node)
                totals[j] = node->inputs[j]->grad;
        s = nb__trace_step_describe(&step, nm, f, totals);
    }
    if (s == NB_OK)
        print_step(out, &step);
    nb__trace_step_free(&step);
    return s;
}

static nb_status validate(nb_tensor *loss, FILE *out)
{
    const char *fn = "nb_tape_trace_backward";
    if (!loss)
        return nb_last_status() != NB_OK ? nb_last_status()
                                         : nb_error(NB_ERR_NULL, "%s: loss is NULL", fn);
    if (!out)
        return nb_error(NB_ERR_NULL, "%s: out is NULL", fn);
    if (loss->size != 1) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "%s: loss has shape %s: expected a single element", fn,
                        nb_shape_str(loss, buf, sizeof buf));
    }
    if (nb__check_live(fn, loss) != NB_OK)
        return NB_ERR_STATE;
    if (!loss->requires_grad)
        return nb_error(NB_ERR_STATE, "%s: the loss does not require a gradient: no recorded op "
                        "leads to it", fn);
    if (!loss->node || !loss->node->tape)
        return nb_error(NB_ERR_ARG, "%s: the loss was not computed on a tape: nothing to trace",
                        fn);
    return NB_OK;
}

static void print_leaf_grads(FILE *out, const nb__namer *nm, const nb__number_format *f,
                             const nb_tape *tape, size_t last)
{
    fputs("gradients of the leaves that require one:\n", out);
    for (size_t i = 0; i <= last; i++)
        for (int j = 0; j < tape->nodes[i]->n_inputs; j++) {
            if (!nb__trace_is_listed_leaf(tape, i, j))
                continue;
            const nb_tensor *in = tape->nodes[i]->inputs[j];
            char name[NB__TRACE_NAME_LEN];
            nb__text t = {0};
            nb__text_numbers(&t, f, in->grad, in->dtype, in->size);
            fprintf(out, "    dL/d(%s) = %s\n", nb__name_of(nm, in, name), t.s ? t.s : "");
            nb__text_free(&t);
        }
}

static nb_status seed(nb_tensor *loss)
{
    nb_tape *tape = loss->node->tape;
    for (size_t i = 0; i < tape->n_nodes; i++) /* as nb_backward: start from zero */
        tape->nodes[i]->output->grad = NULL;
    void *grad = nb__ensure_grad(loss);
    if (!grad)
        return NB_ERR_NOMEM;
    if (loss->dtype == NB_F32)
        *(float *)grad += 1;
    else
        *(double *)grad += 1;
    return NB_OK;
}

static nb_status sweep(FILE *out, const nb__namer *nm, const nb__number_format *f,
                       nb_tape *tape, size_t last)
{
    for (size_t i = last + 1; i-- > 0;) {
        nb_node *node = tape->nodes[i];
        if (!node->output->grad)
            continue; /* does not lead to the loss */
        nb_status s = trace_node(out, nm, f, node);
        if (s != NB_OK)
            return s;
    }
    return NB_OK;
}

nb_status nb_tape_trace_backward(nb_tensor *loss, FILE *out, const nb_trace_options *options)
{
    const char *fn = "nb_tape_trace_backward";
    nb__number_format f;
    if (validate(loss, out) != NB_OK || nb__number_format_init(&f, options, fn) != NB_OK)
        return nb_last_status();
    nb_tape *tape = loss->node->tape;
    size_t last = loss->node->index;
    nb__namer nm;
    nb_status s = nb__namer_init(&nm, tape, last) ? seed(loss) : NB_ERR_NOMEM;
    if (s == NB_OK) {
        nb__text banner = {0};
        nb__trace_backward_banner(&banner, &nm, loss);
        fprintf(out, "%s\n", banner.s ? banner.s : "");
        nb__text_free(&banner);
        s = sweep(out, &nm, &f, tape, last);
    }
    if (s == NB_OK)
        print_leaf_grads(out, &nm, &f, tape, last);
    nb__namer_free(&nm);
    if (s == NB_OK && (fflush(out) != 0 || ferror(out)))
        s = nb_error(NB_ERR_IO, "%s: writing the trace failed", fn);
    return s;
}
