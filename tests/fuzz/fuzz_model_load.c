/* libFuzzer target: nb_model_load (safetensors header, JSON metadata, layer
 * configs, weights) on arbitrary bytes; a model that loads must also predict. */
#include "fuzz_common.h"
#include "nabla/nabla.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One prediction on zeros, when the input is small enough to be cheap. */
static void predict_once(nb_model *model)
{
    int64_t shape[NB_MAX_RANK + 1] = {1};
    int rank = nb_model_input_shape(model, shape + 1);
    int64_t elements = 1;
    for (int d = 1; d <= rank; d++)
        elements *= shape[d] > 0 && shape[d] < (1 << 16) ? shape[d] : (1 << 16);
    if (rank < 1 || rank >= NB_MAX_RANK || elements > (1 << 16))
        return;
    nb_tensor *x = nb_tensor_zeros(nb_model_dtype(model), rank + 1, shape);
    nb_tensor_free(nb_model_predict(model, x, 1));
    nb_tensor_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("model", data, size);
    if (!path)
        return 0;
    nb_model *model = nb_model_load(path);
    if (model)
        predict_once(model);
    nb_model_free(model);
    nb_clear_error();
    return 0;
}
