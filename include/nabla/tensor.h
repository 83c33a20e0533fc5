/* nabla/tensor.h: dense tensors of f32 or f64, rank 0 to 4, row-major.
 *
 * Ownership. A tensor is owned by exactly one of:
 *   - the caller: tensors from the nb_tensor_* constructors below, and op
 *     results computed with tape == NULL. Free them with nb_tensor_free().
 *   - a tape: op results computed on a tape live in the tape's arena and are
 *     freed all at once by nb_tape_reset() or nb_tape_free().
 * Parameters of a model are caller-owned (their layer is the caller).
 *
 * The struct is public so that custom ops can read shapes and data directly;
 * treat every field as read-only except the contents of `data` and `grad`.
 */
#ifndef NABLA_TENSOR_H
#define NABLA_TENSOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nabla/error.h"
#include "nabla/rng.h"

#define NB_MAX_RANK 4

typedef enum nb_dtype { NB_F32 = 0, NB_F64 = 1 } nb_dtype;

struct nb_tape;
struct nb_node;

typedef struct nb_tensor {
    nb_dtype dtype;
    int rank;                     /* 0 (a scalar) to NB_MAX_RANK */
    int64_t shape[NB_MAX_RANK];   /* shape[0..rank); unused entries are 1 */
    int64_t size;                 /* number of elements: product of shape */
    void *data;                   /* size elements of dtype, contiguous */
    void *grad;                   /* like data; NULL until a gradient arrives */
    bool requires_grad;           /* gradients flow into this tensor */
    struct nb_tape *tape;         /* arena owner, NULL when caller-owned */
    struct nb_node *node;         /* the tape node that produced it, or NULL */
    uint32_t generation;          /* tape generation it was made in */
    char name[32];                /* optional label for printing and graphs */
} nb_tensor;

/* Spell a shape inline: nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3)). */
#define NB_SHAPE(...)                                                        \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),         \
        (const int64_t[]){__VA_ARGS__}

/* Bytes per element of a dtype (4 or 8), and its name ("f32" or "f64"). */
size_t nb_dtype_size(nb_dtype dtype);
const char *nb_dtype_name(nb_dtype dtype);

/* Constructors. Each returns a new caller-owned tensor, or NULL with an error
 * (bad rank, non-positive dimension, element count overflow, no memory). */
nb_tensor *nb_tensor_zeros(nb_dtype dtype, int rank, const int64_t *shape);
nb_tensor *nb_tensor_ones(nb_dtype dtype, int rank, const int64_t *shape);
nb_tensor *nb_tensor_full(nb_dtype dtype, int rank, const int64_t *shape,
                          double value);
/* Copy `values` (an array of `dtype`, row-major, shape's element count). */
nb_tensor *nb_tensor_from_array(nb_dtype dtype, int rank, const int64_t *shape,
                                const void *values);
/* Convert `values` (doubles, row-major) to `dtype`. */
nb_tensor *nb_tensor_from_doubles(nb_dtype dtype, int rank,
                                  const int64_t *shape, const double *values);
nb_tensor *nb_tensor_rand_uniform(nb_dtype dtype, int rank,
                                  const int64_t *shape, double low,
                                  double high, nb_rng *rng);
nb_tensor *nb_tensor_rand_normal(nb_dtype dtype, int rank,
                                 const int64_t *shape, double mean,
                                 double stddev, nb_rng *rng);
/* A caller-owned deep copy of data (not grad, not history) in `dtype`. */
nb_tensor *nb_tensor_copy(const nb_tensor *t, nb_dtype dtype);

/* Free a caller-owned tensor and its gradient. NULL is ignored; a tape-owned
 * tensor is left alone (its tape frees it). */
void nb_tensor_free(nb_tensor *t);

/* Element access by flat (row-major) index or by a full index; values are
 * converted to and from double. Out-of-range indices give NB_ERR_ARG (and
 * NaN from the getters). */
double nb_tensor_get(const nb_tensor *t, int64_t flat_index);
nb_status nb_tensor_set(nb_tensor *t, int64_t flat_index, double value);
double nb_tensor_at(const nb_tensor *t, const int64_t *index);
/* The gradient at a flat index (0 when no gradient has arrived). */
double nb_tensor_grad_get(const nb_tensor *t, int64_t flat_index);
/* The single value of a tensor with one element (a loss, a metric). */
double nb_tensor_item(const nb_tensor *t);

/* Copy the values of src into dst (same element count; dtypes may differ). */
nb_status nb_tensor_copy_data(nb_tensor *dst, const nb_tensor *src);
/* Fill every element with value. */
nb_status nb_tensor_fill(nb_tensor *t, double value);

/* Mark a caller-owned leaf as needing gradients (parameters, inputs to check). */
nb_status nb_tensor_set_requires_grad(nb_tensor *t, bool requires_grad);
/* Set the gradient to zeros (allocating it if needed). */
nb_status nb_tensor_zero_grad(nb_tensor *t);
/* Give the tensor a label used by printers and graph drawings. */
void nb_tensor_set_name(nb_tensor *t, const char *name);

/* Write the shape as "[2, 3]" into buf; returns buf. */
char *nb_shape_str(const nb_tensor *t, char *buf, size_t len);
bool nb_same_shape(const nb_tensor *a, const nb_tensor *b);

/* Print shape, dtype and values (at most `max_values` per tensor, numpy-like
 * nesting; 0 means a sensible default). Returns NB_OK or NB_ERR_NULL. */
nb_status nb_tensor_print(const nb_tensor *t, FILE *out, int64_t max_values);

#endif
