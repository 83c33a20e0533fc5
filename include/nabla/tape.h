/* nabla/tape.h: the tape that records ops, and backward.
 *
 * A tape is a Wengert list: every op applied to tensors that require
 * gradients appends a node, in execution order. nb_backward() walks the nodes
 * in reverse, calling each op's backward, which accumulates into the grads of
 * its inputs. Op results live in the tape's arena; nb_tape_reset() frees all
 * of them at once (the memory is kept and reused, so a training loop that
 * resets its tape every step stops allocating after the first step).
 *
 *     nb_tape *tape = nb_tape_new();
 *     nb_tensor *y = nb_relu(tape, nb_matmul(tape, x, w));
 *     nb_tensor *loss = nb_mean(tape, y);
 *     nb_backward(loss);            // w->grad now holds d loss / d w
 *     nb_tape_reset(tape);          // y and loss are gone; w persists
 */
#ifndef NABLA_TAPE_H
#define NABLA_TAPE_H

#include <stddef.h>

#include "nabla/tensor.h"

typedef struct nb_tape nb_tape;

/* A new empty tape, or NULL (no memory). Free with nb_tape_free(). */
nb_tape *nb_tape_new(void);

/* Free the tape and every tensor it owns. NULL is ignored. */
void nb_tape_free(nb_tape *tape);

/* Forget every node and free every tensor the tape owns. Tensors from before
 * the reset must not be used again; ops detect such use and report it until
 * the arena memory is reused by later ops. */
void nb_tape_reset(nb_tape *tape);

/* Turn recording on (the default) or off, returning the previous setting.
 * With recording off, ops still compute into the arena but record no nodes
 * and their results never require gradients: the inference mode. */
bool nb_tape_set_grad_enabled(nb_tape *tape, bool enabled);
bool nb_tape_grad_enabled(const nb_tape *tape);

/* Number of nodes recorded since the last reset. */
size_t nb_tape_size(const nb_tape *tape);
/* The i-th node, in execution order (NULL when out of range). */
struct nb_node *nb_tape_node(const nb_tape *tape, size_t i);

/* Bytes of arena memory the tape holds (in use or kept for reuse). */
size_t nb_tape_arena_bytes(const nb_tape *tape);

/* Backward from a tensor with one element: its gradient is seeded with 1 and
 * every recorded node that leads to it propagates. Gradients accumulate in
 * leaves (call nb_tensor_zero_grad or an optimizer's zero_grad between steps);
 * intermediates' gradients are recomputed from zero on each call. */
nb_status nb_backward(nb_tensor *loss);

/* Backward from any tensor, seeding its gradient with `grad` (same shape). */
nb_status nb_backward_from(nb_tensor *output, const nb_tensor *grad);

/* Anomaly detection, like PyTorch's detect_anomaly: when on, every op's
 * forward result and every gradient a backward writes is checked, and the
 * first NaN or infinity is an NB_ERR_NUMERIC error naming the op, its node on
 * the tape and its input shapes, e.g.
 *     nb_log: forward produced -inf at element 3 (node #5 on the tape; inputs [2, 3])
 * The op then returns NULL, or nb_backward returns the error. Off by default
 * (then it costs one test of a flag per op). The setting is process-wide: set
 * it before starting threads. Returns the previous setting. */
bool nb_set_detect_anomaly(bool enabled);
bool nb_detect_anomaly_enabled(void);

/* A tensor on `tape` holding the same values as t but no history: gradients
 * stop here. With tape == NULL the result is caller-owned. */
nb_tensor *nb_detach(nb_tape *tape, nb_tensor *t);

/* A zero-filled tensor in the tape's arena that requires no gradient: masks,
 * constants, one-hot targets. With tape == NULL it is caller-owned. */
nb_tensor *nb_tape_tensor(nb_tape *tape, nb_dtype dtype, int rank,
                          const int64_t *shape);

/* Print the tape, one node a line: index, op, input shapes, output shape. */
nb_status nb_tape_print(const nb_tape *tape, FILE *out);

#endif
