/* The progress display of fit (internal). */
#ifndef NABLA_NN_PROGRESS_H
#define NABLA_NN_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "nabla/model.h"

typedef struct nb_progress {
    FILE *out;
    int verbose;
    bool tty;
    int64_t steps;
    double start, last_draw;
} nb_progress;

double nb__now(void); /* monotonic seconds */
/* "2s", "15ms" or "400us", as Keras writes times (rounded, in the largest
 * unit that keeps the number at least 1). */
void nb__format_duration(char *buf, size_t len, double seconds);
void nb__progress_begin(nb_progress *p, FILE *out, int verbose, int epoch, int epochs,
                        int64_t steps);
void nb__progress_step(nb_progress *p, int64_t step, const nb_logs *logs);
void nb__progress_end(nb_progress *p, const nb_logs *logs);

#endif
