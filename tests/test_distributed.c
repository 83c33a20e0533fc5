/* Tests for training across MPI ranks (src/nn/distributed.c and the
 * nb__dist_ calls in src/nn/fit.c). Run by mpirun with 2 ranks (the 'mpi'
 * suite of tests/meson.build):
 *
 *     OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *         mpirun -np 2 --oversubscribe build-mpi/tests/test_distributed
 *
 * Every rank runs every test; the tests call the collective functions in
 * the same order on every rank and assert only after the last collective
 * call of a test, so that a failed assertion on one rank cannot leave the
 * other waiting. Check runs in this process (no fork: a forked child must
 * not use the parent's MPI connection). Only rank 0 prints Check's summary;
 * the exit status is a failure when any rank failed. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nb_test.h"

static nb_comm *world;
static int rank, size;

/* ---- models and data --------------------------------------------------------------- */

/* 4 -> 8 relu -> 3 softmax, Adam, categorical cross-entropy, accuracy;
 * NULL when something fails (no Check assertions: --die uses it too). */
static nb_model *build_mlp(nb_dtype dtype, uint64_t seed, nb_comm *comm)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, seed);
    nb_model_set_dtype(model, dtype);
    nb_model_set_input_shape(model, NB_SHAPE(4));
    nb_model_add(model, nb_dense(8, NB_RELU));
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    nb_status s = nb_model_compile(model, &(nb_compile_options){
                                              .optimizer = nb_adam(0.01, 0.9, 0.999, 1e-7),
                                              .loss = "categorical_crossentropy",
                                              .metrics = {"accuracy"}});
    if (s == NB_OK)
        s = nb_model_set_comm(model, comm);
    if (s != NB_OK) {
        nb_model_free(model);
        return NULL;
    }
    return model;
}

static nb_model *mlp(nb_dtype dtype, uint64_t seed, nb_comm *comm)
{
    nb_model *model = build_mlp(dtype, seed, comm);
    ck_assert_msg(model != NULL, "building the model failed: %s", nb_last_error());
    return model;
}

/* n rows of 4 normal features; the class is the largest of three sums. */
static void blobs(int64_t n, nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    *x = nb_tensor_rand_normal(NB_F32, NB_SHAPE(n, 4), 0, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 3));
    for (int64_t i = 0; i < n; i++) {
        double a = nb_tensor_get(*x, 4 * i), b = nb_tensor_get(*x, 4 * i + 1);
        double c = nb_tensor_get(*x, 4 * i + 2) - nb_tensor_get(*x, 4 * i + 3);
        int k = a > b && a > c ? 0 : b > c ? 1 : 2;
        nb_tensor_set(*y, 3 * i + k, 1.0);
    }
}

/* Every weight of model as doubles, in order; caller frees. */
static double *flat_weights(const nb_model *model, int64_t *n)
{
    *n = 0;
    for (int w = 0; w < nb_model_weight_count(model); w++)
        *n += nb_model_weight(model, w)->size;
    double *v = malloc((size_t)*n * sizeof *v);
    int64_t at = 0;
    for (int w = 0; w < nb_model_weight_count(model); w++) {
        const nb_tensor *t = nb_model_weight(model, w);
        for (int64_t i = 0; i < t->size; i++)
            v[at++] = nb_tensor_get(t, i);
    }
    return v;
}

/* The largest difference between any rank's weights and rank 0's
 * (collective; the same on every rank). */
static double spread_across_ranks(const nb_model *model)
{
    int64_t n;
    double *mine = flat_weights(model, &n), *root = malloc((size_t)n * sizeof *root);
    memcpy(root, mine, (size_t)n * sizeof *root);
    MPI_Bcast(root, (int)n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    double spread = 0;
    for (int64_t i = 0; i < n; i++)
        spread = fmax(spread, fabs(mine[i] - root[i]));
    MPI_Allreduce(MPI_IN_PLACE, &spread, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    free(mine);
    free(root);
    return spread;
}

static double max_difference(const nb_model *a, const nb_model *b)
{
    int64_t na, nb;
    double *va = flat_weights(a, &na), *vb = flat_weights(b, &nb), d = 0;
    for (int64_t i = 0; i < na && na == nb; i++)
        d = fmax(d, fabs(va[i] - vb[i]));
    free(va);
    free(vb);
    return na == nb ? d : INFINITY;
}

/* ---- training matches one process ------------------------------------------------------ */

/* Train with the global batch `batch` across the ranks (each rank starts
 * from a different seed: fit must broadcast rank 0's weights and shuffle) and
 * alone with rank 0's seed; the weights must agree to rounding. */
static void check_matches_one_process(nb_dtype dtype, int64_t n, int64_t batch, double tolerance)
{
    nb_tensor *x, *y;
    blobs(n, &x, &y);
    nb_model *shared = mlp(dtype, 7 + (uint64_t)rank, world), *alone = mlp(dtype, 7, NULL);
    nb_fit_options fit = nb_test_quiet_fit(3, batch);
    fit.validation_split = 0.2;
    nb_history *h_shared = nb_model_fit(shared, x, y, &fit);
    char error[512];
    snprintf(error, sizeof error, "%s", nb_last_error());
    nb_history *h_alone = nb_model_fit(alone, x, y, &fit);
    double spread = spread_across_ranks(shared);

    ck_assert_msg(h_shared && h_alone, "fit failed on rank %d: %s", rank, error);
    ck_assert_msg(spread == 0, "the weights differ across ranks by %g", spread);
    double d = max_difference(shared, alone);
    ck_assert_msg(d <= tolerance, "%s, batch %d: the weights differ from one process's by %g",
                  nb_dtype_name(dtype), (int)batch, d);
    for (int e = 0; e < 3; e++)
        for (int k = 0; k < 4; k++) {
            const char *name = (const char *[]){"loss", "accuracy", "val_loss", "val_accuracy"}[k];
            double a = nb_logs_get(&h_shared->logs[e], name);
            double b = nb_logs_get(&h_alone->logs[e], name);
            ck_assert_msg(fabs(a - b) <= 1e-5, "epoch %d %s: %.8f across ranks, %.8f alone", e + 1,
                          name, a, b);
        }
    nb_history_free(h_shared);
    nb_history_free(h_alone);
    nb_model_free(shared);
    nb_model_free(alone);
    nb_tensor_free(x);
    nb_tensor_free(y);
}

START_TEST(weights_are_identical_across_ranks_and_match_one_process)
{
    check_matches_one_process(NB_F32, 60, 16, 1e-5);
}
END_TEST

START_TEST(uneven_shares_and_an_idle_rank_still_match_one_process)
{
    /* 40 training rows in batches of 7: shares of 3 and 4 rows, and a last
     * batch of 5; 49 (of 62) rows in batches of 16 end with a batch of 1, in which
     * rank 0 has no rows at all */
    check_matches_one_process(NB_F32, 50, 7, 1e-5);
    check_matches_one_process(NB_F32, 62, 16, 1e-5);
}
END_TEST

START_TEST(f64_training_matches_one_process_to_rounding)
{
    check_matches_one_process(NB_F64, 60, 16, 1e-12);
}
END_TEST

/* ---- evaluate and predict ------------------------------------------------------------- */

START_TEST(evaluate_and_predict_shard_and_give_every_rank_everything)
{
    nb_tensor *x, *y;
    blobs(37, &x, &y);
    nb_model *shared = mlp(NB_F32, 7, world), *alone = mlp(NB_F32, 7, NULL);
    nb_logs l_shared, l_alone;
    nb_status s_shared = nb_model_evaluate(shared, x, y, 5, &l_shared);
    nb_status s_alone = nb_model_evaluate(alone, x, y, 5, &l_alone);
    nb_tensor *p_shared = nb_model_predict(shared, x, 4);
    nb_tensor *p_alone = nb_model_predict(alone, x, 4);

    ck_assert_int_eq(s_shared, NB_OK);
    ck_assert_int_eq(s_alone, NB_OK);
    ck_assert_double_eq_tol(nb_logs_get(&l_shared, "loss"), nb_logs_get(&l_alone, "loss"), 1e-6);
    ck_assert_double_eq_tol(nb_logs_get(&l_shared, "accuracy"),
                            nb_logs_get(&l_alone, "accuracy"), 1e-6);
    ck_assert_ptr_nonnull(p_shared);
    nb_test_assert_shape("predict", p_shared, NB_SHAPE(37, 3));
    ck_assert_mem_eq(p_shared->data, p_alone->data, (size_t)p_alone->size * sizeof(float));
    nb_tensor_free(p_shared);
    nb_tensor_free(p_alone);
    nb_model_free(shared);
    nb_model_free(alone);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(ranks_with_different_models_are_refused_until_fit)
{
    /* seeded differently, the ranks hold different models: sharing out
     * evaluate or predict would mix them, so both are refused; fit starts
     * from rank 0's weights, and then they agree */
    nb_tensor *x, *y;
    blobs(12, &x, &y);
    nb_model *model = mlp(NB_F32, 7 + (uint64_t)rank, world);
    nb_tensor *before = nb_model_predict(model, x, 4);
    char error[512];
    snprintf(error, sizeof error, "%s", nb_last_error());
    nb_logs logs;
    nb_status evaluated = nb_model_evaluate(model, x, y, 4, &logs);
    nb_fit_options fit = nb_test_quiet_fit(1, 4);
    nb_history *history = nb_model_fit(model, x, y, &fit);
    nb_tensor *after = nb_model_predict(model, x, 4);

    ck_assert_ptr_null(before);
    ck_assert_msg(strstr(error, "nb_model_predict: the ranks disagree on the weights (a hash of "
                                "them: fit, or loading one file, makes them equal)") != NULL,
                  "predict said: %s", error);
    ck_assert_int_eq(evaluated, NB_ERR_ARG);
    ck_assert_ptr_nonnull(history);
    ck_assert_msg(after != NULL, "predict after fit failed: %s", nb_last_error());
    nb_tensor_free(after);
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(predict_with_fewer_rows_than_ranks)
{
    nb_tensor *x, *y;
    blobs(1, &x, &y);
    nb_model *shared = mlp(NB_F32, 7, world), *alone = mlp(NB_F32, 7, NULL);
    nb_tensor *p_shared = nb_model_predict(shared, x, 0);
    nb_tensor *p_alone = nb_model_predict(alone, x, 0);
    ck_assert_msg(p_shared != NULL, "predict failed: %s", nb_last_error());
    ck_assert_mem_eq(p_shared->data, p_alone->data, 3 * sizeof(float));
    nb_tensor_free(p_shared);
    nb_tensor_free(p_alone);
    nb_model_free(shared);
    nb_model_free(alone);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* ---- only rank 0 prints ---------------------------------------------------------------- */

START_TEST(only_rank_0_prints_progress)
{
    nb_tensor *x, *y;
    blobs(20, &x, &y);
    nb_model *model = mlp(NB_F32, 7, world);
    nb_fit_options fit = nb_test_quiet_fit(1, 8);
    fit.verbose = 2;
    fit.out = tmpfile();
    nb_history *history = nb_model_fit(model, x, y, &fit);
    long printed = ftell(fit.out);
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    if (rank == 0)
        ck_assert_msg(printed > 0, "rank 0 printed nothing");
    else
        ck_assert_msg(printed == 0, "rank %d printed %ld bytes", rank, printed);
    fclose(fit.out);
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(only_rank_0_writes_checkpoints)
{
    /* each rank gives ModelCheckpoint a directory of its own */
    char dir[256];
    snprintf(dir, sizeof dir, "%s", nb_test_make_dir("distributed_checkpoint"));
    char pattern[300];
    snprintf(pattern, sizeof pattern, "%s/model-{epoch}.safetensors", dir);
    nb_tensor *x, *y;
    blobs(20, &x, &y);
    nb_model *model = mlp(NB_F32, 7, world);
    nb_callback *checkpoint = nb_model_checkpoint(pattern, "loss", false, false);
    nb_fit_options fit = nb_test_quiet_fit(2, 8);
    fit.callbacks[0] = checkpoint;
    nb_history *history = nb_model_fit(model, x, y, &fit);
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    ck_assert_int_eq(nb_test_count_entries(dir), rank == 0 ? 2 : 0);
    nb_test_remove_dir(dir);
    nb_history_free(history);
    nb_callback_free(checkpoint);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* ---- failures ------------------------------------------------------------------------- */

/* Rank 1's targets are NaN: its loss is NaN in the first step, and every
 * rank stops there, before the step, naming rank 1. */
START_TEST(a_rank_with_a_nan_loss_stops_every_rank)
{
    nb_tensor *x, *y;
    blobs(20, &x, &y);
    for (int64_t i = 0; rank == 1 && i < y->size; i++)
        nb_tensor_set(y, i, NAN);
    nb_model *model = mlp(NB_F32, 7, world), *before = mlp(NB_F32, 7, NULL);
    nb_history *history = nb_model_fit(model, x, y, &(nb_fit_options){
                                                        .epochs = 2, .batch_size = 4});
    nb_status s = nb_last_status();
    double spread = spread_across_ranks(model);

    ck_assert_ptr_null(history);
    ck_assert_int_eq(s, NB_ERR_NUMERIC);
    ck_assert_error_contains("nb_model_fit: epoch 1, batch 1: ");
    if (rank == 1)
        ck_assert_error_contains("batch 1: the loss is nan");
    else
        ck_assert_error_contains("batch 1: rank 1 of 2 failed: the loss is nan");
    ck_assert_double_eq(spread, 0);
    ck_assert_msg(max_difference(model, before) == 0, "a step was taken");
    nb_model_free(model);
    nb_model_free(before);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* Rank 1's inputs are NaN: the loss is clipped but its gradients are NaN,
 * which rank 1 finds before the exchange. */
START_TEST(a_rank_with_nan_gradients_stops_every_rank)
{
    nb_tensor *x, *y;
    blobs(20, &x, &y);
    for (int64_t i = 0; rank == 1 && i < x->size; i++)
        nb_tensor_set(x, i, NAN);
    nb_model *model = mlp(NB_F32, 7, world);
    nb_history *history = nb_model_fit(model, x, y, &(nb_fit_options){
                                                        .epochs = 2, .batch_size = 4});
    nb_status s = nb_last_status();
    double spread = spread_across_ranks(model);

    ck_assert_ptr_null(history);
    ck_assert_int_eq(s, NB_ERR_NUMERIC);
    if (rank == 1)
        ck_assert_error_contains("batch 1: the gradient of weight 'dense");
    else
        ck_assert_error_contains("batch 1: rank 1 of 2 failed: the gradient of weight 'dense");
    ck_assert_double_eq(spread, 0);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* A batch callback that fails on rank 1 at batch 2: the failure waits for
 * the next exchange (batch 3), and there every rank stops. */
static nb_status fail_on_rank_1(nb_callback *self, nb_model *model, int64_t batch,
                                const nb_logs *logs)
{
    (void)self, (void)model, (void)logs;
    if (rank == 1 && batch == 1)
        return nb_error(NB_ERR_IO, "my_callback: disk full");
    return NB_OK;
}

START_TEST(a_callback_failing_on_one_rank_stops_every_rank)
{
    nb_tensor *x, *y;
    blobs(40, &x, &y);
    nb_model *model = mlp(NB_F32, 7, world);
    nb_callback cb = {.name = "fail_on_rank_1", .on_batch_end = fail_on_rank_1};
    nb_fit_options fit = nb_test_quiet_fit(2, 4);
    fit.callbacks[0] = &cb;
    nb_history *history = nb_model_fit(model, x, y, &fit);
    nb_status s = nb_last_status();

    ck_assert_ptr_null(history);
    ck_assert_int_eq(s, NB_ERR_IO);
    if (rank == 1)
        ck_assert_error_contains("my_callback: disk full");
    else
        ck_assert_error_contains("epoch 1, batch 3: rank 1 of 2 failed: my_callback: disk full");
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* A callback asking to stop on one rank stops them all after that epoch. */
static nb_status stop_on_rank_1(nb_callback *self, nb_model *model, int epoch,
                                const nb_logs *logs)
{
    (void)self, (void)epoch, (void)logs;
    if (rank == 1)
        nb_model_stop_training(model);
    return NB_OK;
}

START_TEST(stopping_on_one_rank_stops_every_rank)
{
    nb_tensor *x, *y;
    blobs(16, &x, &y);
    nb_model *model = mlp(NB_F32, 7, world);
    nb_callback cb = {.name = "stop_on_rank_1", .on_epoch_end = stop_on_rank_1};
    nb_fit_options fit = nb_test_quiet_fit(5, 4);
    fit.callbacks[0] = &cb;
    nb_history *history = nb_model_fit(model, x, y, &fit);
    double spread = spread_across_ranks(model);
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    ck_assert_int_eq(history->epochs, 1);
    ck_assert_double_eq(spread, 0);
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(a_rank_failing_its_argument_checks_stops_every_rank)
{
    nb_tensor *x, *y;
    blobs(20, &x, &y);
    nb_model *model = mlp(NB_F32, 7, world);
    nb_fit_options fit = nb_test_quiet_fit(1, rank == 1 ? 0 : 4);
    nb_history *history = nb_model_fit(model, x, y, &fit);
    nb_status s = nb_last_status();
    ck_assert_ptr_null(history);
    ck_assert_int_eq(s, NB_ERR_ARG);
    if (rank == 1)
        ck_assert_error_contains("nb_model_fit: batch_size is 0: expected at least 1");
    else
        ck_assert_error_contains("nb_model_fit: rank 1 of 2 failed: batch_size is 0");
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(ranks_with_different_data_are_refused)
{
    nb_tensor *x, *y;
    blobs(rank == 1 ? 30 : 20, &x, &y);
    nb_model *model = mlp(NB_F32, 7, world);
    nb_fit_options fit = nb_test_quiet_fit(1, 4);
    nb_history *history = nb_model_fit(model, x, y, &fit);
    char fit_error[512];
    snprintf(fit_error, sizeof fit_error, "%s", nb_last_error());
    nb_logs logs;
    nb_status evaluated = nb_model_evaluate(model, x, y, 4, &logs);
    nb_tensor *predicted = nb_model_predict(model, x, 4);

    ck_assert_ptr_null(history);
    ck_assert_msg(strstr(fit_error, "nb_model_fit: the ranks disagree on training samples: from "
                                    "20 to 30 across the 2 ranks") != NULL,
                  "fit said: %s", fit_error);
    ck_assert_int_eq(evaluated, NB_ERR_ARG);
    ck_assert_ptr_null(predicted);
    ck_assert_error_contains("nb_model_predict: the ranks disagree on samples: from 20 to 30");
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* ---- communicators ------------------------------------------------------------------- */

START_TEST(invalid_communicators_are_refused)
{
    MPI_Comm null = MPI_COMM_NULL;
    ck_assert_ptr_null(nb_comm_from_mpi(NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_comm_from_mpi: mpi_comm is NULL");
    ck_assert_ptr_null(nb_comm_from_mpi(&null));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_comm_from_mpi: the communicator is MPI_COMM_NULL");
    ck_assert_int_eq(nb_model_set_comm(NULL, world), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_set_comm: model is NULL");
}
END_TEST

START_TEST(an_inter_communicator_is_refused)
{
    /* rank 0 alone and rank 1 alone, joined as two groups */
    MPI_Comm half, inter;
    MPI_Comm_split(MPI_COMM_WORLD, rank, 0, &half);
    MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, 1 - rank, 99, &inter);
    nb_comm *comm = nb_comm_from_mpi(&inter);
    nb_status s = nb_last_status();
    MPI_Comm_free(&inter);
    MPI_Comm_free(&half);
    ck_assert_ptr_null(comm);
    ck_assert_int_eq(s, NB_ERR_ARG);
    ck_assert_error_contains("nb_comm_from_mpi: the communicator is an inter-communicator: "
                             "expected an intra-communicator");
}
END_TEST

START_TEST(a_communicator_of_our_own_and_its_ranks)
{
    /* a communicator per rank (split by rank): each is rank 0 of 1 in it */
    MPI_Comm split;
    MPI_Comm_split(MPI_COMM_WORLD, rank, 0, &split);
    nb_comm *own = nb_comm_from_mpi(&split);
    ck_assert_ptr_nonnull(own);
    ck_assert_int_eq(nb_comm_rank(own), 0);
    ck_assert_int_eq(nb_comm_size(own), 1);
    ck_assert_int_eq(nb_comm_rank(world), rank);
    ck_assert_int_eq(nb_comm_size(world), size);
    ck_assert_int_eq(nb_comm_rank(NULL), 0);
    ck_assert_int_eq(nb_comm_size(NULL), 1);
    nb_model *model = mlp(NB_F32, 7, own);
    ck_assert_ptr_eq(nb_model_comm(model), own);
    nb_model_free(model);
    nb_comm_free(own);
    MPI_Comm_free(&split);
}
END_TEST

static Suite *distributed_suite(void)
{
    Suite *s = suite_create("distributed");
    TCase *train = tcase_create("train");
    tcase_add_test(train, weights_are_identical_across_ranks_and_match_one_process);
    tcase_add_test(train, uneven_shares_and_an_idle_rank_still_match_one_process);
    tcase_add_test(train, f64_training_matches_one_process_to_rounding);
    tcase_add_test(train, only_rank_0_prints_progress);
    tcase_add_test(train, only_rank_0_writes_checkpoints);
    suite_add_tcase(s, train);
    TCase *infer = tcase_create("evaluate_predict");
    tcase_add_test(infer, evaluate_and_predict_shard_and_give_every_rank_everything);
    tcase_add_test(infer, predict_with_fewer_rows_than_ranks);
    tcase_add_test(infer, ranks_with_different_models_are_refused_until_fit);
    suite_add_tcase(s, infer);
    TCase *fail = tcase_create("failures");
    tcase_add_test(fail, a_rank_with_a_nan_loss_stops_every_rank);
    tcase_add_test(fail, a_rank_with_nan_gradients_stops_every_rank);
    tcase_add_test(fail, a_callback_failing_on_one_rank_stops_every_rank);
    tcase_add_test(fail, stopping_on_one_rank_stops_every_rank);
    tcase_add_test(fail, a_rank_failing_its_argument_checks_stops_every_rank);
    tcase_add_test(fail, ranks_with_different_data_are_refused);
    suite_add_tcase(s, fail);
    TCase *comm = tcase_create("communicators");
    tcase_add_test(comm, invalid_communicators_are_refused);
    tcase_add_test(comm, an_inter_communicator_is_refused);
    tcase_add_test(comm, a_communicator_of_our_own_and_its_ranks);
    suite_add_tcase(s, comm);
    return s;
}

/* --die: rank 1 exits in the middle of fit (a crash, a kill), without a
 * word to the others. Rank 0 is then waiting in the step's MPI_Allreduce;
 * mpirun must end the run (tests/mpi_rank_dies.sh times it). */
static nb_status exit_on_rank_1(nb_callback *self, nb_model *model, int64_t batch,
                                const nb_logs *logs)
{
    (void)self, (void)model, (void)logs;
    if (rank == 1 && batch == 2)
        _exit(3);
    return NB_OK;
}

static int die_in_fit(void)
{
    nb_tensor *x, *y;
    blobs(4000, &x, &y);
    nb_model *model = build_mlp(NB_F32, 7, world);
    nb_callback cb = {.name = "exit_on_rank_1", .on_batch_end = exit_on_rank_1};
    nb_fit_options fit = {.epochs = 1000, .batch_size = 4, .callbacks = {&cb}};
    nb_history *history = nb_model_fit(model, x, y, &fit);
    fprintf(stderr, "test_distributed --die: rank %d: fit returned %s\n", rank,
            history ? "a history" : nb_last_error());
    return 1;
}

/* LeakSanitizer's interface, when the tests are built with it (weak: NULL
 * otherwise). Open MPI loads plugins and unloads those it does not use, and
 * what an unloaded plugin keeps is reported without a module name that a
 * suppression (tests/openmpi.lsan.supp) could match. So MPI_Init's
 * allocations are not tracked, and nabla's leaks are checked before
 * MPI_Finalize unloads the rest. */
extern void __lsan_disable(void) __attribute__((weak));
extern void __lsan_enable(void) __attribute__((weak));
extern void __lsan_do_leak_check(void) __attribute__((weak));

static nb_status init_mpi_untracked(int *argc, char ***argv)
{
    if (__lsan_disable)
        __lsan_disable();
    nb_status s = nb_mpi_init(argc, argv);
    if (__lsan_enable)
        __lsan_enable();
    return s;
}

int main(int argc, char **argv)
{
    if (init_mpi_untracked(&argc, &argv) != NB_OK || !(world = nb_comm_world())) {
        fprintf(stderr, "test_distributed: %s\n", nb_last_error());
        return 1;
    }
    rank = nb_comm_rank(world);
    size = nb_comm_size(world);
    if (size != 2) {
        fprintf(stderr, "test_distributed: run with 2 ranks (mpirun -np 2), not %d\n", size);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--die") == 0)
        return die_in_fit();
    SRunner *runner = srunner_create(distributed_suite());
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, rank == 0 ? CK_NORMAL : CK_SILENT);
    int failed = srunner_ntests_failed(runner);
    TestResult **failures = srunner_failures(runner);
    for (int i = 0; rank != 0 && i < failed; i++) /* rank 0's summary does not show these */
        fprintf(stderr, "test_distributed: rank %d: %s:%d: %s\n", rank,
                tr_tcname(failures[i]), tr_lno(failures[i]), tr_msg(failures[i]));
    free(failures);
    srunner_free(runner);
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    nb_comm_free(world);
    if (__lsan_do_leak_check)
        __lsan_do_leak_check(); /* nabla's leaks; the exit check is then skipped */
    nb_mpi_finalize();
    return failed == 0 ? 0 : 1;
}
