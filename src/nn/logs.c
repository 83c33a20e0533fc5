/* Named log values and the per-epoch history. */
#include <math.h>
#include <string.h>

#include "nn/model_internal.h"

double nb_logs_get(const nb_logs *logs, const char *name)
{
    for (int i = 0; logs && name && i < logs->n; i++)
        if (strcmp(logs->names[i], name) == 0)
            return logs->values[i];
    return NAN;
}

/* Append name = value (names longer than the slot are cut). fit calls this
 * on every step, so it copies instead of formatting. */
void nb__logs_put(nb_logs *logs, const char *prefix, const char *name, double value)
{
    if (logs->n == NB_LOGS_MAX)
        return;
    char *slot = logs->names[logs->n];
    size_t size = sizeof logs->names[0];
    slot[0] = '\0';
    strncat(slot, prefix, size - 1);
    strncat(slot, name, size - 1 - strlen(slot));
    logs->values[logs->n++] = value;
}

nb_status nb__history_append(nb_history *history, const nb_logs *logs)
{
    if (history->epochs == history->capacity) {
        int capacity = history->capacity ? 2 * history->capacity : 16;
        nb_logs *bigger = nb_alloc((size_t)capacity * sizeof *bigger);
        if (!bigger)
            return nb_error(NB_ERR_NOMEM, "nb_model_fit: out of memory for the history");
        if (history->logs)
            memcpy(bigger, history->logs, (size_t)history->epochs * sizeof *bigger);
        nb_release(history->logs);
        history->logs = bigger;
        history->capacity = capacity;
    }
    history->logs[history->epochs++] = *logs;
    return NB_OK;
}

int nb_history_series(const nb_history *history, const char *name, double *out, int max)
{
    if (!history || !name || history->epochs == 0 || isnan(nb_logs_get(&history->logs[0], name)))
        return -1;
    int n = 0;
    for (int e = 0; e < history->epochs && n < max; e++)
        out[n++] = nb_logs_get(&history->logs[e], name);
    return n;
}

void nb_history_free(nb_history *history)
{
    if (!history)
        return;
    nb_release(history->logs);
    nb_release(history);
}
