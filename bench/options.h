/* What the benchmark programs share: reading a numeric option and a clock. */
#ifndef NABLA_BENCH_OPTIONS_H
#define NABLA_BENCH_OPTIONS_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* *out = text as a whole decimal number of at least min; false otherwise. */
static inline bool bench_parse_long(const char *text, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < min)
        return false;
    *out = v;
    return true;
}

static inline double bench_seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int bench_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
