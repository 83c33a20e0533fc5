/* Tests for the optimizers (src/nn/optim.c): each update rule against the
 * formula worked out here, Keras defaults, argument and parameter-list errors,
 * state layout, configuration round trips, and no allocation after the first
 * step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nb_test.h"

/* ---- helpers ---------------------------------------------------------------- */

static const nb_dtype dtypes[] = {NB_F32, NB_F64};
static double tolerance(nb_dtype dtype) { return dtype == NB_F32 ? 1e-6 : 1e-12; }

/* Write values into t's gradient (allocating it). */
static void set_grad(nb_tensor *t, const double *values)
{
    ck_assert_int_eq(nb_tensor_zero_grad(t), NB_OK);
    for (int64_t i = 0; i < t->size; i++) {
        if (t->dtype == NB_F32)
            ((float *)t->grad)[i] = (float)values[i];
        else
            ((double *)t->grad)[i] = values[i];
    }
}

/* A parameter [n] with the given values and gradient. */
static nb_tensor *param(nb_dtype dtype, int n, const double *values, const double *grad)
{
    nb_tensor *p = nb_test_keep(nb_tensor_from_doubles(dtype, 1, (const int64_t[]){n}, values));
    nb_tensor_set_requires_grad(p, true);
    if (grad)
        set_grad(p, grad);
    return p;
}

static void assert_values(const nb_tensor *t, const double *expected, double tol)
{
    for (int64_t i = 0; i < t->size; i++)
        ck_assert_msg(fabs(nb_tensor_get(t, i) - expected[i]) <= tol * fmax(1, fabs(expected[i])),
                      "%s[%lld] is %.12g: expected %.12g", t->name[0] ? t->name : "tensor",
                      (long long)i, nb_tensor_get(t, i), expected[i]);
}

static void step_ok(nb_optimizer *opt, int n, nb_tensor *const params[])
{
    nb_status s = nb_optimizer_step(opt, n, params);
    ck_assert_msg(s == NB_OK, "nb_optimizer_step failed: %s", nb_last_error());
}

/* ---- SGD ---------------------------------------------------------------------- */

START_TEST(sgd_moves_against_the_gradient)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *p = param(dtypes[d], 2, (double[]){1, -2}, (double[]){0.5, 0.25});
        nb_optimizer *opt = nb_sgd(0.1, 0.0, false);
        step_ok(opt, 1, &p);
        assert_values(p, (double[]){1 - 0.05, -2 - 0.025}, tolerance(dtypes[d]));
        ck_assert_int_eq(nb_optimizer_iterations(opt), 1);
        ck_assert_int_eq(nb_optimizer_state_count(opt), 0); /* no momentum, no state */
        nb_optimizer_free(opt);
    }
}
END_TEST

START_TEST(sgd_momentum_accumulates_a_velocity)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *p = param(dtypes[d], 1, (double[]){1}, (double[]){1});
        nb_optimizer *opt = nb_sgd(0.1, 0.9, false);
        /* v = 0.9 v - 0.1 g; p += v, with g = 1: v = -0.1, -0.19, -0.271 */
        const double expected[] = {0.9, 0.71, 0.439};
        for (int t = 0; t < 3; t++) {
            step_ok(opt, 1, &p);
            assert_values(p, &expected[t], tolerance(dtypes[d]));
        }
        assert_values(nb_optimizer_state(opt, 0), (double[]){-0.271}, tolerance(dtypes[d]));
        nb_optimizer_free(opt);
    }
}
END_TEST

START_TEST(sgd_nesterov_steps_with_the_look_ahead)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *p = param(dtypes[d], 1, (double[]){1}, (double[]){1});
        nb_optimizer *opt = nb_sgd(0.1, 0.9, true);
        /* v = 0.9 v - 0.1; p += 0.9 v - 0.1: steps -0.19, -0.271, -0.3439 */
        const double expected[] = {0.81, 0.539, 0.1951};
        for (int t = 0; t < 3; t++) {
            step_ok(opt, 1, &p);
            assert_values(p, &expected[t], tolerance(dtypes[d]));
        }
        nb_optimizer_free(opt);
    }
}
END_TEST

/* ---- Adam --------------------------------------------------------------------- */

/* Adam by the formula, in double, for one element over `steps` steps whose
 * gradient at step t (from 0) is g * (1 + t / 2). */
static double adam_reference(double p, double g, int steps, double lr, double b1, double b2,
                             double eps)
{
    double m = 0, v = 0;
    for (int t = 0; t < steps; t++) {
        double gt = g * (1 + t / 2.0);
        double alpha = lr * sqrt(1 - pow(b2, t + 1)) / (1 - pow(b1, t + 1));
        m += (gt - m) * (1 - b1);
        v += (gt * gt - v) * (1 - b2);
        p -= alpha * m / (sqrt(v) + eps);
    }
    return p;
}

START_TEST(adam_first_step_moves_each_parameter_by_about_lr)
{
    for (int d = 0; d < 2; d++) {
        const double g[] = {0.3, -2, 0.01};
        nb_tensor *p = param(dtypes[d], 3, (double[]){1, 1, 1}, g);
        nb_optimizer *opt = nb_adam_default();
        step_ok(opt, 1, &p);
        /* m = 0.1 g, v = 0.001 g^2: the step is lr sign(g) up to eps */
        for (int i = 0; i < 3; i++)
            ck_assert_double_eq_tol(nb_tensor_get(p, i), 1 - 1e-3 * (g[i] > 0 ? 1 : -1), 1e-6);
        nb_optimizer_free(opt);
    }
}
END_TEST

START_TEST(adam_several_steps_follow_the_formula)
{
    for (int d = 0; d < 2; d++) {
        const double g0[] = {0.3, -2, 0.01};
        nb_tensor *p = param(dtypes[d], 3, (double[]){1, 0, -1}, g0);
        nb_optimizer *opt = nb_adam(0.01, 0.8, 0.99, 1e-3);
        for (int t = 0; t < 5; t++) {
            double g[3];
            for (int i = 0; i < 3; i++)
                g[i] = g0[i] * (1 + t / 2.0);
            set_grad(p, g);
            step_ok(opt, 1, &p);
        }
        double expected[3];
        for (int i = 0; i < 3; i++)
            expected[i] = adam_reference((double[]){1, 0, -1}[i], g0[i], 5, 0.01, 0.8, 0.99, 1e-3);
        assert_values(p, expected, dtypes[d] == NB_F32 ? 1e-5 : 1e-12);
        ck_assert_int_eq(nb_optimizer_iterations(opt), 5);
        nb_optimizer_free(opt);
    }
}
END_TEST

/* ---- RMSprop ------------------------------------------------------------------ */

/* RMSprop by Keras's formula, in double, with the gradients of
 * adam_reference. */
static double rmsprop_reference(double p, double g, int steps, double lr, double rho,
                                double momentum, double eps)
{
    double v = 0, mom = 0;
    for (int t = 0; t < steps; t++) {
        double gt = g * (1 + t / 2.0);
        v = rho * v + (1 - rho) * gt * gt;
        double increment = lr * gt / sqrt(v + eps);
        mom = momentum * mom + increment;
        p -= momentum > 0 ? mom : increment;
    }
    return p;
}

START_TEST(rmsprop_first_step_divides_by_the_root_mean_square)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *p = param(dtypes[d], 2, (double[]){1, 1}, (double[]){0.5, -4});
        nb_optimizer *opt = nb_rmsprop_default();
        step_ok(opt, 1, &p);
        /* v = 0.1 g^2; p -= 1e-3 g / sqrt(0.1 g^2 + 1e-7) */
        double expected[] = {1 - 1e-3 * 0.5 / sqrt(0.1 * 0.25 + 1e-7),
                             1 + 1e-3 * 4 / sqrt(0.1 * 16 + 1e-7)};
        assert_values(p, expected, tolerance(dtypes[d]));
        nb_optimizer_free(opt);
    }
}
END_TEST

START_TEST(rmsprop_several_steps_follow_the_formula_with_and_without_momentum)
{
    for (int d = 0; d < 2; d++) {
        for (int with_momentum = 0; with_momentum < 2; with_momentum++) {
            const double g0[] = {0.3, -2, 0.01}, p0[] = {1, 0, -1};
            double mu = with_momentum ? 0.5 : 0.0;
            nb_tensor *p = param(dtypes[d], 3, p0, g0);
            nb_optimizer *opt = nb_rmsprop(0.01, 0.8, mu, 1e-3);
            for (int t = 0; t < 5; t++) {
                double g[3];
                for (int i = 0; i < 3; i++)
                    g[i] = g0[i] * (1 + t / 2.0);
                set_grad(p, g);
                step_ok(opt, 1, &p);
            }
            double expected[3];
            for (int i = 0; i < 3; i++)
                expected[i] = rmsprop_reference(p0[i], g0[i], 5, 0.01, 0.8, mu, 1e-3);
            assert_values(p, expected, dtypes[d] == NB_F32 ? 1e-5 : 1e-12);
            ck_assert_int_eq(nb_optimizer_state_count(opt), with_momentum ? 2 : 1);
            nb_optimizer_free(opt);
        }
    }
}
END_TEST

/* ---- defaults, names, configuration --------------------------------------------- */

static void assert_config(const nb_optimizer *opt, const char *name, int n,
                          const char *const names[], const double values[])
{
    const char *got_names[NB_OPTIMIZER_CONFIG_MAX];
    double got[NB_OPTIMIZER_CONFIG_MAX];
    int got_n = -1;
    ck_assert_str_eq(nb_optimizer_name(opt), name);
    ck_assert_int_eq(nb_optimizer_config(opt, &got_n, got_names, got), NB_OK);
    ck_assert_int_eq(got_n, n);
    for (int k = 0; k < n; k++) {
        ck_assert_str_eq(got_names[k], names[k]);
        ck_assert_double_eq(got[k], values[k]);
    }
}

START_TEST(defaults_are_keras_defaults)
{
    nb_optimizer *sgd = nb_sgd_default(), *adam = nb_adam_default(), *rms = nb_rmsprop_default();
    assert_config(sgd, "SGD", 3, (const char *[]){"learning_rate", "momentum", "nesterov"},
                  (double[]){0.01, 0, 0});
    assert_config(adam, "Adam", 4, (const char *[]){"learning_rate", "beta_1", "beta_2", "epsilon"},
                  (double[]){1e-3, 0.9, 0.999, 1e-7});
    assert_config(rms, "RMSprop", 4,
                  (const char *[]){"learning_rate", "rho", "momentum", "epsilon"},
                  (double[]){1e-3, 0.9, 0, 1e-7});
    ck_assert_double_eq(nb_optimizer_learning_rate(adam), 1e-3);
    ck_assert_int_eq(nb_optimizer_iterations(adam), 0);
    nb_optimizer_free(sgd);
    nb_optimizer_free(adam);
    nb_optimizer_free(rms);
}
END_TEST

START_TEST(config_round_trips_through_from_config)
{
    nb_optimizer *originals[] = {nb_sgd(0.05, 0.8, true), nb_adam(0.002, 0.85, 0.99, 1e-6),
                                 nb_rmsprop(0.003, 0.7, 0.4, 1e-5)};
    for (int i = 0; i < 3; i++) {
        const char *names[NB_OPTIMIZER_CONFIG_MAX];
        double values[NB_OPTIMIZER_CONFIG_MAX];
        int n;
        ck_assert_int_eq(nb_optimizer_config(originals[i], &n, names, values), NB_OK);
        nb_optimizer *copy = nb_optimizer_from_config(nb_optimizer_name(originals[i]), n, names,
                                                      values);
        ck_assert_msg(copy != NULL, "%s", nb_last_error());
        assert_config(copy, nb_optimizer_name(originals[i]), n, names, values);
        nb_optimizer_free(copy);
        nb_optimizer_free(originals[i]);
    }
}
END_TEST

START_TEST(from_config_fills_missing_values_with_defaults)
{
    nb_optimizer *opt = nb_optimizer_from_config("adam", 1, (const char *[]){"beta_2"},
                                                 (double[]){0.98});
    ck_assert_ptr_nonnull(opt);
    assert_config(opt, "Adam", 4, (const char *[]){"learning_rate", "beta_1", "beta_2", "epsilon"},
                  (double[]){1e-3, 0.9, 0.98, 1e-7});
    nb_optimizer_free(opt);
    opt = nb_optimizer_from_config("RMSprop", 0, NULL, NULL);
    ck_assert_ptr_nonnull(opt);
    ck_assert_str_eq(nb_optimizer_name(opt), "RMSprop");
    nb_optimizer_free(opt);
}
END_TEST

START_TEST(from_config_rejects_unknown_names_and_bad_values)
{
    ck_assert_ptr_null(nb_optimizer_from_config("Adagrad", 0, NULL, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_optimizer_from_config: unknown optimizer 'Adagrad': expected SGD, "
                             "Adam or RMSprop");
    ck_assert_ptr_null(nb_optimizer_from_config("SGD", 1, (const char *[]){"beta_1"},
                                                (double[]){0.9}));
    ck_assert_error_contains("nb_optimizer_from_config: SGD has no hyper-parameter 'beta_1': "
                             "expected learning_rate, momentum, nesterov");
    ck_assert_ptr_null(nb_optimizer_from_config("SGD", 1, (const char *[]){"nesterov"},
                                                (double[]){2}));
    ck_assert_error_contains("nb_optimizer_from_config: nesterov is 2: expected 0 or 1");
    ck_assert_ptr_null(nb_optimizer_from_config("Adam", 1, (const char *[]){"beta_1"},
                                                (double[]){1}));
    ck_assert_error_contains("nb_optimizer_from_config: beta_1 is 1: expected a value in [0, 1)");
    ck_assert_ptr_null(nb_optimizer_from_config(NULL, 0, NULL, NULL));
    ck_assert_error_contains("nb_optimizer_from_config: name is NULL");
}
END_TEST

/* ---- argument errors ---------------------------------------------------------- */

START_TEST(constructors_check_their_arguments)
{
    ck_assert_ptr_null(nb_sgd(0, 0, false));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_sgd: learning_rate is 0: expected a finite value > 0");
    ck_assert_ptr_null(nb_sgd(INFINITY, 0, false));
    ck_assert_error_contains("nb_sgd: learning_rate is inf: expected a finite value > 0");
    ck_assert_ptr_null(nb_sgd(NAN, 0, false));
    ck_assert_error_contains("nb_sgd: learning_rate is nan");
    ck_assert_ptr_null(nb_sgd(0.1, 1.0, false));
    ck_assert_error_contains("nb_sgd: momentum is 1: expected a value in [0, 1)");
    ck_assert_ptr_null(nb_sgd(0.1, -0.5, true));
    ck_assert_error_contains("nb_sgd: momentum is -0.5: expected a value in [0, 1)");
    ck_assert_ptr_null(nb_adam(-1e-3, 0.9, 0.999, 1e-7));
    ck_assert_error_contains("nb_adam: learning_rate is -0.001");
    ck_assert_ptr_null(nb_adam(1e-3, 1.0, 0.999, 1e-7));
    ck_assert_error_contains("nb_adam: beta_1 is 1: expected a value in [0, 1)");
    ck_assert_ptr_null(nb_adam(1e-3, 0.9, -0.1, 1e-7));
    ck_assert_error_contains("nb_adam: beta_2 is -0.1: expected a value in [0, 1)");
    ck_assert_ptr_null(nb_adam(1e-3, 0.9, 0.999, 0));
    ck_assert_error_contains("nb_adam: epsilon is 0: expected a finite value > 0");
    ck_assert_ptr_null(nb_rmsprop(1e-3, 1.0, 0, 1e-7));
    ck_assert_error_contains("nb_rmsprop: rho is 1: expected a value in [0, 1)");
    ck_assert_ptr_null(nb_rmsprop(1e-3, 0.9, 1.5, 1e-7));
    ck_assert_error_contains("nb_rmsprop: momentum is 1.5: expected a value in [0, 1)");
    ck_assert_ptr_null(nb_rmsprop(1e-3, 0.9, 0, -1e-7));
    ck_assert_error_contains("nb_rmsprop: epsilon is -1e-07: expected a finite value > 0");
}
END_TEST

START_TEST(learning_rate_can_be_changed_between_steps)
{
    nb_tensor *p = param(NB_F64, 1, (double[]){1}, (double[]){1});
    nb_optimizer *opt = nb_sgd(0.1, 0, false);
    step_ok(opt, 1, &p);
    ck_assert_int_eq(nb_optimizer_set_learning_rate(opt, 0.5), NB_OK);
    ck_assert_double_eq(nb_optimizer_learning_rate(opt), 0.5);
    step_ok(opt, 1, &p);
    ck_assert_double_eq_tol(nb_tensor_get(p, 0), 1 - 0.1 - 0.5, 1e-15);
    ck_assert_int_eq(nb_optimizer_set_learning_rate(opt, -1), NB_ERR_ARG);
    ck_assert_error_contains("nb_optimizer_set_learning_rate: learning_rate is -1");
    ck_assert_double_eq(nb_optimizer_learning_rate(opt), 0.5);
    nb_optimizer_free(opt);
}
END_TEST

START_TEST(a_changed_parameter_list_is_an_error_and_updates_nothing)
{
    nb_tensor *a = param(NB_F32, 2, (double[]){1, 2}, (double[]){1, 1});
    nb_tensor *b = param(NB_F32, 3, (double[]){1, 2, 3}, (double[]){1, 1, 1});
    nb_tensor *b64 = param(NB_F64, 3, (double[]){1, 2, 3}, (double[]){1, 1, 1});
    nb_optimizer *opt = nb_adam_default();
    step_ok(opt, 2, (nb_tensor *[]){a, b});
    double a0 = nb_tensor_get(a, 0);

    ck_assert_int_eq(nb_optimizer_step(opt, 1, (nb_tensor *[]){a}), NB_ERR_STATE);
    ck_assert_error_contains("nb_optimizer_step: got 1 parameters but the first step had 2");
    ck_assert_int_eq(nb_optimizer_step(opt, 2, (nb_tensor *[]){b, a}), NB_ERR_STATE);
    ck_assert_error_contains("nb_optimizer_step: parameter 0 is [3] f32 but was [2] f32 at the "
                             "first step: expected the same parameters in the same order");
    ck_assert_int_eq(nb_optimizer_step(opt, 2, (nb_tensor *[]){a, b64}), NB_ERR_STATE);
    ck_assert_error_contains("parameter 1 is [3] f64 but was [3] f32 at the first step");

    ck_assert_double_eq(nb_tensor_get(a, 0), a0);
    ck_assert_int_eq(nb_optimizer_iterations(opt), 1);
    nb_optimizer_free(opt);
}
END_TEST

START_TEST(step_rejects_null_and_tape_owned_parameters)
{
    nb_optimizer *opt = nb_sgd_default();
    ck_assert_int_eq(nb_optimizer_step(NULL, 0, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_optimizer_step: opt is NULL");
    ck_assert_int_eq(nb_optimizer_step(opt, 1, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_optimizer_step: params is NULL for 1 parameters");
    ck_assert_int_eq(nb_optimizer_step(opt, -1, NULL), NB_ERR_ARG);
    ck_assert_error_contains("nb_optimizer_step: n_params is -1: expected 0 or more");
    ck_assert_int_eq(nb_optimizer_step(opt, 1, (nb_tensor *[]){NULL}), NB_ERR_NULL);
    ck_assert_error_contains("nb_optimizer_step: parameter 0 is NULL");
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_test_keep(nb_tensor_ones(NB_F32, NB_SHAPE(2)));
    nb_tensor *y = nb_scale(tape, x, 2.0);
    nb_tensor_set_name(y, "y");
    ck_assert_int_eq(nb_optimizer_step(opt, 1, &y), NB_ERR_STATE);
    ck_assert_error_contains("nb_optimizer_step: parameter 0 ('y') lives on a tape");
    ck_assert_int_eq(nb_optimizer_state_count(opt), 0); /* nothing was built */
    nb_tape_free(tape);
    nb_optimizer_free(opt);
}
END_TEST

/* ---- state -------------------------------------------------------------------- */

START_TEST(adam_state_is_momenta_then_velocities_per_parameter)
{
    nb_tensor *a = param(NB_F32, 2, (double[]){0, 0}, (double[]){1, -2});
    nb_tensor *b = param(NB_F64, 3, (double[]){0, 0, 0}, (double[]){3, 0, 1});
    nb_optimizer *opt = nb_adam_default();
    ck_assert_int_eq(nb_optimizer_state_count(opt), 0);
    ck_assert_ptr_null(nb_optimizer_state(opt, 0));
    ck_assert_error_contains("nb_optimizer_state: index 0 is out of range: the optimizer has 0 "
                             "state tensors (made at the first step)");
    step_ok(opt, 2, (nb_tensor *[]){a, b});
    ck_assert_int_eq(nb_optimizer_state_count(opt), 4);
    const char *names[] = {"momentum_0", "momentum_1", "velocity_0", "velocity_1"};
    const nb_tensor *owners[] = {a, b, a, b};
    for (int i = 0; i < 4; i++) {
        nb_tensor *s = nb_optimizer_state(opt, i);
        ck_assert_str_eq(s->name, names[i]);
        ck_assert(nb_same_shape(s, owners[i]));
        ck_assert_int_eq(s->dtype, owners[i]->dtype);
    }
    /* after one step m = 0.1 g and v = 0.001 g^2 */
    assert_values(nb_optimizer_state(opt, 1), (double[]){0.3, 0, 0.1}, 1e-12);
    assert_values(nb_optimizer_state(opt, 2), (double[]){0.001, 0.004}, 1e-6);
    ck_assert_ptr_null(nb_optimizer_state(opt, 4));
    nb_optimizer_free(opt);
}
END_TEST

START_TEST(rmsprop_state_is_velocities_then_momenta)
{
    nb_tensor *a = param(NB_F64, 2, (double[]){0, 0}, (double[]){1, 1});
    nb_tensor *b = param(NB_F64, 1, (double[]){0}, (double[]){1});
    nb_optimizer *opt = nb_rmsprop(1e-3, 0.9, 0.5, 1e-7);
    step_ok(opt, 2, (nb_tensor *[]){a, b});
    const char *names[] = {"velocity_0", "velocity_1", "momentum_0", "momentum_1"};
    ck_assert_int_eq(nb_optimizer_state_count(opt), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(nb_optimizer_state(opt, i)->name, names[i]);
    nb_optimizer_free(opt);
}
END_TEST

START_TEST(parameters_without_a_gradient_are_skipped)
{
    nb_tensor *a = param(NB_F64, 2, (double[]){1, 2}, (double[]){1, 1});
    nb_tensor *frozen = param(NB_F64, 2, (double[]){3, 4}, NULL);
    nb_optimizer *opt = nb_sgd(0.1, 0.9, false);
    step_ok(opt, 2, (nb_tensor *[]){a, frozen});
    assert_values(a, (double[]){0.9, 1.9}, 1e-15);
    assert_values(frozen, (double[]){3, 4}, 0);
    assert_values(nb_optimizer_state(opt, 1), (double[]){0, 0}, 0);
    nb_optimizer_free(opt);
}
END_TEST

START_TEST(restored_state_continues_like_the_original)
{
    const double g[] = {0.5, -1};
    nb_tensor *p = param(NB_F64, 2, (double[]){1, 2}, g);
    nb_tensor *q = param(NB_F64, 2, (double[]){1, 2}, g);
    nb_optimizer *original = nb_adam(0.01, 0.9, 0.999, 1e-7);
    for (int t = 0; t < 3; t++)
        step_ok(original, 1, &p);
    nb_tensor_copy_data(q, p);

    nb_optimizer *restored = nb_adam(0.01, 0.9, 0.999, 1e-7);
    ck_assert_int_eq(nb_optimizer_build(restored, 1, &q), NB_OK);
    ck_assert_int_eq(nb_optimizer_state_count(restored), 2);
    for (int i = 0; i < 2; i++)
        nb_tensor_copy_data(nb_optimizer_state(restored, i), nb_optimizer_state(original, i));
    ck_assert_int_eq(nb_optimizer_set_iterations(restored, nb_optimizer_iterations(original)),
                     NB_OK);

    step_ok(original, 1, &p);
    step_ok(restored, 1, &q);
    for (int i = 0; i < 2; i++)
        ck_assert_double_eq(nb_tensor_get(q, i), nb_tensor_get(p, i));
    ck_assert_int_eq(nb_optimizer_set_iterations(restored, -1), NB_ERR_ARG);
    ck_assert_error_contains("nb_optimizer_set_iterations: iterations is -1: expected 0 or more");
    nb_optimizer_free(original);
    nb_optimizer_free(restored);
}
END_TEST

START_TEST(zero_grad_clears_existing_gradients_only)
{
    nb_tensor *a = param(NB_F32, 2, (double[]){1, 2}, (double[]){5, 6});
    nb_tensor *b = param(NB_F32, 2, (double[]){1, 2}, NULL);
    nb_optimizer_zero_grad(2, (nb_tensor *[]){a, b});
    ck_assert_double_eq(nb_tensor_grad_get(a, 1), 0.0);
    ck_assert_ptr_null(b->grad);
    nb_optimizer_zero_grad(0, NULL); /* nothing to do, no crash */
}
END_TEST

/* ---- allocation ------------------------------------------------------------------ */

START_TEST(steps_after_the_first_allocate_nothing)
{
    nb_optimizer *opts[] = {nb_sgd(0.1, 0.9, true), nb_adam_default(),
                            nb_rmsprop(1e-3, 0.9, 0.5, 1e-7)};
    for (int k = 0; k < 3; k++) {
        nb_tensor *a = param(NB_F32, 3, (double[]){1, 2, 3}, (double[]){1, -1, 0.5});
        nb_tensor *b = param(NB_F64, 2, (double[]){1, 2}, (double[]){0.25, 2});
        nb_tensor *params[] = {a, b};
        step_ok(opts[k], 2, params); /* makes the state */

        nb_test_count_allocations();
        for (int t = 0; t < 3; t++) {
            nb_optimizer_zero_grad(2, params);
            step_ok(opts[k], 2, params);
        }
        nb_set_allocator(NULL);
        ck_assert_msg(nb_test_allocations == 0, "%s: %ld allocations in 3 steps after the first: "
                      "expected none", nb_optimizer_name(opts[k]), nb_test_allocations);
        nb_optimizer_free(opts[k]);
    }
}
END_TEST

/* ---- threads ------------------------------------------------------------------- */

/* A [50000] parameter (large enough to be split across threads) after three
 * steps of `opt` with `threads` threads, from fixed values and gradients. */
static nb_tensor *after_three_steps(nb_optimizer *opt, nb_dtype dtype, int threads)
{
    ck_assert_int_eq(nb_set_num_threads(threads), NB_OK);
    const int64_t shape[] = {50000};
    nb_tensor *p = nb_test_keep(nb_test_uniform_param(dtype, 1, shape, -1, 1, 3));
    nb_tensor *g = nb_test_uniform(dtype, 1, shape, -1, 1, 4);
    nb_test_count_allocations();
    for (int t = 0; t < 3; t++) {
        if (t == 1) /* the first step makes the state; later ones allocate nothing */
            nb_test_count_allocations();
        ck_assert_int_eq(nb_tensor_zero_grad(p), NB_OK);
        memcpy(p->grad, g->data, (size_t)p->size * nb_dtype_size(dtype));
        step_ok(opt, 1, &p);
    }
    nb_set_allocator(NULL);
    ck_assert_msg(nb_test_allocations == 0, "%s, %d threads: %ld allocations in steps 2 and 3",
                  nb_optimizer_name(opt), threads, nb_test_allocations);
    nb_tensor_free(g);
    nb_optimizer_free(opt);
    ck_assert_int_eq(nb_set_num_threads(1), NB_OK);
    return p;
}

/* Optimizer k of four: SGD, SGD with Nesterov momentum, Adam, RMSprop. */
static nb_optimizer *optimizer_kind(int k)
{
    switch (k) {
    case 0: return nb_sgd(0.1, 0, false);
    case 1: return nb_sgd(0.1, 0.9, true);
    case 2: return nb_adam_default();
    default: return nb_rmsprop(1e-3, 0.9, 0.5, 1e-7);
    }
}

START_TEST(updates_with_two_threads_equal_one_thread_exactly)
{
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 4; k++) {
            nb_tensor *one = after_three_steps(optimizer_kind(k), dtypes[d], 1);
            nb_tensor *two = after_three_steps(optimizer_kind(k), dtypes[d], 2);
            size_t bytes = (size_t)one->size * nb_dtype_size(dtypes[d]);
            ck_assert_msg(memcmp(one->data, two->data, bytes) == 0,
                          "optimizer %d, %s: 2 threads changed the result", k,
                          nb_dtype_name(dtypes[d]));
        }
}
END_TEST

static Suite *optim_suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, sgd_moves_against_the_gradient);
    tcase_add_test(tc, sgd_momentum_accumulates_a_velocity);
    tcase_add_test(tc, sgd_nesterov_steps_with_the_look_ahead);
    tcase_add_test(tc, adam_first_step_moves_each_parameter_by_about_lr);
    tcase_add_test(tc, adam_several_steps_follow_the_formula);
    tcase_add_test(tc, rmsprop_first_step_divides_by_the_root_mean_square);
    tcase_add_test(tc, rmsprop_several_steps_follow_the_formula_with_and_without_momentum);
    suite_add_tcase(s, tc);
    tc = tcase_create("config");
    tcase_add_test(tc, defaults_are_keras_defaults);
    tcase_add_test(tc, config_round_trips_through_from_config);
    tcase_add_test(tc, from_config_fills_missing_values_with_defaults);
    tcase_add_test(tc, from_config_rejects_unknown_names_and_bad_values);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, constructors_check_their_arguments);
    tcase_add_test(tc, learning_rate_can_be_changed_between_steps);
    tcase_add_test(tc, a_changed_parameter_list_is_an_error_and_updates_nothing);
    tcase_add_test(tc, step_rejects_null_and_tape_owned_parameters);
    suite_add_tcase(s, tc);
    tc = tcase_create("state");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, adam_state_is_momenta_then_velocities_per_parameter);
    tcase_add_test(tc, rmsprop_state_is_velocities_then_momenta);
    tcase_add_test(tc, parameters_without_a_gradient_are_skipped);
    tcase_add_test(tc, restored_state_continues_like_the_original);
    tcase_add_test(tc, zero_grad_clears_existing_gradients_only);
    tcase_add_test(tc, steps_after_the_first_allocate_nothing);
    tcase_add_test(tc, updates_with_two_threads_equal_one_thread_exactly);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(optim_suite)
