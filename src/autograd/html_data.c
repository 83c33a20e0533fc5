/* The data of the backprop explorer page as JSON (html_internal.h): what
 * explorer.js draws and steps through. Every text comes from the trace's own
 * builders (trace_step.c), so the page and nb_tape_trace_backward agree. */
#include <math.h>
#include <string.h>

#include "autograd/html_internal.h"
#include "autograd/trace_internal.h"

typedef struct page_data {
    const nb_tape *tape;
    nb__namer names;
    nb__number_format text; /* as the trace prints numbers */
    int max_values;
    const nb_tensor **leaves; /* tensor id n_nodes + k is leaves[k] */
    size_t n_leaves;
    bool ok; /* false once a cJSON allocation failed */
} page_data;

/* Results are numbered by their node, leaves after them in order of first use. */
static int tensor_id(const page_data *d, const nb_tensor *t)
{
    if (t->node && t->node->tape == d->tape)
        return (int)t->node->index;
    for (size_t k = 0; k < d->n_leaves; k++)
        if (d->leaves[k] == t)
            return (int)(d->tape->n_nodes + k);
    return -1;
}

static bool collect_leaves(page_data *d)
{
    const nb_tape *tape = d->tape;
    size_t cap = 0;
    for (size_t i = 0; i < tape->n_nodes; i++)
        cap += (size_t)tape->nodes[i]->n_inputs;
    d->leaves = nb_alloc((cap ? cap : 1) * sizeof *d->leaves);
    if (!d->leaves)
        return false;
    for (size_t i = 0; i < tape->n_nodes; i++)
        for (int j = 0; j < tape->nodes[i]->n_inputs; j++) {
            const nb_tensor *in = tape->nodes[i]->inputs[j];
            if (tensor_id(d, in) < 0)
                d->leaves[d->n_leaves++] = in;
        }
    return true;
}

/* ---- small JSON helpers ---------------------------------------------------- */

static cJSON *add(page_data *d, cJSON *parent, const char *key, cJSON *item)
{
    if (!item || (key ? !cJSON_AddItemToObject(parent, key, item)
                      : !cJSON_AddItemToArray(parent, item))) {
        cJSON_Delete(item);
        d->ok = false;
        return NULL;
    }
    return item;
}

/* Takes the string (a trace text), NULL becoming a failure. */
static void add_text(page_data *d, cJSON *parent, const char *key, char *text)
{
    if (!text)
        d->ok = false;
    else
        add(d, parent, key, cJSON_CreateString(text));
    nb_release(text);
}

/* The first max_values numbers (NaN and infinities become null in JSON). */
static cJSON *numbers(const page_data *d, const void *data, nb_dtype dtype, int64_t n)
{
    cJSON *array = cJSON_CreateArray();
    for (int64_t i = 0; array && i < n && i < d->max_values; i++) {
        double v = nb__value_at(data, dtype, i);
        cJSON *item = isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
        if (!item || !cJSON_AddItemToArray(array, item)) {
            cJSON_Delete(item);
            cJSON_Delete(array);
            return NULL;
        }
    }
    return array;
}

/* min, max and mean over all the values (finite ones). */
static cJSON *stats(const void *data, nb_dtype dtype, int64_t n)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    int64_t finite = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = nb__value_at(data, dtype, i);
        if (!isfinite(v))
            continue;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
        finite++;
    }
    cJSON *o = cJSON_CreateObject();
    if (o && finite) {
        cJSON_AddNumberToObject(o, "min", lo);
        cJSON_AddNumberToObject(o, "max", hi);
        cJSON_AddNumberToObject(o, "mean", sum / (double)finite);
    }
    return o;
}

static cJSON *shape_json(const nb_tensor *t)
{
    cJSON *array = cJSON_CreateArray();
    for (int k = 0; array && k < t->rank; k++) {
        cJSON *dim = cJSON_CreateNumber((double)t->shape[k]);
        if (!dim || !cJSON_AddItemToArray(array, dim)) {
            cJSON_Delete(dim);
            cJSON_Delete(array);
            return NULL;
        }
    }
    return array;
}

static char *numbers_text(const nb__number_format *f, const void *data, nb_dtype dtype, int64_t n)
{
    nb__text t = {0};
    nb__text_numbers(&t, f, data, dtype, n);
    return nb__text_take(&t);
}

/* ---- tensors ------------------------------------------------------------------ */

static const char *kind_of(const nb_tensor *t)
{
    return t->node ? "result" : t->requires_grad ? "parameter" : "data";
}

static void add_tensor(page_data *d, cJSON *list, const nb_tensor *t)
{
    cJSON *o = add(d, list, NULL, cJSON_CreateObject());
    if (!o)
        return;
    char name[NB__TRACE_NAME_LEN], shape[NB_SHAPE_BUF];
    add(d, o, "id", cJSON_CreateNumber(tensor_id(d, t)));
    add(d, o, "name", cJSON_CreateString(nb__name_of(&d->names, t, name)));
    add(d, o, "kind", cJSON_CreateString(kind_of(t)));
    add(d, o, "node", t->node ? cJSON_CreateNumber((double)t->node->index) : cJSON_CreateNull());
    add(d, o, "shape", shape_json(t));
    add(d, o, "shape_text", cJSON_CreateString(nb_shape_str(t, shape, sizeof shape)));
    add(d, o, "dtype", cJSON_CreateString(nb_dtype_name(t->dtype)));
    add(d, o, "size", cJSON_CreateNumber((double)t->size));
    add(d, o, "values", numbers(d, t->data, t->dtype, t->size));
    add(d, o, "stats", stats(t->data, t->dtype, t->size));
    add_text(d, o, "values_text", numbers_text(&d->text, t->data, t->dtype, t->size));
    if (!t->grad) {
        add(d, o, "grad", cJSON_CreateNull());
        return;
    }
    add(d, o, "grad", numbers(d, t->grad, t->dtype, t->size));
    add(d, o, "grad_stats", stats(t->grad, t->dtype, t->size));
    add_text(d, o, "grad_text", numbers_text(&d->text, t->grad, t->dtype, t->size));
}

/* ---- the forward pass ------------------------------------------------------ */

static char *tensor_line(const page_data *d, const nb_tensor *t)
{
    nb__text text = {0};
    nb__trace_tensor_line(&text, &d->names, &d->text, t);
    return nb__text_take(&text);
}

/* A line of nb_tape_print_values: role "in" or "out", and its text. */
static void add_value_line(page_data *d, cJSON *lines, const char *role, const nb_tensor *t)
{
    cJSON *line = add(d, lines, NULL, cJSON_CreateObject());
    if (!line)
        return;
    add(d, line, "role", cJSON_CreateString(role));
    add(d, line, "tensor", cJSON_CreateNumber(tensor_id(d, t)));
    add_text(d, line, "text", tensor_line(d, t));
}

static void add_node(page_data *d, cJSON *list, const nb_node *node)
{
    cJSON *o = add(d, list, NULL, cJSON_CreateObject());
    if (!o)
        return;
    nb__text header = {0};
    nb__trace_node_header(&header, &d->names, node);
    add(d, o, "index", cJSON_CreateNumber((double)node->index));
    add(d, o, "op", cJSON_CreateString(node->op->name));
    add(d, o, "output", cJSON_CreateNumber(tensor_id(d, node->output)));
    add_text(d, o, "header", nb__text_take(&header));
    cJSON *inputs = add(d, o, "inputs", cJSON_CreateArray());
    cJSON *lines = add(d, o, "lines", cJSON_CreateArray());
    for (int j = 0; inputs && lines && j < node->n_inputs; j++) {
        add(d, inputs, NULL, cJSON_CreateNumber(tensor_id(d, node->inputs[j])));
        add_value_line(d, lines, "in", node->inputs[j]);
    }
    if (lines)
        add_value_line(d, lines, "out", node->output);
}

/* ---- the backward sweep ------------------------------------------------------ */

static void add_step_input(page_data *d, cJSON *list, const nb__trace_input *in)
{
    cJSON *o = add(d, list, NULL, cJSON_CreateObject());
    cJSON *lines = o ? add(d, o, "lines", cJSON_CreateArray()) : NULL;
    if (!lines)
        return;
    add(d, o, "tensor", cJSON_CreateNumber(tensor_id(d, in->tensor)));
    add(d, o, "name", cJSON_CreateString(in->name));
    for (int k = 0; k < in->n_lines; k++) {
        cJSON *line = add(d, lines, NULL, cJSON_CreateObject());
        if (!line)
            return;
        add(d, line, "label",
            in->lines[k].label ? cJSON_CreateString(in->lines[k].label) : cJSON_CreateNull());
        add(d, line, "text", cJSON_CreateString(in->lines[k].text));
    }
    add(d, o, "sent", in->sent ? numbers(d, in->sent, in->tensor->dtype, in->tensor->size)
                               : cJSON_CreateNull());
}

static nb_status add_step(const nb__trace_step *step, void *ctx)
{
    page_data *d = ((void **)ctx)[0];
    cJSON *steps = ((void **)ctx)[1];
    cJSON *o = add(d, steps, NULL, cJSON_CreateObject());
    cJSON *inputs = o ? add(d, o, "inputs", cJSON_CreateArray()) : NULL;
    if (!inputs)
        return nb_error(NB_ERR_NOMEM, "nb_tape_write_html: out of memory");
    const nb_tensor *out = step->node->output;
    add(d, o, "node", cJSON_CreateNumber((double)step->node->index));
    add(d, o, "header", cJSON_CreateString(step->header));
    add(d, o, "upstream", cJSON_CreateString(step->upstream));
    add(d, o, "upstream_values", numbers(d, out->grad, out->dtype, out->size));
    for (int j = 0; j < step->node->n_inputs; j++)
        add_step_input(d, inputs, &step->inputs[j]);
    return d->ok ? NB_OK : nb_error(NB_ERR_NOMEM, "nb_tape_write_html: out of memory");
}

/* "gradients of the leaves that require one:", as the trace ends. */
static void add_leaf_grads(page_data *d, cJSON *list, size_t last)
{
    for (size_t i = 0; i <= last; i++)
        for (int j = 0; j < d->tape->nodes[i]->n_inputs; j++) {
            if (!nb__trace_is_listed_leaf(d->tape, i, j))
                continue;
            const nb_tensor *in = d->tape->nodes[i]->inputs[j];
            char name[NB__TRACE_NAME_LEN];
            nb__text t = {0};
            nb__text_printf(&t, "dL/d(%s) = ", nb__name_of(&d->names, in, name));
            nb__text_numbers(&t, &d->text, in->grad, in->dtype, in->size);
            cJSON *o = add(d, list, NULL, cJSON_CreateObject());
            if (!o) {
                nb__text_free(&t);
                return;
            }
            add(d, o, "tensor", cJSON_CreateNumber(tensor_id(d, in)));
            add_text(d, o, "text", nb__text_take(&t));
        }
}

/* The loss of the last backward: the last node whose output holds a gradient. */
static bool find_loss(const nb_tape *tape, size_t *last)
{
    for (size_t i = tape->n_nodes; i-- > 0;)
        if (tape->nodes[i]->output->grad) {
            *last = i;
            return true;
        }
    return false;
}

static nb_status add_backward(page_data *d, cJSON *root, const char *fn)
{
    size_t last;
    if (!find_loss(d->tape, &last)) {
        add(d, root, "backward", cJSON_CreateNull());
        return NB_OK;
    }
    cJSON *o = add(d, root, "backward", cJSON_CreateObject());
    cJSON *steps = o ? add(d, o, "steps", cJSON_CreateArray()) : NULL;
    cJSON *leaves = o ? add(d, o, "leaf_grads", cJSON_CreateArray()) : NULL;
    if (!steps || !leaves)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    nb__text banner = {0};
    nb__trace_backward_banner(&banner, &d->names, d->tape->nodes[last]->output);
    add_text(d, o, "banner", nb__text_take(&banner));
    add(d, o, "loss", cJSON_CreateNumber((double)last));
    void *ctx[2] = {d, steps};
    nb_status s = nb__trace_replay(d->tape, last, &d->names, &d->text, add_step, ctx, fn);
    if (s == NB_OK)
        add_leaf_grads(d, leaves, last);
    return s;
}

/* ---- the whole ------------------------------------------------------------------ */

static nb_status fill(page_data *d, cJSON *root, const char *fn)
{
    cJSON *tensors = add(d, root, "tensors", cJSON_CreateArray());
    cJSON *nodes = add(d, root, "nodes", cJSON_CreateArray());
    if (!tensors || !nodes)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    for (size_t i = 0; i < d->tape->n_nodes; i++)
        add_tensor(d, tensors, d->tape->nodes[i]->output);
    for (size_t k = 0; k < d->n_leaves; k++)
        add_tensor(d, tensors, d->leaves[k]);
    for (size_t i = 0; i < d->tape->n_nodes; i++)
        add_node(d, nodes, d->tape->nodes[i]);
    add(d, root, "max_values", cJSON_CreateNumber(d->max_values));
    nb_status s = add_backward(d, root, fn);
    if (s == NB_OK && !d->ok)
        s = nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    return s;
}

cJSON *nb__explorer_data(const nb_tape *tape, int max_values, const nb_trace_options *trace,
                         const char *fn)
{
    page_data d = {.tape = tape, .max_values = max_values, .ok = true};
    if (nb__number_format_init(&d.text, trace, fn) != NB_OK)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    nb_status s = NB_ERR_NOMEM;
    if (root && nb__namer_init(&d.names, tape, tape->n_nodes - 1) && collect_leaves(&d))
        s = fill(&d, root, fn);
    else
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    nb__namer_free(&d.names);
    nb_release(d.leaves);
    if (s != NB_OK) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}
