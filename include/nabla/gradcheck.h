/* nabla/gradcheck.h: compare analytical gradients with finite differences.
 *
 * nb_gradcheck runs a function of some input tensors twice for every input
 * element (with the element moved by +eps and -eps) and compares the central
 * difference (f(x + eps) - f(x - eps)) / 2 eps with the gradient that
 * nb_backward computes. The function may return a tensor of any shape; it is
 * reduced to a scalar as sum(out * R) with a fixed random R, so that an error
 * in any output element shows (a plain sum would hide, for example, every
 * error in softmax's backward, whose rows always sum to 1).
 *
 * Use f64 inputs for checking: with f32 the round-off error of the finite
 * difference is about 1e-7 / eps, which swamps the comparison.
 */
#ifndef NABLA_GRADCHECK_H
#define NABLA_GRADCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla/tape.h"
#include "nabla/tensor.h"

#define NB_GRADCHECK_MAX_INPUTS 16

/* Computes the checked function on `tape` from inputs[]; returns its output
 * (or NULL on error). `user` is passed through. */
typedef nb_tensor *(*nb_gradcheck_fn)(nb_tape *tape, nb_tensor *const inputs[], void *user);

typedef struct nb_gradcheck_options {
    double eps;  /* finite-difference step; default 1e-6 */
    double atol; /* an element passes when |analytic - numeric| <= */
    double rtol; /*   atol + rtol * |numeric|; defaults 1e-5 and 1e-3 */
    uint64_t seed; /* seed of the projection R; default 0 */
} nb_gradcheck_options;

typedef struct nb_gradcheck_result {
    bool checked;        /* false for inputs that do not require gradients */
    bool passed;
    double max_abs_error; /* largest |analytic - numeric| */
    double max_rel_error; /* largest |a - n| / max(|a|, |n|), 0 where both are 0 */
    int64_t worst_index;  /* flat index of the element with the largest excess */
    double worst_analytic, worst_numeric;
} nb_gradcheck_result;

typedef struct nb_gradcheck_report {
    int n_inputs;
    bool passed; /* every checked input passed */
    nb_gradcheck_result inputs[NB_GRADCHECK_MAX_INPUTS];
} nb_gradcheck_report;

/* Check the gradients of f with respect to every input that requires a
 * gradient. options may be NULL for the defaults. Returns NB_OK when the check
 * could run (then report->passed tells the verdict) or an error when f fails
 * or the arguments are invalid. The inputs' values are restored afterwards;
 * their grads are overwritten. */
nb_status nb_gradcheck(nb_gradcheck_fn f, int n_inputs, nb_tensor *const inputs[], void *user,
                       const nb_gradcheck_options *options, nb_gradcheck_report *report);

/* Check the second derivatives of f, with nb_gradcheck's arguments and
 * report. With L = sum(f(inputs) * R) (R fixed and random, as above) and a
 * fixed random direction v_i per input that requires a gradient, the
 * function checked is S = sum_i sum(grad_i L * v_i): its gradient, by
 * differentiating nb_grad's recorded backward (every op on the way needs a
 * vjp, nabla/op.h), against central differences of S computed from
 * first-order gradients. Use f64. Errors as nb_gradcheck's, and nb_grad's
 * (an op without a vjp is named). */
nb_status nb_gradgradcheck(nb_gradcheck_fn f, int n_inputs, nb_tensor *const inputs[], void *user,
                           const nb_gradcheck_options *options, nb_gradcheck_report *report);

/* Print a report, one line per input, naming the worst element of each. */
void nb_gradcheck_print(const nb_gradcheck_report *report, FILE *out);

#endif
