/* Writes the model_load seed corpus: small models of every layer type and
 * optimizer, saved with and without optimizer state.
 * Usage: make_model_seeds DIR */
#include <stdio.h>

#include "nabla/nabla.h"

static int save(nb_model *model, const char *dir, const char *name, bool with_optimizer)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, name);
    if (!model || nb_model_save(model, path, with_optimizer) != NB_OK) {
        fprintf(stderr, "make_model_seeds: %s: %s\n", name, nb_last_error());
        return 1;
    }
    return 0;
}

static nb_model *mlp(nb_dtype dtype, nb_optimizer *opt, const char *loss)
{
    nb_model *m = nb_sequential();
    nb_model_set_dtype(m, dtype);
    nb_model_set_input_shape(m, NB_SHAPE(2, 3));
    nb_model_add(m, nb_flatten_layer());
    nb_model_add(m, nb_dense(4, NB_RELU));
    nb_model_add(m, nb_dropout(0.25));
    nb_model_add(m, nb_activation_layer(NB_TANH));
    nb_model_add(m, nb_dense(3, NB_SOFTMAX));
    if (nb_model_compile(m, &(nb_compile_options){.optimizer = opt, .loss = loss,
                                                  .metrics = {"accuracy"}}) != NB_OK) {
        nb_model_free(m);
        return NULL;
    }
    return m;
}

/* One training step, so that the optimizer has state to save. */
static void train_once(nb_model *m)
{
    nb_tensor *x = nb_tensor_full(nb_model_dtype(m), NB_SHAPE(2, 2, 3), 0.5);
    nb_tensor *y = nb_tensor_zeros(nb_model_dtype(m), NB_SHAPE(2, 3));
    nb_tensor_set(y, 0, 1.0);
    nb_tensor_set(y, 4, 1.0);
    nb_fit_options o = nb_fit_defaults();
    o.verbose = 0;
    nb_history_free(nb_model_fit(m, x, y, &o));
    nb_tensor_free(x);
    nb_tensor_free(y);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_model_seeds DIR\n");
        return 2;
    }
    int failed = 0;
    nb_model *a = mlp(NB_F32, nb_adam_default(), "categorical_crossentropy");
    train_once(a);
    failed += save(a, argv[1], "mlp_adam", true);
    failed += save(a, argv[1], "mlp_no_optimizer", false);
    nb_model *b = mlp(NB_F64, nb_sgd(0.1, 0.9, true), "mse");
    train_once(b);
    failed += save(b, argv[1], "mlp_f64_sgd", true);
    nb_model *c = mlp(NB_F32, nb_rmsprop_default(), "categorical_crossentropy");
    train_once(c);
    failed += save(c, argv[1], "mlp_rmsprop", true);
    nb_model_free(a);
    nb_model_free(b);
    nb_model_free(c);
    return failed ? 1 : 0;
}
