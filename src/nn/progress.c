/* Keras-like progress display for fit:
 *     Epoch 1/10
 *     1500/1500 [==============================] - 2s 1ms/step - loss: 0.49 - accuracy: 0.82
 * On a terminal the bar is redrawn in place at most ten times a second; into
 * a file or pipe only the finished line of each epoch is written. */
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn/progress.h"

double nb__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nb__progress_begin(nb_progress *p, FILE *out, int verbose, int epoch, int epochs,
                        int64_t steps)
{
    p->out = out;
    p->verbose = verbose;
    p->tty = isatty(fileno(out));
    p->steps = steps;
    p->start = nb__now();
    p->last_draw = 0;
    if (verbose > 0)
        fprintf(out, "Epoch %d/%d\n", epoch + 1, epochs);
}

static void print_logs(FILE *out, const nb_logs *logs)
{
    for (int i = 0; i < logs->n; i++)
        fprintf(out, " - %s: %.4f", logs->names[i], logs->values[i]);
}

void nb__format_duration(char *buf, size_t len, double seconds)
{
    /* Keras's units: a step of 0.4 ms reads 400us, not 0ms */
    if (seconds >= 1.0 || seconds <= 0)
        snprintf(buf, len, "%.0fs", seconds);
    else if (seconds >= 1e-3)
        snprintf(buf, len, "%.0fms", seconds * 1e3);
    else
        snprintf(buf, len, "%.0fus", seconds * 1e6);
}

static void print_duration(FILE *out, double seconds)
{
    char text[32];
    nb__format_duration(text, sizeof text, seconds);
    fputs(text, out);
}

static void draw_bar(const nb_progress *p, int64_t step)
{
    int width = 30;
    int done = (int)(width * step / (p->steps ? p->steps : 1));
    int digits = snprintf(NULL, 0, "%" PRId64, p->steps);
    fprintf(p->out, "%*" PRId64 "/%" PRId64 " [", digits, step, p->steps);
    for (int i = 0; i < width; i++)
        fputc(i < done - 1 || (i == done - 1 && step == p->steps) ? '=' : i == done - 1 ? '>' : '.',
              p->out);
    fputc(']', p->out);
}

void nb__progress_step(nb_progress *p, int64_t step, const nb_logs *logs)
{
    if (p->verbose != 1 || !p->tty)
        return;
    double now = nb__now();
    if (now - p->last_draw < 0.1 && step < p->steps)
        return;
    p->last_draw = now;
    fputc('\r', p->out);
    draw_bar(p, step);
    double elapsed = now - p->start;
    double eta = step > 0 ? elapsed / (double)step * (double)(p->steps - step) : 0;
    fprintf(p->out, " - ETA: ");
    print_duration(p->out, eta);
    print_logs(p->out, logs);
    fflush(p->out);
}

void nb__progress_end(nb_progress *p, const nb_logs *logs)
{
    if (p->verbose == 0)
        return;
    double elapsed = nb__now() - p->start;
    double per_step = elapsed / (double)(p->steps ? p->steps : 1);
    if (p->verbose == 1) {
        if (p->tty)
            fputs("\r\033[K", p->out); /* clear the bar drawn so far */
        draw_bar(p, p->steps);
        fputs(" - ", p->out);
    } else {
        fprintf(p->out, "%" PRId64 "/%" PRId64 " - ", p->steps, p->steps);
    }
    print_duration(p->out, elapsed);
    fputc(' ', p->out);
    print_duration(p->out, per_step);
    fputs("/step", p->out);
    print_logs(p->out, logs);
    fputc('\n', p->out);
    fflush(p->out);
}
