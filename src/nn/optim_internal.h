/* nn/optim_internal.h: the optimizer's fields, shared by optim.c (making one,
 * its state, its config) and optim_update.c (the update rules and the step).
 *
 * The step comes in three parts so that fit can run it inside the backward
 * sweep (fit_step.c): nb__optimizer_begin once, nb__optimizer_update for each
 * parameter as its gradient becomes final, in any order, nb__optimizer_end
 * once. nb_optimizer_step is these three in a row, so both forms give the
 * same bits: each parameter's update depends only on its own data, gradient
 * and state, and on the step's alpha and iteration count. */
#ifndef NB_NN_OPTIM_INTERNAL_H
#define NB_NN_OPTIM_INTERNAL_H

#include "nabla/optim.h"

#include "internal.h"

typedef enum optimizer_kind { KIND_SGD, KIND_ADAM, KIND_RMSPROP } optimizer_kind;
/* What a parameter looked like at the first step. */
typedef struct param_layout {
    nb_dtype dtype;
    int rank;
    int64_t shape[NB_MAX_RANK];
} param_layout;

struct nb_optimizer {
    optimizer_kind kind;
    double learning_rate;
    double momentum;       /* SGD, RMSprop */
    bool nesterov;         /* SGD */
    double beta_1, beta_2; /* Adam */
    double rho;            /* RMSprop */
    double epsilon;        /* Adam, RMSprop */
    int64_t iterations;    /* steps taken */
    bool built;            /* state made, parameter list fixed */
    int n_params;
    param_layout *layouts; /* [n_params] */
    int n_slots;           /* state tensors per parameter: 0, 1 or 2 */
    const char *slot_names[2];
    nb_tensor **state;     /* [n_slots * n_params], grouped by slot (Keras's order) */
    double alpha;          /* Adam's step size for the step under way */
};

/* Check the parameter list (messages start with fn); at the first call fix
 * it and make the state. */
nb_status nb__optimizer_build(const char *fn, nb_optimizer *opt, int n,
                              nb_tensor *const params[]);

/* Start a step: check the list (as nb__optimizer_build) and compute the
 * step's Adam alpha from the iteration count. Nothing is updated yet. */
nb_status nb__optimizer_begin(const char *fn, nb_optimizer *opt, int n_params,
                              nb_tensor *const params[]);
/* Update parameter i (params[i] of the step) from its grad; one without a
 * grad is skipped, its state untouched, as nb_optimizer_step does. With
 * zero_grad the grad is then zeroed, a block at a time while the block is
 * in cache, which spares the next step's nb_optimizer_zero_grad pass. */
void nb__optimizer_update(const nb_optimizer *opt, int i, nb_tensor *param, bool zero_grad);
/* Finish the step: one more iteration. */
void nb__optimizer_end(nb_optimizer *opt);

#endif
