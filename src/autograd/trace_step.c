/* One node of a traced tape, in words and numbers (trace_internal.h).
 *
 * nb_backward's sweep lets each op add straight into its inputs' gradients,
 * so what one op contributed is lost once a tensor feeds two ops. A traced
 * step does the same work with a detour: before calling the op's backward
 * it swaps each input's gradient for a zeroed buffer of its own, so after
 * the call that buffer holds exactly what this op sent. Then it adds it into
 * the real gradient (the same additions, in the same order, as nb_backward)
 * or, replaying a backward that already ran, leaves the real one alone. */
#include <inttypes.h>
#include <string.h>

#include "autograd/trace_internal.h"

/* ---- the forward pass ---------------------------------------------------- */

void nb__trace_node_header(nb__text *t, const nb__namer *nm, const nb_node *node)
{
    char name[NB__TRACE_NAME_LEN];
    nb__text_printf(t, "[%zu] %s = %s(", node->index, nb__name_of(nm, node->output, name),
                    node->op->name);
    for (int j = 0; j < node->n_inputs; j++)
        nb__text_printf(t, "%s%s", j ? ", " : "", nb__name_of(nm, node->inputs[j], name));
    nb__text_printf(t, ")");
}

void nb__trace_tensor_line(nb__text *t, const nb__namer *nm, const nb__number_format *f,
                           const nb_tensor *x)
{
    char name[NB__TRACE_NAME_LEN], shape[NB_SHAPE_BUF];
    nb__text_printf(t, "%-8s %-8s = ", nb__name_of(nm, x, name), nb_shape_str(x, shape, sizeof shape));
    nb__text_numbers(t, f, x->data, x->dtype, x->size);
}

/* ---- what each op's backward does ------------------------------------------ */

/* The local derivative of a built-in op with respect to input i, in words.
 * `elementwise`: d out[k] / d in[k] is one number per element (or the output
 * is a scalar), so sent / upstream shows it. */
typedef struct local_rule {
    const char *op;
    const char *rule[2]; /* for input 0 and input 1 */
    bool elementwise[2];
} local_rule;

static const local_rule rules[] = {
    {"add", {"d(a + b)/da = 1", "d(a + b)/db = 1"}, {true, true}},
    {"sub", {"d(a - b)/da = 1", "d(a - b)/db = -1"}, {true, true}},
    {"mul", {"d(a b)/da = b", "d(a b)/db = a"}, {true, true}},
    {"div", {"d(a / b)/da = 1 / b", "d(a / b)/db = -a / b^2"}, {true, true}},
    {"neg", {"d(-x)/dx = -1", NULL}, {true, false}},
    {"scale", {"d(c x)/dx = c", NULL}, {true, false}},
    {"add_scalar", {"d(x + c)/dx = 1", NULL}, {true, false}},
    {"exp", {"d(e^x)/dx = e^x", NULL}, {true, false}},
    {"log", {"d(ln x)/dx = 1 / x", NULL}, {true, false}},
    {"square", {"d(x^2)/dx = 2 x", NULL}, {true, false}},
    {"sqrt", {"d(sqrt x)/dx = 1 / (2 sqrt x)", NULL}, {true, false}},
    {"abs", {"d|x|/dx = sign(x)", NULL}, {true, false}},
    {"clip", {"1 inside [low, high], else 0", NULL}, {true, false}},
    {"relu", {"d relu(x)/dx = 1 where x > 0, else 0", NULL}, {true, false}},
    {"sigmoid", {"d sigmoid(x)/dx = y (1 - y)", NULL}, {true, false}},
    {"tanh", {"d tanh(x)/dx = 1 - y^2", NULL}, {true, false}},
    {"sum", {"d sum(x)/dx_i = 1", NULL}, {true, false}},
    {"mean", {"d mean(x)/dx_i = 1 / n", NULL}, {true, false}},
    {"reshape", {"the same numbers in a new shape: 1", NULL}, {true, false}},
    {"matmul", {"C = A B, so dA = dC B^T", "C = A B, so dB = A^T dC"}, {false, false}},
    {"add_bias",
     {"d(x + b)/dx = 1", "d(x + b)/db = 1 for every row: db = dY summed over the rows"},
     {true, false}},
    {"softmax", {"dx = y * (dy - sum(dy * y)), row by row (not elementwise)", NULL},
     {false, false}},
    {"log_softmax", {"dx = dy - softmax(x) * sum(dy), row by row (not elementwise)", NULL},
     {false, false}},
};

/* The rule text for input i, or NULL (then *elementwise says whether
 * sent / upstream is still one number per element). */
static const char *rule_for(const nb_node *node, int i, bool *elementwise)
{
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++)
        if (strcmp(rules[r].op, node->op->name) == 0 && i < 2 && rules[r].rule[i]) {
            *elementwise = rules[r].elementwise[i];
            return rules[r].rule[i];
        }
    /* a custom op: the ratio is meaningful when shapes match one to one */
    *elementwise = node->inputs[i]->size == node->output->size || node->output->size == 1;
    return NULL;
}

/* ---- running the step: the detour ------------------------------------------ */

static void add_into(void *dst, const void *src, nb_dtype dtype, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (dtype == NB_F32)
            ((float *)dst)[i] += ((const float *)src)[i];
        else
            ((double *)dst)[i] += ((const double *)src)[i];
    }
}

/* Point every input that wants a gradient at a zeroed buffer of its own. */
static nb_status detour_begin(nb__trace_step *step, const char *fn)
{
    nb_node *node = step->node;
    for (int j = 0; j < node->n_inputs; j++) {
        nb_tensor *in = node->inputs[j];
        step->first[j] = j;
        for (int k = 0; k < j; k++)
            if (node->inputs[k] == in && step->first[j] == j)
                step->first[j] = k;
        if (!in->requires_grad || step->first[j] != j)
            continue;
        step->sent[j] = nb_alloc_zeroed((size_t)in->size * nb_dtype_size(in->dtype));
        if (!step->sent[j])
            return nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        step->real[j] = in->grad;
        in->grad = step->sent[j];
    }
    return NB_OK;
}

/* Put the real gradients back, adding what was sent (when add is true). */
static nb_status detour_end(nb__trace_step *step, bool add)
{
    nb_node *node = step->node;
    nb_status s = NB_OK;
    for (int j = 0; j < node->n_inputs; j++) {
        nb_tensor *in = node->inputs[j];
        if (!step->sent[j])
            continue;
        in->grad = step->real[j];
        if (add && s == NB_OK) {
            void *grad = nb__ensure_grad(in);
            if (grad)
                add_into(grad, step->sent[j], in->dtype, in->size);
            else
                s = NB_ERR_NOMEM;
        }
    }
    return s;
}

nb_status nb__trace_step_run(nb__trace_step *step, nb_node *node, bool add, const char *fn)
{
    *step = (nb__trace_step){.node = node};
    unsigned long failures = nb__grad_alloc_failures;
    nb_status s = detour_begin(step, fn);
    if (s == NB_OK)
        s = node->op->backward(node);
    if (s == NB_OK && nb__grad_alloc_failures != failures)
        s = NB_ERR_NOMEM; /* as nb_backward: a gradient was skipped, its message is set */
    nb_status end = detour_end(step, add && s == NB_OK);
    if (add && s == NB_OK && end == NB_OK && nb__anomaly_enabled)
        end = nb__anomaly_check_backward(node); /* as nb_backward, on the real grads */
    return s != NB_OK ? s : end;
}

void nb__trace_step_free(nb__trace_step *step)
{
    nb_release(step->header);
    nb_release(step->upstream);
    for (int j = 0; j < NB_MAX_INPUTS; j++) {
        for (int k = 0; k < step->inputs[j].n_lines; k++)
            nb_release(step->inputs[j].lines[k].text);
        nb_release(step->sent[j]);
    }
    *step = (nb__trace_step){0};
}

/* ---- describing the step ----------------------------------------------------- */

/* Start a new line labelled `label` (NULL: a note) for input `in`. */
static nb__text *line_begin(nb__trace_input *in, const char *label, nb__text *t)
{
    in->lines[in->n_lines].label = label;
    *t = (nb__text){0};
    return t;
}

static void line_end(nb__trace_input *in, nb__text *t)
{
    in->lines[in->n_lines++].text = nb__text_take(t);
}

/* local[i] = sent[i] / upstream[i] (upstream[0] when the output is a scalar);
 * "-" where the upstream gradient is 0 and the ratio says nothing. */
static void text_ratios(nb__text *t, const nb__number_format *f, const nb_tensor *out,
                        const void *sent, const nb_tensor *in)
{
    nb__text_printf(t, "[");
    for (int64_t i = 0; i < in->size; i++) {
        if (i == f->max_values) {
            nb__text_printf(t, ", ... (%" PRId64 " values)", in->size);
            break;
        }
        double g = nb__value_at(out->grad, out->dtype, out->size == 1 ? 0 : i);
        double s = nb__value_at(sent, in->dtype, i);
        nb__text_printf(t, "%s", i ? ", " : "");
        if (g == 0)
            nb__text_printf(t, "-");
        else
            nb__text_printf(t, "%.*g", f->precision, s / g == 0 ? 0.0 : s / g);
    }
    nb__text_printf(t, "]");
}

/* matmul's local derivative, as numbers: for C = A B, dA = dC B^T and
 * dB = A^T dC, so the factor is the other operand, transposed:
 * "B^T = W2^T [1, 2] = [0.5, -0.5]" (row-major, as everywhere). */
static void text_matmul_local(nb__text *t, const nb__namer *nm, const nb__number_format *f,
                              const nb_node *node, int j)
{
    const nb_tensor *other = node->inputs[1 - j];
    int64_t rows = other->shape[1], cols = other->shape[0]; /* of the transpose */
    char name[NB__TRACE_NAME_LEN];
    nb__text_printf(t, "%s^T = %s^T [%" PRId64 ", %" PRId64 "] = [", j == 0 ? "B" : "A",
                    nb__name_of(nm, other, name), rows, cols);
    for (int64_t k = 0; k < other->size; k++) {
        if (k == f->max_values) {
            nb__text_printf(t, ", ... (%" PRId64 " values)", other->size);
            break;
        }
        double v = nb__value_at(other->data, other->dtype, (k % cols) * rows + k / cols);
        nb__text_printf(t, "%s%.*g", k ? ", " : "", f->precision, v == 0 ? 0.0 : v);
    }
    nb__text_printf(t, "]");
}

/* The lines of an input that received a gradient from this op. */
static void describe_sent(nb__trace_step *step, int j, const nb__namer *nm,
                          const nb__number_format *f, const void *total)
{
    const nb_node *node = step->node;
    const nb_tensor *in = node->inputs[j], *out = node->output;
    nb__trace_input *ti = &step->inputs[j];
    char out_name[NB__TRACE_NAME_LEN];
    nb__name_of(nm, out, out_name);
    bool elementwise, repeated = false;
    const char *rule = rule_for(node, j, &elementwise);
    for (int k = j + 1; k < node->n_inputs; k++)
        repeated = repeated || step->first[k] == j;
    nb__text t;
    if (rule) {
        nb__text_printf(line_begin(ti, "rule", &t), "%s", rule);
        line_end(ti, &t);
    }
    if (strcmp(node->op->name, "matmul") == 0 && !repeated && node->n_inputs == 2 &&
        node->inputs[1 - j]->rank == 2) {
        text_matmul_local(line_begin(ti, "local", &t), nm, f, node, j);
        line_end(ti, &t);
    }
    if (strcmp(node->op->name, "add_bias") == 0 && j == 1 && !repeated) {
        int64_t rows = out->size / in->size;
        nb__text_printf(line_begin(ti, "local", &t), "1 for each row (%" PRId64 " row%s here), summed",
                        rows, rows == 1 ? "" : "s");
        line_end(ti, &t);
    }
    if (elementwise && !repeated) {
        nb__text_printf(line_begin(ti, "local", &t), "d(%s)/d(%s) = ", out_name, ti->name);
        text_ratios(&t, f, out, step->sent[j], in);
        nb__text_printf(&t, "  (sent / upstream)");
        line_end(ti, &t);
    }
    nb__text_printf(line_begin(ti, "sends", &t), "dL/d(%s) = ", ti->name);
    nb__text_numbers(&t, f, step->sent[j], in->dtype, in->size);
    nb__text_printf(&t, "%s", repeated ? "  (for all its uses as an input here)" : "");
    line_end(ti, &t);
    if (total) { /* an intermediate that already got gradient from a later op */
        nb__text_printf(line_begin(ti, "total", &t), "dL/d(%s) = ", ti->name);
        nb__text_numbers(&t, f, total, in->dtype, in->size);
        line_end(ti, &t);
    }
}

static void describe_input(nb__trace_step *step, int j, const nb__namer *nm,
                           const nb__number_format *f, const void *total)
{
    nb__trace_input *ti = &step->inputs[j];
    ti->tensor = step->node->inputs[j];
    nb__name_of(nm, ti->tensor, ti->name);
    nb__text t;
    if (!ti->tensor->requires_grad) {
        nb__text_printf(line_begin(ti, NULL, &t), "needs no gradient (data or a constant)");
        line_end(ti, &t);
    } else if (step->first[j] != j) {
        nb__text_printf(line_begin(ti, NULL, &t), "is input %d again: its gradient is shown there",
                        step->first[j]);
        line_end(ti, &t);
    } else {
        ti->sent = step->sent[j];
        describe_sent(step, j, nm, f, total);
    }
}

nb_status nb__trace_step_describe(nb__trace_step *step, const nb__namer *nm,
                                  const nb__number_format *f, const void *const *totals)
{
    const nb_node *node = step->node;
    char name[NB__TRACE_NAME_LEN];
    nb__text t = {0};
    nb__trace_node_header(&t, nm, node);
    step->header = nb__text_take(&t);
    nb__text_printf(&t, "dL/d(%s) = ", nb__name_of(nm, node->output, name));
    nb__text_numbers(&t, f, node->output->grad, node->output->dtype, node->output->size);
    step->upstream = nb__text_take(&t);
    bool ok = step->header && step->upstream;
    for (int j = 0; j < node->n_inputs; j++) {
        describe_input(step, j, nm, f, totals ? totals[j] : NULL);
        for (int k = 0; k < step->inputs[j].n_lines; k++)
            ok = ok && step->inputs[j].lines[k].text;
    }
    return ok ? NB_OK : NB_ERR_NOMEM;
}

/* ---- around the sweep ------------------------------------------------------------ */

void nb__trace_backward_banner(nb__text *t, const nb__namer *nm, const nb_tensor *loss)
{
    char name[NB__TRACE_NAME_LEN];
    nb__name_of(nm, loss, name);
    nb__text_printf(t, "backward: L = %s, seeded with dL/d(%s) = 1; ops in reverse tape order",
                    name, name);
}

bool nb__trace_is_listed_leaf(const nb_tape *tape, size_t i, int j)
{
    const nb_tensor *in = tape->nodes[i]->inputs[j];
    if (in->node || !in->requires_grad || !in->grad)
        return false;
    for (size_t k = 0; k <= i; k++)
        for (int m = 0; m < tape->nodes[k]->n_inputs; m++)
            if ((k < i || m < j) && tape->nodes[k]->inputs[m] == in)
                return false;
    return true;
}

/* ---- replaying a sweep that already ran --------------------------------------- */

/* The "total" lines: an intermediate's gradient so far is the sum of what
 * the ops after it sent, added in the same order (and dtype) as the trace
 * added them. running[k] is node k's output's sum so far, NULL before the
 * first op sent to it. */
static nb_status replay_totals(nb__trace_step *step, void **running, const void **totals,
                               const char *fn)
{
    const nb_node *node = step->node;
    for (int j = 0; j < node->n_inputs; j++) {
        const nb_tensor *in = node->inputs[j];
        totals[j] = NULL;
        if (!step->sent[j] || !in->node)
            continue;
        void **sum = &running[in->node->index];
        bool had = *sum != NULL;
        if (!had && !(*sum = nb_alloc_zeroed((size_t)in->size * nb_dtype_size(in->dtype))))
            return nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        add_into(*sum, step->sent[j], in->dtype, in->size);
        totals[j] = had ? *sum : NULL;
    }
    return NB_OK;
}

nb_status nb__trace_replay(const nb_tape *tape, size_t last, const nb__namer *nm,
                           const nb__number_format *f, nb__trace_visit visit, void *ctx,
                           const char *fn)
{
    void **running = nb_alloc_zeroed((last + 1) * sizeof *running);
    if (!running)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    nb_status s = NB_OK;
    for (size_t i = last + 1; i-- > 0 && s == NB_OK;) {
        nb_node *node = tape->nodes[i];
        if (!node->output->grad)
            continue; /* does not lead to the loss */
        nb__trace_step step;
        const void *totals[NB_MAX_INPUTS];
        s = nb__trace_step_run(&step, node, false, fn);
        if (s == NB_OK)
            s = replay_totals(&step, running, totals, fn);
        if (s == NB_OK)
            s = nb__trace_step_describe(&step, nm, f, totals);
        if (s == NB_OK)
            s = visit(&step, ctx);
        nb__trace_step_free(&step);
    }
    for (size_t i = 0; i <= last; i++)
        nb_release(running[i]);
    nb_release(running);
    return s;
}
