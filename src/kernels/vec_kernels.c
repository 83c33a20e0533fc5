/* vec.h's kernels, compiled once per level: as part of the library with the
 * build's own flags (baseline), and by src/meson.build again with
 * -DNB_VEC_LEVEL=avx2 and AVX2 flags, and with -DNB_VEC_LEVEL=avx512 and
 * AVX-512 flags, each copy defining the table nb__vec_<level>. The copies
 * are compiled with -ffp-contract=off (clang contracts a * b + c into an FMA
 * by default; GCC does not under -std=c11), so every level computes the same
 * roundings in the same order. */
#include <math.h>

#include "kernels/vec.h"

#ifndef NB_VEC_LEVEL
#define NB_VEC_LEVEL baseline
#endif

#define NB__CAT(a, b) a##b
#define NB__TABLE(level) NB__CAT(nb__vec_, level)
#define NB__STR2(x) #x
#define NB__STR(x) NB__STR2(x)

/* One type's kernels (suffix s) in vec.h's order. */
#define NB__TYPE_TABLE(s)                                                                    \
    {                                                                                        \
        sgd_##s, sgd_momentum_##s, adam_##s, rmsprop_##s, add_rows_##s, accumulate_##s,      \
            accumulate_column_sums_##s, all_finite_##s, relu_##s, relu_grad_##s              \
    }

#define T float
#define SQRT sqrtf
#define NAME(k) k##_f32
#include "kernels/vec_kernels.inc"
#undef T
#undef SQRT
#undef NAME

#define T double
#define SQRT sqrt
#define NAME(k) k##_f64
#include "kernels/vec_kernels.inc"

extern const nb__vec_kernels NB__TABLE(NB_VEC_LEVEL);
const nb__vec_kernels NB__TABLE(NB_VEC_LEVEL) = {NB__STR(NB_VEC_LEVEL), NB__TYPE_TABLE(f32),
                                                 NB__TYPE_TABLE(f64)};
