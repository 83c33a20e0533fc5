/* nabla/optim.h: optimizers that update parameters from their gradients.
 *
 * An optimizer keeps per-parameter state (momenta) created at its first step;
 * every later step must pass the same parameters in the same order. The
 * update rules and defaults are Keras's (Keras 3, also tf.keras 2.11+); the
 * arithmetic runs in each parameter's dtype, f32 or f64. After the first step
 * a step allocates nothing.
 *
 *     nb_optimizer *opt = nb_adam_default();
 *     for (...) {
 *         nb_optimizer_zero_grad(n, params);
 *         nb_backward(loss);               // fills params[i]->grad
 *         nb_optimizer_step(opt, n, params);
 *     }
 *     nb_optimizer_free(opt);
 *
 * nb_model_fit runs the same updates inside its backward sweep, each weight
 * as soon as its gradient is final (docs/design.md), with the same results
 * bit for bit when the step succeeds; a loop of your own uses the form
 * above. A fit step that fails part way (a non-finite gradient found in an
 * earlier layer) leaves the weights updated so far with their new values
 * and optimizer state, and says how many in its message.
 */
#ifndef NABLA_OPTIM_H
#define NABLA_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla/tensor.h"

typedef struct nb_optimizer nb_optimizer;

/* Constructors. Each returns a new optimizer (free it with
 * nb_optimizer_free), or NULL with an error naming the bad argument: the
 * learning rate must be finite and > 0, momentum, beta_1, beta_2 and rho in
 * [0, 1), epsilon finite and > 0. */

/* v = momentum v - lr g; p += v (nesterov: p += momentum v - lr g, with the
 * new v). Keras defaults: lr 0.01, momentum 0, nesterov false. */
nb_optimizer *nb_sgd(double learning_rate, double momentum, bool nesterov);
/* m, v moving averages of g and g^2; p -= lr sqrt(1 - b2^t) / (1 - b1^t)
 * m / (sqrt(v) + eps). Keras defaults: 1e-3, 0.9, 0.999, 1e-7. */
nb_optimizer *nb_adam(double learning_rate, double beta_1, double beta_2, double epsilon);
/* v = rho v + (1 - rho) g^2; p -= lr g / sqrt(v + eps) (Keras puts eps
 * inside the root); with momentum, mom = momentum mom + lr g / sqrt(v + eps)
 * and p -= mom. Not centered. Keras defaults: 1e-3, 0.9, 0, 1e-7. */
nb_optimizer *nb_rmsprop(double learning_rate, double rho, double momentum, double epsilon);
/* The Keras defaults above. */
nb_optimizer *nb_sgd_default(void);
nb_optimizer *nb_adam_default(void);
nb_optimizer *nb_rmsprop_default(void);

/* Update every parameter from its grad (parameters without a grad are
 * skipped, their state untouched). Parameters must be caller-owned (not on a
 * tape). Returns NB_ERR_STATE, updating nothing, if the number of parameters
 * or the shape or dtype of one differs from the first step. */
nb_status nb_optimizer_step(nb_optimizer *opt, int n_params, nb_tensor *const params[]);
/* Zero the grads of the parameters (those without a grad keep none). */
void nb_optimizer_zero_grad(int n_params, nb_tensor *const params[]);

/* "SGD", "Adam" or "RMSprop", and the learning rate (settable, e.g. by a
 * schedule callback; the new rate is checked like the constructor's). */
const char *nb_optimizer_name(const nb_optimizer *opt);
double nb_optimizer_learning_rate(const nb_optimizer *opt);
nb_status nb_optimizer_set_learning_rate(nb_optimizer *opt, double learning_rate);
/* Steps taken so far (Adam's bias correction uses it); settable to restore a
 * saved optimizer. */
int64_t nb_optimizer_iterations(const nb_optimizer *opt);
nb_status nb_optimizer_set_iterations(nb_optimizer *opt, int64_t iterations);

/* The optimizer's state tensors (momenta), for saving and restoring: there
 * are nb_optimizer_state_count() of them after the first step (0 before), in
 * Keras's order, one group per kind with one tensor per parameter in the
 * parameters' order:
 *   SGD:     momentum_0 .. momentum_{n-1} (none when momentum is 0)
 *   Adam:    momentum_0 .. momentum_{n-1}, velocity_0 .. velocity_{n-1}
 *   RMSprop: velocity_0 .. velocity_{n-1}, then momentum_0 .. momentum_{n-1}
 *            when momentum > 0
 * Each is named so (tensor->name), shaped and typed as its parameter, and
 * owned by the optimizer; write into its data to restore it. */
int nb_optimizer_state_count(const nb_optimizer *opt);
/* State tensors kept per parameter, known from construction: 0, 1 or 2 (the
 * groups listed above; 0 for NULL). */
int nb_optimizer_state_slots(const nb_optimizer *opt);
nb_tensor *nb_optimizer_state(const nb_optimizer *opt, int i);
/* Create the state for these parameters without updating them (the first
 * step does this itself): for restoring a saved optimizer before training.
 * Errors as nb_optimizer_step; NB_OK if already built for the same list. */
nb_status nb_optimizer_build(nb_optimizer *opt, int n_params, nb_tensor *const params[]);

/* The hyper-parameters as Keras's get_config names them, learning_rate first:
 *   SGD:     learning_rate, momentum, nesterov (0 or 1)
 *   Adam:    learning_rate, beta_1, beta_2, epsilon
 *   RMSprop: learning_rate, rho, momentum, epsilon
 * *n gets the count (at most NB_OPTIMIZER_CONFIG_MAX); the names are static
 * strings. */
#define NB_OPTIMIZER_CONFIG_MAX 8
nb_status nb_optimizer_config(const nb_optimizer *opt, int *n,
                              const char *names[NB_OPTIMIZER_CONFIG_MAX],
                              double values[NB_OPTIMIZER_CONFIG_MAX]);
/* A new optimizer from its name ("SGD", "Adam", "RMSprop", any case) and some
 * of its hyper-parameters (names as above; the others keep Keras's defaults,
 * so n = 0 gives the defaults). NULL with an error for an unknown optimizer
 * or hyper-parameter name, listing the valid ones, or a bad value. */
nb_optimizer *nb_optimizer_from_config(const char *name, int n, const char *const names[],
                                       const double values[]);

/* Free the optimizer and its state. NULL is ignored. */
void nb_optimizer_free(nb_optimizer *opt);

#endif
