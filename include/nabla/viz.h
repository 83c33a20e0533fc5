/* nabla/viz.h: pictures of training and of computation.
 *
 *  - nb_history_plot_png draws the learning curves of a fit (accuracy and
 *    loss, training vs validation) into a PNG, through PLplot.
 *  - nb_activations_plot_png draws what a model computes for one input: the
 *    input as a picture, then every layer's output units as a grid of
 *    brightness (PNG, PLplot); nb_tensor_plot_grid_png draws any tensor so.
 *  - nb_plot_loglog_png draws lines on log-log axes (PNG, PLplot): errors
 *    against a step size, losses over decades.
 *  - nb_tape_write_dot writes a tape as a Graphviz graph: ops, the tensors
 *    that flow between them, optionally their values and gradients. Render
 *    it with `dot -Tpng step.dot -o step.png`.
 *  - nb_tape_write_html writes a tape after backward as one web page, the
 *    backprop explorer: the graph, and controls to step through the forward
 *    pass and then the backward sweep, with nb_tape_trace_backward's words
 *    and numbers at every step.
 *
 * File writers are atomic (see io.h): a temporary file next to the target is
 * renamed over it only once complete; on failure nothing is left behind and
 * the NB_ERR_IO message names the path.
 */
#ifndef NABLA_VIZ_H
#define NABLA_VIZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nabla/error.h"
#include "nabla/model.h"
#include "nabla/tape.h"
#include "nabla/trace.h"

/* ---- learning curves (src/io/history.c) ---------------------------------- */

/* A 1200 x 500 PNG with two panels side by side: accuracy (left; the first
 * metric whose name contains "acc") and loss (right), each with the training
 * curve solid and the validation curve dashed, a legend, axis labels and
 * `title` (NULL for none) on top. Without an accuracy metric the loss gets the
 * whole picture. Errors: NB_ERR_ARG for a history with no epochs or no
 * "loss"/accuracy series; NB_ERR_STATE when nabla was built without PLplot
 * (the CSV writer in io.h always works); NB_ERR_IO for the file.
 * PLplot keeps global state: do not call this from two threads at once, nor
 * while the calling program itself is in the middle of a PLplot plot. */
nb_status nb_history_plot_png(const nb_history *history, const char *path, const char *title);

/* ---- activations (src/io/activations.c, src/io/grid.c) ------------------ */

typedef struct nb_activation_plot_options {
    const char *title; /* on top of the picture; NULL for none */
    /* Names of the last layer's units (the classes), one per unit, shown
     * under them; NULL numbers the units only. */
    const char *const *class_names;
    int n_class_names;
    /* Also show layers that hand their input on unchanged (Flatten, and
     * Dropout outside training); by default they are left out. */
    bool all_layers;
} nb_activation_plot_options;

/* Run one sample through the model (inference: no gradients, dropout off)
 * and draw a PNG of what every layer computes, for teaching:
 *   - the input: a grayscale picture when the sample has two axes longer
 *     than 1 (an MNIST image [28, 28], upright), else a grid of its values;
 *   - then a panel per layer, its output units as a grid of gray cells
 *     (black = the lowest of 0 and the smallest value, white = the largest;
 *     softmax and sigmoid outputs on 0..1): up to 16 units in one numbered
 *     row, with each value printed in its cell, more as a near-square grid
 *     (128 -> 8 x 16, 64 -> 8 x 8) numbered down the left side.
 * Each panel has a title naming the layer ("dense (Dense, relu): 128
 * units"), the range of its values and a colour bar. The last layer's
 * largest unit (the predicted class) is outlined in red.
 * `input` is one sample shaped like the model's input ([28, 28]) or a batch
 * of one ([1, 28, 28]), of either dtype; it is not modified. options may be
 * NULL. Panels are 400 x 440 pixels, four to a row, under a 56-pixel band
 * for the title: the MNIST MLP's picture (input and three Dense layers) is
 * 1600 x 496. Errors: NB_ERR_NULL; NB_ERR_STATE for a model that is not built
 * or has no layers, or when nabla was built without PLplot; NB_ERR_SHAPE for
 * an input of another shape (the message gives both); NB_ERR_ARG when the
 * class names do not match the last layer's units; a layer's own error from
 * its forward pass; NB_ERR_IO for the file (nothing is left behind).
 * Like nb_history_plot_png, not while the program draws with PLplot itself. */
nb_status nb_activations_plot_png(nb_model *model, const nb_tensor *input, const char *path,
                                  const nb_activation_plot_options *options);

/* Any tensor's values as one panel of gray cells, rows x cols of them in
 * row-major order, with `title` (NULL for none) on top. rows = cols = 0
 * chooses: a 2-D tensor's own shape, else as nb_activations_plot_png lays
 * out units. Errors: NB_ERR_NULL, NB_ERR_SHAPE when rows * cols is not the
 * tensor's element count, NB_ERR_STATE without PLplot, NB_ERR_IO. */
nb_status nb_tensor_plot_grid_png(const nb_tensor *values, int64_t rows, int64_t cols,
                                  const char *path, const char *title);

/* ---- log-log line plots (src/io/loglog.c) --------------------------------- */

#define NB_PLOT_MAX_SERIES 4

/* One line of a plot: n points (x[i], y[i]), drawn in order. */
typedef struct nb_plot_series {
    const char *label; /* in the legend; NULL for none */
    const double *x, *y;
    int n;
} nb_plot_series;

/* A 900 x 600 PNG of 1 to NB_PLOT_MAX_SERIES series on logarithmic axes
 * (decades labelled 10^k), each a line with a dot per point, a legend on
 * top, and the title and axis labels (each NULL for none). Points with
 * x <= 0 or y <= 0 (or not finite) cannot be drawn on log axes: they are
 * left out, breaking the line. For errors that span decades, such as a
 * gradient check's error against its step (examples/gradcheck_eps.c).
 * Errors: NB_ERR_NULL; NB_ERR_ARG for a bad series count, a series with
 * NULL values, or no drawable point; NB_ERR_STATE without PLplot;
 * NB_ERR_IO for the file. Like nb_history_plot_png, not while the program
 * draws with PLplot itself. */
nb_status nb_plot_loglog_png(const char *path, const nb_plot_series *series, int n_series,
                             const char *title, const char *xlabel, const char *ylabel);

/* ---- graphs of a tape (src/autograd/dot.c) ------------------------------- */

typedef struct nb_dot_options {
    bool show_values; /* print the first values of every tensor */
    bool show_grads;  /* print the first values of every gradient */
    int max_values;   /* how many values per tensor; 0 means 4 */
    /* Put the values and gradients on the edges instead of in the ellipses:
     * an op result that another op reads becomes an edge op -> op labelled
     * with its name (unnamed: "t<i>" after node i, as nb_tape_trace_backward
     * says), shape, values and (in red) gradient; leaves and results
     * nobody reads keep an ellipse (name, shape, dtype), and their edges
     * carry their numbers. */
    bool on_edges;
} nb_dot_options;

/* Write the nodes recorded on `tape` as a Graphviz digraph: one box per op
 * (its name), one ellipse per tensor (its name, or "t<n>" when it has none,
 * shape and dtype), edges input -> op -> output (see on_edges for the other
 * layout). Colours tell tensors apart: leaves (data, targets, constants)
 * blue, parameters (leaves that require gradients) green, intermediates (op
 * results) yellow. options may be NULL (names, shapes and dtypes only).
 * Errors: NB_ERR_NULL, NB_ERR_ARG (max_values < 0), NB_ERR_IO when writing
 * to `out` fails. */
nb_status nb_tape_write_dot(const nb_tape *tape, FILE *out, const nb_dot_options *options);

/* The same into the file at `path`, written atomically. */
nb_status nb_tape_write_dot_file(const nb_tape *tape, const char *path,
                                 const nb_dot_options *options);

/* ---- the backprop explorer page (src/autograd/html.c) ------------------- */

typedef struct nb_html_options {
    const char *title; /* the page's title and heading; NULL means "Backprop explorer" */
    /* Values (and gradient values) of each tensor kept in the page for its
     * heat map; a larger tensor is summarised (its first values, and the
     * minimum, maximum and mean of all). 0 means 256. */
    int max_values;
    /* How the step texts print numbers, as for nb_tape_trace_backward (zeros
     * are its defaults: 8 values, 6 digits). */
    nb_trace_options trace;
} nb_html_options;

/* Write the tape as one self-contained HTML file (no network access, no
 * external script, font or style; opens from disk) at `path`, atomically:
 * the graph (ops with their result's name, shape and first values; leaves),
 * and controls (buttons, or the arrow keys) to step through the forward pass
 * (each op's inputs and output, as nb_tape_print_values prints them) and then
 * the backward sweep in reverse tape order (upstream gradient, rule, local
 * derivative, gradient sent to each input, in nb_tape_trace_backward's words
 * and numbers). Clicking a tensor shows its values and gradient as a heat map.
 * Call it after nb_backward (or nb_tape_trace_backward) on the tape: the
 * loss is the last node holding a gradient, and each op's backward is run
 * again into scratch buffers to show what it sent (the tape's gradients are
 * not changed). On a tape that was not backward-ed yet the page shows the
 * forward pass only, and says so. options may be NULL.
 * Errors: NB_ERR_NULL (tape or path), NB_ERR_ARG (an empty tape, negative
 * options), NB_ERR_NOMEM, an op's backward error, NB_ERR_IO naming the path
 * (nothing is left behind). */
nb_status nb_tape_write_html(const nb_tape *tape, const char *path,
                             const nb_html_options *options);

#endif
