/* Losses: compositions of ops, so nb_backward differentiates them and no
 * loss has a backward pass of its own. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "nabla/ops.h"
#include "nn/loss_internal.h"

/* ---- shared checks and plumbing (also used by metric.c) ----------------- */

/* NB_OK when t is usable; a NULL t after an earlier error keeps that error. */
static nb_status check_input(const char *fn, const char *name, const nb_tensor *t)
{
    if (!t)
        return nb_last_status() != NB_OK ? NB_ERR_NULL
                                         : nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, name);
    return nb__check_live(fn, t);
}

static nb_status check_same_dtype(const char *fn, const char *a_name, const nb_tensor *a,
                                  const char *b_name, const nb_tensor *b)
{
    if (a->dtype == b->dtype)
        return NB_OK;
    return nb_error(NB_ERR_DTYPE, "%s: %s is %s but %s is %s: expected the same dtype", fn,
                    a_name, nb_dtype_name(a->dtype), b_name, nb_dtype_name(b->dtype));
}

nb_status nb__check_pair(const char *fn, const char *a_name, const nb_tensor *a,
                         const char *b_name, const nb_tensor *b, int min_rank)
{
    nb_status s = check_input(fn, a_name, a);
    if (s == NB_OK)
        s = check_input(fn, b_name, b);
    if (s == NB_OK)
        s = check_same_dtype(fn, a_name, a, b_name, b);
    if (s != NB_OK)
        return s;
    char sa[NB_SHAPE_BUF], sb[NB_SHAPE_BUF];
    nb_shape_str(a, sa, sizeof sa);
    nb_shape_str(b, sb, sizeof sb);
    if (!nb_same_shape(a, b))
        return nb_error(NB_ERR_SHAPE, "%s: %s is %s but %s is %s: expected the same shape", fn,
                        a_name, sa, b_name, sb);
    if (a->rank < min_rank)
        return nb_error(NB_ERR_SHAPE, "%s: %s is %s (rank %d): expected rank %d or more, "
                        "the classes on the last axis", fn, a_name, sa, a->rank, min_rank);
    return NB_OK;
}

nb_status nb__check_labels(const char *fn, const char *pred_name, const nb_tensor *pred,
                           const nb_tensor *labels)
{
    nb_status s = check_input(fn, pred_name, pred);
    if (s == NB_OK)
        s = check_input(fn, "labels", labels);
    if (s == NB_OK)
        s = check_same_dtype(fn, pred_name, pred, "labels", labels);
    if (s != NB_OK)
        return s;
    char sp[NB_SHAPE_BUF], sl[NB_SHAPE_BUF];
    nb_shape_str(pred, sp, sizeof sp);
    nb_shape_str(labels, sl, sizeof sl);
    if (pred->rank != 2)
        return nb_error(NB_ERR_SHAPE, "%s: %s is %s: expected [batch, classes]", fn, pred_name, sp);
    bool column = labels->rank == 2 && labels->shape[1] == 1;
    if ((labels->rank != 1 && !column) || labels->shape[0] != pred->shape[0])
        return nb_error(NB_ERR_SHAPE, "%s: %s is %s but labels is %s: expected labels [%" PRId64
                        "] (or [%" PRId64 ", 1]), one class index per row", fn, pred_name, sp, sl,
                        pred->shape[0], pred->shape[0]);
    return NB_OK;
}

nb_tensor *nb__labels_1d(nb_tape *tape, nb_tensor *labels)
{
    if (labels->rank == 1)
        return labels;
    return nb_reshape(tape, labels, NB_SHAPE(labels->shape[0]));
}

static nb_tensor *compose_on_scratch(nb__compose_fn body, nb_tensor *a, nb_tensor *b)
{
    nb_tape *scratch = nb_tape_new();
    if (!scratch)
        return NULL;
    /* detached copies require no gradient, so nothing is recorded */
    nb_tensor *a_copy = nb_detach(scratch, a), *b_copy = nb_detach(scratch, b);
    nb_tensor *out = a_copy && b_copy ? body(scratch, a_copy, b_copy) : NULL;
    nb_tensor *result = out ? nb_detach(NULL, out) : NULL;
    nb_tape_free(scratch);
    return result;
}

nb_tensor *nb__compose(const char *fn, nb_tape *tape, nb__compose_fn body, nb_tensor *a,
                       nb_tensor *b)
{
    nb_tensor *result = tape ? body(tape, a, b) : compose_on_scratch(body, a, b);
    if (!result)
        nb__error_context(nb_last_status(), "%s", fn);
    return result;
}

/* ---- the compositions ---------------------------------------------------- */

static nb_tensor *mse_body(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    return nb_mean(tape, nb_square(tape, nb_sub(tape, pred, target)));
}

static nb_tensor *mae_body(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    return nb_mean(tape, nb_abs(tape, nb_sub(tape, pred, target)));
}

/* -mean over rows of the sum over the last (class) axis */
static nb_tensor *neg_mean_of_row_sums(nb_tape *tape, nb_tensor *x)
{
    return nb_neg(tape, nb_mean(tape, nb_sum_axis(tape, x, -1, false)));
}

/* log(clip(p)): finite at p = 0 and p = 1, where clip passes no gradient. */
static nb_tensor *clipped_log(nb_tape *tape, nb_tensor *p)
{
    return nb_log(tape, nb_clip(tape, p, NB_LOSS_EPSILON, 1.0 - NB_LOSS_EPSILON));
}

static nb_tensor *cce_body(nb_tape *tape, nb_tensor *probs, nb_tensor *target)
{
    return neg_mean_of_row_sums(tape, nb_mul(tape, target, clipped_log(tape, probs)));
}

static nb_tensor *cce_logits_body(nb_tape *tape, nb_tensor *logits, nb_tensor *target)
{
    return neg_mean_of_row_sums(tape, nb_mul(tape, target, nb_log_softmax(tape, logits)));
}

static nb_tensor *sparse_cce_body(nb_tape *tape, nb_tensor *probs, nb_tensor *labels)
{
    nb_tensor *one_hot = nb_one_hot(tape, nb__labels_1d(tape, labels), probs->shape[1]);
    return one_hot ? cce_body(tape, probs, one_hot) : NULL;
}

/* 1 - x, as ops */
static nb_tensor *one_minus(nb_tape *tape, nb_tensor *x)
{
    return nb_add_scalar(tape, nb_neg(tape, x), 1.0);
}

/* -mean(t log(p) + (1 - t) log(1 - p)) with p clipped: 1 - p >= 1e-7 too */
static nb_tensor *bce_body(nb_tape *tape, nb_tensor *probs, nb_tensor *target)
{
    nb_tensor *p = nb_clip(tape, probs, NB_LOSS_EPSILON, 1.0 - NB_LOSS_EPSILON);
    nb_tensor *positive = nb_mul(tape, target, nb_log(tape, p));
    nb_tensor *negative = nb_mul(tape, one_minus(tape, target), nb_log(tape, one_minus(tape, p)));
    return nb_neg(tape, nb_mean(tape, nb_add(tape, positive, negative)));
}

/* ---- public losses: check, then compose ---------------------------------- */

nb_tensor *nb_loss_mse(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    if (nb__check_pair("nb_loss_mse", "pred", pred, "target", target, 0) != NB_OK)
        return NULL;
    return nb__compose(__func__, tape, mse_body, pred, target);
}

nb_tensor *nb_loss_mae(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    if (nb__check_pair("nb_loss_mae", "pred", pred, "target", target, 0) != NB_OK)
        return NULL;
    return nb__compose(__func__, tape, mae_body, pred, target);
}

nb_tensor *nb_loss_categorical_crossentropy(nb_tape *tape, nb_tensor *probs, nb_tensor *target)
{
    if (nb__check_pair("nb_loss_categorical_crossentropy", "probs", probs, "target", target, 1) !=
        NB_OK)
        return NULL;
    return nb__compose(__func__, tape, cce_body, probs, target);
}

nb_tensor *nb_loss_categorical_crossentropy_logits(nb_tape *tape, nb_tensor *logits,
                                                   nb_tensor *target)
{
    if (nb__check_pair("nb_loss_categorical_crossentropy_logits", "logits", logits, "target",
                       target, 1) != NB_OK)
        return NULL;
    return nb__compose(__func__, tape, cce_logits_body, logits, target);
}

nb_tensor *nb_loss_sparse_categorical_crossentropy(nb_tape *tape, nb_tensor *probs,
                                                   nb_tensor *labels)
{
    const char *fn = "nb_loss_sparse_categorical_crossentropy";
    if (nb__check_labels(fn, "probs", probs, labels) != NB_OK)
        return NULL;
    return nb__compose(fn, tape, sparse_cce_body, probs, labels);
}

nb_tensor *nb_loss_binary_crossentropy(nb_tape *tape, nb_tensor *probs, nb_tensor *target)
{
    if (nb__check_pair("nb_loss_binary_crossentropy", "probs", probs, "target", target, 0) !=
        NB_OK)
        return NULL;
    return nb__compose(__func__, tape, bce_body, probs, target);
}

/* ---- by name ------------------------------------------------------------- */

static const nb_loss builtin_losses[] = {
    {"mean_squared_error", nb_loss_mse},
    {"mean_absolute_error", nb_loss_mae},
    {"categorical_crossentropy", nb_loss_categorical_crossentropy},
    {"categorical_crossentropy_from_logits", nb_loss_categorical_crossentropy_logits},
    {"sparse_categorical_crossentropy", nb_loss_sparse_categorical_crossentropy},
    {"binary_crossentropy", nb_loss_binary_crossentropy},
};

static const struct {
    const char *alias, *name;
} loss_aliases[] = {{"mse", "mean_squared_error"}, {"mae", "mean_absolute_error"}};

#define COUNT(array) ((int)(sizeof(array) / sizeof((array)[0])))

const nb_loss *nb_loss_get(const char *name)
{
    if (!name) {
        nb_error(NB_ERR_NULL, "nb_loss_get: name is NULL");
        return NULL;
    }
    for (int i = 0; i < COUNT(loss_aliases); i++)
        if (strcmp(name, loss_aliases[i].alias) == 0)
            name = loss_aliases[i].name;
    for (int i = 0; i < COUNT(builtin_losses); i++)
        if (strcmp(name, builtin_losses[i].name) == 0)
            return &builtin_losses[i];
    nb_error(NB_ERR_ARG, "nb_loss_get: unknown loss '%s': expected one of mean_squared_error "
             "(mse), mean_absolute_error (mae), categorical_crossentropy, "
             "categorical_crossentropy_from_logits, sparse_categorical_crossentropy, "
             "binary_crossentropy", name);
    return NULL;
}
