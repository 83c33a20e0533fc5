/* Callbacks: EarlyStopping, as Keras's.
 *
 * fit calls on_train_begin, on_epoch_end after every epoch (with that epoch's
 * logs, epochs counted from 0) and on_train_end. Early stopping counts the
 * epochs since the monitored value last improved by more than min_delta and
 * asks the model to stop once that count reaches `patience`. With
 * restore_best_weights it keeps private copies of the weights of the best
 * epoch and copies them back into the model at the end of a fit that it
 * stopped (a fit that runs all its epochs keeps the last weights, as Keras).
 *
 * The hooks may also be called by hand, e.g. with logs from a custom training
 * loop; without restore_best_weights the model may then be NULL (nothing is
 * asked of it; nb_early_stopping_stopped_epoch tells the decision).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "nabla/model.h"
#include "nn/model_internal.h"
#include "nn/monitor.h"

typedef struct early_stopping {
    char monitor[sizeof ((nb_logs *)0)->names[0]];
    int patience;
    double min_delta; /* >= 0: an improvement must beat the best by more */
    bool restore_best_weights;
    bool maximize;    /* accuracies improve upwards, losses downwards */
    /* the current fit */
    int wait;          /* epochs since the last improvement */
    double best;       /* best monitored value; -+inf before the first epoch */
    int best_epoch, stopped_epoch; /* -1: none yet */
    int n_weights;
    nb_tensor **best_weights; /* copies owned here, never the model's tensors */
} early_stopping;

static void destroy_early_stopping(nb_callback *self);

/* The state of an early-stopping callback, or NULL for other callbacks. */
static early_stopping *state_of(const nb_callback *cb)
{
    return cb && cb->destroy == destroy_early_stopping ? cb->state : NULL;
}

static void free_best_weights(early_stopping *es)
{
    for (int i = 0; i < es->n_weights; i++)
        nb_tensor_free(es->best_weights[i]);
    nb_release(es->best_weights);
    es->best_weights = NULL;
    es->n_weights = 0;
}

static void reset(early_stopping *es)
{
    es->wait = 0;
    es->best = nb__monitor_worst(es->maximize);
    es->best_epoch = es->stopped_epoch = -1;
    free_best_weights(es);
}

/* Copy the model's weights into our copies, allocating them the first time
 * (so a fit allocates once, not at every improvement). */
static nb_status snapshot_weights(early_stopping *es, const nb_model *model)
{
    int n = nb_model_weight_count(model);
    if (es->best_weights && es->n_weights != n)
        free_best_weights(es);
    if (!es->best_weights) {
        es->best_weights = nb_alloc_zeroed((size_t)(n ? n : 1) * sizeof *es->best_weights);
        if (!es->best_weights)
            return nb_error(NB_ERR_NOMEM, "nb_early_stopping: out of memory for %d weights", n);
        es->n_weights = n;
    }
    for (int i = 0; i < n; i++) {
        const nb_tensor *w = nb_model_weight(model, i);
        if (!es->best_weights[i])
            es->best_weights[i] = nb_tensor_copy(w, w->dtype);
        else if (nb_tensor_copy_data(es->best_weights[i], w) != NB_OK)
            return nb_last_status();
        if (!es->best_weights[i])
            return nb_last_status();
    }
    return NB_OK;
}

/* ---- hooks -------------------------------------------------------------- */

static nb_status on_train_begin(nb_callback *self, nb_model *model)
{
    (void)model;
    reset(self->state);
    return NB_OK;
}

static nb_status missing_monitor(const early_stopping *es, int epoch, const nb_logs *logs)
{
    char names[NB__MONITOR_NAMES_SIZE];
    bool any_val = nb__monitor_list_names(logs, names);
    bool hint = strncmp(es->monitor, "val_", 4) == 0 && !any_val;
    return nb_error(NB_ERR_ARG,
                    "nb_early_stopping: monitor '%s' is not in the logs of epoch %d; "
                    "available: %s%s",
                    es->monitor, epoch + 1, names,
                    hint ? " (give fit validation data or a validation_split to get val_ "
                           "values)"
                         : "");
}

static nb_status on_epoch_end(nb_callback *self, nb_model *model, int epoch,
                              const nb_logs *logs)
{
    early_stopping *es = self->state;
    if (!logs)
        return nb_error(NB_ERR_NULL, "nb_early_stopping: logs is NULL");
    double value;
    if (!nb__monitor_find(logs, es->monitor, &value))
        return missing_monitor(es, epoch, logs);
    if (es->restore_best_weights && !model)
        return nb_error(NB_ERR_NULL, "nb_early_stopping: model is NULL: restore_best_weights "
                                     "needs the model to copy weights from");
    /* keep the first epoch's weights, so there is something to restore even
     * if nothing ever improves (a NaN loss, say) */
    nb_status s = NB_OK;
    if (es->restore_best_weights && !es->best_weights)
        s = snapshot_weights(es, model);
    es->wait++;
    if (s == NB_OK && nb__monitor_improved(es->maximize, value, es->best, es->min_delta)) {
        es->best = value;
        es->best_epoch = epoch;
        es->wait = 0;
        if (es->restore_best_weights)
            s = snapshot_weights(es, model);
        return s;
    }
    /* Keras never stops after the first epoch, even with patience 0 */
    if (s == NB_OK && es->wait >= es->patience && epoch > 0) {
        es->stopped_epoch = epoch;
        if (model)
            nb_model_stop_training(model);
    }
    return s;
}

static nb_status on_train_end(nb_callback *self, nb_model *model)
{
    early_stopping *es = self->state;
    if (es->stopped_epoch < 0 || !es->restore_best_weights || !es->best_weights)
        return NB_OK;
    if (!model)
        return nb_error(NB_ERR_NULL, "nb_early_stopping: model is NULL: cannot restore the "
                                     "best weights");
    return nb_model_set_weights(model, es->n_weights,
                                (const nb_tensor *const *)es->best_weights);
}

static void destroy_early_stopping(nb_callback *self)
{
    early_stopping *es = self->state;
    free_best_weights(es);
    nb_release(es);
    nb_release(self);
}

/* ---- construction --------------------------------------------------------- */

static nb_status check_options(const char *monitor, int patience, double min_delta)
{
    const char *fn = "nb_early_stopping";
    if (monitor[0] == '\0' || strlen(monitor) >= sizeof ((nb_logs *)0)->names[0])
        return nb_error(NB_ERR_ARG, "%s: monitor '%s' must have 1 to %zu characters", fn,
                        monitor, sizeof ((nb_logs *)0)->names[0] - 1);
    if (patience < 0)
        return nb_error(NB_ERR_ARG, "%s: patience is %d: expected 0 or more epochs", fn,
                        patience);
    if (!isfinite(min_delta))
        return nb_error(NB_ERR_ARG, "%s: min_delta is %g: expected a finite number", fn,
                        min_delta);
    return NB_OK;
}

nb_callback *nb_early_stopping(const char *monitor, int patience, double min_delta,
                               bool restore_best_weights)
{
    if (!monitor)
        monitor = "val_loss";
    if (check_options(monitor, patience, min_delta) != NB_OK)
        return NULL;
    nb_callback *cb = nb_alloc_zeroed(sizeof *cb);
    early_stopping *es = nb_alloc_zeroed(sizeof *es);
    if (!cb || !es) {
        nb_release(cb);
        nb_release(es);
        nb_error(NB_ERR_NOMEM, "nb_early_stopping: out of memory");
        return NULL;
    }
    snprintf(es->monitor, sizeof es->monitor, "%s", monitor);
    es->patience = patience;
    es->min_delta = fabs(min_delta); /* Keras ignores the sign too */
    es->restore_best_weights = restore_best_weights;
    es->maximize = nb__monitor_maximizes(monitor);
    reset(es);
    *cb = (nb_callback){.name = "EarlyStopping", .state = es,
                        .on_train_begin = on_train_begin, .on_epoch_end = on_epoch_end,
                        .on_train_end = on_train_end, .destroy = destroy_early_stopping};
    return cb;
}

int nb_early_stopping_stopped_epoch(const nb_callback *callback)
{
    const early_stopping *es = state_of(callback);
    return es ? es->stopped_epoch : -1;
}

double nb_early_stopping_best(const nb_callback *callback)
{
    const early_stopping *es = state_of(callback);
    return es && es->best_epoch >= 0 ? es->best : NAN;
}

void nb_callback_free(nb_callback *callback)
{
    if (callback && callback->destroy)
        callback->destroy(callback);
}

char *nb__callback_path(const char *fn, const char *path)
{
    if (!path || !path[0]) {
        nb_error(path ? NB_ERR_ARG : NB_ERR_NULL, "%s: path is %s", fn, path ? "empty" : "NULL");
        return NULL;
    }
    size_t bytes = strlen(path) + 1;
    char *copy = nb_alloc(bytes);
    if (!copy) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    return memcpy(copy, path, bytes);
}
