/* One training step of fit (fit.c calls nb__train_step per batch): the
 * batch's rows gathered onto the tape, forward, loss, backward, the
 * gradients checked for NaN and infinity, one optimizer step.
 *
 * On one thread and without a communicator the optimizer runs inside the
 * backward sweep: each weight is checked and updated as soon as its
 * gradient is final (nb__backward_with_ready), while that gradient is still
 * in cache, instead of in a pass over every weight after backward, and its
 * gradient is zeroed for the next step right after the update read it. The
 * update is the same code on the same numbers, so the weights and the
 * optimizer's state are bit-identical to those of the separate pass
 * (tests/test_fused_step.c). Split steps (fit_threads.c) and steps across
 * ranks (distributed.c) combine gradients after backward, so they keep the
 * separate pass; so does a fit's first step, the one that allocates: a
 * failure half-way through its sweep must not leave some weights stepped.
 * docs/design.md says more, also of a NaN found part way. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "kernels/parallel.h"
#include "kernels/vec.h"
#include "nn/distributed_internal.h"
#include "nn/model_internal.h"
#include "nn/optim_internal.h"

/* ---- batches ----------------------------------------------------------- */

/* Rows of src onto the tape in `dtype`: rows[0..n) when rows is given, else
 * first .. first + n. */
nb_tensor *nb__gather_rows(nb_tape *tape, const nb_tensor *src, const int64_t *rows,
                           int64_t first, int64_t n, nb_dtype dtype)
{
    int64_t shape[NB_MAX_RANK];
    memcpy(shape, src->shape, sizeof shape);
    shape[0] = n;
    /* not zero-filled: every row is written below */
    nb_tensor *batch = nb__tensor_alloc_for(tape, dtype, src->rank, shape, false);
    if (!batch)
        return NULL;
    int64_t row_size = src->size / src->shape[0];
    size_t src_elem = nb_dtype_size(src->dtype), dst_elem = nb_dtype_size(dtype);
    for (int64_t i = 0; i < n; i++) {
        int64_t r = rows ? rows[i] : first + i;
        const char *from = (const char *)src->data + (size_t)(r * row_size) * src_elem;
        char *to = (char *)batch->data + (size_t)(i * row_size) * dst_elem;
        if (src->dtype == dtype)
            memcpy(to, from, (size_t)row_size * src_elem);
        else if (dtype == NB_F32)
            for (int64_t k = 0; k < row_size; k++)
                ((float *)to)[k] = (float)((const double *)from)[k];
        else
            for (int64_t k = 0; k < row_size; k++)
                ((double *)to)[k] = ((const float *)from)[k];
    }
    return batch;
}

/* ---- the numeric guard (TerminateOnNaN) -------------------------------- */

/* Said when a non-finite loss or gradient stops training (TerminateOnNaN):
 * no step was taken from that batch. */
#define STOPPED ": training stopped; the weights are those before this batch"

static const char *non_finite_name(double v) { return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

/* True when every element of a gradient is finite (it runs on every step
 * over every weight: vec.h's loop, in the copy for this CPU). */
static bool all_finite(const nb_tensor *t)
{
    if (t->dtype == NB_F32)
        return nb__vec()->f32.all_finite(t->size, t->grad);
    return nb__vec()->f64.all_finite(t->size, t->grad);
}

/* The end of the message when a non-finite gradient stops training. The
 * fused step finds it only when it becomes final, so weights whose
 * gradients were final before it may have taken this batch's step. */
static const char *stopped_after(int updated, int n_weights, char *buf, size_t len)
{
    if (updated == 0)
        return STOPPED;
    snprintf(buf, len, ": training stopped; %d of the %d weights had taken this batch's step "
             "when it was found (the optimizer runs inside the backward sweep), the others "
             "are those before this batch", updated, n_weights);
    return buf;
}

/* NB_ERR_NUMERIC when a weight's gradient holds a NaN or infinity, naming
 * the first such weight and element; `updated` weights took the step. */
static nb_status check_gradients(const nb_model *model, int updated)
{
    for (int w = 0; w < model->n_weights; w++) {
        const nb_tensor *t = model->weights[w];
        if (!t->grad || all_finite(t))
            continue;
        for (int64_t i = 0; i < t->size; i++) {
            double g = t->dtype == NB_F32 ? ((const float *)t->grad)[i]
                                          : ((const double *)t->grad)[i];
            char end[256];
            if (!isfinite(g))
                return nb_error(NB_ERR_NUMERIC,
                                "the gradient of weight '%s' is %s at element %" PRId64 "%s",
                                t->name, non_finite_name(g), i,
                                stopped_after(updated, model->n_weights, end, sizeof end));
        }
    }
    return NB_OK;
}

/* ---- one batch ----------------------------------------------------------- */

/* The optimizer step under way inside the sweep: the ctx of update_ready. */
typedef struct fused_step {
    nb_model *model;
    bool grads_zero; /* the gradients are zero already: no zeroing pass first */
    int updated;     /* weights that have taken the step */
    bool stopped;    /* a gradient was not finite: no more updates */
} fused_step;

/* Weight w's gradient is final: check it, update w and zero the gradient
 * for the next step, while the gradient is in cache. One without a
 * gradient is skipped, as nb_optimizer_step skips it. After a non-finite
 * gradient nothing more is updated. */
static void update_ready(void *ctx, int w)
{
    fused_step *f = ctx;
    nb_tensor *t = f->model->weights[w];
    if (f->stopped || !t->grad)
        return;
    if (!all_finite(t)) {
        f->stopped = true;
        return;
    }
    nb__optimizer_update(f->model->optimizer, w, t, true);
    f->updated++;
}

/* Loss and metrics of one batch; training also runs backward, leaving the
 * gradients in the weights, and with `fused` the optimizer's updates. */
static nb_status run_batch(nb_model *model, nb_tensor *xb, nb_tensor *yb, bool training,
                           nb__batch_sums *acc, fused_step *fused)
{
    nb_tape *tape = model->tape;
    bool recording = nb_tape_set_grad_enabled(tape, training);
    if (training && !(fused && fused->grads_zero))
        nb_optimizer_zero_grad(model->n_weights, model->weights);
    nb_tensor *pred = nb__model_forward(model, tape, xb, training);
    nb_tensor *loss = model->loss.fn(tape, pred, yb);
    nb_tape_set_grad_enabled(tape, false);
    nb_status s = NB_OK;
    double value = loss ? nb_tensor_item(loss) : NAN;
    if (!loss || loss->size != 1)
        s = loss ? nb_error(NB_ERR_SHAPE, "loss '%s' returned %" PRId64 " values: expected one",
                            model->loss.name, loss->size)
                 : nb_last_status();
    else if (!isfinite(value))
        s = nb_error(NB_ERR_NUMERIC, "the loss is %s%s", non_finite_name(value),
                     training ? STOPPED : "");
    for (int i = 0; s == NB_OK && i < model->n_metrics; i++) {
        nb_tensor *m = model->metrics[i]->fn(tape, pred, yb);
        if (!m)
            s = nb_last_status();
        else
            acc->metrics[i] += nb_tensor_item(m) * (double)xb->shape[0];
    }
    if (s == NB_OK && training)
        s = fused ? nb__backward_with_ready(loss, model->n_weights, model->weights,
                                            update_ready, fused)
                  : nb_backward(loss);
    nb_tape_set_grad_enabled(tape, recording);
    acc->loss += value * (double)xb->shape[0];
    acc->samples += xb->shape[0];
    return s;
}

nb_status nb__run_batch(nb_model *model, nb_tensor *xb, nb_tensor *yb, bool training,
                        nb__batch_sums *acc)
{
    return run_batch(model, xb, yb, training, acc, NULL);
}

/* ---- one step ------------------------------------------------------------ */

static void add_sums(const nb_model *model, nb__batch_sums *acc, const nb__batch_sums *batch)
{
    acc->loss += batch->loss;
    for (int i = 0; i < model->n_metrics; i++)
        acc->metrics[i] += batch->metrics[i];
    acc->samples += batch->samples;
}

/* Forward, backward and the optimizer step in one sweep (the file's
 * comment). The iteration count advances only when every weight took the
 * step; a non-finite gradient stops it with the message above, and any
 * other failure after some weights stepped says how many did. */
static nb_status fused_train_step(nb_model *model, nb_tensor *xb, nb_tensor *yb,
                                  bool grads_zero, nb__batch_sums *batch)
{
    nb_status s = nb__optimizer_begin("nb_optimizer_step", model->optimizer, model->n_weights,
                                      model->weights);
    fused_step f = {.model = model, .grads_zero = grads_zero};
    if (s == NB_OK)
        s = run_batch(model, xb, yb, true, batch, &f);
    if (s == NB_OK && f.stopped)
        s = check_gradients(model, f.updated);
    else if (s != NB_OK && f.updated > 0) /* say what a failure part way left behind */
        s = nb__error_context(s, "training stopped; %d of the %d weights had taken this batch's "
                              "step (the optimizer runs inside the backward sweep) when",
                              f.updated, model->n_weights);
    if (s == NB_OK)
        nb__optimizer_end(model->optimizer);
    return s;
}

/* Rows[0..n) gathered onto the tape, then forward and backward; with
 * `fuse`, the optimizer step inside the sweep. */
static nb_status gathered_batch(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                                const int64_t *rows, int64_t n, const nb__step_state *fuse,
                                nb__batch_sums *batch)
{
    nb_tensor *xb = nb__gather_rows(model->tape, x, rows, 0, n, model->dtype);
    nb_tensor *yb = nb__gather_rows(model->tape, y, rows, 0, n, model->dtype);
    if (!xb || !yb)
        return nb_last_status();
    return fuse ? fused_train_step(model, xb, yb, fuse->grads_zero, batch)
                : run_batch(model, xb, yb, true, batch, NULL);
}

nb_status nb__train_step(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                         const int64_t *rows, int64_t count, nb__step_state *state,
                         nb__batch_sums *acc)
{
    int64_t first, n;
    nb__dist_share(model->comm, count, &first, &n);
    nb_tape_reset(model->tape);
    nb__batch_sums batch = {0};
    nb_status s = NB_OK;
    /* a small step, optimizer update included, stays on this thread */
    bool small = n > 0 && nb__num_threads() > 1 && nb__step_is_small(model, n);
    int parts = n > 0 && !small ? nb__thread_parts(model, n) : 1;
    bool fuse = state->may_fuse && n > 0 && parts == 1 && !model->comm && !nb__anomaly_enabled;
    bool was_serial = nb__set_serial(small);
    bool finite = false; /* the gradients are known to be finite */
    if (parts > 1) /* this rank's rows split across the threads (fit_threads.c) */
        s = nb__run_batch_split(model, x, y, rows + first, n, parts, &batch, &finite);
    else if (n > 0)
        s = gathered_batch(model, x, y, rows + first, n, fuse ? state : NULL, &batch);
    if (!fuse) {
        if (n > 0 && s == NB_OK && !finite)
            s = check_gradients(model, 0); /* before the exchange, so the error names the rank */
        s = nb__dist_average_gradients(model, s, n, count, &batch);
        if (s == NB_OK) /* after the exchange: a failure waits for the next agreement */
            s = nb__dist_defer(model, nb_optimizer_step(model->optimizer, model->n_weights,
                                                        model->weights));
    }
    nb__set_serial(was_serial);
    state->may_fuse = true;
    state->grads_zero = fuse && s == NB_OK;
    add_sums(model, acc, &batch);
    return s;
}
