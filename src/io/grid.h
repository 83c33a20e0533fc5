/* Pages of brightness grids: the drawing beneath nb_tensor_plot_grid_png and
 * nb_activations_plot_png (see viz.h for the pictures they make).
 *
 * A page is a title and panels laid out in rows of at most GRID_PER_ROW. A
 * panel shows n values as a rows x cols grid of gray cells, row-major from the
 * top left (cells past n stay blank), with a title, a subtitle, a colour bar
 * under it and, for a grid, the number of the first unit of each row on the
 * left. A one-column grid (a "strip") has a line of text beside each cell:
 * the unit's number, its name when it has one, and its value.
 *
 * Not installed: library code only. */
#ifndef NABLA_IO_GRID_H
#define NABLA_IO_GRID_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla/error.h"

enum {
    GRID_PANEL_W = 400, /* pixels of one panel */
    GRID_PANEL_H = 440,
    GRID_TITLE_H = 56,  /* the page title's band, when there is a title */
    GRID_PER_ROW = 4    /* panels side by side */
};

typedef struct nb_grid_panel {
    const double *values;      /* n values, not owned */
    int64_t n, rows, cols;     /* rows * cols >= n */
    bool picture;              /* an image: no cell borders, no unit numbers */
    double lo, hi;             /* lo is drawn black, hi white; lo < hi */
    double min, max;           /* of the finite values (0, 0 when none) */
    char title[96], subtitle[96];
    const char *const *labels; /* names of the n units (strips), or NULL */
    int64_t highlight;         /* a unit to outline, or -1 */
} nb_grid_panel;

/* The size of the PNG for n_panels panels (with a title band or not). */
void nb__grid_page_size(int n_panels, bool has_title, int *width, int *height);

/* rows x cols for n units: a strip (n x 1) up to 16 units; otherwise the
 * divisor pair nearest a square when it is at most 4 times wider than tall
 * (128 -> 8 x 16, 64 -> 8 x 8), else about square with the last row short
 * (97 -> 10 x 10). */
void nb__grid_shape(int64_t n, int64_t *rows, int64_t *cols);

/* Set p->min, p->max from the finite values, and the colour range p->lo,
 * p->hi: their range stretched to include 0 (black means "off"), or 0..1
 * when `unit_range` and they lie within it. An all-zero grid gets 0..1. */
void nb__grid_range(nb_grid_panel *p, bool unit_range);

/* Draw the panels into a PNG at path (atomically; see io/plot.h), with
 * `title` on top and `note` in small print at the bottom left (either may be
 * NULL). Errors name fn: NB_ERR_NOMEM, NB_ERR_STATE (no PLplot, no
 * pngcairo), NB_ERR_IO. */
nb_status nb__grid_plot_png(const char *fn, const char *path, const char *title,
                            const char *note, const nb_grid_panel *panels, int n_panels);

#endif
