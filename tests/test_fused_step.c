/* The optimizer inside the backward sweep (src/nn/fit_step.c): fit updates
 * each weight as soon as its gradient is final (nb__backward_with_ready),
 * and that must give the same bits as a user's loop of nb_backward and
 * nb_optimizer_step; a non-finite gradient found part way says which
 * weights took the step. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "kernels/fpenv.h"
#include "nb_test.h"

/* ---- the sweep hands out each parameter once its gradient is final -------- */

typedef struct ready_log {
    int order[4];      /* parameters in the order they were handed out */
    double grad[4][2]; /* their gradients at that moment (NAN: none) */
    int n;
    nb_tensor *const *params;
} ready_log;

static void record_ready(void *ctx, int p)
{
    ready_log *log = ctx;
    const nb_tensor *t = log->params[p];
    log->order[log->n] = p;
    for (int i = 0; i < 2; i++)
        log->grad[log->n][i] = t->grad ? nb_tensor_grad_get(t, i) : NAN;
    log->n++;
}

START_TEST(parameters_are_handed_out_after_their_first_use)
{
    /* loss = sum((a * x + b) * a): a is used by the first node and again by
     * the third, b by the second, c by none */
    nb_tensor *a = nb_test_uniform_param(NB_F64, NB_SHAPE(2), -1, 1, 1);
    nb_tensor *b = nb_test_uniform_param(NB_F64, NB_SHAPE(2), -1, 1, 2);
    nb_tensor *c = nb_test_uniform_param(NB_F64, NB_SHAPE(2), -1, 1, 3);
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2), 0.5, -2);
    nb_tensor *params[] = {a, b, c};
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = nb_sum(tape, nb_mul(tape, nb_add(tape, nb_mul(tape, a, x), b), a));
    ready_log log = {.params = params};
    ck_assert_int_eq(nb__backward_with_ready(loss, 3, params, record_ready, &log), NB_OK);
    ck_assert_int_eq(log.n, 3);
    ck_assert_int_eq(log.order[0], 1); /* b: its only use is after a's first */
    ck_assert_int_eq(log.order[1], 0);
    ck_assert_int_eq(log.order[2], 2); /* c, unused, last, with no gradient */
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 2; i++)
            ck_assert_msg(log.grad[k][i] == nb_tensor_grad_get(params[log.order[k]], i),
                          "parameter %d's gradient changed after it was handed out",
                          log.order[k]);
    ck_assert_ptr_null(c->grad);
    ck_assert(isnan(log.grad[2][0]));
    nb_tape_free(tape);
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(c);
}
END_TEST

START_TEST(a_leaf_loss_hands_out_every_parameter)
{
    nb_tensor *a = nb_test_uniform_param(NB_F64, 0, NULL, -1, 1, 1);
    nb_tensor *params[] = {a};
    ready_log log = {.params = params};
    ck_assert_int_eq(nb__backward_with_ready(a, 1, params, record_ready, &log), NB_OK);
    ck_assert_int_eq(log.n, 1);
    ck_assert_double_eq(nb_tensor_grad_get(a, 0), 1.0);
    nb_tensor_free(a);
}
END_TEST

/* ---- fit's fused step gives the bits of a user's loop ---------------------- */

typedef struct optimizer_case {
    const char *name;
    nb_optimizer *(*make)(void);
} optimizer_case;

static nb_optimizer *sgd(void) { return nb_sgd(0.05, 0, false); }
static nb_optimizer *sgd_momentum(void) { return nb_sgd(0.05, 0.9, false); }
static nb_optimizer *sgd_nesterov(void) { return nb_sgd(0.05, 0.9, true); }
static nb_optimizer *adam(void) { return nb_adam(0.01, 0.9, 0.999, 1e-7); }
static nb_optimizer *rmsprop(void) { return nb_rmsprop(0.01, 0.9, 0, 1e-7); }
static nb_optimizer *rmsprop_momentum(void) { return nb_rmsprop(0.01, 0.9, 0.5, 1e-7); }

static const optimizer_case cases[] = {
    {"SGD", sgd},   {"SGD momentum", sgd_momentum}, {"SGD nesterov", sgd_nesterov},
    {"Adam", adam}, {"RMSprop", rmsprop},           {"RMSprop momentum", rmsprop_momentum},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

#define ROWS 16
#define BATCH 4
#define EPOCHS 3

/* 5 inputs -> Dense(6, relu) -> BatchNormalization (moving statistics:
 * state without a gradient) -> Dense(3). */
static nb_model *make_model(nb_dtype dtype)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, 7);
    nb_model_set_dtype(model, dtype);
    nb_model_set_input_shape(model, NB_SHAPE(5));
    nb_model_add(model, nb_dense(6, NB_RELU));
    nb_model_add(model, nb_batch_normalization(0.9, 1e-3));
    nb_model_add(model, nb_dense(3, NB_LINEAR));
    ck_assert_msg(nb_model_build(model) == NB_OK, "build: %s", nb_last_error());
    return model;
}

static nb_tensor *rows_of(nb_dtype dtype, int64_t first, int64_t n, int64_t width, int salt)
{
    nb_tensor *t = nb_tensor_zeros(dtype, NB_SHAPE(n, width));
    for (int64_t i = 0; i < n * width; i++)
        nb_tensor_set(t, i, sin(0.7 * (double)(first * width + i) + salt));
    return t;
}

/* What fit does on one thread with shuffle off, as a user would write it:
 * zero the gradients, forward, mse, nb_backward, nb_optimizer_step. */
static void train_by_hand(nb_model *model, nb_optimizer *opt, nb_dtype dtype)
{
    int n = nb_model_weight_count(model);
    nb_tensor *weights[16];
    for (int w = 0; w < n; w++)
        weights[w] = nb_model_weight(model, w);
    nb_tape *tape = nb_tape_new();
    unsigned saved = nb__fp_enter(); /* fit flushes subnormals */
    for (int step = 0; step < EPOCHS * ROWS / BATCH; step++) {
        int64_t first = (step % (ROWS / BATCH)) * BATCH;
        nb_tensor *xb = rows_of(dtype, first, BATCH, 5, 0);
        nb_tensor *yb = rows_of(dtype, first, BATCH, 3, 1);
        nb_tape_reset(tape);
        nb_optimizer_zero_grad(n, weights);
        nb_tensor *loss = nb_loss_mse(tape, nb_model_forward(model, tape, xb, true), yb);
        ck_assert_int_eq(nb_backward(loss), NB_OK);
        ck_assert_int_eq(nb_optimizer_step(opt, n, weights), NB_OK);
        nb_tensor_free(xb);
        nb_tensor_free(yb);
    }
    nb__fp_leave(saved);
    nb_tape_free(tape);
}

static void assert_same_bits(const nb_tensor *a, const nb_tensor *b, const char *what,
                             const char *name)
{
    ck_assert_int_eq(a->size, b->size);
    ck_assert_msg(memcmp(a->data, b->data, (size_t)a->size * nb_dtype_size(a->dtype)) == 0,
                  "%s: %s '%s' differs from the separate step's", name, what, a->name);
}

/* fit (3 epochs of 4 batches, all but the first step fused) against
 * train_by_hand: the same weights and optimizer state, bit for bit. */
static void assert_fit_matches_hand(const optimizer_case *c, nb_dtype dtype, nb_callback *cb)
{
    nb_model *fitted = make_model(dtype);
    ck_assert_int_eq(nb_model_compile(fitted, &(nb_compile_options){.optimizer = c->make(),
                                                                     .loss = "mse"}),
                     NB_OK);
    nb_tensor *x = rows_of(dtype, 0, ROWS, 5, 0), *y = rows_of(dtype, 0, ROWS, 3, 1);
    nb_fit_options o = nb_fit_defaults();
    o.epochs = EPOCHS, o.batch_size = BATCH, o.shuffle = false, o.verbose = 0;
    o.callbacks[0] = cb;
    nb_history *history = nb_model_fit(fitted, x, y, &o);
    ck_assert_msg(history, "fit: %s", nb_last_error());

    nb_model *by_hand = make_model(dtype);
    nb_optimizer *opt = c->make();
    train_by_hand(by_hand, opt, dtype);

    for (int w = 0; w < nb_model_weight_count(fitted); w++)
        assert_same_bits(nb_model_weight(fitted, w), nb_model_weight(by_hand, w), "weight",
                         c->name);
    const nb_optimizer *fit_opt = nb_model_optimizer(fitted);
    ck_assert_int_eq(nb_optimizer_iterations(fit_opt), nb_optimizer_iterations(opt));
    ck_assert_int_eq(nb_optimizer_state_count(fit_opt), nb_optimizer_state_count(opt));
    for (int k = 0; k < nb_optimizer_state_count(opt); k++)
        assert_same_bits(nb_optimizer_state(fit_opt, k), nb_optimizer_state(opt, k), "state",
                         c->name);
    nb_optimizer_free(opt);
    nb_history_free(history);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_model_free(fitted);
    nb_model_free(by_hand);
}

START_TEST(fused_step_matches_the_separate_step_bit_for_bit)
{
    assert_fit_matches_hand(&cases[_i % N_CASES], _i < N_CASES ? NB_F32 : NB_F64, NULL);
}
END_TEST

/* A callback that adds to every weight's gradient, as one computing
 * gradients of its own would: the fused step zeroed them, but must zero
 * them again before the next step. */
static nb_status add_to_gradients(nb_callback *self, nb_model *model, int64_t batch,
                                  const nb_logs *logs)
{
    (void)self, (void)batch, (void)logs;
    nb_tape *tape = nb_tape_new();
    nb_tensor *sum = NULL;
    for (int w = 0; w < nb_model_weight_count(model); w++) {
        nb_tensor *weight = nb_model_weight(model, w);
        if (!weight->requires_grad)
            continue;
        nb_tensor *s = nb_sum(tape, weight);
        sum = sum ? nb_add(tape, sum, s) : s;
    }
    nb_status status = nb_backward(sum);
    nb_tape_free(tape);
    return status;
}

START_TEST(gradients_a_callback_adds_do_not_reach_the_next_step)
{
    nb_callback cb = {.name = "add_to_gradients", .on_batch_end = add_to_gradients};
    assert_fit_matches_hand(&cases[3], NB_F64, &cb); /* Adam */
}
END_TEST

/* ---- a non-finite gradient found part way through the sweep ---------------- */

static nb_model *g_model;
static int g_calls;
static double g_kernel, g_bias;

/* mse, except on the third call: plus sqrt(sum(0 * kernel)) = 0, whose
 * gradient for the kernel alone is 0 * inf = nan. The kernel's first use
 * (the matmul) comes before the bias's, so the bias's gradient is final,
 * and finite, first. */
static nb_tensor *nan_kernel_grad_on_third_call(nb_tape *tape, nb_tensor *pred,
                                                nb_tensor *target)
{
    nb_tensor *mse = nb_loss_mse(tape, pred, target);
    if (++g_calls != 3)
        return mse;
    g_kernel = nb_tensor_get(nb_model_weight(g_model, 0), 0);
    g_bias = nb_tensor_get(nb_model_weight(g_model, 1), 0);
    nb_tensor *zero = nb_sqrt(tape, nb_sum(tape, nb_scale(tape, nb_model_weight(g_model, 0), 0)));
    return nb_add(tape, mse, zero);
}

START_TEST(nan_gradient_found_late_names_the_weights_that_stepped)
{
    nb_loss loss = {"nan_kernel_grad", nan_kernel_grad_on_third_call};
    g_model = nb_sequential();
    nb_model_set_input_shape(g_model, NB_SHAPE(1));
    nb_model_add(g_model, nb_dense(1, NB_LINEAR));
    ck_assert_int_eq(nb_model_compile(g_model, &(nb_compile_options){
                                                   .optimizer = nb_sgd(0.1, 0, false),
                                                   .custom_loss = &loss}),
                     NB_OK);
    g_calls = 0;
    nb_tensor *x = rows_of(NB_F32, 0, 8, 1, 0), *y = rows_of(NB_F32, 0, 8, 1, 1);
    nb_fit_options o = nb_fit_defaults();
    o.batch_size = 2, o.shuffle = false, o.verbose = 0;
    ck_assert_ptr_null(nb_model_fit(g_model, x, y, &o));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NUMERIC);
    ck_assert_str_eq(nb_last_error(),
                     "nb_model_fit: epoch 1, batch 3: the gradient of weight 'dense/kernel' is "
                     "nan at element 0: training stopped; 1 of the 2 weights had taken this "
                     "batch's step when it was found (the optimizer runs inside the backward "
                     "sweep), the others are those before this batch");
    ck_assert_double_eq(nb_tensor_get(nb_model_weight(g_model, 0), 0), g_kernel);
    ck_assert_double_ne(nb_tensor_get(nb_model_weight(g_model, 1), 0), g_bias);
    ck_assert_int_eq(nb_optimizer_iterations(nb_model_optimizer(g_model)), 2);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_model_free(g_model);
}
END_TEST

static Suite *fused_step_suite(void)
{
    Suite *s = suite_create("fused_step");
    TCase *ready = tcase_create("ready");
    tcase_add_test(ready, parameters_are_handed_out_after_their_first_use);
    tcase_add_test(ready, a_leaf_loss_hands_out_every_parameter);
    suite_add_tcase(s, ready);
    TCase *bits = tcase_create("bits");
    tcase_add_loop_test(bits, fused_step_matches_the_separate_step_bit_for_bit, 0, 2 * N_CASES);
    tcase_add_test(bits, gradients_a_callback_adds_do_not_reach_the_next_step);
    suite_add_tcase(s, bits);
    TCase *guard = tcase_create("guard");
    tcase_add_test(guard, nan_gradient_found_late_names_the_weights_that_stepped);
    suite_add_tcase(s, guard);
    return s;
}

NB_TEST_MAIN(fused_step_suite)
