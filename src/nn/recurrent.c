/* The recurrent layers' shared unrolling, SimpleRNN's cell, and
 * RepeatVector. A forward projects the inputs of every step at once
 * (x W + b, one product), then runs the cell step by step on the tape; the
 * backward of the ops it recorded is backpropagation through time. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"
#include "nabla/ops.h"
#include "nn/layers_internal.h"
#include "nn/recurrent_internal.h"

/* ---- shared helpers for the cells --------------------------------------- */

nb_tensor *nb__rnn_gate(nb_tape *tape, nb_tensor *z, int gate, int64_t units)
{
    return nb_slice(tape, z, 1, gate * units, (gate + 1) * units);
}

nb_tensor *nb__rnn_init_bias(nb_initializer init, nb_dtype dtype, int rank, int64_t rows,
                             int64_t units, nb_rng *rng)
{
    nb_tensor *values = nb_initialize(init, dtype, rows, units, rng);
    nb_tensor *bias = values ? nb_tensor_zeros(dtype, rank, rank == 1 ? (int64_t[]){units}
                                                                 : (int64_t[]){rows, units})
                             : NULL;
    if (bias)
        nb_tensor_copy_data(bias, values);
    nb_tensor_free(values);
    return bias;
}

/* ---- build --------------------------------------------------------------- */

static nb_status add_initialized(nb_layer *self, const char *name, nb_tensor *t)
{
    if (!t || nb_layer_add_param(self, name, t) != NB_OK) {
        nb_tensor_free(t);
        return nb_last_status();
    }
    return NB_OK;
}

nb_status nb__rnn_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    const nb__rnn_state *s = self->state;
    if (in_rank != 2) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "%s layer '%s': samples of shape %s: expected [time, "
                        "features] (inputs [batch, time, features])", self->cls->type,
                        self->name, nb__dims_str(in_rank, in_shape, buf, sizeof buf));
    }
    int64_t units = s->options.units, width = s->cell->gates * units;
    nb_status status = add_initialized(self, "kernel", nb_initialize(s->options.kernel_initializer,
                                                                     self->dtype, in_shape[1],
                                                                     width, rng));
    if (status == NB_OK)
        status = add_initialized(self, "recurrent_kernel",
                                 nb_initialize(s->options.recurrent_initializer, self->dtype,
                                               units, width, rng));
    if (status == NB_OK)
        status = add_initialized(self, "bias", s->cell->make_bias(s, self->dtype, rng));
    if (status != NB_OK)
        return status;
    self->out_rank = s->options.return_sequences ? 2 : 1;
    self->out_shape[0] = s->options.return_sequences ? in_shape[0] : units;
    self->out_shape[1] = units;
    return NB_OK;
}

/* ---- forward ------------------------------------------------------------- */

/* x [batch, time, features] -> x W + b [time * batch, gates * units], time
 * major, so that step t's rows are the contiguous block t * batch. */
static nb_tensor *project_inputs(nb_layer *self, nb_tape *tape, nb_tensor *x)
{
    const nb__rnn_state *s = self->state;
    int64_t rows[2] = {x->shape[0] * x->shape[1], x->shape[2]};
    nb_tensor *time_major = nb_transpose(tape, x, (int[]){1, 0, 2});
    nb_tensor *xw = nb_matmul(tape, nb_reshape(tape, time_major, 2, rows),
                              self->params[RNN_KERNEL]);
    return nb_add(tape, xw, s->cell->input_bias(tape, self));
}

static nb_status reserve_steps(nb__rnn_state *s, int64_t n)
{
    if (n <= s->steps_capacity)
        return NB_OK;
    nb_tensor **steps = nb_alloc((size_t)n * sizeof *steps);
    if (!steps)
        return nb_error(NB_ERR_NOMEM, "recurrent layer: out of memory for %" PRId64 " steps", n);
    nb_release(s->steps);
    s->steps = steps;
    s->steps_capacity = n;
    return NB_OK;
}

/* Copy the final states for nb_recurrent_state (return_state). */
static nb_status keep_final_states(nb__rnn_state *s, nb_tensor *const states[])
{
    for (int i = 0; i < s->cell->n_states; i++) {
        nb_tensor *kept = s->final_states[i];
        if (!kept || !nb_same_shape(kept, states[i])) {
            nb_tensor_free(kept);
            kept = s->final_states[i] = nb_tensor_zeros(states[i]->dtype, states[i]->rank,
                                                        states[i]->shape);
            if (!kept)
                return nb_last_status();
        }
        nb_status status = nb_tensor_copy_data(kept, states[i]);
        if (status != NB_OK)
            return status;
    }
    return NB_OK;
}

nb_tensor *nb__rnn_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                           nb_rng *rng)
{
    (void)training;
    (void)rng;
    nb__rnn_state *s = self->state;
    int64_t batch = x->shape[0], time = x->shape[1], units = s->options.units;
    bool sequences = s->options.return_sequences;
    if (sequences && reserve_steps(s, time) != NB_OK)
        return NULL;
    nb_tensor *xw = project_inputs(self, tape, x);
    nb_tensor *states[RNN_MAX_STATES] = {NULL, NULL};
    for (int i = 0; i < s->cell->n_states; i++)
        states[i] = nb_tape_tensor(tape, self->dtype, NB_SHAPE(batch, units));
    for (int64_t t = 0; t < time; t++) {
        nb_tensor *step_xw = nb_slice(tape, xw, 0, t * batch, (t + 1) * batch);
        if (!step_xw || s->cell->step(tape, self, step_xw, states, t == 0) != NB_OK)
            return NULL;
        if (sequences)
            s->steps[t] = states[0];
    }
    if (s->options.return_state && keep_final_states(s, states) != NB_OK)
        return NULL;
    return sequences ? nb_stack(tape, (int)time, s->steps, 1) : states[0];
}

/* ---- config -------------------------------------------------------------- */

nb_status nb__rnn_config(const nb_layer *self, cJSON *json)
{
    const nb__rnn_state *s = self->state;
    const nb_recurrent_options *o = &s->options;
    bool ok = cJSON_AddNumberToObject(json, "units", (double)o->units) &&
              cJSON_AddStringToObject(json, "activation", nb_activation_name(o->activation)) &&
              cJSON_AddBoolToObject(json, "return_sequences", o->return_sequences) &&
              cJSON_AddBoolToObject(json, "return_state", o->return_state) &&
              cJSON_AddStringToObject(json, "kernel_initializer",
                                      nb_initializer_name(o->kernel_initializer)) &&
              cJSON_AddStringToObject(json, "recurrent_initializer",
                                      nb_initializer_name(o->recurrent_initializer)) &&
              cJSON_AddStringToObject(json, "bias_initializer",
                                      nb_initializer_name(o->bias_initializer));
    if (ok && s->cell->gates > 1)
        ok = cJSON_AddStringToObject(json, "recurrent_activation",
                                     nb_activation_name(o->recurrent_activation));
    if (ok && s->cell == &nb__lstm_cell)
        ok = cJSON_AddBoolToObject(json, "unit_forget_bias", !o->no_unit_forget_bias);
    if (ok && s->cell == &nb__gru_cell)
        ok = cJSON_AddBoolToObject(json, "reset_after", true);
    return ok ? NB_OK : nb_error(NB_ERR_NOMEM, "%s layer '%s': out of memory for its config",
                                 self->cls->type, self->name);
}

/* An activation or initializer entry of a config; absent keeps *out. */
static bool config_name(const cJSON *json, const char *key, bool activation, int *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);
    if (!item)
        return true;
    const char *name = cJSON_GetStringValue(item);
    if (activation) {
        nb_activation a;
        if (nb_activation_from_name(name, &a) != NB_OK)
            return false;
        if (a == NB_LINEAR) { /* 0 would mean the default */
            nb_error(NB_ERR_FORMAT, "recurrent layer config: \"%s\" is linear: recurrent "
                     "layers offer no linear activation", key);
            return false;
        }
        *out = (int)a;
    } else {
        nb_initializer init;
        if (nb_initializer_from_name(name, &init) != NB_OK)
            return false;
        *out = (int)init;
    }
    return true;
}

nb_layer *nb__rnn_from_config(const nb__rnn_cell *cell, const cJSON *json)
{
    const char *type = cell->cls->type;
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(json, "units");
    if (!cJSON_IsNumber(units) || units->valuedouble < 1 || units->valuedouble > 1e9 ||
        units->valuedouble != (double)(int64_t)units->valuedouble) {
        nb_error(NB_ERR_FORMAT, "%s config: \"units\" is missing or not a positive integer", type);
        return NULL;
    }
    int activation = 0, recurrent = 0, kernel = 0, rec_init = 0, bias = 0;
    if (!config_name(json, "activation", true, &activation) ||
        !config_name(json, "recurrent_activation", true, &recurrent) ||
        !config_name(json, "kernel_initializer", false, &kernel) ||
        !config_name(json, "recurrent_initializer", false, &rec_init) ||
        !config_name(json, "bias_initializer", false, &bias))
        return NULL;
    const cJSON *reset_after = cJSON_GetObjectItemCaseSensitive(json, "reset_after");
    if (cJSON_IsFalse(reset_after)) {
        nb_error(NB_ERR_FORMAT, "%s config: reset_after is false: only reset_after=True "
                 "(Keras 2.3+'s default) is supported", type);
        return NULL;
    }
    nb_recurrent_options o = {
        .units = (int64_t)units->valuedouble,
        .activation = (nb_activation)activation,
        .recurrent_activation = (nb_activation)recurrent,
        .return_sequences = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "return_sequences")),
        .return_state = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "return_state")),
        .kernel_initializer = (nb_initializer)kernel,
        .recurrent_initializer = (nb_initializer)rec_init,
        .bias_initializer = (nb_initializer)bias,
        .no_unit_forget_bias = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(json, "unit_forget_bias")),
    };
    return nb__rnn_new(type, cell, &o);
}

/* ---- creation, state, destruction ---------------------------------------- */

void nb__rnn_destroy(nb_layer *self)
{
    nb__rnn_state *s = self->state;
    for (int i = 0; i < RNN_MAX_STATES; i++)
        nb_tensor_free(s->final_states[i]);
    nb_release(s->steps);
    nb_release(s);
}

static bool valid_initializer(nb_initializer init)
{
    return (unsigned)init <= NB_ORTHOGONAL;
}

nb_layer *nb__rnn_new(const char *fn, const nb__rnn_cell *cell,
                      const nb_recurrent_options *options)
{
    if (!options) {
        nb_error(NB_ERR_NULL, "%s: options is NULL", fn);
        return NULL;
    }
    const nb_recurrent_options *o = options;
    if (o->units < 1) {
        nb_error(NB_ERR_ARG, "%s: units is %" PRId64 ": expected at least 1", fn, o->units);
        return NULL;
    }
    if ((unsigned)o->activation >= NB_ACTIVATION_COUNT ||
        (unsigned)o->recurrent_activation >= NB_ACTIVATION_COUNT) {
        nb_error(NB_ERR_ARG, "%s: activation %d is not an nb_activation", fn,
                 (unsigned)o->activation >= NB_ACTIVATION_COUNT ? (int)o->activation
                                                                : (int)o->recurrent_activation);
        return NULL;
    }
    if (!valid_initializer(o->kernel_initializer) || !valid_initializer(o->recurrent_initializer) ||
        !valid_initializer(o->bias_initializer)) {
        nb_error(NB_ERR_ARG, "%s: an initializer (%d, %d, %d) is not an nb_initializer", fn,
                 (int)o->kernel_initializer, (int)o->recurrent_initializer,
                 (int)o->bias_initializer);
        return NULL;
    }
    nb__rnn_state *s = nb_alloc_zeroed(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    s->cell = cell;
    s->options = *o;
    /* resolve the defaults now, so the config names what was used */
    nb_recurrent_options *r = &s->options;
    if (r->activation == NB_LINEAR)
        r->activation = NB_TANH;
    if (r->recurrent_activation == NB_LINEAR)
        r->recurrent_activation = NB_SIGMOID;
    if (r->kernel_initializer == NB_INIT_DEFAULT)
        r->kernel_initializer = NB_GLOROT_UNIFORM;
    if (r->recurrent_initializer == NB_INIT_DEFAULT)
        r->recurrent_initializer = NB_ORTHOGONAL;
    if (r->bias_initializer == NB_INIT_DEFAULT)
        r->bias_initializer = NB_ZEROS;
    nb_layer *layer = nb_layer_new(cell->cls, NULL, s);
    if (!layer)
        nb_release(s);
    return layer;
}

static bool is_recurrent(const nb_layer *layer)
{
    return layer->cls == &nb__simple_rnn_class || layer->cls == &nb__lstm_class ||
           layer->cls == &nb__gru_class;
}

const nb_tensor *nb_recurrent_state(const nb_layer *layer, int i)
{
    const char *fn = "nb_recurrent_state";
    if (!layer) {
        nb_error(NB_ERR_NULL, "%s: layer is NULL", fn);
        return NULL;
    }
    if (!is_recurrent(layer)) {
        nb_error(NB_ERR_ARG, "%s: layer '%s' is a %s: expected SimpleRNN, LSTM or GRU", fn,
                 layer->name, layer->cls->type);
        return NULL;
    }
    const nb__rnn_state *s = layer->state;
    if (!s->options.return_state) {
        nb_error(NB_ERR_STATE, "%s: %s layer '%s' was made without return_state: it keeps no "
                 "states", fn, layer->cls->type, layer->name);
        return NULL;
    }
    if (i < 0 || i >= s->cell->n_states) {
        nb_error(NB_ERR_ARG, "%s: state %d of %s layer '%s': expected 0%s", fn, i,
                 layer->cls->type, layer->name, s->cell->n_states > 1 ? " (h) or 1 (c)" : " (h)");
        return NULL;
    }
    if (!s->final_states[i]) {
        nb_error(NB_ERR_STATE, "%s: %s layer '%s' has not run forward yet", fn, layer->cls->type,
                 layer->name);
        return NULL;
    }
    return s->final_states[i];
}

/* ---- SimpleRNN: h = tanh(x W + b + h U) ---------------------------------- */

static nb_tensor *simple_make_bias(const nb__rnn_state *s, nb_dtype dtype, nb_rng *rng)
{
    return nb__rnn_init_bias(s->options.bias_initializer, dtype, 1, 1, s->options.units, rng);
}

static nb_tensor *whole_bias(nb_tape *tape, const nb_layer *self)
{
    (void)tape;
    return self->params[RNN_BIAS];
}

static nb_status simple_step(nb_tape *tape, const nb_layer *self, nb_tensor *xw,
                             nb_tensor *states[], bool first)
{
    const nb__rnn_state *s = self->state;
    nb_tensor *z = first ? xw
                         : nb_add(tape, xw, nb_matmul(tape, states[0],
                                                      self->params[RNN_RECURRENT_KERNEL]));
    states[0] = nb_activate(tape, z, s->options.activation);
    return states[0] ? NB_OK : nb_last_status();
}

static nb_layer *simple_from_config(const cJSON *json)
{
    return nb__rnn_from_config(&nb__simple_rnn_cell, json);
}

const nb_layer_class nb__simple_rnn_class = {
    .type = "SimpleRNN",
    .build = nb__rnn_build,
    .forward = nb__rnn_forward,
    .config = nb__rnn_config,
    .destroy = nb__rnn_destroy,
    .from_config = simple_from_config,
};

const nb__rnn_cell nb__simple_rnn_cell = {
    .cls = &nb__simple_rnn_class,
    .gates = 1,
    .n_states = 1,
    .make_bias = simple_make_bias,
    .input_bias = whole_bias,
    .step = simple_step,
};

nb_layer *nb_simple_rnn_with(const nb_recurrent_options *options)
{
    return nb__rnn_new("nb_simple_rnn", &nb__simple_rnn_cell, options);
}

nb_layer *nb_simple_rnn(int64_t units)
{
    return nb_simple_rnn_with(&(nb_recurrent_options){.units = units});
}

/* ---- RepeatVector: [batch, features] -> [batch, n, features] ------------- */

typedef struct repeat_state {
    int64_t n;
} repeat_state;

static nb_status repeat_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    (void)rng;
    const repeat_state *s = self->state;
    if (in_rank != 1) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "RepeatVector layer '%s': samples of shape %s: expected "
                        "[features] (inputs [batch, features])", self->name,
                        nb__dims_str(in_rank, in_shape, buf, sizeof buf));
    }
    self->out_rank = 2;
    self->out_shape[0] = s->n;
    self->out_shape[1] = in_shape[0];
    return NB_OK;
}

/* A broadcast: its backward sums the n copies' gradients. */
static nb_tensor *repeat_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                 nb_rng *rng)
{
    (void)training;
    (void)rng;
    const repeat_state *s = self->state;
    return nb_broadcast_to(tape, nb_expand_dims(tape, x, 1), 3,
                           (int64_t[]){x->shape[0], s->n, x->shape[1]});
}

static nb_status repeat_config(const nb_layer *self, cJSON *json)
{
    const repeat_state *s = self->state;
    return cJSON_AddNumberToObject(json, "n", (double)s->n)
               ? NB_OK
               : nb_error(NB_ERR_NOMEM, "RepeatVector layer '%s': out of memory for its config",
                          self->name);
}

static void repeat_destroy(nb_layer *self) { nb_release(self->state); }

static nb_layer *repeat_from_config(const cJSON *json)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(json, "n");
    if (!cJSON_IsNumber(n) || n->valuedouble < 1 || n->valuedouble > 1e9 ||
        n->valuedouble != (double)(int64_t)n->valuedouble) {
        nb_error(NB_ERR_FORMAT, "RepeatVector config: \"n\" is missing or not a positive integer");
        return NULL;
    }
    return nb_repeat_vector((int64_t)n->valuedouble);
}

const nb_layer_class nb__repeat_vector_class = {
    .type = "RepeatVector",
    .build = repeat_build,
    .forward = repeat_forward,
    .config = repeat_config,
    .destroy = repeat_destroy,
    .from_config = repeat_from_config,
};

nb_layer *nb_repeat_vector(int64_t n)
{
    if (n < 1) {
        nb_error(NB_ERR_ARG, "nb_repeat_vector: n is %" PRId64 ": expected at least 1", n);
        return NULL;
    }
    repeat_state *s = nb_alloc(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "nb_repeat_vector: out of memory");
        return NULL;
    }
    s->n = n;
    nb_layer *layer = nb_layer_new(&nb__repeat_vector_class, NULL, s);
    if (!layer)
        nb_release(s);
    return layer;
}
