/* What a trace calls tensors, and how it writes numbers (trace_internal.h):
 * shared by the text trace and the explorer page, so both say the same. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "autograd/trace_internal.h"

#define DEFAULT_MAX_VALUES 8
#define DEFAULT_PRECISION 6
#define MAX_PRECISION 17 /* enough for every double */

/* ---- a growing string ------------------------------------------------------- */

static bool text_reserve(nb__text *t, size_t more)
{
    if (t->failed)
        return false;
    if (t->n + more + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 64;
    while (cap < t->n + more + 1)
        cap *= 2;
    char *grown = nb_alloc(cap);
    if (!grown) {
        t->failed = true;
        nb_error(NB_ERR_NOMEM, "nabla trace: out of memory for the text of a trace");
        return false;
    }
    if (t->n)
        memcpy(grown, t->s, t->n);
    grown[t->n] = '\0';
    nb_release(t->s);
    t->s = grown;
    t->cap = cap;
    return true;
}

void nb__text_printf(nb__text *t, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    va_list again;
    va_copy(again, args);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (len >= 0 && text_reserve(t, (size_t)len)) {
        vsnprintf(t->s + t->n, (size_t)len + 1, fmt, again);
        t->n += (size_t)len;
    }
    va_end(again);
}

char *nb__text_take(nb__text *t)
{
    if (!t->s && !t->failed)
        text_reserve(t, 0);
    char *s = t->failed ? NULL : t->s;
    if (!s)
        nb_release(t->s);
    *t = (nb__text){0};
    return s;
}

void nb__text_free(nb__text *t)
{
    nb_release(t->s);
    *t = (nb__text){0};
}

/* ---- naming tensors ----------------------------------------------------- */

static bool namer_add_leaf(nb__namer *nm, const nb_tensor *t)
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

bool nb__namer_init(nb__namer *nm, const nb_tape *tape, size_t last)
{
    *nm = (nb__namer){0};
    for (size_t i = 0; i <= last && i < tape->n_nodes; i++)
        for (int j = 0; j < tape->nodes[i]->n_inputs; j++)
            if (!namer_add_leaf(nm, tape->nodes[i]->inputs[j]))
                return false;
    return true;
}

void nb__namer_free(nb__namer *nm)
{
    nb_release(nm->leaves);
    *nm = (nb__namer){0};
}

const char *nb__name_of(const nb__namer *nm, const nb_tensor *t, char *buf)
{
    if (t->name[0]) {
        snprintf(buf, NB__TRACE_NAME_LEN, "%s", t->name);
        return buf;
    }
    if (t->node) {
        snprintf(buf, NB__TRACE_NAME_LEN, "t%zu", t->node->index);
        return buf;
    }
    for (size_t i = 0; i < nm->n; i++)
        if (nm->leaves[i] == t) {
            snprintf(buf, NB__TRACE_NAME_LEN, "leaf%zu", i);
            return buf;
        }
    snprintf(buf, NB__TRACE_NAME_LEN, "leaf");
    return buf;
}

/* ---- numbers ---------------------------------------------------------------- */

nb_status nb__number_format_init(nb__number_format *f, const nb_trace_options *options,
                                 const char *fn)
{
    nb_trace_options o = options ? *options : (nb_trace_options){0};
    if (o.max_values < 0 || o.precision < 0)
        return nb_error(NB_ERR_ARG, "%s: max_values is %d and precision %d: expected >= 0", fn,
                        o.max_values, o.precision);
    f->max_values = o.max_values ? o.max_values : DEFAULT_MAX_VALUES;
    f->precision = o.precision ? o.precision : DEFAULT_PRECISION;
    if (f->precision > MAX_PRECISION)
        f->precision = MAX_PRECISION;
    return NB_OK;
}

double nb__value_at(const void *data, nb_dtype dtype, int64_t i)
{
    return dtype == NB_F32 ? ((const float *)data)[i] : ((const double *)data)[i];
}

/* -0 prints as 0. */
void nb__text_numbers(nb__text *t, const nb__number_format *f, const void *data, nb_dtype dtype,
                      int64_t n)
{
    nb__text_printf(t, "[");
    for (int64_t i = 0; i < n; i++) {
        if (i == f->max_values) {
            nb__text_printf(t, ", ... (%" PRId64 " values)", n);
            break;
        }
        double v = nb__value_at(data, dtype, i);
        nb__text_printf(t, "%s%.*g", i ? ", " : "", f->precision, v == 0 ? 0.0 : v);
    }
    nb__text_printf(t, "]");
}
