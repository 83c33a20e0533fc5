/* Training histories as files: CSV always, PNG learning curves with PLplot.
 *
 * Both writers go through io/atomic.c (the PNG by way of io/plot.c, which
 * also holds the PLplot set-up): the file appears complete or not at all.
 * Log values are looked up by name here rather than through
 * nb_history_series, because an epoch may lack a value (the CSV leaves the
 * field empty, the plot breaks the line there). */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/atomic.h"
#include "io/plot.h"
#include "nabla/io.h"
#include "nabla/viz.h"
#include "nabla_config.h"

/* ---- names and values ----------------------------------------------------- */

/* The value of `name` in logs into *value; false when absent. */
static bool log_lookup(const nb_logs *logs, const char *name, double *value)
{
    for (int i = 0; i < logs->n && i < NB_LOGS_MAX; i++)
        if (strncmp(logs->names[i], name, sizeof logs->names[i]) == 0) {
            *value = logs->values[i];
            return true;
        }
    return false;
}

static bool is_validation(const char *name) { return strncmp(name, "val_", 4) == 0; }

static nb_status check_history(const char *fn, const nb_history *h, const char *path)
{
    if (!h || !path)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, h ? "path" : "history");
    if (h->epochs <= 0)
        return nb_error(NB_ERR_ARG, "%s: the history has %d epochs: nothing to write to '%s'",
                        fn, h->epochs, path);
    if (!h->logs)
        return nb_error(NB_ERR_NULL, "%s: the history has %d epochs but its logs are NULL", fn,
                        h->epochs);
    return NB_OK;
}

/* ---- CSV columns ------------------------------------------------------------ */

#define MAX_COLUMNS (4 * NB_LOGS_MAX)

typedef struct columns {
    int n;
    char names[MAX_COLUMNS][sizeof ((nb_logs *)0)->names[0] + 8];
} columns;

static bool columns_have(const columns *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return true;
    return false;
}

/* Append name once; false when the table is full. */
static bool columns_add(columns *c, const char *name)
{
    if (columns_have(c, name))
        return true;
    if (c->n == MAX_COLUMNS)
        return false;
    /* names longer than a slot are cut, as nb_logs cuts them */
    size_t len = strnlen(name, sizeof c->names[0] - 1);
    memcpy(c->names[c->n], name, len);
    c->names[c->n++][len] = '\0';
    return true;
}

/* Every name of every epoch, in the order first seen. */
static bool collect_names(const nb_history *h, columns *seen)
{
    for (int e = 0; e < h->epochs; e++) {
        const nb_logs *logs = &h->logs[e];
        for (int i = 0; i < logs->n && i < NB_LOGS_MAX; i++) {
            char name[sizeof logs->names[0] + 1];
            snprintf(name, sizeof name, "%.*s", (int)sizeof logs->names[0], logs->names[i]);
            if (!columns_add(seen, name))
                return false;
        }
    }
    return true;
}

/* loss, metrics, val_loss, val_<metric>..., then whatever else, as Keras's
 * CSVLogger orders a fit's logs. */
static void order_columns(const columns *seen, columns *out)
{
    if (columns_have(seen, "loss"))
        columns_add(out, "loss");
    for (int i = 0; i < seen->n; i++)
        if (!is_validation(seen->names[i]))
            columns_add(out, seen->names[i]);
    if (columns_have(seen, "val_loss"))
        columns_add(out, "val_loss");
    int n_train = out->n;
    for (int i = 0; i < n_train; i++) {
        char val[sizeof out->names[0] + 4];
        snprintf(val, sizeof val, "val_%s", out->names[i]);
        if (columns_have(seen, val))
            columns_add(out, val);
    }
    for (int i = 0; i < seen->n; i++)
        columns_add(out, seen->names[i]);
}

/* ---- CSV writing ------------------------------------------------------------- */

/* The shortest "%.*g" that reads back as exactly v. */
static void format_double(char *buf, size_t len, double v)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* A header field, quoted when a custom metric's name needs it (RFC 4180). */
static void write_field(FILE *out, const char *text)
{
    if (!strpbrk(text, ",\"\r\n")) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void write_rows(FILE *out, const nb_history *h, const columns *cols)
{
    fputs("epoch", out);
    for (int c = 0; c < cols->n; c++) {
        fputc(',', out);
        write_field(out, cols->names[c]);
    }
    fputc('\n', out);
    for (int e = 0; e < h->epochs; e++) {
        fprintf(out, "%d", e + 1);
        for (int c = 0; c < cols->n; c++) {
            double v;
            char buf[32] = "";
            if (log_lookup(&h->logs[e], cols->names[c], &v))
                format_double(buf, sizeof buf, v);
            fprintf(out, ",%s", buf);
        }
        fputc('\n', out);
    }
}

nb_status nb_history_write_csv(const nb_history *history, const char *path)
{
    const char *fn = "nb_history_write_csv";
    if (check_history(fn, history, path) != NB_OK)
        return nb_last_status();
    columns seen = {0}, cols = {0};
    if (!collect_names(history, &seen))
        return nb_error(NB_ERR_ARG, "%s: the history holds more than %d distinct names", fn,
                        MAX_COLUMNS);
    order_columns(&seen, &cols);
    nb_atomic_file f;
    if (nb__atomic_begin(&f, fn, path) != NB_OK)
        return nb_last_status();
    /* "0.5", never "0,5", whatever locale the program has set */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t previous = c_locale ? uselocale(c_locale) : (locale_t)0;
    write_rows(f.stream, history, &cols);
    if (c_locale) {
        uselocale(previous);
        freelocale(c_locale);
    }
    return nb__atomic_commit(&f);
}

/* ---- PNG learning curves --------------------------------------------------------- */

#if NB_HAVE_PLPLOT
#include <plplot.h>

/* cmap0 indices the drawing uses; the train/validation colours are
 * matplotlib's first two, so the curves look as users know them. */
enum { COL_BACKGROUND, COL_TEXT, COL_TRAIN, COL_VAL, COL_GRID, N_COLOURS };
static const int colours[N_COLOURS][3] = {
    {255, 255, 255}, {0, 0, 0}, {31, 119, 180}, {255, 127, 14}, {222, 222, 222}};
enum { PNG_WIDTH = 1200, PNG_HEIGHT = 500 };

/* Legend size in pixels with its margin, measured on rendered pictures
 * (default font; the box is as wide as "validation" needs). */
#define LEGEND_PX_W 250.0
#define LEGEND_PX_H(entries) (25.0 + 35.0 * (entries))

/* A panel: a training series and, when the logs have it, its validation
 * twin; values are NaN where an epoch lacks them. */
typedef struct panel {
    const char *title, *ylabel;
    char train[40], val[48];
    bool has_val;
    double *y_train, *y_val;
} panel;

typedef struct window {
    double x0, x1, y0, y1;
} window;

static bool history_has(const nb_history *h, const char *name)
{
    double unused;
    for (int e = 0; e < h->epochs; e++)
        if (log_lookup(&h->logs[e], name, &unused))
            return true;
    return false;
}

/* The first training metric whose name contains "acc": the accuracy, as
 * Keras's mode 'auto' recognises it. */
static bool find_accuracy(const nb_history *h, char *name, size_t len)
{
    for (int e = 0; e < h->epochs; e++)
        for (int i = 0; i < h->logs[e].n && i < NB_LOGS_MAX; i++) {
            const char *n = h->logs[e].names[i];
            if (!is_validation(n) && strstr(n, "acc")) {
                snprintf(name, len, "%.*s", (int)sizeof h->logs[e].names[i], n);
                return true;
            }
        }
    return false;
}

static panel make_panel(const nb_history *h, const char *title, const char *ylabel,
                        const char *train)
{
    panel p = {.title = title, .ylabel = ylabel};
    snprintf(p.train, sizeof p.train, "%s", train);
    snprintf(p.val, sizeof p.val, "val_%s", train);
    p.has_val = history_has(h, p.val);
    return p;
}

/* Accuracy left, loss right; either may be missing. Returns the count. */
static int choose_panels(const nb_history *h, panel panels[2])
{
    int n = 0;
    char accuracy[40];
    if (find_accuracy(h, accuracy, sizeof accuracy))
        panels[n++] = make_panel(h, "Accuracy", "accuracy", accuracy);
    if (history_has(h, "loss"))
        panels[n++] = make_panel(h, "Loss", "loss", "loss");
    return n;
}

static void fill_series(const nb_history *h, const char *name, double *y)
{
    for (int e = 0; e < h->epochs; e++)
        if (!log_lookup(&h->logs[e], name, &y[e]))
            y[e] = NAN;
}

/* ---- layout ----------------------------------------------------------------- */

static int n_series(const panel *p) { return p->has_val ? 2 : 1; }

static const double *series(const panel *p, int s) { return s == 0 ? p->y_train : p->y_val; }

/* World coordinates: every epoch, and the values with a margin. */
static window data_window(const panel *p, int epochs)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < n_series(p); s++)
        for (int e = 0; e < epochs; e++)
            if (isfinite(series(p, s)[e])) {
                lo = fmin(lo, series(p, s)[e]);
                hi = fmax(hi, series(p, s)[e]);
            }
    if (!(lo <= hi))
        lo = 0, hi = 1;
    double pad = hi - lo > 1e-12 * fmax(1.0, fabs(hi)) ? 0.06 * (hi - lo)
                 : hi != 0                              ? 0.05 * fabs(hi)
                                                        : 0.5;
    double xpad = epochs > 1 ? 0.02 * (epochs - 1) : 0.5;
    return (window){1 - xpad, epochs + xpad, lo - pad, hi + pad};
}

/* How many points of the curves (sampled along each segment, since lines
 * between epochs can cross a corner too) fall in [u0,u1]x[v0,v1] of the
 * window, in 0..1 coordinates. */
static int count_in(const panel *p, int epochs, window w, double u0, double u1, double v0,
                    double v1)
{
    int count = 0;
    for (int s = 0; s < n_series(p); s++)
        for (int e = 0; e < epochs; e++)
            for (int k = 0; k < 8 && (k == 0 || e + 1 < epochs); k++) {
                double t = k / 8.0, a = series(p, s)[e];
                double b = e + 1 < epochs ? series(p, s)[e + 1] : a;
                double u = ((e + 1 + t) - w.x0) / (w.x1 - w.x0);
                double v = ((1 - t) * a + t * b - w.y0) / (w.y1 - w.y0);
                count += u >= u0 && u <= u1 && v >= v0 && v <= v1;
            }
    return count;
}

/* The emptiest corner for the legend (PL_POSITION_* bits), in a viewport
 * of px_w x px_h pixels. When every corner has curve in it, stretch the
 * window so the curves leave a band free for the legend. */
static PLINT place_legend(const panel *p, int epochs, window *w, double px_w, double px_h)
{
    const double legend_w = fmin(1.0, LEGEND_PX_W / px_w);
    const double legend_h = fmin(0.5, LEGEND_PX_H(n_series(p)) / px_h);
    static const PLINT corners[4] = {
        PL_POSITION_TOP | PL_POSITION_RIGHT, PL_POSITION_BOTTOM | PL_POSITION_RIGHT,
        PL_POSITION_TOP | PL_POSITION_LEFT, PL_POSITION_BOTTOM | PL_POSITION_LEFT};
    int best = 0, best_count = 0;
    for (int c = 0; c < 4; c++) {
        bool right = corners[c] & PL_POSITION_RIGHT, top = corners[c] & PL_POSITION_TOP;
        int count = count_in(p, epochs, *w, right ? 1 - legend_w : 0, right ? 1 : legend_w,
                             top ? 1 - legend_h : 0, top ? 1 : legend_h);
        if (c == 0 || count < best_count)
            best = c, best_count = count;
    }
    if (best_count > 0) {
        double height = (w->y1 - w->y0) / (1 - legend_h);
        if (corners[best] & PL_POSITION_TOP)
            w->y1 = w->y0 + height;
        else
            w->y0 = w->y1 - height;
    }
    return corners[best];
}

/* Whole epochs between x ticks: 1, 2, 5, 10, 20, 50... for about 8 ticks. */
static double epoch_tick(int epochs)
{
    static const double steps[3] = {1, 2, 5};
    for (double scale = 1;; scale *= 10)
        for (int i = 0; i < 3; i++)
            if (steps[i] * scale >= epochs / 8.0)
                return steps[i] * scale;
}

/* ---- drawing ----------------------------------------------------------------- */

/* Runs of finite values as lines; a lone value as a dot. */
static void draw_series(const double *x, const double *y, int n, int colour, int style)
{
    plcol0(colour);
    pllsty(style);
    plwidth(3.0);
    int start = 0;
    for (int i = 0; i <= n; i++) {
        if (i < n && isfinite(y[i]))
            continue;
        if (i - start >= 2)
            plline(i - start, x + start, y + start);
        else if (i - start == 1)
            plpoin(1, x + start, y + start, 17);
        start = i + 1;
    }
    pllsty(1);
    plwidth(1.0);
}

static void draw_legend(const panel *p, PLINT corner)
{
    nb__plot_legend(&(nb_plot_legend){
        .n = n_series(p), .labels = {"training", "validation"}, .colours = {COL_TRAIN, COL_VAL},
        .styles = {1, 3}, .line_width = 3.0, .sample_length = 0.08, .corner = corner,
        .x_offset = 0.02, .y_offset = 0.03, .text = COL_TEXT, .background = COL_BACKGROUND,
        .border = COL_GRID});
}

/* One panel in the viewport [vx0, vx1] x [vy0, vy1] of the page. */
static void draw_panel(const panel *p, const double *x, int epochs, double vx0, double vx1,
                       double vy0, double vy1)
{
    window w = data_window(p, epochs);
    PLINT corner = place_legend(p, epochs, &w, (vx1 - vx0) * PNG_WIDTH, (vy1 - vy0) * PNG_HEIGHT);
    double tick = epoch_tick(epochs);
    plvpor(vx0, vx1, vy0, vy1);
    plwind(w.x0, w.x1, w.y0, w.y1);
    plcol0(COL_GRID);
    plbox("g", tick, 1, "g", 0, 0);
    plcol0(COL_TEXT);
    plbox("bcnst", tick, 1, "bcfnstv", 0, 0);
    pllab("epoch", "", p->title);
    /* further out than pllab puts it, clear of tick labels like "0.385" */
    plmtex("l", 6.0, 0.5, 0.5, p->ylabel);
    draw_series(x, p->y_train, epochs, COL_TRAIN, 1);
    if (p->has_val)
        draw_series(x, p->y_val, epochs, COL_VAL, 3);
    draw_legend(p, corner);
}

static void draw_page(const panel *panels, int n_panels, const double *x, int epochs,
                      const char *title)
{
    pladv(0);
    double top = 0.88;
    if (title) {
        char buf[256];
        plvpor(0, 1, 0, 1);
        plwind(0, 1, 0, 1);
        plcol0(COL_TEXT);
        plschr(0, 1.25);
        plmtex("t", -1.6, 0.5, 0.5, nb__plot_text(title, buf, sizeof buf));
        plschr(0, 1.0);
        top = 0.79;
    }
    for (int i = 0; i < n_panels; i++) {
        double left = (double)i / n_panels, width = 1.0 / n_panels;
        /* room for the y tick labels and label on the left of each panel */
        draw_panel(&panels[i], x, epochs, left + 125.0 / PNG_WIDTH,
                   left + width - 30.0 / PNG_WIDTH, 0.15, top);
    }
}

/* What draw_page needs, for nb__plot_png's callback. */
typedef struct curves {
    const panel *panels;
    int n_panels, epochs;
    const double *x;
    const char *title;
} curves;

static void draw_curves(void *user)
{
    const curves *c = user;
    draw_page(c->panels, c->n_panels, c->x, c->epochs, c->title);
}

nb_status nb_history_plot_png(const nb_history *history, const char *path, const char *title)
{
    const char *fn = "nb_history_plot_png";
    if (check_history(fn, history, path) != NB_OK)
        return nb_last_status();
    panel panels[2];
    int n_panels = choose_panels(history, panels);
    if (n_panels == 0)
        return nb_error(NB_ERR_ARG,
                        "%s: nothing to plot in '%s': the history has no \"loss\" and no "
                        "accuracy (a name containing \"acc\")",
                        fn, path);
    int epochs = history->epochs;
    double *buf = nb_alloc((size_t)epochs * (1 + 2 * (size_t)n_panels) * sizeof *buf);
    if (!buf)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory for %d epochs", fn, epochs);
    double *x = buf;
    for (int e = 0; e < epochs; e++)
        x[e] = e + 1;
    for (int i = 0; i < n_panels; i++) {
        panels[i].y_train = buf + (size_t)epochs * (1 + 2 * (size_t)i);
        panels[i].y_val = panels[i].y_train + epochs;
        fill_series(history, panels[i].train, panels[i].y_train);
        fill_series(history, panels[i].val, panels[i].y_val);
    }
    nb_plot_page page = {.fn = fn, .path = path, .width = PNG_WIDTH, .height = PNG_HEIGHT,
                         .colours = colours, .n_colours = N_COLOURS};
    curves c = {panels, n_panels, epochs, x, title};
    nb_status status = nb__plot_png(&page, draw_curves, &c);
    nb_release(buf);
    return status;
}
#else
nb_status nb_history_plot_png(const nb_history *history, const char *path, const char *title)
{
    (void)title;
    const char *fn = "nb_history_plot_png";
    if (check_history(fn, history, path) != NB_OK)
        return nb_last_status();
    return nb__plot_unavailable(&(nb_plot_page){
        .fn = fn, .path = path, .without_plplot = "nb_history_write_csv still works"});
}
#endif
