/* The table of op facts: one entry per public op (every function of the
 * headers that records on a tape: `nb_tensor *nb_x(nb_tape *tape, ...)`).
 *
 * Like PyTorch's OpInfo, an entry says how to call the op, how to make
 * sample inputs for it, which inputs it must reject (with the words the
 * message must contain), whether it is differentiable once and twice, and
 * with what tolerances. test_op_table.c generates the same tests for every
 * entry from these facts (gradient checks in f64, f32 against f64, the
 * rejections, tape against no tape, thread counts, second derivatives), and
 * the API fuzzer (tests/fuzz/fuzz_api.c) calls the ops through `call` with
 * shapes, dtypes and attributes decoded from its input.
 *
 * Entries live in one file per op family, tests/op_table_<family>.c, each
 * defining `const nb_op_entry nb_op_table_<family>[]` and its count; the
 * families are listed once in tests/op_table.c. */
#ifndef NB_OP_TABLE_H
#define NB_OP_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla/nabla.h"

/* Most tensor inputs an entry's call takes: nb_concat and nb_stack are
 * called with up to this many. */
#define NB_OPT_MAX_INPUTS 6
/* Samples and rejections an entry may list. */
#define NB_OPT_MAX_SAMPLES 8
#define NB_OPT_MAX_REJECTS 8

/* The non-tensor arguments of a call, in the order the op's signature has
 * them: i[] for integers, enums and booleans (axis, kernel size, stride,
 * padding as nb_padding, keepdims, ...), d[] for reals (slope, scale, clip
 * bounds, ...). What each slot means is the entry's to say, in a comment
 * above its call function. */
typedef struct nb_op_args {
    int64_t i[8];
    double d[4];
} nb_op_args;

/* A call of the op: n tensor inputs (n is the entry's arity, or for a
 * variadic entry anything from min_inputs to NB_OPT_MAX_INPUTS) and the
 * arguments. Returns what the op returns (NULL with a message on error).
 * Must not crash on any args: the fuzzer passes arbitrary values, which the
 * op must reject with an error. */
typedef nb_tensor *(*nb_opt_call_fn)(nb_tape *tape, int n, nb_tensor *const inputs[],
                                     const nb_op_args *args);

/* A shape: rank 0 (a scalar) to NB_MAX_RANK. Not nb_test_shape, so that
 * the fuzzer can use the table without Check. */
typedef struct nb_opt_shape {
    int rank;
    int64_t dims[NB_MAX_RANK];
} nb_opt_shape;

/* One sample: the shapes of the inputs and the arguments. The driver makes
 * the tensors, in f32 and in f64, with values uniform in [low, high) (the
 * entry's domain), then applies the entry's `prepare` if any. */
typedef struct nb_op_sample {
    const char *label; /* "broadcast [3, 1] with [1, 4]": named in failures */
    int n_inputs;
    nb_opt_shape shapes[NB_OPT_MAX_INPUTS];
    nb_op_args args;
} nb_op_sample;

/* A call the op must reject: returns NULL and leaves a message containing
 * the op's name (the entry's name) and `message` (a distinctive part of
 * the expected text). Inputs are made as for samples, in `dtype`; with
 * mixed_dtype the last input is made in the other dtype. */
typedef struct nb_op_reject {
    const char *label;
    int n_inputs;
    nb_opt_shape shapes[NB_OPT_MAX_INPUTS];
    nb_op_args args;
    nb_dtype dtype;
    bool mixed_dtype;
    const char *message;
    /* optional: the status nb_last_status() must then give (NB_ERR_SHAPE,
     * NB_ERR_ARG, ...); NB_OK (0, the default) leaves it unchecked */
    nb_status status;
} nb_op_reject;

enum {
    NB_OPT_DIFF = 1u << 0,      /* has a first derivative: gradient-checked */
    NB_OPT_DIFF2 = 1u << 1,     /* has a second derivative: nb_gradgradcheck */
    NB_OPT_VARIADIC = 1u << 2,  /* takes min_inputs..NB_OPT_MAX_INPUTS inputs */
    NB_OPT_NO_THREADS = 1u << 3 /* skip the thread-count test (say why at the entry) */
};

typedef struct nb_op_entry {
    const char *name;   /* the public function: "nb_add" */
    nb_opt_call_fn call;
    int arity;          /* tensor inputs (the fewest, for a variadic op) */
    unsigned flags;     /* NB_OPT_* */
    /* inputs that get gradients (bit k for input k); 0 means all, for a
     * differentiable op. Integer-valued inputs (labels, indices) are left out. */
    uint32_t grad_inputs;
    double low, high;   /* sample values are uniform in [low, high) */
    /* optional: fix up sample inputs after they are drawn (keep them away
     * from kinks, make labels one-hot or integral); may be NULL. */
    void (*prepare)(int n, nb_tensor *const inputs[], const nb_op_args *args);
    int n_samples;
    nb_op_sample samples[NB_OPT_MAX_SAMPLES];
    int n_rejects;
    nb_op_reject rejects[NB_OPT_MAX_REJECTS];
    /* tolerances: f32 forward against f64 (relative to max(1, |f64|); 0
     * means 1e-5); gradient checks (0 keeps nb_gradcheck's defaults) */
    double f32_rtol;
    double grad_atol, grad_rtol;
    /* optional (n_inputs 0: none): a sample big enough for nabla's thread
     * pool to split the op's work, used only by the thread-count test (no
     * gradient check runs on it). Ops that split work (src/kernels/parallel.c
     * callers): matrix products of at least 2^18 multiply-adds (gemm.c's
     * GEMM_PARALLEL_MACS, e.g. [64, 64] x [64, 64]); conv and pooling split
     * im2col and windows by image (any batch of 2 or more), but conv's
     * product is split only past 2^18 multiply-adds too (a batch of 8 of
     * [16, 16, 16] with a [3, 3, 16, 32] kernel). */
    nb_op_sample threads_sample;
    /* 0: values and gradients with 1 and 2 threads are bit-identical.
     * Else they may differ by threads_ulps machine epsilons of the dtype,
     * relative to max(1, |value|): OpenBLAS's sgemm gives last-bit
     * differences between a whole product and the parts a split makes
     * (seen here up to 5e-6, about 40 f32 epsilons; dgemm and nabla's
     * portable kernel were bit-identical). docs/testing.md has the numbers. */
    double threads_ulps;
} nb_op_entry;

/* A `prepare` for ops that are not differentiable at ties (max pooling,
 * max and min along an axis): every input gets distinct values k / size
 * spread over [-1, 1) in a scrambled order (7919 is prime, so
 * k = i * 7919 mod size visits every k once for sizes below it), no two
 * closer than 2 / size, far more than a gradient check's step. */
void nb_opt_distinct_values(int n, nb_tensor *const inputs[], const nb_op_args *args);

/* Every entry of every family, in the families' order. */
int nb_op_table_count(void);
const nb_op_entry *nb_op_table_entry(int i);
/* The entry of a public function, or NULL. */
const nb_op_entry *nb_op_table_find(const char *name);

#endif
