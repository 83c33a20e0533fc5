/* The monitored value of the callbacks that watch an epoch's logs,
 * EarlyStopping (callback.c) and ModelCheckpoint (checkpoint.c): which way it
 * improves, whether a value beats the best, and finding it in the logs.
 * Internal to src/nn; header-only, as the helpers are a few lines each. */
#ifndef NABLA_NN_MONITOR_H
#define NABLA_NN_MONITOR_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "nabla/model.h"

/* Keras's "auto" mode: a name with "acc" in it (accuracy, val_accuracy)
 * improves upwards, anything else (a loss, an error) downwards. */
static inline bool nb__monitor_maximizes(const char *monitor)
{
    return strstr(monitor, "acc") != NULL;
}

/* The best value before the first epoch: every number beats it. */
static inline double nb__monitor_worst(bool maximize)
{
    return maximize ? -INFINITY : INFINITY;
}

/* Keras's test: value must beat best by more than min_delta (>= 0) in the
 * monitor's direction. A NaN value never improves. */
static inline bool nb__monitor_improved(bool maximize, double value, double best,
                                        double min_delta)
{
    return maximize ? value - min_delta > best : value + min_delta < best;
}

/* Like nb_logs_get, but tells a missing name from a NaN value (a diverged
 * loss is no improvement; a missing name is the caller's mistake). */
static inline bool nb__monitor_find(const nb_logs *logs, const char *name, double *value)
{
    for (int i = 0; i < logs->n && i < NB_LOGS_MAX; i++)
        if (strncmp(logs->names[i], name, sizeof logs->names[i]) == 0) {
            *value = logs->values[i];
            return true;
        }
    return false;
}

/* Room for nb__monitor_list_names: every name of the logs with ", ". */
#define NB__MONITOR_NAMES_SIZE (NB_LOGS_MAX * 34)

/* Write the names in logs, "a, b, c", into names (NB__MONITOR_NAMES_SIZE
 * bytes), for a message about a monitor that is not among them; "(none)"
 * when there are none. Returns whether any name starts with "val_". */
static inline bool nb__monitor_list_names(const nb_logs *logs, char *names)
{
    size_t used = 0;
    bool any_val = false;
    names[0] = '\0';
    for (int i = 0; i < logs->n && i < NB_LOGS_MAX && used < NB__MONITOR_NAMES_SIZE; i++) {
        used += (size_t)snprintf(names + used, NB__MONITOR_NAMES_SIZE - used, "%s%.*s",
                                 i ? ", " : "", (int)sizeof logs->names[i], logs->names[i]);
        any_val = any_val || strncmp(logs->names[i], "val_", 4) == 0;
    }
    if (!logs->n)
        snprintf(names, NB__MONITOR_NAMES_SIZE, "(none)");
    return any_val;
}

#endif
