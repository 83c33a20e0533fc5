/* The facts of a traced tape, shared by the text trace (trace.c) and the
 * backprop explorer page (html.c), so that both say the same words and
 * numbers.
 *
 *  - nb__text: a growing string, the lines are built in.
 *  - nb__namer: what a tensor is called ("W1", "t3", "leaf0").
 *  - nb__trace_forward_*: the lines of nb_tape_print_values for one node.
 *  - nb__trace_step: one node of the backward sweep: its header, the
 *    upstream gradient, and per input the labelled lines (rule, local,
 *    sends, total) and the numbers it sent.
 *
 * Not installed: library code only. */
#ifndef NABLA_AUTOGRAD_TRACE_INTERNAL_H
#define NABLA_AUTOGRAD_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"
#include "nabla/trace.h"

#define NB__TRACE_NAME_LEN 48

/* ---- text (trace_names.c) ------------------------------------------------ */

/* A string that grows as text is appended; `failed` once an allocation
 * failed (the text is then incomplete and the error message set). */
typedef struct nb__text {
    char *s; /* NUL-terminated, or NULL while empty */
    size_t n, cap;
    bool failed;
} nb__text;

void nb__text_printf(nb__text *t, const char *fmt, ...);
/* Hand the string over (never NULL unless failed: "" for no text). */
char *nb__text_take(nb__text *t);
void nb__text_free(nb__text *t);

/* ---- names (trace_names.c) ----------------------------------------------- */

/* Names for unnamed tensors: "t<i>" for the output of node i, "leaf<k>" for
 * the k-th unnamed leaf in order of first use. */
typedef struct nb__namer {
    const nb_tensor **leaves;
    size_t n, cap;
} nb__namer;

/* Number the unnamed leaves of nodes 0..last. false: out of memory. */
bool nb__namer_init(nb__namer *nm, const nb_tape *tape, size_t last);
void nb__namer_free(nb__namer *nm);
/* The name into buf (NB__TRACE_NAME_LEN bytes); returns buf. */
const char *nb__name_of(const nb__namer *nm, const nb_tensor *t, char *buf);

/* ---- numbers (trace_names.c) ----------------------------------------------- */

typedef struct nb__number_format {
    int max_values, precision;
} nb__number_format;

/* Checks the options (NB_ERR_ARG naming fn) and applies the defaults. */
nb_status nb__number_format_init(nb__number_format *f, const nb_trace_options *options,
                                 const char *fn);
double nb__value_at(const void *data, nb_dtype dtype, int64_t i);
/* "[a, b, c, ... (n values)]" of the first max_values numbers. */
void nb__text_numbers(nb__text *t, const nb__number_format *f, const void *data, nb_dtype dtype,
                      int64_t n);

/* ---- the forward pass (trace_step.c) ------------------------------------- */

/* "[3] t3 = matmul(h, W2)" */
void nb__trace_node_header(nb__text *t, const nb__namer *nm, const nb_node *node);
/* "x        [1, 2]   = [1, 2]": a tensor's line after "in   " or "out  ". */
void nb__trace_tensor_line(nb__text *t, const nb__namer *nm, const nb__number_format *f,
                           const nb_tensor *x);

/* ---- one step of the backward sweep (trace_step.c) ----------------------- */

#define NB__TRACE_MAX_LINES 5

/* One line shown for an input: label "rule", "local", "sends" or "total"
 * (the text trace prints "rule:  " before the text), or NULL for a note
 * ("needs no gradient (data or a constant)"). */
typedef struct nb__trace_line {
    const char *label;
    char *text;
} nb__trace_line;

typedef struct nb__trace_input {
    const nb_tensor *tensor;
    char name[NB__TRACE_NAME_LEN];
    nb__trace_line lines[NB__TRACE_MAX_LINES];
    int n_lines;
    const void *sent; /* what the op sent to it (NULL: nothing, or a repeat) */
} nb__trace_input;

typedef struct nb__trace_step {
    nb_node *node;
    char *header;   /* "[3] t3 = matmul(h, W2)" */
    char *upstream; /* "dL/d(t3) = [-0.8]" */
    nb__trace_input inputs[NB_MAX_INPUTS];
    /* private: the buffers the op sent into */
    void *real[NB_MAX_INPUTS];
    void *sent[NB_MAX_INPUTS];
    int first[NB_MAX_INPUTS];
} nb__trace_step;

/* Run the node's backward with every input's gradient swapped for a zeroed
 * buffer, so that afterwards step->sent holds exactly what this op sent.
 * When `add` is true the sent numbers are then added into the real
 * gradients (that is the backward pass itself, as nb_backward does it, with
 * its checks); when false the gradients are left as they were (a replay of
 * a backward that already ran). fn names the public function for messages. */
nb_status nb__trace_step_run(nb__trace_step *step, nb_node *node, bool add, const char *fn);

/* The words and numbers of a step that ran. totals[j], when not NULL, is
 * input j's gradient so far (this op's part included): shown as "total"
 * for intermediates that already had a gradient. */
nb_status nb__trace_step_describe(nb__trace_step *step, const nb__namer *nm,
                                  const nb__number_format *f, const void *const *totals);

void nb__trace_step_free(nb__trace_step *step);

/* Replay the backward sweep that already ran on nodes 0..last (the loss is
 * node last): every node whose output holds a gradient, in reverse tape
 * order, is run again into scratch buffers and described, with the same
 * totals as the trace, and handed to visit; the tape's gradients are left
 * as they were. Stops at the first status that is not NB_OK. */
typedef nb_status (*nb__trace_visit)(const nb__trace_step *step, void *ctx);
nb_status nb__trace_replay(const nb_tape *tape, size_t last, const nb__namer *nm,
                           const nb__number_format *f, nb__trace_visit visit, void *ctx,
                           const char *fn);

/* "backward: L = loss, seeded with dL/d(loss) = 1; ops in reverse tape order" */
void nb__trace_backward_banner(nb__text *t, const nb__namer *nm, const nb_tensor *loss);

/* Whether input j of node i is the first use, over nodes 0..i, of a leaf
 * that holds a gradient (the leaves listed at the end of a trace). */
bool nb__trace_is_listed_leaf(const nb_tape *tape, size_t i, int j);

#endif
