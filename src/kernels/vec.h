/* Runtime CPU dispatch of nabla's own hot loops (the optimizer updates,
 * add_bias, relu, fit's finite check of the gradients; matrix products are
 * OpenBLAS's, which dispatches itself).
 *
 * src/kernels/vec_kernels.c is compiled once per level, each copy with its
 * own instruction-set flags, into one table of function pointers per level;
 * dispatch.c picks a table once, at first use, from what the CPU supports and
 * the NABLA_CPU environment variable (docs/performance.md). Every kernel is a
 * plain loop with one operation order, compiled without FMA contraction, so
 * all levels give bit-identical results: only the vector width changes. */
#ifndef NABLA_KERNELS_VEC_H
#define NABLA_KERNELS_VEC_H

#include <stdbool.h>
#include <stdint.h>

/* The levels, lowest first; a level's code runs on CPUs with its features. */
typedef enum nb__vec_level {
    NB_VEC_BASELINE = 0, /* the build's own flags (x86-64: SSE2) */
    NB_VEC_AVX2 = 1,     /* AVX2 and FMA */
    NB_VEC_AVX512 = 2,   /* AVX-512 F, BW, VL and DQ */
    NB_VEC_N_LEVELS
} nb__vec_level;

/* The kernels for one element type T (float or double). Arrays do not
 * overlap. Optimizer rules as in src/nn/optim.c, element by element on
 * [0, n). */
#define NB__VEC_KERNELS(T)                                                                   \
    struct {                                                                                 \
        /* SGD: p -= lr g */                                                                 \
        void (*sgd)(int64_t n, T *p, const T *g, T lr);                                      \
        /* SGD with momentum: v = mu v - lr g; p += v (nesterov: p += mu v - lr g) */        \
        void (*sgd_momentum)(int64_t n, T *p, T *v, const T *g, T lr, T mu, bool nesterov);  \
        /* Adam: m += (g - m) b1; v += (g^2 - v) b2; p -= a m / (sqrt(v) + eps) */           \
        void (*adam)(int64_t n, T *p, T *m, T *v, const T *g, T a, T b1, T b2, T eps);       \
        /* RMSprop: v = rho v + (1 - rho) g^2; inc = lr g / sqrt(v + eps);                   \
         * p -= inc, or with mom (not NULL): mom = mu mom + inc; p -= mom */                 \
        void (*rmsprop)(int64_t n, T *p, T *v, T *mom, const T *g, T lr, T rho, T mu, T eps); \
        /* y[i, j] = x[i, j] + b[j] over rows x cols */                                      \
        void (*add_rows)(int64_t rows, int64_t cols, T *y, const T *x, const T *b);          \
        /* y[i] += x[i] */                                                                   \
        void (*accumulate)(int64_t n, T *y, const T *x);                                     \
        /* db[j] += x[0, j] + x[1, j] + ... in row order (so the same sums at                \
         * every level) */                                                                   \
        void (*accumulate_column_sums)(int64_t rows, int64_t cols, T *db, const T *x);       \
        /* true when no x[i] is an infinity or a NaN (fit checks every gradient) */          \
        bool (*all_finite)(int64_t n, const T *x);                                           \
        /* y = relu(x) = x > 0 ? x : 0; dx += x > 0 ? g : 0 */                               \
        void (*relu)(int64_t n, T *y, const T *x);                                           \
        void (*relu_grad)(int64_t n, T *dx, const T *x, const T *g);                         \
    }

typedef NB__VEC_KERNELS(float) nb__vec_f32;
typedef NB__VEC_KERNELS(double) nb__vec_f64;

typedef struct nb__vec_kernels {
    const char *name; /* "baseline", "avx2", "avx512" (NABLA_CPU's values) */
    nb__vec_f32 f32;
    nb__vec_f64 f64;
} nb__vec_kernels;

/* The kernels in use: chosen at the first call (thread-safe), then fixed
 * unless a test calls nb__vec_use. */
const nb__vec_kernels *nb__vec(void);

/* Level `level`'s kernels when this build has them and this CPU runs them;
 * NULL otherwise. */
const nb__vec_kernels *nb__vec_table(nb__vec_level level);

/* The highest level this build and CPU can run. */
nb__vec_level nb__vec_best_level(void);

/* The level for a NABLA_CPU value (NULL or "" for none) given the best level
 * the machine runs: the value's own level when it can run, the best one
 * below it when not, and `best` for NULL, "" or a value not known. When
 * the value was not used as given, a one-line explanation is written into
 * note (size note_size); note is "" otherwise. */
nb__vec_level nb__vec_choose(const char *request, nb__vec_level best, char *note,
                             int note_size);

/* Use level `level` from now on (tests compare the levels); false, and
 * nothing changed, when it cannot run here. Not while other threads
 * compute. */
bool nb__vec_use(nb__vec_level level);

#endif
