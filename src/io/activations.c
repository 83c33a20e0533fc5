/* A picture of what a model computes for one input: the input, then the
 * output of each layer as a grid of brightness (see viz.h).
 *
 * The sample goes through the layers one at a time on a tape of our own with
 * recording off (inference: no nodes, dropout inactive), so every layer's
 * output stays alive in the tape's arena until the picture is drawn. The
 * model's fields are read as model_save.c reads them (nn/model_internal.h);
 * each layer runs through nb_layer_forward, as in fit. The drawing is
 * io/grid.c's. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "io/grid.h"
#include "nabla/viz.h"
#include "nn/model_internal.h"

/* ---- checks ------------------------------------------------------------------ */

static nb_status check_model(const char *fn, const nb_model *model)
{
    if (!model->built)
        return nb_error(NB_ERR_STATE,
                        "%s: the model is not built: set its input shape and compile it (or "
                        "call nb_model_build)",
                        fn);
    if (model->n_layers == 0)
        return nb_error(NB_ERR_STATE, "%s: the model has no layers: nothing to show", fn);
    return NB_OK;
}

/* One sample: the model's input shape, with or without a batch axis of 1. */
static nb_status check_input(const char *fn, const nb_model *model, const nb_tensor *input)
{
    if (nb__check_live(fn, input) != NB_OK)
        return nb_last_status();
    int rank = model->in_rank;
    const int64_t *want = model->in_shape;
    size_t bytes = (size_t)rank * sizeof *want;
    bool plain = input->rank == rank && memcmp(input->shape, want, bytes) == 0;
    bool batched = input->rank == rank + 1 && input->shape[0] == 1 &&
                   memcmp(input->shape + 1, want, bytes) == 0;
    if (plain || batched)
        return NB_OK;
    char got[NB_SHAPE_BUF], shape[NB_SHAPE_BUF], with_batch[NB_SHAPE_BUF];
    int64_t one[NB_MAX_RANK + 1] = {1};
    memcpy(one + 1, want, bytes);
    return nb_error(NB_ERR_SHAPE,
                    "%s: input is %s: expected one sample shaped like the model's input, %s "
                    "(or %s)",
                    fn, nb_shape_str(input, got, sizeof got),
                    nb__dims_str(rank, want, shape, sizeof shape),
                    nb__dims_str(rank + 1, one, with_batch, sizeof with_batch));
}

static nb_status check_options(const char *fn, const nb_model *model,
                               const nb_activation_plot_options *o)
{
    if (!o || !o->class_names)
        return NB_OK;
    const nb_layer *last = model->layers[model->n_layers - 1];
    int64_t units = 1;
    for (int d = 0; d < last->out_rank; d++)
        units *= last->out_shape[d];
    if (o->n_class_names != units)
        return nb_error(NB_ERR_ARG,
                        "%s: %d class names for the %lld units of the last layer '%s': give one "
                        "name per unit",
                        fn, o->n_class_names, (long long)units, last->name);
    return NB_OK;
}

/* ---- running the sample ------------------------------------------------------ */

/* The sample as a batch of one on `tape` (*x_out, [1, ...input shape], in
 * the model's dtype), and every layer's output for it (outputs[i] is layer
 * i's), all owned by the tape. */
static nb_status run_layers(nb_model *model, nb_tape *tape, const nb_tensor *input,
                            nb_tensor **x_out, nb_tensor **outputs)
{
    int64_t shape[NB_MAX_RANK] = {1};
    memcpy(shape + 1, model->in_shape, (size_t)model->in_rank * sizeof *shape);
    nb_tensor *x = nb_tape_tensor(tape, model->dtype, model->in_rank + 1, shape);
    if (!x || nb_tensor_copy_data(x, input) != NB_OK)
        return nb_last_status();
    *x_out = x;
    /* built-in layers draw no random numbers outside training; a stream of
     * our own keeps a custom layer that does away from fit's */
    nb_rng rng;
    nb_rng_seed(&rng, model->seed);
    for (int i = 0; i < model->n_layers; i++) {
        x = outputs[i] = nb_layer_forward(model->layers[i], tape, x, false, &rng);
        if (!x)
            return nb_last_status();
    }
    return NB_OK;
}

/* True when the layer handed its input on unchanged (Flatten; Dropout
 * outside training): nothing new to see. */
static bool passes_through(const nb_tensor *in, const nb_tensor *out)
{
    if (in->size != out->size)
        return false;
    for (int64_t i = 0; i < in->size; i++)
        if (nb_tensor_get(in, i) != nb_tensor_get(out, i))
            return false;
    return true;
}

/* ---- panels ------------------------------------------------------------------ */

/* The layer's activation from its configuration ("relu"), or "". */
static void layer_activation(const nb_layer *layer, char *buf, size_t len)
{
    buf[0] = '\0';
    cJSON *json = layer->cls->config ? cJSON_CreateObject() : NULL;
    if (json && layer->cls->config(layer, json) == NB_OK) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(json, "activation");
        if (cJSON_IsString(a))
            snprintf(buf, len, "%s", a->valuestring);
    }
    cJSON_Delete(json);
}

static void copy_values(const nb_tensor *t, double *v)
{
    for (int64_t i = 0; i < t->size; i++)
        v[i] = nb_tensor_get(t, i);
}

/* The unit with the largest value, or -1 when none is finite. */
static int64_t largest(const double *v, int64_t n)
{
    int64_t best = -1;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(v[i]) && (best < 0 || v[i] > v[best]))
            best = i;
    return best;
}

/* The input: a picture when its sample shape has two axes longer than 1
 * (more: the leading axes stacked), otherwise units like a layer's. */
static void input_panel(nb_grid_panel *p, const nb_model *model, const nb_tensor *x, double *v)
{
    int64_t dims[NB_MAX_RANK];
    int n_dims = 0;
    for (int d = 0; d < model->in_rank; d++)
        if (model->in_shape[d] > 1)
            dims[n_dims++] = model->in_shape[d];
    copy_values(x, v);
    *p = (nb_grid_panel){.values = v, .n = x->size, .highlight = -1, .picture = n_dims >= 2};
    char shape[NB_SHAPE_BUF];
    nb__dims_str(model->in_rank, model->in_shape, shape, sizeof shape);
    if (p->picture) {
        p->cols = dims[n_dims - 1];
        p->rows = x->size / p->cols;
        snprintf(p->title, sizeof p->title, "input: %lld x %lld pixels", (long long)p->rows,
                 (long long)p->cols);
    } else {
        nb__grid_shape(x->size, &p->rows, &p->cols);
        snprintf(p->title, sizeof p->title, "input %s: %lld values", shape, (long long)x->size);
    }
    nb__grid_range(p, true);
}

/* A grid's size and range; a column's range, or for the last layer the
 * unit that wins ("predicted: 9 (Ankle boot), p = 0.601" after a softmax). */
static void layer_subtitle(nb_grid_panel *p, const char *activation)
{
    bool softmax = strcmp(activation, "softmax") == 0;
    if (p->cols > 1)
        snprintf(p->subtitle, sizeof p->subtitle, "%lld x %lld grid, values %.3g to %.3g",
                 (long long)p->rows, (long long)p->cols, p->min, p->max);
    else if (p->n == 1)
        snprintf(p->subtitle, sizeof p->subtitle, "value %.3g", p->values[0]);
    else if (p->highlight >= 0)
        snprintf(p->subtitle, sizeof p->subtitle, "%s %lld%s%s%s, %s %.3g",
                 softmax ? "predicted:" : "largest: unit", (long long)p->highlight,
                 p->labels ? " (" : "", p->labels ? p->labels[p->highlight] : "",
                 p->labels ? ")" : "", softmax ? "p =" : "value", p->max);
    else
        snprintf(p->subtitle, sizeof p->subtitle, "values %.3g to %.3g", p->min, p->max);
}

static void layer_panel(nb_grid_panel *p, const nb_layer *layer, const nb_tensor *y, double *v,
                        bool last, const nb_activation_plot_options *o)
{
    char activation[32];
    layer_activation(layer, activation, sizeof activation);
    copy_values(y, v);
    int64_t n = y->size;
    *p = (nb_grid_panel){.values = v, .n = n, .highlight = last && n > 1 ? largest(v, n) : -1};
    nb__grid_shape(n, &p->rows, &p->cols);
    if (last && o && o->class_names)
        p->labels = o->class_names;
    snprintf(p->title, sizeof p->title, "%s (%s%s%s): %lld unit%s", layer->name, layer->cls->type,
             activation[0] ? ", " : "", activation, (long long)n, n == 1 ? "" : "s");
    /* probabilities are shown on their own scale, 0 to 1 */
    bool probabilities = strcmp(activation, "softmax") == 0 || strcmp(activation, "sigmoid") == 0;
    nb__grid_range(p, probabilities);
    layer_subtitle(p, activation);
}

/* The line at the bottom of the picture: how to read it, and which layers
 * were left out ("flatten (Flatten), dropout (Dropout)" in `hidden`). */
static void write_note(char *note, size_t len, const char *hidden, int n_hidden)
{
    snprintf(note, len, "Brighter cells hold larger values (the scale is under each panel).%s%s%s",
             n_hidden ? " Not shown: " : "", hidden,
             n_hidden == 0   ? ""
             : n_hidden == 1 ? ", which hands its input on unchanged."
                             : ", which hand their input on unchanged.");
}

/* The input's panel, then one per layer that changes its input (or every
 * layer with all_layers); the note names the layers left out. Returns the
 * number of panels. */
static int make_panels(const nb_model *model, const nb_tensor *x, nb_tensor *const *outputs,
                       const nb_activation_plot_options *o, nb_grid_panel *panels, double *values,
                       char *note, size_t note_len)
{
    input_panel(&panels[0], model, x, values);
    snprintf(panels[0].subtitle, sizeof panels[0].subtitle, "values %.3g to %.3g",
             panels[0].min, panels[0].max);
    values += x->size;
    char hidden[160] = "";
    int n = 1, n_hidden = 0;
    for (int i = 0; i < model->n_layers; i++) {
        const nb_layer *layer = model->layers[i];
        bool last = i == model->n_layers - 1;
        if (!last && !(o && o->all_layers) && passes_through(i ? outputs[i - 1] : x, outputs[i])) {
            size_t used = strlen(hidden);
            snprintf(hidden + used, sizeof hidden - used, "%s%s (%s)", n_hidden++ ? ", " : "",
                     layer->name, layer->cls->type);
            continue;
        }
        layer_panel(&panels[n++], layer, outputs[i], values, last, o);
        values += outputs[i]->size;
    }
    write_note(note, note_len, hidden, n_hidden);
    return n;
}

/* ---- the picture ------------------------------------------------------------- */

static nb_status plot_outputs(const char *fn, const nb_model *model, const nb_tensor *x,
                              nb_tensor *const *outputs, const char *path,
                              const nb_activation_plot_options *o)
{
    size_t n_values = (size_t)x->size;
    for (int i = 0; i < model->n_layers; i++)
        n_values += (size_t)outputs[i]->size;
    nb_grid_panel *panels = nb_alloc((size_t)(model->n_layers + 1) * sizeof *panels);
    double *values = panels ? nb_alloc(n_values * sizeof *values) : NULL;
    nb_status status;
    if (!values) {
        status = nb_error(NB_ERR_NOMEM, "%s: out of memory for %zu values", fn, n_values);
    } else {
        char note[256] = "";
        int n = make_panels(model, x, outputs, o, panels, values, note, sizeof note);
        status = nb__grid_plot_png(fn, path, o ? o->title : NULL, note, panels, n);
    }
    nb_release(values);
    nb_release(panels);
    return status;
}

nb_status nb_activations_plot_png(nb_model *model, const nb_tensor *input, const char *path,
                                  const nb_activation_plot_options *options)
{
    const char *fn = "nb_activations_plot_png";
    if (!model || !input || !path)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn,
                        !model ? "model" : !input ? "input" : "path");
    if (check_model(fn, model) != NB_OK || check_input(fn, model, input) != NB_OK ||
        check_options(fn, model, options) != NB_OK)
        return nb_last_status();
    nb_tape *tape = nb_tape_new();
    nb_tensor **outputs = nb_alloc_zeroed((size_t)model->n_layers * sizeof *outputs);
    nb_status status;
    if (!tape || !outputs) {
        status = nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    } else {
        nb_tape_set_grad_enabled(tape, false);
        nb_tensor *x = NULL;
        status = run_layers(model, tape, input, &x, outputs);
        if (status == NB_OK)
            status = plot_outputs(fn, model, x, outputs, path, options);
    }
    nb_release(outputs);
    nb_tape_free(tape);
    return status;
}
