/* Log-log line plots as PNG (through io/plot.c: lock, own stream, atomic
 * file), for quantities that span decades, such as gradient-check errors
 * against the finite-difference step. */
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "io/plot.h"
#include "nabla/viz.h"
#include "nabla_config.h"

static nb_status check_series(const char *fn, const char *path, const nb_plot_series *series,
                              int n_series, int *drawable)
{
    if (!path || !series)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, path ? "series" : "path");
    if (n_series < 1 || n_series > NB_PLOT_MAX_SERIES)
        return nb_error(NB_ERR_ARG, "%s: %d series: expected 1 to %d", fn, n_series,
                        NB_PLOT_MAX_SERIES);
    *drawable = 0;
    for (int s = 0; s < n_series; s++) {
        if (series[s].n < 0 || (series[s].n > 0 && (!series[s].x || !series[s].y)))
            return nb_error(NB_ERR_ARG, "%s: series %d has %d points and %s", fn, s,
                            series[s].n, series[s].n < 0 ? "a negative count" : "NULL x or y");
        for (int i = 0; i < series[s].n; i++)
            *drawable += series[s].x[i] > 0 && series[s].y[i] > 0 && isfinite(series[s].x[i]) &&
                         isfinite(series[s].y[i]);
    }
    if (*drawable == 0)
        return nb_error(NB_ERR_ARG, "%s: nothing to draw in '%s': no point has x > 0 and y > 0",
                        fn, path);
    return NB_OK;
}

#if NB_HAVE_PLPLOT
#include <plplot.h>

enum { COL_BACKGROUND, COL_TEXT, COL_GRID, COL_FIRST_SERIES, N_COLOURS = COL_FIRST_SERIES + 4 };
/* matplotlib's first four colours */
static const int colours[N_COLOURS][3] = {{255, 255, 255}, {0, 0, 0},     {222, 222, 222},
                                          {31, 119, 180},  {255, 127, 14}, {44, 160, 44},
                                          {214, 39, 40}};
enum { PNG_WIDTH = 900, PNG_HEIGHT = 600 };

typedef struct loglog {
    const nb_plot_series *series;
    int n_series;
    const char *title, *xlabel, *ylabel;
} loglog;

static bool drawable(double x, double y) { return x > 0 && y > 0 && isfinite(x) && isfinite(y); }

/* The decades that hold every drawable point, with half a decade to spare. */
static void log_window(const loglog *p, double w[4])
{
    w[0] = w[2] = INFINITY;
    w[1] = w[3] = -INFINITY;
    for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            if (!drawable(x, y))
                continue;
            w[0] = fmin(w[0], log10(x)), w[1] = fmax(w[1], log10(x));
            w[2] = fmin(w[2], log10(y)), w[3] = fmax(w[3], log10(y));
        }
    w[0] = floor(w[0] * 2) / 2 - 0.25, w[1] = ceil(w[1] * 2) / 2 + 0.25;
    w[2] = floor(w[2]) - 0.5, w[3] = ceil(w[3]) + 1.5; /* room for the legend on top */
}

/* One series: its drawable points as a line with a dot on each. */
static void draw_series(const nb_plot_series *s, int colour)
{
    plcol0(colour);
    plwidth(2.5);
    PLFLT lx[2], ly[2];
    int have = 0;
    for (int i = 0; i < s->n; i++) {
        if (!drawable(s->x[i], s->y[i])) {
            have = 0; /* a gap in the line */
            continue;
        }
        lx[1] = log10(s->x[i]), ly[1] = log10(s->y[i]);
        if (have)
            plline(2, lx, ly);
        plpoin(1, &lx[1], &ly[1], 17);
        lx[0] = lx[1], ly[0] = ly[1];
        have = 1;
    }
    plwidth(1.0);
}

_Static_assert(NB_PLOT_MAX_SERIES <= NB_PLOT_LEGEND_MAX, "a legend entry for every series");

static void draw_legend(const loglog *p)
{
    nb_plot_legend legend = {.n = p->n_series, .line_width = 2.5, .sample_length = 0.1,
                             .corner = PL_POSITION_TOP, .y_offset = 0.03, .text = COL_TEXT,
                             .background = COL_BACKGROUND, .border = COL_GRID};
    char labels[NB_PLOT_MAX_SERIES][128];
    for (int s = 0; s < p->n_series; s++) {
        legend.labels[s] = nb__plot_text(p->series[s].label ? p->series[s].label : "",
                                         labels[s], sizeof labels[s]);
        legend.colours[s] = COL_FIRST_SERIES + s;
    }
    nb__plot_legend(&legend);
}

static void draw_loglog(void *user)
{
    const loglog *p = user;
    char buf[3][256];
    double w[4];
    log_window(p, w);
    pladv(0);
    plvpor(0.12, 0.95, 0.12, 0.9);
    plwind(w[0], w[1], w[2], w[3]);
    plcol0(COL_GRID);
    plbox("gl", 0, 0, "gl", 0, 0);
    plcol0(COL_TEXT);
    plbox("bcnstl", 0, 0, "bcnstlv", 0, 0);
    pllab(nb__plot_text(p->xlabel ? p->xlabel : "", buf[0], sizeof buf[0]), "",
          nb__plot_text(p->title ? p->title : "", buf[1], sizeof buf[1]));
    plmtex("l", 5.0, 0.5, 0.5, nb__plot_text(p->ylabel ? p->ylabel : "", buf[2], sizeof buf[2]));
    for (int s = 0; s < p->n_series; s++)
        draw_series(&p->series[s], COL_FIRST_SERIES + s);
    draw_legend(p);
}

nb_status nb_plot_loglog_png(const char *path, const nb_plot_series *series, int n_series,
                             const char *title, const char *xlabel, const char *ylabel)
{
    const char *fn = "nb_plot_loglog_png";
    int n_drawable;
    if (check_series(fn, path, series, n_series, &n_drawable) != NB_OK)
        return nb_last_status();
    nb_plot_page page = {.fn = fn, .path = path, .width = PNG_WIDTH, .height = PNG_HEIGHT,
                         .colours = colours, .n_colours = N_COLOURS};
    loglog p = {series, n_series, title, xlabel, ylabel};
    return nb__plot_png(&page, draw_loglog, &p);
}
#else
nb_status nb_plot_loglog_png(const char *path, const nb_plot_series *series, int n_series,
                             const char *title, const char *xlabel, const char *ylabel)
{
    (void)title, (void)xlabel, (void)ylabel;
    const char *fn = "nb_plot_loglog_png";
    int n_drawable;
    if (check_series(fn, path, series, n_series, &n_drawable) != NB_OK)
        return nb_last_status();
    return nb__plot_unavailable(&(nb_plot_page){
        .fn = fn, .path = path, .without_plplot = "write the numbers as CSV instead"});
}
#endif
