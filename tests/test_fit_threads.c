/* Tests for src/nn/fit_threads.c: a training step's rows split across
 * threads, each part on its own replica of the model. */
#include <check.h>
#include <math.h>

#include "nb_test.h"
#include "kernels/parallel.h"
#include "nn/model_internal.h"

/* big enough (16,643 parameters) that a batch of 128 is worth splitting */
enum { FEATURES = 256, CLASSES = 3, SAMPLES = 512 };

/* SAMPLES rows of FEATURES normal features; the class is the index of the
 * largest of the first CLASSES features (one-hot). */
static void class_data(nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 5);
    *x = nb_tensor_rand_normal(NB_F32, NB_SHAPE(SAMPLES, FEATURES), 0, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(SAMPLES, CLASSES));
    for (int64_t i = 0; i < SAMPLES; i++) {
        int best = 0;
        for (int c = 1; c < CLASSES; c++)
            if (nb_tensor_get(*x, i * FEATURES + c) > nb_tensor_get(*x, i * FEATURES + best))
                best = c;
        nb_tensor_set(*y, i * CLASSES + best, 1.0);
    }
}

static nb_model *mlp(double dropout, nb_dtype dtype)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, 11);
    nb_model_set_dtype(model, dtype);
    nb_model_set_input_shape(model, NB_SHAPE(FEATURES));
    nb_model_add(model, nb_dense(64, NB_RELU));
    if (dropout > 0)
        nb_model_add(model, nb_dropout(dropout));
    nb_model_add(model, nb_dense(CLASSES, NB_SOFTMAX));
    return nb_test_compiled(model, nb_adam(0.01, 0.9, 0.999, 1e-7), "categorical_crossentropy",
                            "accuracy");
}

/* The model after one shuffled epoch of batch 128 (4 steps) with `threads`. */
static nb_model *trained(int threads, double dropout)
{
    nb_tensor *x, *y;
    class_data(&x, &y);
    ck_assert_int_eq(nb_set_num_threads(threads), NB_OK);
    nb_model *model = mlp(dropout, NB_F32);
    nb_history *history = nb_model_fit(model, x, y, &(nb_fit_options){
                                                        .epochs = 1, .batch_size = 128,
                                                        .shuffle = true});
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    nb_history_free(history);
    nb_set_num_threads(1);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return model;
}

START_TEST(a_big_batch_is_split_in_one_part_per_thread)
{
    nb_model *model = mlp(0.2, NB_F32);
    ck_assert_int_eq(nb_set_num_threads(1), NB_OK);
    ck_assert_int_eq(nb__thread_parts(model, 128), 1); /* one thread: never split */
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    ck_assert_int_eq(nb__thread_parts(model, 128), 2);
    ck_assert_int_eq(nb__thread_parts(model, 31), 1); /* too few rows per part */
    ck_assert_int_eq(nb_set_num_threads(3), NB_OK);    /* replicas made again */
    ck_assert_int_eq(nb__thread_parts(model, 128), 3);
    ck_assert_int_eq(nb__thread_parts(model, 32), 2);
    nb_set_num_threads(1);
    nb_model_free(model); /* frees the replicas (the ASan build checks) */
}
END_TEST

START_TEST(a_large_model_needs_more_rows_per_part)
{
    /* 700 x 400 + 400 = 280,400 parameters: over the 262,144 up to which
     * 16 rows a part are enough */
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(700));
    nb_model_add(model, nb_dense(400, NB_RELU));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    ck_assert_int_eq(nb__thread_parts(model, 32), 1);
    ck_assert_ptr_null(model->replicas); /* none made for a step that is not split */
    ck_assert_int_eq(nb__thread_parts(model, 127), 1);
    ck_assert_int_eq(nb__thread_parts(model, 128), 2);
    nb_set_num_threads(1);
    nb_model_free(model);
}
END_TEST

START_TEST(a_small_step_stays_on_one_thread)
{
    nb_model *model = mlp(0, NB_F32); /* 16,643 parameters */
    ck_assert(nb__step_is_small(model, 32));   /* 532,576 multiply-adds */
    ck_assert(!nb__step_is_small(model, 128)); /* 2,130,304 */
    nb_model *large = nb_sequential();
    nb_model_set_input_shape(large, NB_SHAPE(700));
    nb_model_add(large, nb_dense(400, NB_RELU)); /* 280,400: large even at one row */
    ck_assert_int_eq(nb_model_build(large), NB_OK);
    ck_assert(!nb__step_is_small(large, 1));
    /* fit at batch 8 with two threads, on a model whose first kernel
     * (32,768 elements) two threads would update in halves: no replicas,
     * no job for the workers, and serial mode off again afterwards */
    nb_model *wide = nb_sequential();
    nb_model_set_input_shape(wide, NB_SHAPE(FEATURES));
    nb_model_add(wide, nb_dense(128, NB_RELU));
    nb_model_add(wide, nb_dense(CLASSES, NB_SOFTMAX));
    wide = nb_test_compiled(wide, nb_adam_default(), "categorical_crossentropy", "accuracy");
    nb_tensor *x, *y;
    class_data(&x, &y);
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    uint64_t posted = nb__pool_jobs_posted();
    nb_history *history = nb_model_fit(wide, x, y, &(nb_fit_options){.epochs = 1,
                                                                     .batch_size = 8});
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    ck_assert_ptr_null(wide->replicas);
    ck_assert_uint_eq(nb__pool_jobs_posted(), posted); /* nothing ran on a worker */
    ck_assert(!nb__set_serial(false));
    nb_set_num_threads(1);
    nb_history_free(history);
    nb_model_free(wide);
    nb_model_free(model);
    nb_model_free(large);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

static nb_tensor *twice_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                nb_rng *rng)
{
    (void)self, (void)training, (void)rng;
    return nb_add(tape, x, x);
}

/* A custom class with no from_config: fit cannot copy it. */
static const nb_layer_class twice_class = {.type = "Twice", .forward = twice_forward};

START_TEST(a_layer_that_cannot_be_copied_or_f64_is_not_split)
{
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    nb_model *f64 = mlp(0, NB_F64);
    ck_assert_int_eq(nb__thread_parts(f64, 128), 1);
    nb_model *custom = nb_sequential();
    nb_model_set_input_shape(custom, NB_SHAPE(FEATURES));
    nb_model_add(custom, nb_dense(4, NB_RELU));
    nb_model_add(custom, nb_layer_new(&twice_class, NULL, NULL));
    nb_test_compiled(custom, nb_sgd(0.1, 0, false), "mse", NULL);
    nb_error(NB_ERR_ARG, "an earlier error");
    ck_assert_int_eq(nb__thread_parts(custom, 128), 1);
    ck_assert_int_eq(nb__thread_parts(custom, 128), 1); /* remembered, not retried */
    ck_assert_str_eq(nb_last_error(), "an earlier error"); /* falling back is silent */
    nb_set_num_threads(1);
    nb_model_free(f64);
    nb_model_free(custom);
}
END_TEST

START_TEST(two_threads_match_one_thread_within_f32_tolerance)
{
    nb_model *one = trained(1, 0), *two = trained(2, 0);
    ck_assert_ptr_nonnull(two->replicas); /* the split path ran */
    for (int w = 0; w < nb_model_weight_count(one); w++) {
        const nb_tensor *a = nb_model_weight(one, w), *b = nb_model_weight(two, w);
        for (int64_t i = 0; i < a->size; i++) {
            double u = nb_tensor_get(a, i), v = nb_tensor_get(b, i);
            ck_assert_msg(fabs(u - v) <= 1e-5 + 1e-4 * fabs(u),
                          "weight %d element %ld: %.8g with one thread, %.8g with two", w,
                          (long)i, u, v);
        }
    }
    nb_model_free(one);
    nb_model_free(two);
}
END_TEST

START_TEST(two_threads_are_repeatable_with_dropout)
{
    nb_model *a = trained(2, 0.3), *b = trained(2, 0.3), *one = trained(1, 0.3);
    ck_assert_msg(nb_test_same_weights(a, b), "two runs with two threads differ");
    ck_assert_msg(!nb_test_same_weights(a, one), "dropout masks did not change with the split");
    nb_model_free(a);
    nb_model_free(b);
    nb_model_free(one);
}
END_TEST

START_TEST(an_error_in_the_second_part_is_reported_by_fit)
{
    nb_tensor *x, *y;
    class_data(&x, &y);
    nb_tensor_set(y, 100 * CLASSES, NAN); /* row 100: the second half of batch 1 */
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    nb_model *model = mlp(0, NB_F32);
    nb_fit_options fit = nb_test_quiet_fit(1, 128);
    fit.shuffle = false;
    ck_assert_ptr_null(nb_model_fit(model, x, y, &fit));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NUMERIC);
    ck_assert_error_contains("epoch 1, batch 1: the loss is nan");
    nb_set_num_threads(1);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* Categorical cross-entropy, except on a part whose targets hold the
 * marker 7: sqrt(sum(0 * pred)) = 0 there, a finite loss whose gradient is
 * 0 * inf = nan. */
static nb_tensor *nan_grad_on_marked_part(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    for (int64_t i = 0; i < target->size; i++)
        if (nb_tensor_get(target, i) == 7)
            return nb_sqrt(tape, nb_sum(tape, nb_scale(tape, pred, 0.0)));
    return nb_loss_categorical_crossentropy(tape, pred, target);
}

/* Fit with two threads on data whose row `marked` makes its part's
 * gradient NaN: fit must stop before the step, whichever part it is in
 * (the sums check the parts' gradients, part 0's being the model's own). */
static void check_nan_gradient_stops_fit(int64_t marked)
{
    nb_tensor *x, *y;
    class_data(&x, &y);
    nb_tensor_set(y, marked * CLASSES, 7);
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(FEATURES));
    nb_model_add(model, nb_dense(64, NB_RELU));
    nb_model_add(model, nb_dense(CLASSES, NB_SOFTMAX));
    nb_loss loss = {"nan_grad_on_marked_part", nan_grad_on_marked_part};
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){.optimizer = nb_adam_default(),
                                                                   .custom_loss = &loss}),
                     NB_OK);
    double before = nb_tensor_get(nb_model_weight(model, 0), 0);
    nb_fit_options fit = nb_test_quiet_fit(1, 128);
    fit.shuffle = false;
    ck_assert_ptr_null(nb_model_fit(model, x, y, &fit));
    ck_assert_ptr_nonnull(model->replicas); /* the split path ran */
    ck_assert_int_eq(nb_last_status(), NB_ERR_NUMERIC);
    ck_assert_error_contains("epoch 1, batch 1: the gradient of weight 'dense/kernel' is nan "
                             "at element 0: training stopped");
    ck_assert_double_eq(nb_tensor_get(nb_model_weight(model, 0), 0), before);
    nb_set_num_threads(1);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}

START_TEST(a_nan_gradient_in_the_first_part_stops_fit_before_the_step)
{
    check_nan_gradient_stops_fit(10); /* row 10: the first half of batch 1 */
}
END_TEST

START_TEST(a_nan_gradient_in_the_second_part_stops_fit_before_the_step)
{
    check_nan_gradient_stops_fit(100); /* row 100: the second half of batch 1 */
}
END_TEST

static Suite *fit_threads_suite(void)
{
    Suite *s = suite_create("fit_threads");
    TCase *tc = tcase_create("split");
    tcase_add_test(tc, a_big_batch_is_split_in_one_part_per_thread);
    tcase_add_test(tc, a_large_model_needs_more_rows_per_part);
    tcase_add_test(tc, a_small_step_stays_on_one_thread);
    tcase_add_test(tc, a_layer_that_cannot_be_copied_or_f64_is_not_split);
    tcase_add_test(tc, two_threads_match_one_thread_within_f32_tolerance);
    tcase_add_test(tc, two_threads_are_repeatable_with_dropout);
    tcase_add_test(tc, a_nan_gradient_in_the_first_part_stops_fit_before_the_step);
    tcase_add_test(tc, a_nan_gradient_in_the_second_part_stops_fit_before_the_step);
    tcase_add_test(tc, an_error_in_the_second_part_is_reported_by_fit);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(fit_threads_suite)
