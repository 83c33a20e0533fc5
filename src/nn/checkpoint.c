/* ModelCheckpoint, as Keras's: save the model during fit, after every epoch
 * or when the monitored value improves (nabla/model_io.h). Follows the
 * conventions of callback.c: the callback and its state are two nb_alloc
 * blocks, freed together by destroy (called by nb_callback_free). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "nabla/distributed.h"
#include "nabla/model_io.h"
#include "nn/model_internal.h"
#include "nn/monitor.h"

typedef struct checkpoint {
    char *path; /* the pattern, with "{epoch}" */
    char monitor[sizeof ((nb_logs *)0)->names[0]];
    bool save_best_only, include_optimizer;
    bool maximize; /* accuracies improve upwards, losses downwards */
    double best;   /* of the last save; -+inf before it, kept across fits */
} checkpoint;

#define EPOCH_MARK "{epoch}"

/* The path for an epoch (counted from 0): every "{epoch}" replaced by
 * epoch + 1 with at least two digits. Caller releases it. */
static char *epoch_path(const char *pattern, int epoch)
{
    char number[16];
    int digits = snprintf(number, sizeof number, "%02d", epoch + 1);
    size_t marks = 0, mark_len = strlen(EPOCH_MARK);
    for (const char *p = strstr(pattern, EPOCH_MARK); p; p = strstr(p + mark_len, EPOCH_MARK))
        marks++;
    char *path = nb_alloc(strlen(pattern) + marks * (size_t)digits + 1);
    if (!path)
        return NULL;
    char *out = path;
    for (const char *p = pattern; *p;) {
        if (strncmp(p, EPOCH_MARK, mark_len) == 0) {
            memcpy(out, number, (size_t)digits);
            out += digits;
            p += mark_len;
        } else
            *out++ = *p++;
    }
    *out = '\0';
    return path;
}

static nb_status missing_monitor(const checkpoint *cp, int epoch, const nb_logs *logs)
{
    char names[NB__MONITOR_NAMES_SIZE];
    nb__monitor_list_names(logs, names);
    return nb_error(NB_ERR_ARG, "nb_model_checkpoint: monitor '%s' is not in the logs of "
                    "epoch %d; available: %s%s", cp->monitor, epoch + 1, names,
                    strncmp(cp->monitor, "val_", 4) == 0
                        ? " (val_ values need validation data or a validation_split)" : "");
}

static nb_status on_epoch_end(nb_callback *self, nb_model *model, int epoch,
                              const nb_logs *logs)
{
    checkpoint *cp = self->state;
    if (!model || !logs)
        return nb_error(NB_ERR_NULL, "nb_model_checkpoint: %s is NULL", model ? "logs" : "model");
    double value = NAN;
    if (cp->save_best_only) {
        if (!nb__monitor_find(logs, cp->monitor, &value))
            return missing_monitor(cp, epoch, logs);
        if (!nb__monitor_improved(cp->maximize, value, cp->best, 0)) /* NaN: never */
            return NB_OK;
    }
    /* across MPI ranks (nabla/distributed.h) only rank 0 writes; the others
     * keep the same record of the best value */
    if (nb_comm_rank(nb_model_comm(model)) != 0) {
        if (cp->save_best_only)
            cp->best = value;
        return NB_OK;
    }
    char *path = epoch_path(cp->path, epoch);
    if (!path)
        return nb_error(NB_ERR_NOMEM, "nb_model_checkpoint: out of memory");
    nb_status s = nb_model_save(model, path, cp->include_optimizer);
    nb_release(path);
    if (s == NB_OK && cp->save_best_only)
        cp->best = value;
    return s;
}

static void destroy_checkpoint(nb_callback *self)
{
    checkpoint *cp = self->state;
    nb_release(cp->path);
    nb_release(cp);
    nb_release(self);
}

nb_callback *nb_model_checkpoint(const char *path, const char *monitor, bool save_best_only,
                                 bool include_optimizer)
{
    const char *fn = "nb_model_checkpoint";
    if (!monitor)
        monitor = "val_loss";
    char *copy = nb__callback_path(fn, path);
    if (!copy)
        return NULL;
    if (!monitor[0] || strlen(monitor) >= sizeof ((checkpoint *)0)->monitor) {
        nb_release(copy);
        nb_error(NB_ERR_ARG, "%s: monitor '%s' must have 1 to %zu characters", fn, monitor,
                 sizeof ((checkpoint *)0)->monitor - 1);
        return NULL;
    }
    nb_callback *cb = nb_alloc_zeroed(sizeof *cb);
    checkpoint *cp = nb_alloc_zeroed(sizeof *cp);
    if (!cb || !cp) {
        nb_release(cb);
        nb_release(cp);
        nb_release(copy);
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *cp = (checkpoint){.path = copy, .save_best_only = save_best_only,
                       .include_optimizer = include_optimizer,
                       .maximize = nb__monitor_maximizes(monitor)};
    snprintf(cp->monitor, sizeof cp->monitor, "%s", monitor);
    cp->best = nb__monitor_worst(cp->maximize);
    *cb = (nb_callback){.name = "ModelCheckpoint", .state = cp, .on_epoch_end = on_epoch_end,
                        .destroy = destroy_checkpoint};
    return cb;
}
