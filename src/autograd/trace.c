/* Traces of a tape for teaching: the forward values, and a backward sweep
 * that shows what every op sends to every input.
 *
 * nb_backward's sweep lets each op add straight into its inputs' gradients,
 * so what one op contributed is lost once a tensor feeds two ops. The traced
 * sweep below does the same work one node at a time with a detour: before
 * calling the op's backward it swaps each input's gradient for a zeroed
 * buffer of its own, so after the call that buffer holds exactly what this
 * op sent. It prints it, then adds it into the real gradient. The result is
 * the same as nb_backward's (the same additions, in the same order), and so
 * are the checks after each op (skipped gradients, anomaly detection). */
#include "nabla/trace.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_MAX_VALUES 8
#define DEFAULT_PRECISION 6
#define NAME_LEN 48
#define INDENT 18 /* column of the rule, local and sends lines */

/* ---- naming tensors ----------------------------------------------------- */

/* Names for unnamed tensors: "t<i>" for the output of node i, "leaf<k>" for
 * the k-th unnamed leaf in order of first use. */
typedef struct namer {
    const nb_tensor **leaves;
    size_t n, cap;
} namer;

static bool namer_add_leaf(namer *nm, const nb_tensor *t)
{
    if (t->node || t->name[0])
        return true;
    for (size_t i = 0; i < nm->n; i++)
        if (nm->leaves[i] == t)
            return true;
    if (nm->n == nm->cap) {
        size_t cap = nm->cap ? 2 * nm->cap : 16;
        const nb_tensor **grown = nb_alloc(cap * sizeof *grown);
        if (!grown) {
            nb_error(NB_ERR_NOMEM, "nabla trace: out of memory for tensor names");
            return false;
        }
        if (nm->n)
            memcpy(grown, nm->leaves, nm->n * sizeof *grown);
        nb_release(nm->leaves);
        nm->leaves = grown;
        nm->cap = cap;
    }
    nm->leaves[nm->n++] = t;
    return true;
}

/* Number the unnamed leaves of nodes 0..last. */
static bool namer_init(namer *nm, const nb_tape *tape, size_t last)
{
    *nm = (namer){0};
    for (size_t i = 0; i <= last && i < tape->n_nodes; i++)
        for (int j = 0; j < tape->nodes[i]->n_inputs; j++)
            if (!namer_add_leaf(nm, tape->nodes[i]->inputs[j]))
                return false;
    return true;
}

static const char *name_of(const namer *nm, const nb_tensor *t, char *buf)
{
    if (t->name[0]) {
        snprintf(buf, NAME_LEN, "%s", t->name);
        return buf;
    }
    if (t->node) {
        snprintf(buf, NAME_LEN, "t%zu", t->node->index);
        return buf;
    }
    for (size_t i = 0; i < nm->n; i++)
        if (nm->leaves[i] == t) {
            snprintf(buf, NAME_LEN, "leaf%zu", i);
            return buf;
        }
    snprintf(buf, NAME_LEN, "leaf");
    return buf;
}

/* ---- printing numbers ------------------------------------------------------ */

typedef struct printer {
    FILE *out;
    int max_values, precision;
    namer names;
} printer;

static nb_status printer_init(printer *p, FILE *out, const nb_trace_options *options,
                              const char *fn)
{
    nb_trace_options o = options ? *options : (nb_trace_options){0};
    if (o.max_values < 0 || o.precision < 0)
        return nb_error(NB_ERR_ARG, "%s: max_values is %d and precision %d: expected >= 0", fn,
                        o.max_values, o.precision);
    *p = (printer){out, o.max_values ? o.max_values : DEFAULT_MAX_VALUES,
                   o.precision ? o.precision : DEFAULT_PRECISION, {0}};
    if (p->precision > 17)
        p->precision = 17;
    return NB_OK;
}

static double value_at(const void *data, nb_dtype dtype, int64_t i)
{
    return dtype == NB_F32 ? ((const float *)data)[i] : ((const double *)data)[i];
}

/* "[a, b, c, ...]" of the first max_values numbers; -0 prints as 0. */
static void print_numbers(const printer *p, const void *data, nb_dtype dtype, int64_t n)
{
    fputc('[', p->out);
    for (int64_t i = 0; i < n; i++) {
        if (i == p->max_values) {
            fprintf(p->out, ", ... (%" PRId64 " values)", n);
            break;
        }
        double v = value_at(data, dtype, i);
        fprintf(p->out, "%s%.*g", i ? ", " : "", p->precision, v == 0 ? 0.0 : v);
    }
    fputc(']', p->out);
}

/* local[i] = sent[i] / upstream[i] (upstream[0] when the output is a scalar);
 * "-" where the upstream gradient is 0 and the ratio says nothing. */
static void print_ratios(const printer *p, const nb_tensor *out, const void *sent,
                         const nb_tensor *in)
{
    fputc('[', p->out);
    for (int64_t i = 0; i < in->size; i++) {
        if (i == p->max_values) {
            fprintf(p->out, ", ... (%" PRId64 " values)", in->size);
            break;
        }
        double g = value_at(out->grad, out->dtype, out->size == 1 ? 0 : i);
        double s = value_at(sent, in->dtype, i);
        fputs(i ? ", " : "", p->out);
        if (g == 0)
            fputc('-', p->out);
        else
            fprintf(p->out, "%.*g", p->precision, s / g == 0 ? 0.0 : s / g);
    }
    fputc(']', p->out);
}

/* "name [2, 3]" */
static void print_tensor_label(const printer *p, const nb_tensor *t, int width)
{
    char name[NAME_LEN], shape[NB_SHAPE_BUF];
    fprintf(p->out, "%-*s %-8s", width, name_of(&p->names, t, name),
            nb_shape_str(t, shape, sizeof shape));
}

/* ---- forward ----------------------------------------------------------------- */

/* "[3] t3 = matmul(h, W2)" */
static void print_node_header(const printer *p, const nb_node *node)
{
    char name[NAME_LEN];
    fprintf(p->out, "[%zu] %s = %s(", node->index, name_of(&p->names, node->output, name),
            node->op->name);
    for (int j = 0; j < node->n_inputs; j++)
        fprintf(p->out, "%s%s", j ? ", " : "", name_of(&p->names, node->inputs[j], name));
    fputs(")\n", p->out);
}

nb_status nb_tape_print_values(const nb_tape *tape, FILE *out, const nb_trace_options *options)
{
    if (!tape || !out)
        return nb_error(NB_ERR_NULL, "nb_tape_print_values: %s is NULL", tape ? "out" : "tape");
    printer p;
    nb_status s = printer_init(&p, out, options, "nb_tape_print_values");
    if (s != NB_OK)
        return s;
    if (tape->n_nodes && !namer_init(&p.names, tape, tape->n_nodes - 1))
        return NB_ERR_NOMEM;
    fprintf(out, "forward: %zu op%s in tape order\n", tape->n_nodes,
            tape->n_nodes == 1 ? "" : "s");
    for (size_t i = 0; i < tape->n_nodes; i++) {
        const nb_node *node = tape->nodes[i];
        print_node_header(&p, node);
        for (int j = 0; j < node->n_inputs; j++) {
            const nb_tensor *in = node->inputs[j];
            fputs("    in   ", out);
            print_tensor_label(&p, in, 8);
            fputs(" = ", out);
            print_numbers(&p, in->data, in->dtype, in->size);
            fputc('\n', out);
        }
        fputs("    out  ", out);
        print_tensor_label(&p, node->output, 8);
        fputs(" = ", out);
        print_numbers(&p, node->output->data, node->output->dtype, node->output->size);
        fputc('\n', out);
    }
    nb_release(p.names.leaves);
    if (fflush(out) != 0 || ferror(out))
        return nb_error(NB_ERR_IO, "nb_tape_print_values: writing the trace failed");
    return NB_OK;
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

/* ---- the traced backward sweep ------------------------------------------- */

typedef struct detour {
    void *real[NB_MAX_INPUTS]; /* each input's gradient before the call */
    void *sent[NB_MAX_INPUTS]; /* what this op sent to it (shared by repeats) */
    int first[NB_MAX_INPUTS];  /* the first input slot holding the same tensor */
} detour;

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
static nb_status detour_begin(nb_node *node, detour *d)
{
    memset(d, 0, sizeof *d);
    for (int j = 0; j < node->n_inputs; j++) {
        nb_tensor *in = node->inputs[j];
        d->first[j] = j;
        for (int k = 0; k < j; k++)
            if (node->inputs[k] == in && d->first[j] == j)
                d->first[j] = k;
        if (!in->requires_grad || d->first[j] != j)
            continue;
        d->sent[j] = nb_alloc_zeroed((size_t)in->size * nb_dtype_size(in->dtype));
        if (!d->sent[j])
            return nb_error(NB_ERR_NOMEM, "nb_tape_trace_backward: out of memory");
        d->real[j] = in->grad;
        in->grad = d->sent[j];
    }
    return NB_OK;
}

/* Put the real gradients back, adding what was sent (when add is true). */
static nb_status detour_end(nb_node *node, detour *d, bool add)
{
    nb_status s = NB_OK;
    for (int j = 0; j < node->n_inputs; j++) {
        nb_tensor *in = node->inputs[j];
        if (!d->sent[j])
            continue;
        in->grad = d->real[j];
        if (add && s == NB_OK) {
            void *grad = nb__ensure_grad(in);
            if (grad)
                add_into(grad, d->sent[j], in->dtype, in->size);
            else
                s = NB_ERR_NOMEM;
        }
    }
    return s;
}

static void detour_free(detour *d)
{
    for (int j = 0; j < NB_MAX_INPUTS; j++)
        nb_release(d->sent[j]);
}

/* matmul's local derivative, as numbers: for C = A B, dA = dC B^T and
 * dB = A^T dC, so the factor is the other operand, transposed. Prints
 * "local: B^T = W2^T [1, 2] = [0.5, -0.5]" (row-major, as everywhere). */
static void print_matmul_local(const printer *p, const nb_node *node, int j)
{
    const nb_tensor *other = node->inputs[1 - j];
    if (node->n_inputs != 2 || other->rank != 2)
        return;
    int64_t rows = other->shape[1], cols = other->shape[0]; /* of the transpose */
    char name[NAME_LEN];
    fprintf(p->out, "local: %s^T = %s^T [%" PRId64 ", %" PRId64 "] = [", j == 0 ? "B" : "A",
            name_of(&p->names, other, name), rows, cols);
    for (int64_t f = 0; f < other->size; f++) {
        if (f == p->max_values) {
            fprintf(p->out, ", ... (%" PRId64 " values)", other->size);
            break;
        }
        double v = value_at(other->data, other->dtype, (f % cols) * rows + f / cols);
        fprintf(p->out, "%s%.*g", f ? ", " : "", p->precision, v == 0 ? 0.0 : v);
    }
    fprintf(p->out, "]\n%*s", INDENT, "");
}

static void print_input(const printer *p, const nb_node *node, int j, const detour *d)
{
    const nb_tensor *in = node->inputs[j];
    const nb_tensor *out = node->output;
    char in_name[NAME_LEN], out_name[NAME_LEN];
    name_of(&p->names, in, in_name);
    name_of(&p->names, out, out_name);
    fprintf(p->out, "    to %-*s ", INDENT - 8, in_name);
    if (!in->requires_grad) {
        fputs("needs no gradient (data or a constant)\n", p->out);
        return;
    }
    if (d->first[j] != j) {
        fprintf(p->out, "is input %d again: its gradient is shown there\n", d->first[j]);
        return;
    }
    bool elementwise;
    const char *rule = rule_for(node, j, &elementwise);
    bool repeated = false;
    for (int k = j + 1; k < node->n_inputs; k++)
        repeated = repeated || d->first[k] == j;
    if (rule)
        fprintf(p->out, "rule:  %s\n%*s", rule, INDENT, "");
    if (strcmp(node->op->name, "matmul") == 0 && !repeated)
        print_matmul_local(p, node, j);
    if (strcmp(node->op->name, "add_bias") == 0 && j == 1 && !repeated)
        fprintf(p->out, "local: 1 for each row (%" PRId64 " row%s here), summed\n%*s",
                out->size / in->size, out->size / in->size == 1 ? "" : "s", INDENT, "");
    if (elementwise && !repeated) {
        fprintf(p->out, "local: d(%s)/d(%s) = ", out_name, in_name);
        print_ratios(p, out, d->sent[j], in);
        fprintf(p->out, "  (sent / upstream)\n%*s", INDENT, "");
    }
    fprintf(p->out, "sends: dL/d(%s) = ", in_name);
    print_numbers(p, d->sent[j], in->dtype, in->size);
    fputs(repeated ? "  (for all its uses as an input here)\n" : "\n", p->out);
    if (d->real[j] && in->node) {
        /* an intermediate that already got gradient from a later op */
        fprintf(p->out, "%*stotal: dL/d(%s) = ", INDENT, "", in_name);
        print_numbers(p, in->grad, in->dtype, in->size);
        fputc('\n', p->out);
    }
}

static nb_status trace_node(const printer *p, nb_node *node)
{
    char name[NAME_LEN];
    print_node_header(p, node);
    fprintf(p->out, "    %-*s dL/d(%s) = ", INDENT - 5, "upstream", name_of(&p->names, node->output, name));
    print_numbers(p, node->output->grad, node->output->dtype, node->output->size);
    fputc('\n', p->out);
    detour d;
    unsigned long failures = nb__grad_alloc_failures;
    nb_status s = detour_begin(node, &d);
    if (s == NB_OK)
        s = node->op->backward(node);
    if (s == NB_OK && nb__grad_alloc_failures != failures)
        s = NB_ERR_NOMEM; /* as nb_backward: a gradient was skipped, its message is set */
    nb_status end = detour_end(node, &d, s == NB_OK);
    if (s == NB_OK && end == NB_OK && nb__anomaly_enabled)
        end = nb__anomaly_check_backward(node); /* as nb_backward, on the real grads */
    if (s == NB_OK && end == NB_OK)
        for (int j = 0; j < node->n_inputs; j++)
            print_input(p, node, j, &d);
    detour_free(&d);
    return s != NB_OK ? s : end;
}

/* ---- entry point ------------------------------------------------------------ */

static nb_status validate(nb_tensor *loss, FILE *out)
{
    const char *fn = "nb_tape_trace_backward";
    if (!loss)
        return nb_last_status() != NB_OK ? nb_last_status()
                                         : nb_error(NB_ERR_NULL, "%s: loss is NULL", fn);
    if (!out)
        return nb_error(NB_ERR_NULL, "%s: out is NULL", fn);
    if (loss->size != 1) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "%s: loss has shape %s: expected a single element", fn,
                        nb_shape_str(loss, buf, sizeof buf));
    }
    if (nb__check_live(fn, loss) != NB_OK)
        return NB_ERR_STATE;
    if (!loss->requires_grad)
        return nb_error(NB_ERR_STATE, "%s: the loss does not require a gradient: no recorded op "
                        "leads to it", fn);
    if (!loss->node || !loss->node->tape)
        return nb_error(NB_ERR_ARG, "%s: the loss was not computed on a tape: nothing to trace",
                        fn);
    return NB_OK;
}

static void print_leaf_grads(const printer *p, const nb_tape *tape, size_t last)
{
    fputs("gradients of the leaves that require one:\n", p->out);
    for (size_t i = 0; i <= last; i++) {
        const nb_node *node = tape->nodes[i];
        for (int j = 0; j < node->n_inputs; j++) {
            const nb_tensor *in = node->inputs[j];
            bool seen = false;
            for (size_t k = 0; k <= i && !seen; k++)
                for (int m = 0; m < tape->nodes[k]->n_inputs && !seen; m++)
                    seen = (k < i || m < j) && tape->nodes[k]->inputs[m] == in;
            if (seen || in->node || !in->requires_grad || !in->grad)
                continue;
            char name[NAME_LEN];
            fprintf(p->out, "    dL/d(%s) = ", name_of(&p->names, in, name));
            print_numbers(p, in->grad, in->dtype, in->size);
            fputc('\n', p->out);
        }
    }
}

static nb_status sweep(printer *p, nb_tape *tape, size_t last)
{
    for (size_t i = last + 1; i-- > 0;) {
        nb_node *node = tape->nodes[i];
        if (!node->output->grad)
            continue; /* does not lead to the loss */
        nb_status s = trace_node(p, node);
        if (s != NB_OK)
            return s;
    }
    return NB_OK;
}

nb_status nb_tape_trace_backward(nb_tensor *loss, FILE *out, const nb_trace_options *options)
{
    nb_status s = validate(loss, out);
    printer p;
    if (s == NB_OK)
        s = printer_init(&p, out, options, "nb_tape_trace_backward");
    if (s != NB_OK)
        return s;
    nb_tape *tape = loss->node->tape;
    size_t last = loss->node->index;
    if (!namer_init(&p.names, tape, last)) {
        nb_release(p.names.leaves);
        return NB_ERR_NOMEM;
    }
    for (size_t i = 0; i < tape->n_nodes; i++) /* as nb_backward: start from zero */
        tape->nodes[i]->output->grad = NULL;
    void *seed = nb__ensure_grad(loss);
    if (!seed) {
        nb_release(p.names.leaves);
        return NB_ERR_NOMEM;
    }
    add_into(seed, loss->dtype == NB_F32 ? (const void *)&(float){1} : (const void *)&(double){1},
             loss->dtype, 1);
    char name[NAME_LEN];
    fprintf(out, "backward: L = %s, seeded with dL/d(%s) = 1; ops in reverse tape order\n",
            name_of(&p.names, loss, name), name);
    s = sweep(&p, tape, last);
    if (s == NB_OK)
        print_leaf_grads(&p, tape, last);
    nb_release(p.names.leaves);
    if (s == NB_OK && (fflush(out) != 0 || ferror(out)))
        s = nb_error(NB_ERR_IO, "nb_tape_trace_backward: writing the trace failed");
    return s;
}
