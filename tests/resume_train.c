/* The training process that tests/kill_resume.sh kills with SIGKILL.
 *
 *   resume_train BACKUP OUT     train 30 epochs with nb_backup_and_restore
 *                               (BACKUP, every epoch), resuming from BACKUP
 *                               when it exists; save the final model to OUT
 *   resume_train --check FILE   load FILE (a backup); print its epoch
 *   resume_train --same A B     exit 0 when the models A and B hold the same
 *                               weights, byte for byte
 *
 * The data and the model are made from fixed seeds, so every run of the
 * program is the same run: only the kills make them differ. */
#include <stdio.h>
#include <string.h>

#include "nabla/nabla.h"

enum { SAMPLES = 1500, FEATURES = 48, CLASSES = 6, EPOCHS = 30 };

static int fail(const char *what)
{
    fprintf(stderr, "resume_train: %s: %s\n", what, nb_last_error());
    return 1;
}

/* Class = which of the first CLASSES features is largest: learnable. */
static void make_data(nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 11);
    *x = nb_tensor_rand_normal(NB_F32, NB_SHAPE(SAMPLES, FEATURES), 0, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(SAMPLES, CLASSES));
    for (int64_t i = 0; i < SAMPLES; i++) {
        int best = 0;
        for (int c = 1; c < CLASSES; c++)
            if (nb_tensor_get(*x, i * FEATURES + c) > nb_tensor_get(*x, i * FEATURES + best))
                best = c;
        nb_tensor_set(*y, i * CLASSES + best, 1);
    }
}

static nb_model *make_model(void)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, 5);
    nb_model_set_input_shape(model, NB_SHAPE(FEATURES));
    nb_model_add(model, nb_dense(256, NB_RELU));
    nb_model_add(model, nb_dropout(0.2));
    nb_model_add(model, nb_dense(CLASSES, NB_SOFTMAX));
    nb_status s = nb_model_compile(model, &(nb_compile_options){
        .optimizer = nb_adam_default(), .loss = "categorical_crossentropy",
        .metrics = {"accuracy"}});
    if (s != NB_OK) {
        nb_model_free(model);
        return NULL;
    }
    return model;
}

static int train(const char *backup_path, const char *out_path)
{
    nb_tensor *x, *y;
    make_data(&x, &y);
    nb_model *model = make_model();
    nb_callback *backup = nb_backup_and_restore(backup_path, 1, false);
    if (!model || !backup)
        return fail("setting up");
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = EPOCHS;
    fit.verbose = 0;
    fit.validation_split = 0.1;
    fit.callbacks[0] = backup;
    nb_history *history = nb_model_fit(model, x, y, &fit);
    int rc = history && nb_model_save(model, out_path, false) == NB_OK ? 0 : fail("training");
    nb_history_free(history);
    nb_callback_free(backup);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return rc;
}

static int check(const char *path)
{
    nb_model *model = nb_model_load(path);
    if (!model)
        return fail("loading the backup");
    printf("backup at epoch %d\n", nb_model_epoch(model));
    nb_model_free(model);
    return 0;
}

static int same(const char *a_path, const char *b_path)
{
    nb_model *a = nb_model_load(a_path), *b = nb_model_load(b_path);
    int rc = a && b ? 0 : fail("loading");
    for (int i = 0; rc == 0 && i < nb_model_weight_count(a); i++) {
        const nb_tensor *wa = nb_model_weight(a, i), *wb = nb_model_weight(b, i);
        if (nb_model_weight_count(a) != nb_model_weight_count(b) || !nb_same_shape(wa, wb) ||
            memcmp(wa->data, wb->data, (size_t)wa->size * nb_dtype_size(wa->dtype)) != 0) {
            fprintf(stderr, "resume_train: weight %d differs between %s and %s\n", i, a_path,
                    b_path);
            rc = 1;
        }
    }
    nb_model_free(a);
    nb_model_free(b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--check") == 0)
        return check(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--same") == 0)
        return same(argv[2], argv[3]);
    if (argc == 3 && argv[1][0] != '-')
        return train(argv[1], argv[2]);
    fprintf(stderr, "usage: resume_train BACKUP OUT | --check FILE | --same A B\n");
    return 2;
}
