/* Brightness grids as PNG pictures: the layout and drawing of grid pages
 * (see grid.h), and nb_tensor_plot_grid_png.
 *
 * Coordinates: positions on the page are worked out in pixels from the top
 * left, as one thinks of a picture, and turned into PLplot's viewports (0..1
 * from the bottom left) only when drawing. Inside a grid the world
 * coordinates are cell units, x = column and y = rows - 1 - row, so row 0 of
 * the values is the top row of cells: pictures come out upright. */
#include "io/grid.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "io/plot.h"
#include "nabla/viz.h"

/* ---- shapes and ranges --------------------------------------------------- */

void nb__grid_page_size(int n_panels, bool has_title, int *width, int *height)
{
    int per_row = n_panels < GRID_PER_ROW ? n_panels : GRID_PER_ROW;
    int rows = (n_panels + GRID_PER_ROW - 1) / GRID_PER_ROW;
    *width = (per_row > 0 ? per_row : 1) * GRID_PANEL_W;
    *height = (rows > 0 ? rows : 1) * GRID_PANEL_H + (has_title ? GRID_TITLE_H : 0);
}

void nb__grid_shape(int64_t n, int64_t *rows, int64_t *cols)
{
    if (n <= 16) {
        *rows = n > 0 ? n : 1, *cols = 1;
        return;
    }
    int64_t side = (int64_t)ceil(sqrt((double)n));
    int64_t r = side;
    while (r > 1 && (r * r > n || n % r != 0))
        r--;
    if (n / r <= 4 * r) {
        *rows = r, *cols = n / r;
        return;
    }
    *cols = side;
    *rows = (n + side - 1) / side;
}

void nb__grid_range(nb_grid_panel *p, bool unit_range)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < p->n; i++)
        if (isfinite(p->values[i])) {
            lo = fmin(lo, p->values[i]);
            hi = fmax(hi, p->values[i]);
        }
    if (!(lo <= hi))
        lo = hi = 0;
    p->min = lo, p->max = hi;
    if (unit_range && lo >= 0 && hi <= 1) {
        p->lo = 0, p->hi = 1;
        return;
    }
    p->lo = fmin(lo, 0);
    p->hi = fmax(hi, 0);
    if (p->hi - p->lo <= 1e-12 * fmax(1, fabs(p->hi))) /* all zero, or a constant */
        p->hi = p->lo + 1;
}

/* ---- drawing ---------------------------------------------------------------- */

#if NB_HAVE_PLPLOT
#include <plplot.h>

/* cmap0 indices */
enum { COL_BACKGROUND, COL_TEXT, COL_MUTED, COL_BORDER, COL_HIGHLIGHT, COL_WHITE, N_COLOURS };
static const int colours[N_COLOURS][3] = {{255, 255, 255}, {0, 0, 0},      {85, 85, 85},
                                          {150, 150, 150}, {214, 39, 40}, {255, 255, 255}};

/* Panel layout in pixels from the panel's top left corner. */
#define AREA_LEFT 52.0   /* room for row numbers */
#define AREA_RIGHT 26.0
#define AREA_TOP 66.0    /* below title and subtitle */
#define AREA_BOTTOM 96.0 /* above the colour bar */
#define BAR_HEIGHT 14.0
#define STRIP_MAX_CELL 40.0
#define STRIP_TEXT_W 110.0 /* right of a strip: its unit numbers and values */
#define STRIP_NAMES_W 120.0 /* and the unit names, when it has them */
#define BAR_STEPS 256
/* Height of text at scale 1, in pixels, whatever the size of the page
 * (PLplot's default grows with the page). */
#define CHAR_PX 21.0

typedef struct rect {
    double x0, y0, x1, y1; /* pixels, y downwards */
} rect;

typedef struct page {
    const char *title, *note;
    const nb_grid_panel *panels;
    int n_panels, width, height;
    PLFLT ***matrices; /* per panel, its cells as plimagefr's columns (fill_matrix) */
} page;

/* Draw into a rectangle of the page, its world coordinates wx0..wx1 (left
 * to right) and wy0..wy1 (bottom to top). */
static void use_rect(const page *pg, rect r, double wx0, double wx1, double wy0, double wy1)
{
    plvpor(r.x0 / pg->width, r.x1 / pg->width, 1 - r.y1 / pg->height, 1 - r.y0 / pg->height);
    plwind(wx0, wx1, wy0, wy1);
}

/* Text centred (just 0.5), left (0) or right (1) of x, its middle at y. */
static void text_at(const page *pg, double x, double y, double just, double scale, int colour,
                    const char *text)
{
    char buf[256];
    use_rect(pg, (rect){0, 0, pg->width, pg->height}, 0, pg->width, 0, pg->height);
    plschr(0, scale);
    plcol0(colour);
    plptex(x, pg->height - y, 1, 0, just, nb__plot_text(text, buf, sizeof buf));
    plschr(0, 1.0);
}

static void set_bold(bool bold)
{
    plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, bold ? PL_FCI_BOLD : PL_FCI_MEDIUM);
}

/* The scale at most `scale` at which text fits in `width` pixels, from the
 * average width of a character at scale 1 in the default sans font (bold
 * about 16 pixels, regular 14.5, measured on rendered pictures). */
static double fit_scale(const char *text, double scale, double width, bool bold)
{
    double chars = (double)strlen(text);
    return chars > 0 ? fmin(scale, width / (chars * (bold ? 16.5 : 14.5))) : scale;
}

/* The grid's cells, row 0 on top, as plimagefr wants them: (cols + 1) x
 * (rows + 1) corner values, each cell coloured by its lower left corner.
 * Blank cells and non-finite values get a value below lo: not drawn. */
static void fill_matrix(const nb_grid_panel *p, PLFLT **m)
{
    double outside = p->lo - (p->hi - p->lo);
    for (int64_t c = 0; c <= p->cols; c++)
        for (int64_t y = 0; y <= p->rows; y++) {
            int64_t row = p->rows - 1 - (y < p->rows ? y : p->rows - 1);
            int64_t i = row * p->cols + (c < p->cols ? c : p->cols - 1);
            m[c][y] = i < p->n && isfinite(p->values[i]) ? p->values[i] : outside;
        }
}

static void cell_outline(int64_t i, const nb_grid_panel *p)
{
    double x = (double)(i % p->cols), y = (double)(p->rows - 1 - i / p->cols);
    PLFLT xs[5] = {x, x + 1, x + 1, x, x}, ys[5] = {y, y, y + 1, y + 1, y};
    plline(5, xs, ys);
}

/* Outline one cell in red, 3 pixels wide; the viewport grows a little so
 * that a cell at the edge is not clipped. */
static void draw_highlight(const page *pg, const nb_grid_panel *p, rect r)
{
    double cell = (r.x1 - r.x0) / (double)p->cols, m = 3 / cell;
    use_rect(pg, (rect){r.x0 - 3, r.y0 - 3, r.x1 + 3, r.y1 + 3}, -m, (double)p->cols + m, -m,
             (double)p->rows + m);
    plcol0(COL_HIGHLIGHT);
    plwidth(3.0);
    cell_outline(p->highlight, p);
    plwidth(1.0);
}

/* The cells, their borders (when big enough to see; else a frame around
 * them all) and the highlighted unit's outline. */
static void draw_cells(const page *pg, const nb_grid_panel *p, PLFLT **m, rect r)
{
    use_rect(pg, r, 0, (double)p->cols, 0, (double)p->rows);
    plimagefr((PLFLT_MATRIX)m, (PLINT)p->cols + 1, (PLINT)p->rows + 1, 0, (double)p->cols, 0,
              (double)p->rows, p->lo, p->hi, p->lo, p->hi, NULL, NULL);
    plcol0(COL_BORDER);
    if (!p->picture && (r.x1 - r.x0) / (double)p->cols >= 6) {
        for (int64_t i = 0; i < p->n; i++)
            cell_outline(i, p);
    } else {
        PLFLT xs[5] = {0, (double)p->cols, (double)p->cols, 0, 0};
        PLFLT ys[5] = {0, 0, (double)p->rows, (double)p->rows, 0};
        plline(5, xs, ys);
    }
    if (p->highlight >= 0 && p->highlight < p->n)
        draw_highlight(pg, p, r);
}

/* The number of the first unit of each row, left of the grid; every k-th
 * row so that the numbers do not touch. */
static void draw_row_numbers(const page *pg, const nb_grid_panel *p, rect r)
{
    double cell = (r.y1 - r.y0) / (double)p->rows;
    int64_t every = (int64_t)ceil(14.0 / cell);
    for (int64_t row = 0; row < p->rows; row += every) {
        char num[24];
        snprintf(num, sizeof num, "%lld", (long long)(row * p->cols));
        text_at(pg, r.x0 - 6, r.y0 + (row + 0.5) * cell, 1.0, 0.6, COL_MUTED, num);
    }
}

static void format_value(char *buf, size_t len, double v)
{
    snprintf(buf, len, fabs(v) < 1000 ? "%.3f" : "%.4g", v);
}

/* Right of a strip, a line per unit: its number, its name (when there are
 * names) and its value; the highlighted unit's in red. */
static void draw_strip_labels(const page *pg, const nb_grid_panel *p, rect r)
{
    double cell = (r.y1 - r.y0) / (double)p->rows;
    double scale = cell >= 24 ? 0.7 : 0.55;
    double right = r.x1 + STRIP_TEXT_W + (p->labels ? STRIP_NAMES_W : 0);
    for (int64_t i = 0; i < p->n; i++) {
        double y = r.y0 + (i + 0.5) * cell;
        int colour = i == p->highlight ? COL_HIGHLIGHT : COL_TEXT;
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)i);
        text_at(pg, r.x1 + 10, y, 0.0, scale, colour, buf);
        if (p->labels && p->labels[i])
            text_at(pg, r.x1 + 36, y, 0.0, scale, colour, p->labels[i]);
        if (isfinite(p->values[i])) {
            format_value(buf, sizeof buf, p->values[i]);
            text_at(pg, right, y, 1.0, scale, colour, buf);
        }
    }
}

/* A horizontal gradient from lo to hi with ticks and numbers under it. */
static void draw_colour_bar(const page *pg, const nb_grid_panel *p, rect r)
{
    PLFLT column[BAR_STEPS + 1][2], *m[BAR_STEPS + 1];
    for (int i = 0; i <= BAR_STEPS; i++) {
        double v = p->lo + (p->hi - p->lo) * (i + 0.5) / BAR_STEPS;
        column[i][0] = column[i][1] = fmin(v, p->hi);
        m[i] = column[i];
    }
    use_rect(pg, r, p->lo, p->hi, 0, 1);
    plimagefr((PLFLT_MATRIX)m, BAR_STEPS + 1, 2, p->lo, p->hi, 0, 1, p->lo, p->hi, p->lo, p->hi,
              NULL, NULL);
    plcol0(COL_TEXT);
    plschr(0, 0.6);
    plbox("bcnst", 0, 0, "bc", 0, 0);
    plschr(0, 1.0);
}

static bool is_strip(const nb_grid_panel *p) { return p->cols == 1 && !p->picture; }

/* Where the cells go in the panel's area: as big as fits, centred; a strip
 * (one column) leaves room on its right for its numbers, names and values. */
static rect place_cells(const nb_grid_panel *p, rect area)
{
    double beside = is_strip(p) ? STRIP_TEXT_W + (p->labels ? STRIP_NAMES_W : 0) : 0;
    double w = area.x1 - area.x0 - beside, h = area.y1 - area.y0;
    double cell = fmin(w / (double)p->cols, h / (double)p->rows);
    if (is_strip(p))
        cell = fmin(cell, STRIP_MAX_CELL);
    double cw = cell * (double)p->cols, ch = cell * (double)p->rows;
    double x0 = area.x0 + (w - cw) / 2, y0 = area.y0 + (h - ch) / 2;
    return (rect){x0, y0, x0 + cw, y0 + ch};
}

static void draw_panel(const page *pg, const nb_grid_panel *p, PLFLT **m, double px, double py)
{
    double middle = px + GRID_PANEL_W / 2.0, room = GRID_PANEL_W - 24.0;
    set_bold(true);
    text_at(pg, middle, py + 20, 0.5, fit_scale(p->title, 0.78, room, true), COL_TEXT, p->title);
    set_bold(false);
    text_at(pg, middle, py + 42, 0.5, fit_scale(p->subtitle, 0.7, room, false), COL_MUTED,
            p->subtitle);
    rect area = {px + AREA_LEFT, py + AREA_TOP, px + GRID_PANEL_W - AREA_RIGHT,
                 py + GRID_PANEL_H - AREA_BOTTOM};
    rect cells = place_cells(p, area);
    draw_cells(pg, p, m, cells);
    if (is_strip(p))
        draw_strip_labels(pg, p, cells);
    else if (!p->picture && p->rows > 1)
        draw_row_numbers(pg, p, cells);
    rect bar = {area.x0, area.y1 + 22, area.x1, area.y1 + 22 + BAR_HEIGHT};
    draw_colour_bar(pg, p, bar);
}

/* A small arrow at (x, y) in pixels, pointing right: from one panel to the
 * next, as the values flow. */
static void draw_arrow(const page *pg, double x, double y)
{
    use_rect(pg, (rect){0, 0, pg->width, pg->height}, 0, pg->width, 0, pg->height);
    double yw = pg->height - y;
    plcol0(COL_MUTED);
    plwidth(2.0);
    pljoin(x - 12, yw, x + 4, yw);
    plwidth(1.0);
    PLFLT xs[3] = {x + 2, x + 12, x + 2}, ys[3] = {yw - 6, yw, yw + 6};
    plfill(3, xs, ys);
}

static void draw_page(void *user)
{
    const page *pg = user;
    PLFLT pos[2] = {0, 1}, gray[2] = {0, 1};
    plscmap1n(256);
    plscmap1l(1, 2, pos, gray, gray, gray, NULL);
    pladv(0);
    PLFLT x0, x1, y0, y1; /* the page in millimetres */
    plgspa(&x0, &x1, &y0, &y1);
    plschr(CHAR_PX * (x1 - x0) / pg->width, 1.0);
    double top = 0;
    if (pg->title) {
        set_bold(true);
        text_at(pg, pg->width / 2.0, GRID_TITLE_H / 2.0 + 4, 0.5,
                fit_scale(pg->title, 1.05, pg->width - 24.0, true), COL_TEXT, pg->title);
        set_bold(false);
        top = GRID_TITLE_H;
    }
    for (int i = 0; i < pg->n_panels; i++) {
        double px = (i % GRID_PER_ROW) * GRID_PANEL_W, py = top + (i / GRID_PER_ROW) * GRID_PANEL_H;
        draw_panel(pg, &pg->panels[i], pg->matrices[i], px, py);
        if (i % GRID_PER_ROW != 0)
            draw_arrow(pg, px, py + (AREA_TOP + GRID_PANEL_H - AREA_BOTTOM) / 2);
    }
    if (pg->note)
        text_at(pg, 12, pg->height - 12, 0, fit_scale(pg->note, 0.6, pg->width - 24.0, false),
                COL_MUTED, pg->note);
}

/* ---- memory for PLplot's matrices ------------------------------------------- */

static void free_page(page *pg)
{
    for (int i = 0; pg->matrices && i < pg->n_panels; i++)
        if (pg->matrices[i]) {
            nb_release(pg->matrices[i][0]);
            nb_release(pg->matrices[i]);
        }
    nb_release(pg->matrices);
}

/* A column-pointer array over one block of (cols + 1) x (rows + 1) values. */
static PLFLT **alloc_matrix(const nb_grid_panel *p)
{
    size_t nx = (size_t)p->cols + 1, ny = (size_t)p->rows + 1;
    PLFLT **cols = nb_alloc(nx * sizeof *cols);
    PLFLT *data = cols ? nb_alloc(nx * ny * sizeof *data) : NULL;
    if (!data) {
        nb_release(cols);
        return NULL;
    }
    for (size_t c = 0; c < nx; c++)
        cols[c] = data + c * ny;
    fill_matrix(p, cols);
    return cols;
}

static bool alloc_page(page *pg, const nb_grid_panel *panels, int n_panels, const char *title,
                       const char *note)
{
    *pg = (page){.title = title, .note = note, .panels = panels, .n_panels = n_panels};
    nb__grid_page_size(n_panels, title != NULL, &pg->width, &pg->height);
    pg->matrices = nb_alloc_zeroed((size_t)n_panels * sizeof *pg->matrices);
    for (int i = 0; pg->matrices && i < n_panels; i++)
        if (!(pg->matrices[i] = alloc_matrix(&panels[i]))) {
            free_page(pg);
            return false;
        }
    return pg->matrices != NULL;
}

nb_status nb__grid_plot_png(const char *fn, const char *path, const char *title,
                            const char *note, const nb_grid_panel *panels, int n_panels)
{
    page pg;
    if (!alloc_page(&pg, panels, n_panels, title, note))
        return nb_error(NB_ERR_NOMEM, "%s: out of memory for a picture of %d panels", fn,
                        n_panels);
    nb_plot_page png = {.fn = fn, .path = path, .width = pg.width, .height = pg.height,
                        .colours = colours, .n_colours = N_COLOURS};
    nb_status status = nb__plot_png(&png, draw_page, &pg);
    free_page(&pg);
    return status;
}
#else
nb_status nb__grid_plot_png(const char *fn, const char *path, const char *title,
                            const char *note, const nb_grid_panel *panels, int n_panels)
{
    (void)title, (void)note, (void)panels, (void)n_panels;
    return nb__plot_unavailable(&(nb_plot_page){.fn = fn, .path = path});
}
#endif

/* ---- any tensor ------------------------------------------------------------------ */

nb_status nb_tensor_plot_grid_png(const nb_tensor *values, int64_t rows, int64_t cols,
                                  const char *path, const char *title)
{
    const char *fn = "nb_tensor_plot_grid_png";
    if (!values || !path)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, values ? "path" : "values");
    if (nb__check_live(fn, values) != NB_OK)
        return nb_last_status();
    if (rows == 0 && cols == 0) {
        if (values->rank == 2)
            rows = values->shape[0], cols = values->shape[1];
        else
            nb__grid_shape(values->size, &rows, &cols);
    }
    char shape[NB_SHAPE_BUF];
    nb_shape_str(values, shape, sizeof shape);
    if (rows <= 0 || cols <= 0 || rows > INT32_MAX / cols || rows * cols != values->size)
        return nb_error(NB_ERR_SHAPE,
                        "%s: a %lld x %lld grid does not fit the %lld values of a %s tensor "
                        "(rows * cols must equal them; 0, 0 chooses)",
                        fn, (long long)rows, (long long)cols, (long long)values->size, shape);
    double *v = nb_alloc((size_t)values->size * sizeof *v);
    if (!v)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory for %lld values", fn,
                        (long long)values->size);
    for (int64_t i = 0; i < values->size; i++)
        v[i] = nb_tensor_get(values, i);
    nb_grid_panel panel = {.values = v, .n = values->size, .rows = rows, .cols = cols,
                           .highlight = -1};
    nb__grid_range(&panel, false);
    snprintf(panel.title, sizeof panel.title, "%s%s%s", values->name, values->name[0] ? " " : "",
             shape);
    snprintf(panel.subtitle, sizeof panel.subtitle, "%lld values as %lld x %lld, from %.3g to %.3g",
             (long long)values->size, (long long)rows, (long long)cols, panel.min, panel.max);
    nb_status status = nb__grid_plot_png(fn, path, title, NULL, &panel, 1);
    nb_release(v);
    return status;
}
