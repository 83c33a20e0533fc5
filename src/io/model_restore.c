/* Restoring a saved training state into a model that already exists, for
 * resuming: the weights, the optimizer's state and step count, the training
 * RNG and the epoch count.
 *
 * The file is loaded as a whole model first (model_load.c checks everything
 * in it), then compared with the target; only when every weight and every
 * state tensor matches is anything copied, so a failed restore leaves the
 * model as it was. */
#include <stdarg.h>
#include <string.h>

#include "io/model_file.h"
#include "nabla/model_io.h"
#include "nn/model_internal.h"

static const char *fn = "nb_model_restore";

/* The error for a file that does not match the model. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static nb_status mismatch(const char *path, const char *fmt, ...)
{
    char what[400];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    return nb_error(NB_ERR_ARG, "%s: '%s': %s", fn, path, what);
}

static nb_status same_weights(const nb_model *model, const nb_model *saved, const char *path)
{
    char want[NB_SHAPE_BUF], got[NB_SHAPE_BUF];
    if (model->in_rank != saved->in_rank ||
        memcmp(model->in_shape, saved->in_shape, (size_t)model->in_rank * sizeof *model->in_shape))
        return mismatch(path, "the file's model takes samples of shape %s but this one %s",
                        nb__dims_str(saved->in_rank, saved->in_shape, got, sizeof got),
                        nb__dims_str(model->in_rank, model->in_shape, want, sizeof want));
    if (model->dtype != saved->dtype)
        return mismatch(path, "the file's weights are %s but the model's are %s",
                        nb_dtype_name(saved->dtype), nb_dtype_name(model->dtype));
    if (model->n_layers != saved->n_layers || model->n_weights != saved->n_weights)
        return mismatch(path, "the file has %d layers with %d weights but the model has %d "
                        "layers with %d weights", saved->n_layers, saved->n_weights,
                        model->n_layers, model->n_weights);
    for (int l = 0; l < model->n_layers; l++) {
        const nb_layer *a = model->layers[l], *b = saved->layers[l];
        if (strcmp(a->name, b->name) != 0 || strcmp(a->cls->type, b->cls->type) != 0)
            return mismatch(path, "layer %d is %s '%s' in the file but %s '%s' in the model",
                            l, b->cls->type, b->name, a->cls->type, a->name);
    }
    for (int i = 0; i < model->n_weights; i++)
        if (!nb_same_shape(model->weights[i], saved->weights[i]))
            return mismatch(path, "weight %d ('%s') is %s in the file but %s in the model",
                            i, model->weights[i]->name,
                            nb__dims_str(saved->weights[i]->rank, saved->weights[i]->shape, got,
                                         sizeof got),
                            nb__dims_str(model->weights[i]->rank, model->weights[i]->shape,
                                         want, sizeof want));
    return NB_OK;
}

/* A compiled model resumes only from a file with its optimizer's state:
 * without it the momenta would restart from zero and the run would differ. */
static nb_status same_optimizer(const nb_model *model, const nb_model *saved, int saved_state,
                                const char *path)
{
    if (!model->compiled || !model->optimizer)
        return NB_OK;
    if (saved_state < 0)
        return mismatch(path, "the file has no optimizer state: save it with "
                        "include_optimizer true (as nb_backup_and_restore does) to resume "
                        "training");
    const char *want = nb_optimizer_name(model->optimizer);
    const char *got = nb_optimizer_name(saved->optimizer);
    if (strcmp(want, got) != 0)
        return mismatch(path, "the file's optimizer is %s but the model's is %s", got,
                        want);
    /* The state's layout depends on settings too (SGD keeps momenta only
     * with momentum > 0): compare slot counts, before anything is built. */
    int saved_slots = nb_optimizer_state_slots(saved->optimizer);
    int model_slots = nb_optimizer_state_slots(model->optimizer);
    if (saved_slots != model_slots)
        return mismatch(path, "the file's %s keeps %d state tensors per weight but the model's "
                        "keeps %d (momentum set in one and not the other?)", got, saved_slots,
                        model_slots);
    return NB_OK;
}

/* Make the model's optimizer state as the file's: built and copied when the
 * saved optimizer had taken steps, zeroed when it had not. */
static nb_status copy_optimizer(nb_model *model, const nb_model *saved, int saved_state)
{
    nb_optimizer *opt = model->optimizer;
    if (saved_state > 0 && nb_optimizer_build(opt, model->n_weights, model->weights) != NB_OK)
        return nb_last_status();
    /* same_optimizer checked the layout: these copies cannot fail */
    for (int k = 0; k < nb_optimizer_state_count(opt); k++) {
        nb_tensor *dst = nb_optimizer_state(opt, k);
        if (saved_state > 0)
            nb_tensor_copy_data(dst, nb_optimizer_state(saved->optimizer, k));
        else
            nb_tensor_fill(dst, 0);
    }
    return nb_optimizer_set_iterations(opt, nb_optimizer_iterations(saved->optimizer));
}

nb_status nb_model_restore(nb_model *model, const char *path)
{
    if (!model || !path)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, model ? "path" : "model");
    if (!model->built)
        return nb_error(NB_ERR_STATE, "%s: the model is not built: compile it (or call "
                        "nb_model_build) before restoring into it", fn);
    int saved_state = -1;
    nb_model *saved = nb__model_load(path, &saved_state);
    if (!saved)
        return nb__error_context(nb_last_status(), "%s", fn);
    nb_status s = same_weights(model, saved, path);
    if (s == NB_OK)
        s = same_optimizer(model, saved, saved_state, path);
    if (s == NB_OK && model->compiled && model->optimizer)
        s = copy_optimizer(model, saved, saved_state);
    if (s == NB_OK) /* same_weights checked what this checks again: it cannot fail */
        s = nb_model_set_weights(model, saved->n_weights,
                                 (const nb_tensor *const *)saved->weights);
    if (s == NB_OK) {
        model->train_rng = saved->train_rng;
        model->epoch = saved->epoch;
    }
    nb_model_free(saved);
    return s;
}
