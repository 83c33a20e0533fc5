/* Tensor construction, element access, printing. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

size_t nb_dtype_size(nb_dtype dtype) { return dtype == NB_F64 ? 8 : 4; }

const char *nb_dtype_name(nb_dtype dtype) { return dtype == NB_F64 ? "f64" : "f32"; }

char *nb__dims_str(int rank, const int64_t *dims, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%" PRId64, i ? ", " : "", dims[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

char *nb_shape_str(const nb_tensor *t, char *buf, size_t len)
{
    if (!t)
        snprintf(buf, len, "(null)");
    else
        nb__dims_str(t->rank, t->shape, buf, len);
    return buf;
}

bool nb_same_shape(const nb_tensor *a, const nb_tensor *b)
{
    if (!a || !b || a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

/* The message names prefix followed by fn ("nb_" and an op's name). */
static nb_status check_shape(const char *prefix, const char *fn, int rank, const int64_t *shape,
                             int64_t *size)
{
    if (rank < 0 || rank > NB_MAX_RANK)
        return nb_error(NB_ERR_SHAPE, "%s%s: rank %d is out of range: expected 0 to %d", prefix,
                        fn, rank, NB_MAX_RANK);
    if (rank > 0 && !shape)
        return nb_error(NB_ERR_NULL, "%s%s: shape is NULL for rank %d", prefix, fn, rank);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] <= 0) {
            char buf[NB_SHAPE_BUF];
            return nb_error(NB_ERR_SHAPE,
                            "%s%s: dimension %d of shape %s is %" PRId64
                            ": expected a positive size",
                            prefix, fn, i, nb__dims_str(rank, shape, buf, sizeof buf), shape[i]);
        }
        /* keep the byte count (n * 8) representable as well */
        if (n > (INT64_MAX / 8) / shape[i]) {
            char buf[NB_SHAPE_BUF];
            return nb_error(NB_ERR_SHAPE, "%s%s: shape %s has too many elements (overflow)",
                            prefix, fn, nb__dims_str(rank, shape, buf, sizeof buf));
        }
        n *= shape[i];
    }
    if (size)
        *size = n;
    return NB_OK;
}

nb_status nb__check_shape(const char *fn, int rank, const int64_t *shape, int64_t *size)
{
    return check_shape("", fn, rank, shape, size);
}

nb_status nb__check_op_shape(const char *op_name, int rank, const int64_t *shape, int64_t *size)
{
    return check_shape("nb_", op_name, rank, shape, size);
}

static void set_shape(nb_tensor *t, nb_dtype dtype, int rank, const int64_t *shape)
{
    t->dtype = dtype;
    t->rank = rank;
    t->size = 1;
    for (int i = 0; i < NB_MAX_RANK; i++) {
        t->shape[i] = i < rank ? shape[i] : 1;
        if (i < rank)
            t->size *= shape[i];
    }
}

nb_tensor *nb__tensor_alloc(nb_tape *tape, nb_dtype dtype, int rank, const int64_t *shape)
{
    return nb__tensor_alloc_for(tape, dtype, rank, shape, true);
}

nb_tensor *nb__tensor_alloc_for(nb_tape *tape, nb_dtype dtype, int rank, const int64_t *shape,
                                bool zero)
{
    nb_tensor *t;
    int64_t size = 1;
    for (int i = 0; i < rank; i++)
        size *= shape[i];
    size_t bytes = (size_t)size * nb_dtype_size(dtype);
    if (tape) {
        t = nb_arena_alloc(&tape->arena, sizeof *t);
        void *data = t ? nb_arena_alloc(&tape->arena, bytes) : NULL;
        if (!t || !data || !nb__tape_track(tape, t)) {
            nb_error(NB_ERR_NOMEM, "nabla: out of memory for a tensor of %zu bytes on a tape", bytes);
            return NULL;
        }
        memset(t, 0, sizeof *t);
        if (zero)
            memset(data, 0, bytes);
        t->data = data;
        t->tape = tape;
        t->generation = tape->generation;
    } else {
        t = nb_alloc_zeroed(sizeof *t);
        void *data = t ? (zero ? nb_alloc_zeroed(bytes) : nb_alloc(bytes)) : NULL;
        if (!data) {
            nb_release(t);
            nb_error(NB_ERR_NOMEM, "nabla: out of memory for a tensor of %zu bytes", bytes);
            return NULL;
        }
        t->data = data;
    }
    set_shape(t, dtype, rank, shape);
    return t;
}

static nb_status check_dtype(const char *fn, nb_dtype dtype)
{
    if (dtype != NB_F32 && dtype != NB_F64)
        return nb_error(NB_ERR_DTYPE, "%s: dtype %d is not NB_F32 or NB_F64", fn, (int)dtype);
    return NB_OK;
}

static nb_tensor *new_checked(const char *fn, nb_dtype dtype, int rank, const int64_t *shape)
{
    if (check_dtype(fn, dtype) != NB_OK || nb__check_shape(fn, rank, shape, NULL) != NB_OK)
        return NULL;
    return nb__tensor_alloc(NULL, dtype, rank, shape);
}

static void store(nb_tensor *t, int64_t i, double v)
{
    if (t->dtype == NB_F32)
        ((float *)t->data)[i] = (float)v;
    else
        ((double *)t->data)[i] = v;
}

static double load(const nb_tensor *t, const void *buffer, int64_t i)
{
    return t->dtype == NB_F32 ? (double)((const float *)buffer)[i] : ((const double *)buffer)[i];
}

nb_tensor *nb_tensor_zeros(nb_dtype dtype, int rank, const int64_t *shape)
{
    return new_checked("nb_tensor_zeros", dtype, rank, shape);
}

nb_tensor *nb_tensor_full(nb_dtype dtype, int rank, const int64_t *shape, double value)
{
    nb_tensor *t = new_checked("nb_tensor_full", dtype, rank, shape);
    if (t)
        nb_tensor_fill(t, value);
    return t;
}

nb_tensor *nb_tensor_ones(nb_dtype dtype, int rank, const int64_t *shape)
{
    nb_tensor *t = new_checked("nb_tensor_ones", dtype, rank, shape);
    if (t)
        nb_tensor_fill(t, 1.0);
    return t;
}

nb_tensor *nb_tensor_from_array(nb_dtype dtype, int rank, const int64_t *shape, const void *values)
{
    if (!values) {
        nb_error(NB_ERR_NULL, "nb_tensor_from_array: values is NULL");
        return NULL;
    }
    nb_tensor *t = new_checked("nb_tensor_from_array", dtype, rank, shape);
    if (t)
        memcpy(t->data, values, (size_t)t->size * nb_dtype_size(dtype));
    return t;
}

nb_tensor *nb_tensor_from_doubles(nb_dtype dtype, int rank, const int64_t *shape,
                                  const double *values)
{
    if (!values) {
        nb_error(NB_ERR_NULL, "nb_tensor_from_doubles: values is NULL");
        return NULL;
    }
    nb_tensor *t = new_checked("nb_tensor_from_doubles", dtype, rank, shape);
    for (int64_t i = 0; t && i < t->size; i++)
        store(t, i, values[i]);
    return t;
}

nb_tensor *nb_tensor_rand_uniform(nb_dtype dtype, int rank, const int64_t *shape, double low,
                                  double high, nb_rng *rng)
{
    const char *fn = "nb_tensor_rand_uniform";
    if (!rng) {
        nb_error(NB_ERR_NULL, "%s: rng is NULL", fn);
        return NULL;
    }
    if (!(low <= high)) {
        nb_error(NB_ERR_ARG, "%s: low %g is greater than high %g", fn, low, high);
        return NULL;
    }
    nb_tensor *t = new_checked(fn, dtype, rank, shape);
    for (int64_t i = 0; t && i < t->size; i++)
        store(t, i, low + (high - low) * nb_rng_uniform(rng));
    return t;
}

nb_tensor *nb_tensor_rand_normal(nb_dtype dtype, int rank, const int64_t *shape, double mean,
                                 double stddev, nb_rng *rng)
{
    const char *fn = "nb_tensor_rand_normal";
    if (!rng) {
        nb_error(NB_ERR_NULL, "%s: rng is NULL", fn);
        return NULL;
    }
    if (!(stddev >= 0)) {
        nb_error(NB_ERR_ARG, "%s: stddev %g is negative: expected >= 0", fn, stddev);
        return NULL;
    }
    nb_tensor *t = new_checked(fn, dtype, rank, shape);
    for (int64_t i = 0; t && i < t->size; i++)
        store(t, i, mean + stddev * nb_rng_normal(rng));
    return t;
}

nb_tensor *nb_tensor_copy(const nb_tensor *src, nb_dtype dtype)
{
    if (!src)
        return NULL;
    nb_tensor *t = new_checked("nb_tensor_copy", dtype, src->rank, src->shape);
    if (t)
        nb_tensor_copy_data(t, src);
    return t;
}

void nb_tensor_free(nb_tensor *t)
{
    if (!t || t->tape)
        return;
    nb_release(t->grad);
    nb_release(t->data);
    nb_release(t);
}

static bool index_ok(const char *fn, const nb_tensor *t, int64_t i)
{
    if (!t) {
        nb_error(NB_ERR_NULL, "%s: tensor is NULL", fn);
        return false;
    }
    if (i < 0 || i >= t->size) {
        nb_error(NB_ERR_ARG, "%s: index %" PRId64 " is out of range for %" PRId64 " elements", fn,
                 i, t->size);
        return false;
    }
    return true;
}

double nb_tensor_get(const nb_tensor *t, int64_t i)
{
    return index_ok("nb_tensor_get", t, i) ? load(t, t->data, i) : NAN;
}

double nb_tensor_grad_get(const nb_tensor *t, int64_t i)
{
    if (!index_ok("nb_tensor_grad_get", t, i))
        return NAN;
    return t->grad ? load(t, t->grad, i) : 0.0;
}

nb_status nb_tensor_set(nb_tensor *t, int64_t i, double value)
{
    if (!index_ok("nb_tensor_set", t, i))
        return nb_last_status();
    store(t, i, value);
    return NB_OK;
}

double nb_tensor_at(const nb_tensor *t, const int64_t *index)
{
    if (!t || !index) {
        nb_error(NB_ERR_NULL, "nb_tensor_at: %s is NULL", t ? "index" : "tensor");
        return NAN;
    }
    int64_t flat = 0;
    for (int d = 0; d < t->rank; d++) {
        if (index[d] < 0 || index[d] >= t->shape[d]) {
            char buf[NB_SHAPE_BUF];
            nb_error(NB_ERR_ARG, "nb_tensor_at: index %" PRId64 " on axis %d is out of range for shape %s",
                     index[d], d, nb_shape_str(t, buf, sizeof buf));
            return NAN;
        }
        flat = flat * t->shape[d] + index[d];
    }
    return load(t, t->data, flat);
}

double nb_tensor_item(const nb_tensor *t)
{
    if (!t) {
        nb_error(NB_ERR_NULL, "nb_tensor_item: tensor is NULL");
        return NAN;
    }
    if (t->size != 1) {
        char buf[NB_SHAPE_BUF];
        nb_error(NB_ERR_SHAPE, "nb_tensor_item: tensor of shape %s has %" PRId64 " elements: expected 1",
                 nb_shape_str(t, buf, sizeof buf), t->size);
        return NAN;
    }
    return load(t, t->data, 0);
}

nb_status nb_tensor_copy_data(nb_tensor *dst, const nb_tensor *src)
{
    if (!dst || !src)
        return nb_error(NB_ERR_NULL, "nb_tensor_copy_data: %s is NULL", dst ? "src" : "dst");
    if (dst->size != src->size) {
        char a[NB_SHAPE_BUF], b[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "nb_tensor_copy_data: dst is %s, src is %s: expected the same element count",
                        nb_shape_str(dst, a, sizeof a), nb_shape_str(src, b, sizeof b));
    }
    if (dst->dtype == src->dtype)
        memmove(dst->data, src->data, (size_t)src->size * nb_dtype_size(src->dtype));
    else
        for (int64_t i = 0; i < src->size; i++)
            store(dst, i, load(src, src->data, i));
    return NB_OK;
}

nb_status nb_tensor_fill(nb_tensor *t, double value)
{
    if (!t)
        return nb_error(NB_ERR_NULL, "nb_tensor_fill: tensor is NULL");
    for (int64_t i = 0; i < t->size; i++)
        store(t, i, value);
    return NB_OK;
}

nb_status nb_tensor_set_requires_grad(nb_tensor *t, bool requires_grad)
{
    if (!t)
        return nb_error(NB_ERR_NULL, "nb_tensor_set_requires_grad: tensor is NULL");
    if (t->node)
        return nb_error(NB_ERR_STATE, "nb_tensor_set_requires_grad: tensor '%s' is the result of op "
                        "'%s': only leaves can be marked (use nb_detach first)",
                        t->name, t->node->op->name);
    t->requires_grad = requires_grad;
    return NB_OK;
}

_Thread_local unsigned long nb__grad_alloc_failures = 0;

void *nb__ensure_grad(nb_tensor *t)
{
    if (t->grad)
        return t->grad;
    size_t bytes = (size_t)t->size * nb_dtype_size(t->dtype);
    t->grad = t->tape ? nb_arena_alloc(&t->tape->arena, bytes) : nb_alloc(bytes);
    if (t->grad)
        memset(t->grad, 0, bytes);
    else {
        nb__grad_alloc_failures++;
        nb_error(NB_ERR_NOMEM, "nabla: out of memory for a gradient of %zu bytes", bytes);
    }
    return t->grad;
}

nb_status nb_tensor_zero_grad(nb_tensor *t)
{
    if (!t)
        return nb_error(NB_ERR_NULL, "nb_tensor_zero_grad: tensor is NULL");
    if (t->grad) {
        memset(t->grad, 0, (size_t)t->size * nb_dtype_size(t->dtype));
        return NB_OK;
    }
    return nb__ensure_grad(t) ? NB_OK : NB_ERR_NOMEM;
}

void nb_tensor_set_name(nb_tensor *t, const char *name)
{
    if (t)
        snprintf(t->name, sizeof t->name, "%s", name ? name : "");
}

/* Print one axis of values, recursing into inner axes, eliding the middle of
 * long axes like numpy. */
static void print_axis(const nb_tensor *t, FILE *out, int axis, int64_t offset, int64_t stride,
                       int64_t edge)
{
    int64_t n = t->shape[axis];
    int64_t inner = stride / n;
    fputc('[', out);
    for (int64_t i = 0; i < n; i++) {
        if (n > 2 * edge && i == edge) {
            fprintf(out, "%s...", axis == t->rank - 1 ? "" : "\n ");
            i = n - edge - 1;
            fputs(", ", out);
            continue;
        }
        if (axis == t->rank - 1)
            fprintf(out, "%s%.6g", i ? ", " : "", load(t, t->data, offset + i));
        else {
            if (i)
                fprintf(out, ",\n%*s", axis + 1, "");
            print_axis(t, out, axis + 1, offset + i * inner, inner, edge);
        }
    }
    fputc(']', out);
}

nb_status nb_tensor_print(const nb_tensor *t, FILE *out, int64_t max_values)
{
    if (!t || !out)
        return nb_error(NB_ERR_NULL, "nb_tensor_print: %s is NULL", t ? "out" : "tensor");
    char buf[NB_SHAPE_BUF];
    fprintf(out, "tensor%s%s%s %s %s ", t->name[0] ? " '" : "", t->name, t->name[0] ? "'" : "",
            nb_dtype_name(t->dtype), nb_shape_str(t, buf, sizeof buf));
    if (t->rank == 0)
        fprintf(out, "%.6g", load(t, t->data, 0));
    else {
        int64_t edge = max_values > 0 ? (max_values + 1) / 2 : 3;
        print_axis(t, out, 0, 0, t->size, edge);
    }
    fputc('\n', out);
    return NB_OK;
}
