/* NumPy's broadcasting rules: the common shape and the stretched strides. */
#include "ops/broadcast.h"

/* dims[rank - 1 - k] for the k-th axis from the right, 1 past the left end */
static int64_t dim_from_right(int rank, const int64_t *dims, int k)
{
    return k < rank ? dims[rank - 1 - k] : 1;
}

nb_status nb__broadcast_shape(const char *fn, int rank_a, const int64_t *shape_a, int rank_b,
                              const int64_t *shape_b, int *rank, int64_t shape[NB_MAX_RANK])
{
    int out_rank = rank_a > rank_b ? rank_a : rank_b;
    for (int k = 0; k < out_rank; k++) {
        int64_t da = dim_from_right(rank_a, shape_a, k), db = dim_from_right(rank_b, shape_b, k);
        if (da != db && da != 1 && db != 1) {
            char sa[NB_SHAPE_BUF], sb[NB_SHAPE_BUF];
            return nb_error(NB_ERR_SHAPE,
                            "%s: shapes %s and %s cannot be broadcast together: dimension %d "
                            "(counted in the %d-dimensional result) is %lld in a and %lld in b: "
                            "expected equal sizes or 1",
                            fn, nb__dims_str(rank_a, shape_a, sa, sizeof sa),
                            nb__dims_str(rank_b, shape_b, sb, sizeof sb), out_rank - 1 - k,
                            out_rank, (long long)da, (long long)db);
        }
        shape[out_rank - 1 - k] = da == 1 ? db : da;
    }
    *rank = out_rank;
    return NB_OK;
}

void nb__broadcast_strides(int rank, const int64_t *shape, int out_rank, const int64_t *out_shape,
                           int64_t strides[NB_MAX_RANK])
{
    int64_t stride = 1;
    for (int k = 0; k < out_rank; k++) {
        int d = out_rank - 1 - k;
        int64_t dim = dim_from_right(rank, shape, k);
        strides[d] = (k < rank && dim == out_shape[d] && dim != 1) ? stride : 0;
        stride *= dim;
    }
}
