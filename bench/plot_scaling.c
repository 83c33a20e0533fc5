/* plot_scaling: draw bench/scaling.sh's CSV as a PNG of two log-log panels,
 * epoch seconds against the hidden width and against the batch size, with
 * a line for each thread count in the CSV.
 * Usage: plot_scaling IN.csv OUT.png
 * IN.csv: the header line, then rows of sweep,value,threads,epoch_seconds
 * (more columns are ignored); sweep is "hidden" or "batch".
 * A bench tool: it uses the library's internal PLplot helper (io/plot.h). */
#include <math.h>
#include <plplot.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "io/plot.h"

#define MAX_POINTS 32
#define MAX_LINES 4 /* thread counts per panel (at most NB_PLOT_LEGEND_MAX) */

typedef struct line {
    int threads, n;
    double x[MAX_POINTS], y[MAX_POINTS]; /* log2 of the value and of the seconds */
} line;

typedef struct panel {
    const char *sweep, *label;
    double x_step;         /* labelled x ticks every x_step doublings */
    PLINT legend_position; /* where no line runs: widths rise to the right, batches fall */
    int n_lines;
    line lines[MAX_LINES];
} panel;

enum { COL_BACKGROUND, COL_TEXT, COL_GRID, COL_FIRST_LINE, N_COLOURS = COL_FIRST_LINE + MAX_LINES };
/* matplotlib's first four colours, as the library's other plots */
static const int colours[N_COLOURS][3] = {{255, 255, 255}, {0, 0, 0},     {222, 222, 222},
                                          {31, 119, 180},  {255, 127, 14}, {44, 160, 44},
                                          {214, 39, 40}};

/* The line of `threads` in p, added when new; NULL when p has no room. */
static line *line_for(panel *p, int threads)
{
    for (int i = 0; i < p->n_lines; i++)
        if (p->lines[i].threads == threads)
            return &p->lines[i];
    if (p->n_lines == MAX_LINES)
        return NULL;
    line *l = &p->lines[p->n_lines++];
    l->threads = threads;
    return l;
}

static void draw_legend(const panel *p)
{
    nb_plot_legend legend = {.n = p->n_lines, .line_width = 2.5, .sample_length = 0.1,
                             .corner = p->legend_position, .x_offset = 0.03, .y_offset = 0.03,
                             .text = COL_TEXT, .background = COL_BACKGROUND, .border = COL_GRID};
    char labels[MAX_LINES][32];
    for (int i = 0; i < p->n_lines; i++) {
        snprintf(labels[i], sizeof labels[i], "%d thread%s", p->lines[i].threads,
                 p->lines[i].threads == 1 ? "" : "s");
        legend.labels[i] = labels[i];
        legend.colours[i] = COL_FIRST_LINE + i;
    }
    nb__plot_legend(&legend);
}

/* Both axes are in powers of two (the sweeps double), labelled with the
 * values themselves: 128, 256, ... and 0.25, 0.5, 1 s rather than 10^2 or
 * 10^-1, which would leave most of a short axis bare. */
static void label_power_of_two(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data)
{
    (void)axis, (void)data;
    snprintf(label, (size_t)length, "%g", pow(2, value));
}

/* The panel's window (log2 units): every point, with a margin. */
static void window(const panel *p, double w[4])
{
    w[0] = w[2] = INFINITY;
    w[1] = w[3] = -INFINITY;
    for (int i = 0; i < p->n_lines; i++)
        for (int k = 0; k < p->lines[i].n; k++) {
            w[0] = fmin(w[0], p->lines[i].x[k]), w[1] = fmax(w[1], p->lines[i].x[k]);
            w[2] = fmin(w[2], p->lines[i].y[k]), w[3] = fmax(w[3], p->lines[i].y[k]);
        }
    w[0] -= 0.3, w[1] += 0.3, w[2] -= 0.5, w[3] += 0.5;
}

static void draw_panel(const panel *p)
{
    double w[4];
    window(p, w);
    pladv(0);
    plvsta();
    plwind(w[0], w[1], w[2], w[3]);
    plslabelfunc(label_power_of_two, NULL);
    plcol0(COL_GRID);
    plbox("g", p->x_step, 1, "g", 1, 1);
    plcol0(COL_TEXT);
    plbox("bcnsto", p->x_step, 1, "bcnstvo", 1, 1);
    pllab(p->label, "seconds per 48,000-sample epoch", "");
    for (int i = 0; i < p->n_lines; i++) {
        plcol0(COL_FIRST_LINE + i);
        plwidth(2.5);
        plline(p->lines[i].n, p->lines[i].x, p->lines[i].y);
        plpoin(p->lines[i].n, p->lines[i].x, p->lines[i].y, 17);
        plwidth(1);
    }
    draw_legend(p);
}

static void draw(void *user)
{
    panel *panels = user;
    plssub(2, 1);
    draw_panel(&panels[0]);
    draw_panel(&panels[1]);
}

/* One CSV row's point onto its panel's line for `threads` (dropped when
 * the sweep is unknown or the panel is full). */
static void add_point(panel panels[2], const char *sweep, int threads, double value,
                      double seconds)
{
    for (int k = 0; k < 2; k++) {
        line *l = strcmp(sweep, panels[k].sweep) == 0 ? line_for(&panels[k], threads) : NULL;
        if (l && l->n < MAX_POINTS) {
            l->x[l->n] = log2(value);
            l->y[l->n++] = log2(seconds);
        }
    }
}

/* Read the CSV's rows into the panels; false (with a message) when a panel
 * has a line of fewer than two points. */
static bool read_csv(FILE *in, const char *path, panel panels[2])
{
    char text[256], sweep[32];
    double value, seconds;
    int threads;
    while (fgets(text, sizeof text, in))
        if (sscanf(text, "%31[^,],%lf,%d,%lf", sweep, &value, &threads, &seconds) == 4 &&
            value > 0 && seconds > 0 && threads > 0)
            add_point(panels, sweep, threads, value, seconds);
    for (int k = 0; k < 2; k++) {
        bool enough = panels[k].n_lines > 0;
        for (int i = 0; i < panels[k].n_lines; i++)
            enough &= panels[k].lines[i].n >= 2;
        if (!enough) {
            fprintf(stderr, "plot_scaling: %s: expected at least 2 '%s' rows for each thread count "
                            "(sweep,value,threads,epoch_seconds)\n", path, panels[k].sweep);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: plot_scaling IN.csv OUT.png\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    static panel panels[2] = {{.sweep = "hidden",
                               .label = "first hidden layer width (batch 32)",
                               .x_step = 1,
                               .legend_position = PL_POSITION_BOTTOM | PL_POSITION_RIGHT},
                              {.sweep = "batch",
                               .label = "batch size (hidden 128)",
                               .x_step = 2,
                               .legend_position = PL_POSITION_TOP | PL_POSITION_RIGHT}};
    bool ok = read_csv(in, argv[1], panels);
    fclose(in);
    if (!ok)
        return 1;
    nb_plot_page page = {.fn = "plot_scaling", .path = argv[2], .width = 1100, .height = 450,
                         .colours = colours, .n_colours = N_COLOURS};
    if (nb__plot_png(&page, draw, panels) != NB_OK) {
        fprintf(stderr, "plot_scaling: %s\n", nb_last_error());
        return 1;
    }
    printf("plot written to %s\n", argv[2]);
    return 0;
}
