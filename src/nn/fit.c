/* fit, evaluate and predict: loops over batches around the tape.
 *
 * One training step (fit_step.c): reset the tape, copy the batch onto it,
 * zero the gradients, forward through the layers, the loss, backward, one
 * optimizer step (on one thread, inside the backward sweep). Metrics are
 * computed from the same forward pass with recording off. The tape's arena
 * is reused, so after the first step nothing is allocated.
 *
 * With a communicator (nabla/distributed.h) each rank runs these loops on its
 * share of the rows, and the nb__dist_ calls, which do nothing without one,
 * exchange what the ranks must agree on (distributed_internal.h). With
 * more than one thread a big enough step's rows (this rank's share) are
 * split across the threads instead, one replica of the model each
 * (fit_threads.c). All three run with subnormal numbers flushed to zero
 * (kernels/fpenv.c), as Keras does. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "kernels/fpenv.h"
#include "nn/distributed_internal.h"
#include "nn/model_internal.h"
#include "nn/progress.h"

nb_fit_options nb_fit_defaults(void)
{
    return (nb_fit_options){.epochs = 1, .batch_size = 32, .shuffle = true, .verbose = 1};
}

static nb_status require_built(const char *fn, const nb_model *model)
{
    if (!model)
        return nb_error(NB_ERR_NULL, "%s: model is NULL", fn);
    if (!model->built)
        return nb_error(NB_ERR_STATE, "%s: the model is not built: set its input shape and "
                        "compile it first", fn);
    return NB_OK;
}

nb_tensor *nb__model_forward(nb_model *model, nb_tape *tape, nb_tensor *x, bool training)
{
    for (int i = 0; i < model->n_layers && x; i++)
        x = nb_layer_forward(model->layers[i], tape, x, training, &model->train_rng);
    return x;
}

nb_tensor *nb_model_forward(nb_model *model, nb_tape *tape, nb_tensor *x, bool training)
{
    if (require_built("nb_model_forward", model) != NB_OK)
        return NULL;
    if (tape)
        return nb__model_forward(model, tape, x, training);
    /* no tape: keep the layers' intermediates on a scratch one and hand back
     * a caller-owned copy of the output, as ops do */
    nb_tape *scratch = nb_tape_new();
    if (!scratch)
        return NULL;
    nb_tape_set_grad_enabled(scratch, false);
    nb_tensor *y = nb__model_forward(model, scratch, x, training);
    nb_tensor *result = y ? nb_tensor_copy(y, y->dtype) : NULL;
    nb_tape_free(scratch);
    return result;
}

/* Sums over the batches of an epoch, weighted by batch size. */
typedef nb__batch_sums running;

static void running_logs(const nb_model *model, const running *r, const char *prefix,
                         nb_logs *logs)
{
    double n = r->samples ? (double)r->samples : 1.0;
    nb__logs_put(logs, prefix, "loss", r->loss / n);
    for (int i = 0; i < model->n_metrics; i++)
        nb__logs_put(logs, prefix, model->metrics[i]->name, r->metrics[i] / n);
}

/* Loss and metrics over rows [first, first + n) of x, y, in batches; with a
 * communicator over this rank's share of them, then summed over the ranks. */
static nb_status evaluate_rows(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                               int64_t first, int64_t n, int64_t batch_size, running *acc)
{
    memset(acc, 0, sizeof *acc);
    int64_t mine, n_mine;
    nb__dist_share(model->comm, n, &mine, &n_mine);
    nb_status s = NB_OK;
    for (int64_t start = 0; s == NB_OK && start < n_mine; start += batch_size) {
        int64_t count = n_mine - start < batch_size ? n_mine - start : batch_size;
        int64_t row = first + mine + start;
        nb_tape_reset(model->tape);
        nb_tensor *xb = nb__gather_rows(model->tape, x, NULL, row, count, model->dtype);
        nb_tensor *yb = nb__gather_rows(model->tape, y, NULL, row, count, model->dtype);
        s = xb && yb ? nb__run_batch(model, xb, yb, false, acc) : nb_last_status();
    }
    return nb__dist_sum(model, NULL, s, acc);
}

/* ---- argument checks --------------------------------------------------- */

static nb_status check_x(const char *fn, const nb_model *model, const nb_tensor *x)
{
    char got[NB_SHAPE_BUF], want[NB_SHAPE_BUF];
    if (!x)
        return nb_error(NB_ERR_NULL, "%s: x is NULL", fn);
    bool fits = x->rank == model->in_rank + 1;
    for (int d = 0; fits && d < model->in_rank; d++)
        fits = x->shape[d + 1] == model->in_shape[d];
    if (!fits)
        return nb_error(NB_ERR_SHAPE, "%s: x has shape %s: expected [n] followed by the model's "
                        "input shape %s", fn, nb_shape_str(x, got, sizeof got),
                        nb__dims_str(model->in_rank, model->in_shape, want, sizeof want));
    return NB_OK;
}

static nb_status check_xy(const char *fn, const nb_model *model, const nb_tensor *x,
                          const nb_tensor *y, int64_t batch_size)
{
    nb_status s = require_built(fn, model);
    if (s == NB_OK && !model->compiled)
        s = nb_error(NB_ERR_STATE, "%s: the model is not compiled: call nb_model_compile first", fn);
    if (s == NB_OK)
        s = check_x(fn, model, x);
    if (s == NB_OK && !y)
        s = nb_error(NB_ERR_NULL, "%s: y is NULL", fn);
    if (s == NB_OK && (y->rank < 1 || y->shape[0] != x->shape[0]))
        s = nb_error(NB_ERR_SHAPE, "%s: x has %" PRId64 " samples but y has %" PRId64 ": expected "
                     "the same number on axis 0", fn, x->shape[0], y->rank ? y->shape[0] : 0);
    if (s == NB_OK && batch_size < 1)
        s = nb_error(NB_ERR_ARG, "%s: batch_size is %" PRId64 ": expected at least 1", fn, batch_size);
    return s;
}

static nb_status check_fit_options(const nb_fit_options *o)
{
    const char *fn = "nb_model_fit";
    if (o->epochs < 1)
        return nb_error(NB_ERR_ARG, "%s: epochs is %d: expected at least 1", fn, o->epochs);
    if (!(o->validation_split >= 0.0 && o->validation_split < 1.0))
        return nb_error(NB_ERR_ARG, "%s: validation_split is %g: expected a fraction in [0, 1)", fn,
                        o->validation_split);
    if (o->validation_split > 0 && (o->validation_x || o->validation_y))
        return nb_error(NB_ERR_ARG, "%s: both validation_split and validation data given: "
                        "expected one of them", fn);
    if (!o->validation_x != !o->validation_y)
        return nb_error(NB_ERR_ARG, "%s: validation_%s is NULL: give both validation_x and "
                        "validation_y", fn, o->validation_x ? "y" : "x");
    if (o->initial_epoch < 0 || o->initial_epoch >= o->epochs)
        return nb_error(NB_ERR_ARG, "%s: initial_epoch is %d with epochs %d: expected 0 <= "
                        "initial_epoch < epochs (epochs counts from the start, as in Keras)",
                        fn, o->initial_epoch, o->epochs);
    if (o->verbose < 0 || o->verbose > 2)
        return nb_error(NB_ERR_ARG, "%s: verbose is %d: expected 0, 1 or 2", fn, o->verbose);
    return NB_OK;
}

/* ---- fit --------------------------------------------------------------- */

typedef struct fit_run {
    nb_model *model;
    const nb_tensor *x, *y, *val_x, *val_y;
    int64_t n_train, val_first, n_val;
    int64_t *order; /* training rows, shuffled each epoch */
    const nb_fit_options *o;
    FILE *out;
    nb__step_state step; /* what one training step tells the next */
} fit_run;

/* The callbacks' hooks, as fit calls them. */
typedef enum hook { ON_TRAIN_BEGIN, ON_EPOCH_END, ON_BATCH_END, ON_TRAIN_END } hook;

static bool has_hook(const nb_callback *cb, hook which)
{
    switch (which) {
    case ON_TRAIN_BEGIN: return cb->on_train_begin;
    case ON_EPOCH_END: return cb->on_epoch_end;
    case ON_BATCH_END: return cb->on_batch_end;
    case ON_TRAIN_END: return cb->on_train_end;
    }
    return false;
}

/* cb's `which` hook; index is the epoch or batch for those that take one. */
static nb_status call_hook(nb_callback *cb, hook which, nb_model *model, int64_t index,
                           const nb_logs *logs)
{
    switch (which) {
    case ON_TRAIN_BEGIN: return cb->on_train_begin(cb, model);
    case ON_EPOCH_END: return cb->on_epoch_end(cb, model, (int)index, logs);
    case ON_BATCH_END: return cb->on_batch_end(cb, model, index, logs);
    case ON_TRAIN_END: return cb->on_train_end(cb, model);
    }
    return NB_OK;
}

/* Call each callback's `which` hook, in order, until one fails. */
static nb_status call_callbacks(fit_run *run, hook which, int64_t index, const nb_logs *logs)
{
    for (int i = 0; i < NB_MAX_CALLBACKS && run->o->callbacks[i]; i++) {
        nb_callback *cb = run->o->callbacks[i];
        if (!has_hook(cb, which))
            continue;
        run->step.grads_zero = false; /* it may compute gradients: zero them again */
        nb_status s = call_hook(cb, which, run->model, index, logs);
        if (s != NB_OK)
            return s;
    }
    return NB_OK;
}

/* Prefix the last error's message with "nb_model_fit: <where>: ". */
static nb_status with_context(nb_status s, const char *where)
{
    return nb__error_context(s, "nb_model_fit: %s", where);
}

static nb_status train_epoch(fit_run *run, int epoch, nb_logs *logs)
{
    nb_model *model = run->model;
    int64_t bs = run->o->batch_size;
    int64_t steps = (run->n_train + bs - 1) / bs;
    /* A fresh permutation of 0..n-1 each epoch, as Keras: an epoch's order
     * then depends only on the RNG state, which checkpoints keep. */
    for (int64_t i = 0; i < run->n_train; i++)
        run->order[i] = i;
    nb_status synced = nb__dist_sync_rng(model); /* every rank shuffles alike */
    if (synced != NB_OK)
        return with_context(synced, "shuffling");
    if (run->o->shuffle)
        nb_rng_shuffle(&model->train_rng, run->order, run->n_train);
    nb__dist_fork_rng(model);
    nb_progress progress;
    int verbose = nb__dist_is_root(model->comm) ? run->o->verbose : 0;
    nb__progress_begin(&progress, run->out, verbose, epoch, run->o->epochs, steps);
    running acc = {0};
    for (int64_t step = 0; step < steps; step++) {
        int64_t first = step * bs;
        int64_t count = run->n_train - first < bs ? run->n_train - first : bs;
        nb_status s = nb__train_step(model, run->x, run->y, run->order + first, count,
                                     &run->step, &acc);
        if (s != NB_OK) {
            char where[64];
            snprintf(where, sizeof where, "epoch %d, batch %" PRId64, epoch + 1, step + 1);
            return with_context(s, where);
        }
        logs->n = 0;
        running_logs(model, &acc, "", logs);
        nb__progress_step(&progress, step + 1, logs);
        s = nb__dist_defer(model, call_callbacks(run, ON_BATCH_END, step, logs));
        if (s != NB_OK)
            return s;
    }
    if (run->n_val > 0) {
        running val;
        nb_status s = evaluate_rows(model, run->val_x, run->val_y, run->val_first, run->n_val,
                                    bs, &val);
        if (s != NB_OK) {
            char where[64];
            snprintf(where, sizeof where, "validation after epoch %d", epoch + 1);
            return with_context(s, where);
        }
        running_logs(model, &val, "val_", logs);
    }
    nb__progress_end(&progress, logs);
    return NB_OK;
}

static nb_status setup_run(fit_run *run, nb_model *model, const nb_tensor *x,
                           const nb_tensor *y, const nb_fit_options *o)
{
    int64_t n = x->shape[0];
    *run = (fit_run){.model = model, .x = x, .y = y, .o = o, .out = o->out ? o->out : stdout};
    run->n_train = n;
    if (o->validation_x) {
        nb_status s = check_xy("nb_model_fit (validation data)", model, o->validation_x,
                               o->validation_y, o->batch_size);
        if (s != NB_OK)
            return s;
        run->val_x = o->validation_x, run->val_y = o->validation_y;
        run->n_val = o->validation_x->shape[0];
    } else if (o->validation_split > 0) {
        /* Keras keeps the last fraction, before any shuffling */
        run->n_train = (int64_t)((double)n * (1.0 - o->validation_split));
        run->val_x = x, run->val_y = y;
        run->val_first = run->n_train, run->n_val = n - run->n_train;
    }
    if (run->n_train < 1)
        return nb_error(NB_ERR_ARG, "nb_model_fit: no training samples left: %" PRId64
                        " samples with validation_split %g", n, o->validation_split);
    run->order = nb_alloc((size_t)run->n_train * sizeof *run->order);
    if (!run->order)
        return nb_error(NB_ERR_NOMEM, "nb_model_fit: out of memory");
    return NB_OK;
}

/* With a communicator: every rank checked its arguments (s) and has the
 * same data sizes and options. */
static nb_status start_on_every_rank(const fit_run *run, nb_model *model, nb_status s)
{
    if (!model || !model->comm)
        return s;
    const nb_fit_options *o = run->o;
    const char *names[] = {"training samples", "validation samples", "batch_size", "epochs",
                           "initial_epoch", "shuffle", "weights"};
    int64_t values[] = {run->n_train, run->n_val, o ? o->batch_size : 0, o ? o->epochs : 0,
                        o ? o->initial_epoch : 0, o ? o->shuffle : 0, model->n_weights};
    return nb__dist_agree(model, "nb_model_fit", s, 7, values, names);
}

/* The status every rank agrees on at the end of an epoch (a callback may
 * have failed, or asked to stop, on one rank only). */
static nb_status end_epoch_on_every_rank(nb_model *model, int epoch, nb_status s)
{
    char where[64];
    snprintf(where, sizeof where, "nb_model_fit: end of epoch %d", epoch + 1);
    return nb__dist_agree(model, where, s, 0, NULL, NULL);
}

static nb_history *fit(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                       const nb_fit_options *options)
{
    nb_fit_options defaults = nb_fit_defaults();
    const nb_fit_options *o = options ? options : &defaults;
    fit_run run = {.o = o};
    nb_status checked = check_xy("nb_model_fit", model, x, y, o->batch_size);
    if (checked == NB_OK)
        checked = check_fit_options(o);
    if (checked == NB_OK)
        checked = setup_run(&run, model, x, y, o);
    if (start_on_every_rank(&run, model, checked) != NB_OK) {
        nb_release(run.order);
        return NULL;
    }
    nb_history *history = nb_alloc_zeroed(sizeof *history);
    model->stop_training = false; /* before on_train_begin, which may set it */
    model->resume_epoch = -1;
    nb_status s = history ? call_callbacks(&run, ON_TRAIN_BEGIN, 0, NULL)
                          : nb_error(NB_ERR_NOMEM, "nb_model_fit: out of memory");
    /* a callback that restored a backup (on_train_begin) says where to go on */
    int first = model->resume_epoch >= 0 ? model->resume_epoch : o->initial_epoch;
    model->resume_epoch = -1;
    s = nb__dist_agree(model, "nb_model_fit: on_train_begin", s, 1, (int64_t[]){first},
                       (const char *[]){"the first epoch"});
    if (s == NB_OK) /* after on_train_begin, which may restore weights */
        s = nb__dist_broadcast_weights(model);
    for (int epoch = first; s == NB_OK && epoch < o->epochs && !model->stop_training; epoch++) {
        nb_logs logs = {0};
        s = train_epoch(&run, epoch, &logs);
        if (s == NB_OK)
            s = nb__history_append(history, &logs);
        if (s == NB_OK) {
            model->epoch = epoch + 1; /* before a checkpoint saves it */
            s = call_callbacks(&run, ON_EPOCH_END, epoch, &logs);
        }
        s = end_epoch_on_every_rank(model, epoch, s);
    }
    if (s == NB_OK)
        s = call_callbacks(&run, ON_TRAIN_END, 0, NULL);
    s = nb__dist_agree(model, "nb_model_fit: on_train_end", s, 0, NULL, NULL);
    nb_release(run.order);
    nb_tape_reset(model->tape);
    if (s != NB_OK) {
        nb_history_free(history);
        return NULL;
    }
    return history;
}

/* ---- evaluate and predict ---------------------------------------------- */

/* What the ranks compare to find that they hold different models. */
#define WEIGHTS_HASH "the weights (a hash of them: fit, or loading one file, makes them equal)"

static nb_status evaluate(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                         int64_t batch_size, nb_logs *logs)
{
    const char *fn = "nb_model_evaluate";
    nb_status s = logs ? check_xy(fn, model, x, y, batch_size)
                       : nb_error(NB_ERR_NULL, "%s: logs is NULL", fn);
    if (model && model->comm) /* the same rows, and the same model (trained by fit) */
        s = nb__dist_agree(model, fn, s, 3,
                           (int64_t[]){x ? x->shape[0] : 0, batch_size,
                                       nb__dist_weights_hash(model)},
                           (const char *[]){"samples", "batch_size", WEIGHTS_HASH});
    running acc;
    if (s == NB_OK)
        s = evaluate_rows(model, x, y, 0, x->shape[0], batch_size, &acc);
    nb_tape_reset(model ? model->tape : NULL);
    if (s != NB_OK)
        return s;
    logs->n = 0;
    running_logs(model, &acc, "", logs);
    return NB_OK;
}

static nb_tensor *predict(nb_model *model, const nb_tensor *x, int64_t batch_size)
{
    const char *fn = "nb_model_predict";
    if (batch_size == 0)
        batch_size = 32;
    nb_status s = require_built(fn, model);
    if (s == NB_OK)
        s = check_x(fn, model, x);
    if (s == NB_OK && batch_size < 1)
        s = nb_error(NB_ERR_ARG, "%s: batch_size is %" PRId64 ": expected at least 1", fn,
                     batch_size);
    if (model && model->comm) /* the same rows, and the same model (trained by fit) */
        s = nb__dist_agree(model, fn, s, 2,
                           (int64_t[]){x ? x->shape[0] : 0, nb__dist_weights_hash(model)},
                           (const char *[]){"samples", WEIGHTS_HASH});
    if (s != NB_OK)
        return NULL;
    const nb_layer *last = model->layers[model->n_layers - 1];
    int64_t shape[NB_MAX_RANK] = {x->shape[0]};
    memcpy(shape + 1, last->out_shape, (size_t)last->out_rank * sizeof *shape);
    nb_tensor *result = nb_tensor_zeros(model->dtype, last->out_rank + 1, shape);
    size_t row_bytes = result ? (size_t)(result->size / x->shape[0]) * nb_dtype_size(model->dtype) : 0;
    bool recording = nb_tape_set_grad_enabled(model->tape, false);
    int64_t mine, n_mine; /* this rank's rows; with a communicator, gathered after */
    nb__dist_share(model->comm, x->shape[0], &mine, &n_mine);
    s = result ? NB_OK : nb_last_status();
    for (int64_t start = mine; s == NB_OK && start < mine + n_mine; start += batch_size) {
        int64_t count = mine + n_mine - start < batch_size ? mine + n_mine - start : batch_size;
        nb_tape_reset(model->tape);
        nb_tensor *xb = nb__gather_rows(model->tape, x, NULL, start, count, model->dtype);
        nb_tensor *out = nb__model_forward(model, model->tape, xb, false);
        if (!out)
            s = nb_last_status();
        else
            memcpy((char *)result->data + (size_t)start * row_bytes, out->data,
                   (size_t)count * row_bytes);
    }
    s = nb__dist_gather_rows(model, fn, s, result);
    nb_tape_set_grad_enabled(model->tape, recording);
    nb_tape_reset(model->tape);
    if (s != NB_OK) {
        nb_tensor_free(result);
        return NULL;
    }
    return result;
}

/* ---- the entry points: computing with subnormals flushed (fpenv.c) ----- */

nb_history *nb_model_fit(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                         const nb_fit_options *options)
{
    unsigned saved = nb__fp_enter();
    nb_history *history = fit(model, x, y, options);
    nb__fp_leave(saved);
    return history;
}

nb_status nb_model_evaluate(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                            int64_t batch_size, nb_logs *logs)
{
    unsigned saved = nb__fp_enter();
    nb_status s = evaluate(model, x, y, batch_size, logs);
    nb__fp_leave(saved);
    return s;
}

nb_tensor *nb_model_predict(nb_model *model, const nb_tensor *x, int64_t batch_size)
{
    unsigned saved = nb__fp_enter();
    nb_tensor *result = predict(model, x, batch_size);
    nb__fp_leave(saved);
    return result;
}
