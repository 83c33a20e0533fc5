/* PNG pictures through PLplot, written atomically: the part every picture
 * shares (history.c's learning curves, activations.c's activation grids).
 *
 *     static void draw(void *user) { pladv(0); plvpor(...); ... }
 *
 *     nb_plot_page page = {.fn = "nb_foo_plot_png", .path = path,
 *                          .width = 800, .height = 600,
 *                          .colours = colours, .n_colours = N_COLOURS};
 *     return nb__plot_png(&page, draw, &my_data);
 *
 * nb__plot_png takes the process-wide PLplot lock, checks that the pngcairo
 * device exists, opens a PLplot stream of its own (a program's own stream and
 * settings survive), sets the page size and cmap0, calls draw, ends the
 * stream and renames the finished PNG over the target (io/atomic.c). Every
 * PLplot call must happen inside draw, where the lock is held.
 *
 * Not installed: library code only. */
#ifndef NABLA_IO_PLOT_H
#define NABLA_IO_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "nabla/error.h"
#include "nabla_config.h"

typedef struct nb_plot_page {
    const char *fn;            /* the public function, for messages */
    const char *path;          /* the PNG to write */
    int width, height;         /* pixels */
    const int (*colours)[3];   /* cmap0 entries 0..n_colours-1 (0 is the background) */
    int n_colours;
    const char *without_plplot; /* appended to the "built without PLplot" message; may be NULL */
} nb_plot_page;

/* The NB_ERR_STATE a caller returns when nabla was built without PLplot:
 * "<fn>: cannot write '<path>': PNG output is unavailable because nabla was
 * built without PLplot (...)". Defined in every build. */
nb_status nb__plot_unavailable(const nb_plot_page *page);

#if NB_HAVE_PLPLOT
/* Draw one page with draw(user) into page->path. Errors (the message names
 * page->fn and the path; nothing is left at the path or next to it):
 * NB_ERR_STATE without the pngcairo device, NB_ERR_IO for the file or when
 * PLplot produced no PNG, NB_ERR_NULL / NB_ERR_ARG for a missing or empty
 * path. draw cannot fail: check everything before calling this. */
nb_status nb__plot_png(const nb_plot_page *page, void (*draw)(void *user), void *user);

/* PLplot reads '#' as the start of an escape sequence: `text` with each '#'
 * doubled, cut to fit buf; returns buf. */
const char *nb__plot_text(const char *text, char *buf, size_t len);

/* A legend of lines inside the viewport, one entry a line, in one column,
 * on the background colour with a border. Colours are cmap0 indices. */
#define NB_PLOT_LEGEND_MAX 8
typedef struct nb_plot_legend {
    int n;                            /* entries, 1 to NB_PLOT_LEGEND_MAX */
    const char *labels[NB_PLOT_LEGEND_MAX]; /* drawn as given (see nb__plot_text) */
    int colours[NB_PLOT_LEGEND_MAX];  /* each entry's line */
    int styles[NB_PLOT_LEGEND_MAX];   /* PLplot line styles; 0 is taken as 1, solid */
    double line_width;
    double sample_length;             /* of each entry's piece of line, viewport units */
    int corner;                       /* PL_POSITION_TOP | PL_POSITION_RIGHT, ... */
    double x_offset, y_offset;        /* from the corner, viewport units */
    int text, background, border;     /* colours */
} nb_plot_legend;

/* Draw it (inside nb__plot_png's draw). */
void nb__plot_legend(const nb_plot_legend *legend);
#endif

#endif
