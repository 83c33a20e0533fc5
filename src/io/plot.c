/* PNG pictures through PLplot, written atomically (see plot.h). */
#include "io/plot.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "io/atomic.h"

nb_status nb__plot_unavailable(const nb_plot_page *page)
{
    return nb_error(NB_ERR_STATE,
                    "%s: cannot write '%s': PNG output is unavailable because nabla was built "
                    "without PLplot (install libplplot-dev and reconfigure)%s%s",
                    page->fn, page->path ? page->path : "(null)",
                    page->without_plplot ? "; " : "",
                    page->without_plplot ? page->without_plplot : "");
}

#if NB_HAVE_PLPLOT
#include <plplot.h>
#include <pthread.h>

/* PLplot keeps its streams in globals: one plot at a time per process. */
static pthread_mutex_t plot_lock = PTHREAD_MUTEX_INITIALIZER;

const char *nb__plot_text(const char *text, char *buf, size_t len)
{
    size_t n = 0;
    for (const char *s = text; *s && n + 2 < len; s++) {
        if (*s == '#')
            buf[n++] = '#';
        buf[n++] = *s;
    }
    buf[n] = '\0';
    return buf;
}

void nb__plot_legend(const nb_plot_legend *legend)
{
    enum { MAX = NB_PLOT_LEGEND_MAX };
    PLINT opts[MAX], text_colours[MAX], line_colours[MAX], styles[MAX];
    PLFLT widths[MAX];
    int n = legend->n < MAX ? legend->n : MAX;
    for (int i = 0; i < n; i++) {
        opts[i] = PL_LEGEND_LINE;
        text_colours[i] = legend->text;
        line_colours[i] = legend->colours[i];
        styles[i] = legend->styles[i] > 0 ? legend->styles[i] : 1;
        widths[i] = legend->line_width;
    }
    PLFLT width, height;
    pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             legend->corner | PL_POSITION_INSIDE | PL_POSITION_VIEWPORT, legend->x_offset,
             legend->y_offset, legend->sample_length, legend->background, legend->border, 1, n,
             1, n, opts, 0.6, 1.0, 2.0, 0.0, text_colours, legend->labels, NULL, NULL, NULL,
             NULL, line_colours, styles, widths, NULL, NULL, NULL, NULL);
}

/* True when the file starts with the 8 bytes every PNG starts with. */
static bool is_png(const char *file)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8] = {0};
    FILE *in = fopen(file, "rb");
    if (!in)
        return false;
    size_t got = fread(head, 1, sizeof head, in);
    fclose(in);
    return got == sizeof head && memcmp(head, signature, sizeof head) == 0;
}

/* PLplot asks on stdin for another device when the named one is missing:
 * check first. */
static bool have_pngcairo(void)
{
    const char *menus[128], *names[128];
    const char **m = menus, **d = names;
    int n = 128;
    plgDevs(&m, &d, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], "pngcairo") == 0)
            return true;
    return false;
}

/* Draw on a stream of our own, so that a program's own PLplot stream (and
 * its settings) survive, and end it so the next call starts afresh. */
static bool render(const char *file, const nb_plot_page *page, void (*draw)(void *user),
                   void *user)
{
    PLINT previous = 0, stream = -1;
    plgstrm(&previous);
    plmkstrm(&stream);
    if (stream < 0)
        return false;
    plsdev("pngcairo");
    plsfnam(file);
    plspage(0, 0, page->width, page->height, 0, 0);
    plscmap0n(16);
    for (int c = 0; c < page->n_colours; c++)
        plscol0(c, page->colours[c][0], page->colours[c][1], page->colours[c][2]);
    plinit();
    draw(user);
    plend1();
    plsstrm(previous);
    return is_png(file);
}

static nb_status draw_into(const nb_atomic_file *f, const nb_plot_page *page,
                           void (*draw)(void *user), void *user)
{
    pthread_mutex_lock(&plot_lock);
    bool have_device = have_pngcairo();
    bool ok = have_device && render(f->temp_path, page, draw, user);
    pthread_mutex_unlock(&plot_lock);
    if (!have_device)
        return nb_error(NB_ERR_STATE,
                        "%s: cannot write '%s': PLplot's pngcairo device is not installed "
                        "(Debian: plplot-driver-cairo)",
                        f->fn, f->path);
    if (!ok)
        return nb_error(NB_ERR_IO, "%s: cannot write '%s': PLplot produced no PNG", f->fn,
                        f->path);
    return NB_OK;
}

nb_status nb__plot_png(const nb_plot_page *page, void (*draw)(void *user), void *user)
{
    nb_atomic_file f;
    /* PLplot opens the file by name: make it, then let go of our stream */
    if (nb__atomic_begin(&f, page->fn, page->path) != NB_OK || nb__atomic_detach(&f) != NB_OK)
        return nb_last_status();
    if (draw_into(&f, page, draw, user) != NB_OK) {
        nb__atomic_discard(&f);
        return nb_last_status();
    }
    return nb__atomic_commit(&f);
}
#endif
