/* Saving whole models as safetensors files (docs/formats.md): the
 * architecture and training configuration as a JSON string in
 * __metadata__["nabla_model"], then the weights and optionally the optimizer
 * state as tensors, written by safetensors_write.c (atomically). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>

#include "io/model_file.h"
#include "io/safetensors.h"
#include "nabla/model_io.h"
#include "nabla_config.h"
#include "nn/model_internal.h"

static cJSON *layer_json(const nb_layer *layer)
{
    cJSON *json = cJSON_CreateObject();
    bool ok = cJSON_AddStringToObject(json, "type", layer->cls->type) &&
              cJSON_AddStringToObject(json, "name", layer->name);
    cJSON *config = ok ? cJSON_AddObjectToObject(json, "config") : NULL;
    if (!config) {
        cJSON_Delete(json);
        nb_error(NB_ERR_NOMEM, "nb_model_save: out of memory");
        return NULL;
    }
    if (layer->cls->config && layer->cls->config(layer, config) != NB_OK) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* True when the model's loss is the built-in of its name. */
static bool builtin_loss(const nb_model *model)
{
    nb_status before = nb_last_status();
    char message[512];
    snprintf(message, sizeof message, "%s", nb_last_error());
    const nb_loss *loss = model->loss.name ? nb_loss_get(model->loss.name) : NULL;
    if (!loss && before == NB_OK) /* keep the caller's last error, not our lookup's */
        nb_clear_error();
    else if (!loss)
        nb_error(before, "%s", message);
    return loss && loss->fn == model->loss.fn;
}

/* {"name": "Adam", "config": {"learning_rate": 0.001, ...}, "iterations": 10,
 *  "state_tensors": 8}; state_tensors only when the state is saved. */
static bool add_optimizer(cJSON *json, const nb_optimizer *opt, int state_tensors)
{
    int n;
    const char *names[NB_OPTIMIZER_CONFIG_MAX];
    double values[NB_OPTIMIZER_CONFIG_MAX];
    cJSON *o = cJSON_AddObjectToObject(json, "optimizer");
    bool ok = o && cJSON_AddStringToObject(o, "name", nb_optimizer_name(opt));
    cJSON *config = ok ? cJSON_AddObjectToObject(o, "config") : NULL;
    ok = config && nb_optimizer_config(opt, &n, names, values) == NB_OK;
    for (int k = 0; ok && k < n; k++)
        ok = cJSON_AddNumberToObject(config, names[k], values[k]) != NULL;
    if (ok)
        ok = cJSON_AddNumberToObject(o, "iterations", (double)nb_optimizer_iterations(opt));
    if (ok && state_tensors >= 0)
        ok = cJSON_AddNumberToObject(o, "state_tensors", state_tensors) != NULL;
    return ok;
}

static bool add_compile(cJSON *json, const nb_model *model, int state_tensors)
{
    bool ok = cJSON_AddStringToObject(json, "loss", model->loss.name ? model->loss.name : "") &&
              cJSON_AddBoolToObject(json, "custom_loss", !builtin_loss(model));
    cJSON *metrics = ok ? cJSON_AddArrayToObject(json, "metrics") : NULL;
    ok = metrics != NULL;
    for (int i = 0; ok && i < model->n_metrics; i++)
        ok = cJSON_AddItemToArray(metrics, cJSON_CreateString(model->metrics[i]->name));
    return ok && add_optimizer(json, model->optimizer, state_tensors);
}

static bool no_memory(void)
{
    nb_error(NB_ERR_NOMEM, "nb_model_save: out of memory");
    return false;
}

static bool put_input_shape(cJSON *json, const nb_model *model)
{
    cJSON *shape = cJSON_AddArrayToObject(json, "input_shape");
    bool ok = shape != NULL;
    for (int d = 0; ok && d < model->in_rank; d++)
        ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)model->in_shape[d]));
    return ok;
}

/* False with a message: the class's config hook's, or out of memory. */
static bool put_layers(cJSON *json, const nb_model *model)
{
    cJSON *layers = cJSON_AddArrayToObject(json, "layers");
    if (!layers)
        return no_memory();
    for (int i = 0; i < model->n_layers; i++) {
        cJSON *layer = layer_json(model->layers[i]);
        if (!layer)
            return false;
        if (!cJSON_AddItemToArray(layers, layer)) {
            cJSON_Delete(layer);
            return no_memory();
        }
    }
    return true;
}

/* The shuffling and dropout stream, so that fit goes on as it would have. */
static bool put_train_rng(cJSON *json, const nb_model *model)
{
    cJSON *rng = cJSON_AddArrayToObject(json, "train_rng");
    bool ok = rng != NULL;
    for (int k = 0; ok && k < 4; k++) {
        char text[24];
        snprintf(text, sizeof text, "%016" PRIx64, model->train_rng.s[k]);
        ok = cJSON_AddItemToArray(rng, cJSON_CreateString(text));
    }
    return ok;
}

/* The architecture and training configuration; see docs/formats.md. */
static cJSON *model_json(const nb_model *model, int state_tensors)
{
    char seed[24]; /* a string: exact beyond 2^53, where JSON numbers are not */
    snprintf(seed, sizeof seed, "%" PRIu64, model->seed);
    cJSON *json = cJSON_CreateObject();
    bool ok = (cJSON_AddStringToObject(json, "class", "Sequential") &&
               cJSON_AddStringToObject(json, "dtype", nb_dtype_name(model->dtype)) &&
               cJSON_AddStringToObject(json, "seed", seed) && put_input_shape(json, model)) ||
              no_memory();
    ok = ok && put_layers(json, model);
    if (ok && model->compiled && model->optimizer)
        ok = add_compile(json, model, state_tensors) || no_memory();
    ok = ok && (put_train_rng(json, model) || no_memory());
    ok = ok && (cJSON_AddNumberToObject(json, "epoch", model->epoch) || no_memory());
    if (!ok) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* {"format": "nabla-1", "nabla_version": "0.1.0", "nabla_model": "{...}"} */
static cJSON *metadata_json(const nb_model *model, int state_tensors)
{
    cJSON *arch = model_json(model, state_tensors);
    bool made = arch != NULL; /* else model_json said why */
    char *text = arch ? cJSON_PrintUnformatted(arch) : NULL;
    cJSON *meta = text ? cJSON_CreateObject() : NULL;
    bool ok = meta && cJSON_AddStringToObject(meta, "format", NB_MODEL_FORMAT) &&
              cJSON_AddStringToObject(meta, "nabla_version", NB_VERSION) &&
              cJSON_AddStringToObject(meta, "nabla_model", text);
    cJSON_Delete(arch);
    cJSON_free(text);
    if (!ok) {
        cJSON_Delete(meta);
        if (made)
            no_memory();
        return NULL;
    }
    return meta;
}

static nb_status check_layer_names(const nb_model *model)
{
    for (int i = 0; i < model->n_layers; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(model->layers[i]->name, model->layers[j]->name) == 0)
                return nb_error(NB_ERR_ARG, "nb_model_save: layers %d and %d are both named "
                                "'%s': a model file needs unique layer names", j, i,
                                model->layers[i]->name);
    return NB_OK;
}

nb_status nb_model_save(const nb_model *model, const char *path, bool include_optimizer)
{
    const char *fn = "nb_model_save";
    if (!model || !path)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, model ? "path" : "model");
    if (!model->built)
        return nb_error(NB_ERR_STATE, "%s: the model is not built: set its input shape and "
                        "compile it (or call nb_model_build) before saving it", fn);
    if (check_layer_names(model) != NB_OK)
        return NB_ERR_ARG;
    bool with_state = include_optimizer && model->compiled && model->optimizer;
    int n_state = with_state ? nb_optimizer_state_count(model->optimizer) : 0;
    int n = model->n_weights + n_state;
    cJSON *meta = metadata_json(model, with_state ? n_state : -1);
    nb_st_item *items = nb_alloc((size_t)(n ? n : 1) * sizeof *items);
    nb_weight_name *names = nb_alloc((size_t)(n ? n : 1) * sizeof *names);
    nb_status s = NB_OK;
    if (!meta)
        s = nb_last_status();
    else if (!items || !names)
        s = nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    for (int l = 0, i = 0; s == NB_OK && l < model->n_layers; l++)
        for (int k = 0; k < model->layers[l]->n_params; k++, i++) {
            nb__weight_name(names[i], model->layers[l], k);
            items[i] = (nb_st_item){names[i], model->layers[l]->params[k]};
        }
    for (int k = 0; s == NB_OK && k < n_state; k++) {
        int i = model->n_weights + k;
        snprintf(names[i], sizeof names[i], "optimizer/%d", k);
        items[i] = (nb_st_item){names[i], nb_optimizer_state(model->optimizer, k)};
    }
    if (s == NB_OK)
        s = nb__st_write(fn, path, meta, n, items);
    cJSON_Delete(meta);
    nb_release(items);
    nb_release(names);
    return s;
}
