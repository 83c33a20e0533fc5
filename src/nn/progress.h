/* The progress display of fit (internal). */
#ifndef NABLA_NN_PROGRESS_H
#define NABLA_NN_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
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
void nb__progress_begin(nb_progress *p, FILE *out, int verbose, int epoch, int epochs,
                        int64_t steps);
void nb__progress_step(nb_progress *p, int64_t step, const nb_logs *logs);
void nb__progress_end(nb_progress *p, const nb_logs *logs);

#endif
