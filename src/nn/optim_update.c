/* The optimizers' update rules (Keras's), applied in place to each
 * parameter's data from its ->grad, and the step that runs them. This is not
 * a backward pass (the gradients are already there), so plain loops over
 * elements are the right tool. The state they read and write is made by
 * optim.c at the first step. */
#include <string.h>
#include <tgmath.h> /* sqrt picks sqrtf for float parameters */

#include "kernels/parallel.h"
#include "kernels/vec.h"
#include "nn/optim_internal.h"

/* ---- the update rules ----------------------------------------------------- */

/* State tensor of slot k for parameter i. */
static nb_tensor *slot(const nb_optimizer *opt, int k, int i)
{
    return opt->state[k * opt->n_params + i];
}

/* One parameter's update, handed to the thread pool in parts: every rule
 * works element by element, so any split gives the same numbers. */
typedef struct update_job {
    const nb_optimizer *opt;
    nb_tensor *param;
    nb_tensor *s0, *s1; /* the parameter's state slots (NULL when absent) */
    double alpha;       /* Adam's step size for this step */
} update_job;

/* Parameters with fewer elements than this are updated on one thread: a
 * part of 16k elements takes a few microseconds, about what handing it to
 * another thread costs. */
#define UPDATE_GRAIN 16384

/* SGD (Keras). Without momentum: p -= lr g. With momentum (state v):
 *   v = momentum v - lr g
 *   p += v                         (nesterov: p += momentum v - lr g)
 * Each rule's element loop is vec.h's, in the copy for this CPU
 * (kernels/dispatch.c); k is its table for T. */
#define SGD_RANGE(T, k)                                                                      \
    do {                                                                                     \
        T *p = (T *)job->param->data + begin, *g = (T *)job->param->grad + begin;            \
        const T lr = (T)opt->learning_rate, mu = (T)opt->momentum;                           \
        if (!job->s0)                                                                        \
            k.sgd(end - begin, p, g, lr);                                                    \
        else                                                                                 \
            k.sgd_momentum(end - begin, p, (T *)job->s0->data + begin, g, lr, mu,            \
                           opt->nesterov);                                                   \
    } while (0)

static void sgd_range(void *ctx, int64_t begin, int64_t end)
{
    const update_job *job = ctx;
    const nb_optimizer *opt = job->opt;
    if (job->param->dtype == NB_F32)
        SGD_RANGE(float, nb__vec()->f32);
    else
        SGD_RANGE(double, nb__vec()->f64);
}

/* Adam (Keras 3, tf.keras 2.11+). With t = iterations + 1:
 *   alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
 *   m += (g - m)(1 - beta_1)
 *   v += (g^2 - v)(1 - beta_2)
 *   p -= alpha m / (sqrt(v) + eps)
 * alpha is computed once per step, in double. One pass over the four
 * arrays (vec.h's adam, in the copy for this CPU). */
#define ADAM_RANGE(T, k)                                                                     \
    do {                                                                                     \
        k.adam(end - begin, (T *)job->param->data + begin, (T *)job->s0->data + begin,       \
               (T *)job->s1->data + begin, (T *)job->param->grad + begin, (T)job->alpha,     \
               (T)(1 - opt->beta_1), (T)(1 - opt->beta_2), (T)opt->epsilon);                 \
    } while (0)

static void adam_range(void *ctx, int64_t begin, int64_t end)
{
    const update_job *job = ctx;
    const nb_optimizer *opt = job->opt;
    if (job->param->dtype == NB_F32)
        ADAM_RANGE(float, nb__vec()->f32);
    else
        ADAM_RANGE(double, nb__vec()->f64);
}

static double adam_alpha(const nb_optimizer *opt)
{
    double t = (double)(opt->iterations + 1);
    return opt->learning_rate * sqrt(1 - pow(opt->beta_2, t)) / (1 - pow(opt->beta_1, t));
}

/* RMSprop (Keras, not centered; eps inside the root as Keras has it):
 *   v = rho v + (1 - rho) g^2
 *   increment = lr g / sqrt(v + eps)
 *   p -= increment                 (with momentum: mom = momentum mom + increment;
 *                                   p -= mom) */
#define RMSPROP_RANGE(T, k)                                                                  \
    do {                                                                                     \
        k.rmsprop(end - begin, (T *)job->param->data + begin, (T *)job->s0->data + begin,    \
                  job->s1 ? (T *)job->s1->data + begin : NULL,                               \
                  (T *)job->param->grad + begin, (T)opt->learning_rate, (T)opt->rho,         \
                  (T)opt->momentum, (T)opt->epsilon);                                        \
    } while (0)

static void rmsprop_range(void *ctx, int64_t begin, int64_t end)
{
    const update_job *job = ctx;
    const nb_optimizer *opt = job->opt;
    if (job->param->dtype == NB_F32)
        RMSPROP_RANGE(float, nb__vec()->f32);
    else
        RMSPROP_RANGE(double, nb__vec()->f64);
}

static nb__range_fn rule_of(const nb_optimizer *opt)
{
    return opt->kind == KIND_SGD ? sgd_range : opt->kind == KIND_ADAM ? adam_range : rmsprop_range;
}

static update_job job_for(const nb_optimizer *opt, int i, nb_tensor *param, double alpha)
{
    return (update_job){opt, param, opt->n_slots > 0 ? slot(opt, 0, i) : NULL,
                        opt->n_slots > 1 ? slot(opt, 1, i) : NULL, alpha};
}

static void update(const nb_optimizer *opt, int i, nb_tensor *param, double alpha)
{
    update_job job = job_for(opt, i, param, alpha);
    nb__parallel_for(param->size, UPDATE_GRAIN, 16, rule_of(opt), &job);
}

/* Elements per block when the update also zeroes the gradient: 16 KiB of
 * f32 gradient, read by the rule and zeroed while it is still in L1. */
#define ZERO_BLOCK 4096

typedef struct zeroing_job {
    update_job job; /* first: the rule gets a pointer to it */
    nb__range_fn rule;
} zeroing_job;

/* The rule on [begin, end) a block at a time, each block's gradient zeroed
 * right after the rule has read it: the same numbers as the rule alone
 * (it works element by element), with no later pass to zero the gradient. */
static void update_and_zero_range(void *ctx, int64_t begin, int64_t end)
{
    const zeroing_job *z = ctx;
    size_t elem = nb_dtype_size(z->job.param->dtype);
    for (int64_t b = begin; b < end; b += ZERO_BLOCK) {
        int64_t e = end - b < ZERO_BLOCK ? end : b + ZERO_BLOCK;
        z->rule((void *)&z->job, b, e);
        memset((char *)z->job.param->grad + (size_t)b * elem, 0, (size_t)(e - b) * elem);
    }
}

static void update_and_zero(const nb_optimizer *opt, int i, nb_tensor *param, double alpha)
{
    zeroing_job z = {job_for(opt, i, param, alpha), rule_of(opt)};
    nb__parallel_for(param->size, UPDATE_GRAIN, 16, update_and_zero_range, &z);
}

/* ---- the step --------------------------------------------------------------- */

nb_status nb__optimizer_begin(const char *fn, nb_optimizer *opt, int n_params,
                              nb_tensor *const params[])
{
    nb_status s = nb__optimizer_build(fn, opt, n_params, params);
    if (s == NB_OK)
        opt->alpha = opt->kind == KIND_ADAM ? adam_alpha(opt) : 0;
    return s;
}

void nb__optimizer_update(const nb_optimizer *opt, int i, nb_tensor *param, bool zero_grad)
{
    if (param->grad && zero_grad)
        update_and_zero(opt, i, param, opt->alpha);
    else if (param->grad)
        update(opt, i, param, opt->alpha);
}

void nb__optimizer_end(nb_optimizer *opt) { opt->iterations++; }

nb_status nb_optimizer_step(nb_optimizer *opt, int n_params, nb_tensor *const params[])
{
    nb_status s = nb__optimizer_begin("nb_optimizer_step", opt, n_params, params);
    if (s != NB_OK)
        return s;
    for (int i = 0; i < n_params; i++)
        nb__optimizer_update(opt, i, params[i], false);
    nb__optimizer_end(opt);
    return NB_OK;
}

static void zero_range(void *ctx, int64_t begin, int64_t end)
{
    const nb_tensor *t = ctx;
    size_t size = nb_dtype_size(t->dtype);
    memset((char *)t->grad + (size_t)begin * size, 0, (size_t)(end - begin) * size);
}

void nb_optimizer_zero_grad(int n_params, nb_tensor *const params[])
{
    for (int i = 0; params && i < n_params; i++)
        if (params[i] && params[i]->grad)
            nb__parallel_for(params[i]->size, UPDATE_GRAIN, 16, zero_range, params[i]);
}

