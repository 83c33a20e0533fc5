/* Metrics: compositions of ops, most of them not differentiable (argmax,
 * equal, greater_scalar), so their results are constants. */
#include <string.h>

#include "nabla/metric.h"
#include "nabla/ops.h"
#include "nn/loss_internal.h"

/* ---- the compositions ---------------------------------------------------- */

static nb_tensor *categorical_body(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    return nb_mean(tape, nb_equal(tape, nb_argmax(tape, pred), nb_argmax(tape, target)));
}

static nb_tensor *sparse_body(nb_tape *tape, nb_tensor *pred, nb_tensor *labels)
{
    return nb_mean(tape, nb_equal(tape, nb_argmax(tape, pred), nb__labels_1d(tape, labels)));
}

/* Keras's binary_accuracy with its default threshold 0.5 */
static nb_tensor *binary_body(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    return nb_mean(tape, nb_equal(tape, nb_greater_scalar(tape, pred, 0.5), target));
}

/* ---- public metrics: check, then compose --------------------------------- */

nb_tensor *nb_metric_categorical_accuracy(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    if (nb__check_pair("nb_metric_categorical_accuracy", "pred", pred, "target", target, 1) !=
        NB_OK)
        return NULL;
    return nb__compose(__func__, tape, categorical_body, pred, target);
}

nb_tensor *nb_metric_sparse_categorical_accuracy(nb_tape *tape, nb_tensor *pred,
                                                 nb_tensor *labels)
{
    if (nb__check_labels("nb_metric_sparse_categorical_accuracy", "pred", pred, labels) != NB_OK)
        return NULL;
    return nb__compose(__func__, tape, sparse_body, pred, labels);
}

nb_tensor *nb_metric_binary_accuracy(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    if (nb__check_pair("nb_metric_binary_accuracy", "pred", pred, "target", target, 0) != NB_OK)
        return NULL;
    return nb__compose(__func__, tape, binary_body, pred, target);
}

/* The losses' own checks would name the loss; check here to name the metric. */
nb_tensor *nb_metric_mae(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    if (nb__check_pair("nb_metric_mae", "pred", pred, "target", target, 0) != NB_OK)
        return NULL;
    return nb_loss_mae(tape, pred, target);
}

nb_tensor *nb_metric_mse(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    if (nb__check_pair("nb_metric_mse", "pred", pred, "target", target, 0) != NB_OK)
        return NULL;
    return nb_loss_mse(tape, pred, target);
}

/* ---- by name ------------------------------------------------------------- */

/* Each entry's name is the one asked for, as Keras logs metrics. */
static const nb_metric builtin_metrics[] = {
    {"categorical_accuracy", nb_metric_categorical_accuracy},
    {"sparse_categorical_accuracy", nb_metric_sparse_categorical_accuracy},
    {"binary_accuracy", nb_metric_binary_accuracy},
    {"mae", nb_metric_mae},
    {"mean_absolute_error", nb_metric_mae},
    {"mse", nb_metric_mse},
    {"mean_squared_error", nb_metric_mse},
};

static const nb_metric accuracy_categorical = {"accuracy", nb_metric_categorical_accuracy};
static const nb_metric accuracy_sparse = {"accuracy", nb_metric_sparse_categorical_accuracy};
static const nb_metric accuracy_binary = {"accuracy", nb_metric_binary_accuracy};

/* "accuracy" means the accuracy that fits the loss's targets, as in Keras. */
static const nb_metric *accuracy_for(const nb_loss *loss)
{
    const char *name = loss && loss->name ? loss->name : "";
    if (strcmp(name, "sparse_categorical_crossentropy") == 0)
        return &accuracy_sparse;
    if (strcmp(name, "binary_crossentropy") == 0)
        return &accuracy_binary;
    return &accuracy_categorical;
}

const nb_metric *nb_metric_get(const char *name, const nb_loss *loss)
{
    if (!name) {
        nb_error(NB_ERR_NULL, "nb_metric_get: name is NULL");
        return NULL;
    }
    if (strcmp(name, "accuracy") == 0)
        return accuracy_for(loss);
    for (size_t i = 0; i < sizeof builtin_metrics / sizeof builtin_metrics[0]; i++)
        if (strcmp(name, builtin_metrics[i].name) == 0)
            return &builtin_metrics[i];
    nb_error(NB_ERR_ARG, "nb_metric_get: unknown metric '%s': expected one of accuracy, "
             "categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, "
             "mae (mean_absolute_error), mse (mean_squared_error)", name);
    return NULL;
}
