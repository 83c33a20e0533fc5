/* plot_scaling: draw bench/scaling.sh's CSV as a PNG of two log-log panels,
 * epoch seconds against the hidden width and against the batch size.
 * Usage: plot_scaling IN.csv OUT.png
 * A bench tool: it uses the library's internal PLplot helper (io/plot.h). */
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <string.h>

#include "io/plot.h"

#define MAX_POINTS 32

typedef struct series {
    const char *sweep, *label;
    int n;
    double x[MAX_POINTS], y[MAX_POINTS];
} series;

static void draw_panel(const series *s)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    double lx[MAX_POINTS], ly[MAX_POINTS];
    for (int i = 0; i < s->n; i++) {
        lx[i] = log10(s->x[i]), ly[i] = log10(s->y[i]);
        xmin = fmin(xmin, lx[i]), xmax = fmax(xmax, lx[i]);
        ymin = fmin(ymin, ly[i]), ymax = fmax(ymax, ly[i]);
    }
    pladv(0);
    plvsta();
    plcol0(1);
    plwind(xmin - 0.1, xmax + 0.1, ymin - 0.2, ymax + 0.2);
    plbox("bclnst", 0, 0, "bclnstv", 0, 0);
    pllab(s->label, "seconds per 48,000-sample epoch", "");
    plcol0(2);
    plwidth(2);
    plline(s->n, lx, ly);
    plpoin(s->n, lx, ly, 17);
    plwidth(1);
}

static void draw(void *user)
{
    series *all = user;
    plssub(2, 1);
    draw_panel(&all[0]);
    draw_panel(&all[1]);
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
    series all[2] = {{"hidden", "first hidden layer width (batch 32)", 0, {0}, {0}},
                     {"batch", "batch size (hidden 128)", 0, {0}, {0}}};
    char line[256], sweep[32];
    double value, seconds;
    while (fgets(line, sizeof line, in))
        if (sscanf(line, "%31[^,],%lf,%lf", sweep, &value, &seconds) == 3)
            for (int k = 0; k < 2; k++)
                if (strcmp(sweep, all[k].sweep) == 0 && all[k].n < MAX_POINTS && value > 0 &&
                    seconds > 0) {
                    all[k].x[all[k].n] = value;
                    all[k].y[all[k].n++] = seconds;
                }
    fclose(in);
    if (all[0].n < 2 || all[1].n < 2) {
        fprintf(stderr, "plot_scaling: %s: expected at least 2 points per sweep\n", argv[1]);
        return 1;
    }
    static const int colours[][3] = {{255, 255, 255}, {0, 0, 0}, {31, 119, 180}};
    nb_plot_page page = {.fn = "plot_scaling", .path = argv[2], .width = 1100, .height = 450,
                         .colours = colours, .n_colours = 3};
    if (nb__plot_png(&page, draw, all) != NB_OK) {
        fprintf(stderr, "plot_scaling: %s\n", nb_last_error());
        return 1;
    }
    printf("plot written to %s\n", argv[2]);
    return 0;
}
