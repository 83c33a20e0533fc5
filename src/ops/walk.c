/* The strided walk and the axis checks shared by the movement ops
 * (movement.c, join.c). */
#include "ops/walk.h"

/* ---- the strided walk --------------------------------------------------- */

nb__strided_walk nb__walk_over(int rank, const int64_t *shape, const int64_t *dst_stride,
                               const int64_t *src_stride)
{
    nb__strided_walk w = {{1, 1, 1, 1}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    int pad = NB_MAX_RANK - rank;
    for (int d = 0; d < rank; d++) {
        w.shape[pad + d] = shape[d];
        w.dst_stride[pad + d] = dst_stride[d];
        w.src_stride[pad + d] = src_stride[d];
    }
    return w;
}

nb__strided_walk nb__walk_reversed(nb__strided_walk w)
{
    for (int d = 0; d < NB_MAX_RANK; d++) {
        int64_t s = w.dst_stride[d];
        w.dst_stride[d] = w.src_stride[d];
        w.src_stride[d] = s;
    }
    return w;
}

#define WALK_LOOP(T, ASSIGN)                                                                 \
    do {                                                                                     \
        T *dp = (T *)dst + dst_offset;                                                       \
        const T *sp = (const T *)src + src_offset;                                           \
        const int64_t *n = w->shape, *ds = w->dst_stride, *ss = w->src_stride;               \
        for (int64_t i0 = 0; i0 < n[0]; i0++)                                                \
            for (int64_t i1 = 0; i1 < n[1]; i1++)                                            \
                for (int64_t i2 = 0; i2 < n[2]; i2++) {                                      \
                    T *d = dp + i0 * ds[0] + i1 * ds[1] + i2 * ds[2];                        \
                    const T *s = sp + i0 * ss[0] + i1 * ss[1] + i2 * ss[2];                  \
                    for (int64_t i3 = 0; i3 < n[3]; i3++)                                    \
                        d[i3 * ds[3]] ASSIGN s[i3 * ss[3]];                                  \
                }                                                                            \
    } while (0)

/* four loops, the innermost along the last axis */
void nb__walk(const nb__strided_walk *w, nb_dtype dtype, void *dst, int64_t dst_offset,
              const void *src, int64_t src_offset, bool accumulate)
{
    if (dtype == NB_F32) {
        if (accumulate)
            WALK_LOOP(float, +=);
        else
            WALK_LOOP(float, =);
    } else {
        if (accumulate)
            WALK_LOOP(double, +=);
        else
            WALK_LOOP(double, =);
    }
}

void nb__row_major_strides(int rank, const int64_t *shape, int64_t strides[NB_MAX_RANK])
{
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; d--) {
        strides[d] = stride;
        stride *= shape[d];
    }
}

/* ---- checks shared by the ops ------------------------------------------- */

nb_status nb__resolve_axis(const char *fn, const char *what, const nb_tensor *t, int axis,
                           int rank, int *resolved)
{
    char buf[NB_SHAPE_BUF];
    if (rank == 0)
        return nb_error(NB_ERR_ARG, "%s: %s is a scalar (rank 0): it has no axis %d", fn, what,
                        axis);
    if (axis < -rank || axis >= rank)
        return nb_error(NB_ERR_ARG, "%s: axis %d is out of range for %s of shape %s: expected %d to %d",
                        fn, axis, what, nb_shape_str(t, buf, sizeof buf), -rank, rank - 1);
    *resolved = axis < 0 ? axis + rank : axis;
    return NB_OK;
}

nb_tensor *nb__null_input(const char *fn, const char *what)
{
    if (nb_last_status() == NB_OK)
        nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, what);
    return NULL;
}

