/* Declarations shared inside libnabla; not installed. */
#ifndef NABLA_INTERNAL_H
#define NABLA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nabla/alloc.h"
#include "nabla/op.h"
#include "nabla/tape.h"
#include "nabla/tensor.h"

/* ---- errors (src/base/error.c) ------------------------------------------ */

/* Put context in front of the last error: its message becomes "<fmt...>:
 * <the message it had>" (just the context when it had none) and its status
 * `status`; returns status. For a caller that reports a failure of
 * something it called under its own name. The arguments must not point
 * into nb_last_error()'s buffer, which this rewrites. */
nb_status nb__error_context(nb_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- arena (src/base/arena.c) ------------------------------------------ */

/* A list of blocks. Rewinding keeps every block, so a loop that allocates the
 * same sequence each step allocates from the system only in its first step. */
typedef struct nb_arena_block nb_arena_block;
typedef struct nb_arena {
    nb_arena_block *first;
    nb_arena_block *current;
    size_t reserved; /* bytes in all blocks */
} nb_arena;

void *nb_arena_alloc(nb_arena *arena, size_t bytes); /* 64-byte aligned */
void nb_arena_rewind(nb_arena *arena);
void nb_arena_destroy(nb_arena *arena);

/* ---- tape internals (src/autograd/tape.c) ------------------------------- */

struct nb_tape {
    nb_arena arena;
    nb_node **nodes; /* recorded nodes in execution order (heap, kept) */
    size_t n_nodes, cap_nodes;
    nb_tensor **owned; /* every tensor in the arena, to mark them dead */
    size_t n_owned, cap_owned;
    uint32_t generation; /* bumped by every reset; never 0 */
    bool grad_enabled;
};

/* A tensor header plus zeroed data in the arena (or caller-owned on the heap
 * when tape is NULL). Shape must already be valid. */
nb_tensor *nb__tensor_alloc(nb_tape *tape, nb_dtype dtype, int rank,
                            const int64_t *shape);
/* The same, with the data zeroed only when `zero` is true: an op whose
 * forward writes every output element (nb_op.overwrites_output) skips it. */
nb_tensor *nb__tensor_alloc_for(nb_tape *tape, nb_dtype dtype, int rank,
                                const int64_t *shape, bool zero);
/* Allocate (zeroed) t->grad if needed; from the arena for tape tensors. */
void *nb__ensure_grad(nb_tensor *t);
/* Failures of nb__ensure_grad on this thread: an op's backward takes a NULL
 * gradient for "not needed", so backward.c compares this count instead. */
extern _Thread_local unsigned long nb__grad_alloc_failures;
/* Validate a shape and compute its element count; the message names fn. */
nb_status nb__check_shape(const char *fn, int rank, const int64_t *shape,
                          int64_t *size);
/* NB_OK when t may be used as an op input now; else sets a message. */
nb_status nb__check_live(const char *fn, const nb_tensor *t);
/* The same for an op's output shape and inputs, the message naming the
 * function "nb_<op_name>": every op runs these, and formatting that name
 * up front cost about 2% of a training step. */
nb_status nb__check_op_shape(const char *op_name, int rank, const int64_t *shape,
                             int64_t *size);
nb_status nb__check_op_live(const char *op_name, const nb_tensor *t);
bool nb__tape_push_node(nb_tape *tape, nb_node *node);
/* Remember an arena tensor so reset can mark it dead. */
bool nb__tape_track(nb_tape *tape, nb_tensor *t);

/* ---- backward (src/autograd/backward.c) --------------------------------- */

/* Add 1 to out's gradient and run the backward of every node from out's
 * down, as nb_backward does but keeping the gradients already there: nb_grad
 * clears the ones it must not touch first. */
nb_status nb__backward_seeded(nb_tensor *out);

/* nb_backward(loss) (loss is a live single-element tensor), and also:
 * on_ready(ctx, p) once for each of params[0..n_params), as soon as its
 * gradient is final, that is after the backward of the first node on the
 * tape that takes params[p] as an input; those no node uses (no gradient
 * from this loss) after the sweep. Lets fit update a parameter while its
 * gradient is still in cache (fit_step.c). If the sweep fails, the
 * parameters not yet handed out are not. */
typedef void (*nb__grad_ready_fn)(void *ctx, int p);
nb_status nb__backward_with_ready(nb_tensor *loss, int n_params, nb_tensor *const params[],
                                  nb__grad_ready_fn on_ready, void *ctx);

/* ---- gradient checks (src/autograd/gradcheck.c) -------------------------- */

struct nb_gradcheck_options;
struct nb_gradcheck_report;
typedef nb_tensor *(*nb__checked_fn)(nb_tape *tape, nb_tensor *const inputs[], void *user);
/* nb_gradcheck's arguments checked, the messages naming fn. */
nb_status nb__gradcheck_validate(const char *fn, nb__checked_fn f, int n_inputs,
                                 nb_tensor *const inputs[], struct nb_gradcheck_report *report);
/* nb_gradcheck under the name fn; with constant_is_zero a result that does
 * not depend on the inputs (no history) has zero gradients, not an error. */
nb_status nb__gradcheck_run(const char *fn, nb__checked_fn f, int n_inputs,
                            nb_tensor *const inputs[], void *user,
                            const struct nb_gradcheck_options *options,
                            struct nb_gradcheck_report *report, bool constant_is_zero);

/* ---- anomaly detection (src/autograd/anomaly.c) ------------------------- */

/* Set by nb_set_detect_anomaly; op.c and backward.c test it before checking. */
extern bool nb__anomaly_enabled;
#define NB_ANOMALY_NOT_RECORDED SIZE_MAX
/* NB_ERR_NUMERIC naming the op, the first non-finite element of its output,
 * `index` (its place on the tape, or NB_ANOMALY_NOT_RECORDED) and the input
 * shapes; NB_OK when the output is finite. */
nb_status nb__anomaly_check_forward(const nb_node *node, size_t index);
/* Same for the gradients the node's backward wrote into its inputs. */
nb_status nb__anomaly_check_backward(const nb_node *node);

/* ---- small helpers ------------------------------------------------------ */

/* Format an int64 list as "[a, b, c]". */
char *nb__dims_str(int rank, const int64_t *dims, char *buf, size_t len);

#define NB_SHAPE_BUF 64

#endif
