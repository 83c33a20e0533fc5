/* Preparing examples: one-hot labels, scaling, shuffling, splitting, picking
 * rows. A "row" is one entry along axis 0 (one example); it is contiguous in
 * memory, so row operations are byte copies of row_bytes() each. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "nabla/data.h"

/* A NULL tensor: keep the message of the call that produced it, if any. */
static nb_status null_tensor(const char *fn, const char *what)
{
    if (nb_last_status() == NB_OK)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, what);
    return NB_ERR_NULL;
}

/* NB_OK when t has rows: not NULL, alive, rank >= 1. */
static nb_status check_rows(const char *fn, const char *what, const nb_tensor *t)
{
    if (!t)
        return null_tensor(fn, what);
    if (nb__check_live(fn, t) != NB_OK)
        return NB_ERR_STATE;
    if (t->rank < 1)
        return nb_error(NB_ERR_SHAPE, "%s: %s is a scalar (rank 0): expected a tensor with rows",
                        fn, what);
    return NB_OK;
}

/* NB_OK when t's values may be changed in place (not an op's result). */
static nb_status check_writable(const char *fn, const char *what, const nb_tensor *t)
{
    if (t->node)
        return nb_error(NB_ERR_STATE, "%s: %s is the result of op '%s': its values may be needed "
                        "by backward; change a copy (nb_tensor_copy) or a leaf instead", fn, what,
                        t->node->op->name);
    return NB_OK;
}

static size_t row_bytes(const nb_tensor *t)
{
    return (size_t)(t->size / t->shape[0]) * nb_dtype_size(t->dtype);
}

/* A new caller-owned tensor shaped like t but with `rows` rows. */
static nb_tensor *with_rows(const nb_tensor *t, int64_t rows)
{
    int64_t shape[NB_MAX_RANK];
    memcpy(shape, t->shape, sizeof shape);
    shape[0] = rows;
    return nb__tensor_alloc(NULL, t->dtype, t->rank, shape);
}

static nb_tensor *copy_rows(const nb_tensor *t, int64_t start, int64_t count)
{
    nb_tensor *out = with_rows(t, count);
    if (out)
        memcpy(out->data, (const char *)t->data + (size_t)start * row_bytes(t),
               (size_t)count * row_bytes(t));
    return out;
}

nb_tensor *nb_to_categorical(const nb_tensor *labels, int64_t classes, nb_dtype dtype)
{
    const char *fn = "nb_to_categorical";
    if (check_rows(fn, "labels", labels) != NB_OK)
        return NULL;
    char buf[NB_SHAPE_BUF];
    if (labels->rank > 2 || (labels->rank == 2 && labels->shape[1] != 1)) {
        nb_error(NB_ERR_SHAPE, "%s: labels are %s: expected [n] or [n, 1] class indices", fn,
                 nb_shape_str(labels, buf, sizeof buf));
        return NULL;
    }
    if (classes < 1) {
        nb_error(NB_ERR_ARG, "%s: classes is %" PRId64 ": expected at least 1", fn, classes);
        return NULL;
    }
    if (dtype != NB_F32 && dtype != NB_F64) {
        nb_error(NB_ERR_DTYPE, "%s: dtype %d is not NB_F32 or NB_F64", fn, (int)dtype);
        return NULL;
    }
    int64_t n = labels->shape[0];
    for (int64_t i = 0; i < n; i++) {
        double label = nb_tensor_get(labels, i);
        if (!(label >= 0 && label < (double)classes) || label != floor(label)) {
            nb_error(NB_ERR_ARG, "%s: label %g at index %" PRId64 " is not a class index: "
                     "expected an integer in [0, %" PRId64 ")", fn, label, i, classes);
            return NULL;
        }
    }
    if (classes > (INT64_MAX / 8) / n) {
        nb_error(NB_ERR_ARG, "%s: %" PRId64 " labels of %" PRId64 " classes are too many "
                 "elements (overflow)", fn, n, classes);
        return NULL;
    }
    nb_tensor *out = nb__tensor_alloc(NULL, dtype, 2, (const int64_t[]){n, classes});
    for (int64_t i = 0; out && i < n; i++)
        nb_tensor_set(out, i * classes + (int64_t)nb_tensor_get(labels, i), 1.0);
    return out;
}

nb_status nb_scale_in_place(nb_tensor *t, double factor)
{
    const char *fn = "nb_scale_in_place";
    if (!t)
        return null_tensor(fn, "tensor");
    if (nb__check_live(fn, t) != NB_OK || check_writable(fn, "the tensor", t) != NB_OK)
        return nb_last_status();
    if (!isfinite(factor))
        return nb_error(NB_ERR_ARG, "%s: factor is %g: expected a finite number", fn, factor);
    if (t->dtype == NB_F32) {
        float *x = t->data;
        for (int64_t i = 0; i < t->size; i++)
            x[i] = (float)(x[i] * factor);
    } else {
        double *x = t->data;
        for (int64_t i = 0; i < t->size; i++)
            x[i] *= factor;
    }
    return NB_OK;
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char tmp = a[k];
        a[k] = b[k];
        b[k] = tmp;
    }
}

nb_status nb_shuffle_rows(nb_tensor *a, nb_tensor *b, nb_rng *rng)
{
    const char *fn = "nb_shuffle_rows";
    nb_status st = check_rows(fn, "a", a);
    if (st == NB_OK && b)
        st = check_rows(fn, "b", b);
    if (st != NB_OK)
        return st;
    if (check_writable(fn, "a", a) != NB_OK || (b && check_writable(fn, "b", b) != NB_OK))
        return NB_ERR_STATE;
    if (!rng)
        return nb_error(NB_ERR_NULL, "%s: rng is NULL", fn);
    if (b && a->shape[0] != b->shape[0]) {
        char sa[NB_SHAPE_BUF], sb[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "%s: a is %s and b is %s: expected the same number of rows",
                        fn, nb_shape_str(a, sa, sizeof sa), nb_shape_str(b, sb, sizeof sb));
    }
    /* Fisher-Yates on rows, drawing exactly as nb_rng_shuffle does */
    size_t ra = row_bytes(a), rb = b ? row_bytes(b) : 0;
    unsigned char *da = a->data, *db = b ? b->data : NULL;
    for (int64_t i = a->shape[0] - 1; i > 0; i--) {
        int64_t j = (int64_t)nb_rng_below(rng, (uint64_t)i + 1);
        if (j == i)
            continue;
        swap_bytes(da + (size_t)i * ra, da + (size_t)j * ra, ra);
        if (db)
            swap_bytes(db + (size_t)i * rb, db + (size_t)j * rb, rb);
    }
    return NB_OK;
}

nb_status nb_split_rows(const nb_tensor *t, int64_t first_n, nb_tensor **head, nb_tensor **tail)
{
    const char *fn = "nb_split_rows";
    if (!head || !tail)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, head ? "tail" : "head");
    *head = *tail = NULL;
    nb_status st = check_rows(fn, "tensor", t);
    if (st != NB_OK)
        return st;
    int64_t n = t->shape[0];
    if (first_n < 1 || first_n >= n) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_ARG, "%s: first_n is %" PRId64 " for a tensor of shape %s: "
                        "expected 1 to %" PRId64 " so that both parts have rows", fn, first_n,
                        nb_shape_str(t, buf, sizeof buf), n - 1);
    }
    *head = copy_rows(t, 0, first_n);
    *tail = *head ? copy_rows(t, first_n, n - first_n) : NULL;
    if (!*tail) {
        nb_tensor_free(*head);
        *head = NULL;
        return nb_last_status();
    }
    return NB_OK;
}

nb_tensor *nb_slice_rows(const nb_tensor *t, int64_t start, int64_t count)
{
    const char *fn = "nb_slice_rows";
    if (check_rows(fn, "tensor", t) != NB_OK)
        return NULL;
    int64_t n = t->shape[0];
    if (start < 0 || count < 1 || start > n - count) {
        char buf[NB_SHAPE_BUF];
        nb_error(NB_ERR_ARG, "%s: rows [%" PRId64 ", %" PRId64 " + %" PRId64 ") are out of "
                 "range for shape %s: expected start >= 0, count >= 1 and start + count <= %"
                 PRId64, fn, start, start, count, nb_shape_str(t, buf, sizeof buf), n);
        return NULL;
    }
    return copy_rows(t, start, count);
}

nb_tensor *nb_take_rows(const nb_tensor *t, const int64_t *rows, int64_t n)
{
    const char *fn = "nb_take_rows";
    if (check_rows(fn, "tensor", t) != NB_OK)
        return NULL;
    if (!rows) {
        nb_error(NB_ERR_NULL, "%s: rows is NULL", fn);
        return NULL;
    }
    if (n < 1) {
        nb_error(NB_ERR_ARG, "%s: n is %" PRId64 ": expected at least one row", fn, n);
        return NULL;
    }
    for (int64_t k = 0; k < n; k++)
        if (rows[k] < 0 || rows[k] >= t->shape[0]) {
            char buf[NB_SHAPE_BUF];
            nb_error(NB_ERR_ARG, "%s: rows[%" PRId64 "] is %" PRId64 ": out of range for shape "
                     "%s (expected 0 to %" PRId64 ")", fn, k, rows[k],
                     nb_shape_str(t, buf, sizeof buf), t->shape[0] - 1);
            return NULL;
        }
    /* the new first dimension must keep the element count in range */
    int64_t per_row = t->size / t->shape[0];
    if (n > (INT64_MAX / 8) / per_row) {
        nb_error(NB_ERR_ARG, "%s: %" PRId64 " rows of %" PRId64 " elements are too many "
                 "(overflow)", fn, n, per_row);
        return NULL;
    }
    nb_tensor *out = with_rows(t, n);
    if (!out)
        return NULL;
    size_t rb = row_bytes(t);
    for (int64_t k = 0; k < n; k++)
        memcpy((char *)out->data + (size_t)k * rb, (const char *)t->data + (size_t)rows[k] * rb,
               rb);
    return out;
}
