/* Allocation failures are reported, never dereferenced: an allocator that
 * fails on its n-th call, for every n along a whole training step and a
 * whole model load. Each run must end in an NB_ERR_NOMEM error (no crash,
 * and no leak: the sanitize and valgrind CI stages check that). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nb_test.h"

/* ---- an allocator that fails on its n-th call ------------------------------ */

typedef struct failing {
    long calls;   /* nb_alloc calls so far */
    long fail_at; /* the call that returns NULL (from 1); 0 for never */
} failing;

static void *failing_alloc(size_t bytes, void *user)
{
    failing *f = user;
    if (++f->calls == f->fail_at)
        return NULL;
    return malloc(bytes ? bytes : 1);
}

static void failing_release(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

typedef nb_status (*scenario)(void *arg);

/* Run `run` with the n-th allocation failing, for n = 1, 2, ... until a run
 * makes fewer than n allocations (and so succeeds). Every failing run must
 * report NB_ERR_NOMEM. Returns the number of allocations of a whole run. */
static long fail_each_allocation(scenario run, void *arg, const char *what)
{
    const long limit = 20000;
    for (long n = 1; n <= limit; n++) {
        failing f = {0, n};
        nb_set_allocator(&(nb_allocator){failing_alloc, failing_release, &f});
        nb_clear_error();
        nb_status s = run(arg);
        nb_set_allocator(NULL);
        if (f.calls < n) {
            ck_assert_msg(s == NB_OK, "%s: the run did not fail its allocation %ld but "
                                      "returned %s: %s", what, n, nb_status_name(s), nb_last_error());
            return n - 1;
        }
        ck_assert_msg(s == NB_ERR_NOMEM && nb_last_status() == NB_ERR_NOMEM,
                      "%s: allocation %ld of %ld failed: got status %s, last error %s \"%s\"",
                      what, n, f.calls, nb_status_name(s), nb_status_name(nb_last_status()),
                      nb_last_error());
    }
    ck_abort_msg("%s: more than %ld allocations", what, limit);
    return limit;
}

/* ---- scenarios ------------------------------------------------------------ */

static nb_model *make_model(void)
{
    nb_model *model = nb_sequential();
    if (!model)
        return NULL;
    nb_status s = nb_model_set_input_shape(model, NB_SHAPE(2, 3));
    if (s == NB_OK)
        s = nb_model_add(model, nb_flatten_layer());
    if (s == NB_OK)
        s = nb_model_add(model, nb_dense(5, NB_RELU));
    if (s == NB_OK)
        s = nb_model_add(model, nb_dropout(0.2));
    if (s == NB_OK)
        s = nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    if (s == NB_OK)
        s = nb_model_compile(model, &(nb_compile_options){.optimizer = nb_adam_default(),
                                                          .loss = "categorical_crossentropy",
                                                          .metrics = {"accuracy"}});
    if (s != NB_OK) {
        nb_model_free(model);
        return NULL;
    }
    return model;
}

/* Build and compile a model, then fit it for 1 epoch of 2 batches with a
 * validation split, then predict. */
static nb_status train_step(void *arg)
{
    (void)arg;
    nb_tensor *x = nb_tensor_full(NB_F32, NB_SHAPE(10, 2, 3), 0.5);
    nb_tensor *y = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 3));
    nb_model *model = x && y ? make_model() : NULL;
    nb_status s = model ? NB_OK : nb_last_status();
    if (s == NB_OK) {
        for (int i = 0; i < 10; i++)
            nb_tensor_set(y, 3 * i + i % 3, 1.0);
        nb_fit_options fit = nb_fit_defaults();
        fit.epochs = 1;
        fit.batch_size = 4;
        fit.validation_split = 0.2;
        fit.verbose = 0;
        nb_history *history = nb_model_fit(model, x, y, &fit);
        if (!history)
            s = nb_last_status();
        nb_history_free(history);
    }
    if (s == NB_OK) {
        nb_tensor *p = nb_model_predict(model, x, 4);
        if (!p)
            s = nb_last_status();
        nb_tensor_free(p);
    }
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return s;
}

static nb_status load_model(void *arg)
{
    nb_model *model = nb_model_load(arg);
    nb_status s = model ? NB_OK : nb_last_status();
    nb_model_free(model);
    return s;
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(every_allocation_of_a_training_step_may_fail)
{
    long n = fail_each_allocation(train_step, NULL, "fit");
    ck_assert_msg(n > 10, "only %ld allocations: is the allocator in use?", n);
}
END_TEST

START_TEST(every_allocation_of_a_model_load_may_fail)
{
    char path[] = "/tmp/nabla_alloc_failure_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    nb_model *model = make_model();
    ck_assert_ptr_nonnull(model);
    ck_assert_msg(train_step(NULL) == NB_OK, "%s", nb_last_error());
    ck_assert_msg(nb_model_save(model, path, true) == NB_OK, "save: %s", nb_last_error());
    nb_model_free(model);
    long n = fail_each_allocation(load_model, path, "load");
    remove(path);
    ck_assert_msg(n > 5, "only %ld allocations: is the allocator in use?", n);
}
END_TEST

/* cJSON allocates through its own hooks, not nb_alloc (setting them is the
 * application's business: they are global). Point them at a failing
 * allocator to check that a model save and load survive every cJSON
 * allocation failing. A failed parse cannot tell lack of memory from bad
 * text, so the load may report NB_ERR_FORMAT: any error will do, as long
 * as it is an error and nothing crashes or leaks. */
static failing cjson_failing;

static void *cjson_failing_malloc(size_t bytes)
{
    return failing_alloc(bytes, &cjson_failing);
}

static nb_status save_and_load(void *arg)
{
    nb_model *model = make_model();
    nb_status s = model ? nb_model_save(model, arg, true) : nb_last_status();
    nb_model_free(model);
    return s == NB_OK ? load_model(arg) : s;
}

START_TEST(every_cjson_allocation_of_a_save_and_load_may_fail)
{
    char path[] = "/tmp/nabla_alloc_failure_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    long n = 1;
    for (;; n++) {
        cjson_failing = (failing){0, n};
        cJSON_InitHooks(&(cJSON_Hooks){cjson_failing_malloc, free});
        nb_clear_error();
        nb_status s = save_and_load(path);
        cJSON_InitHooks(NULL);
        if (cjson_failing.calls < n) {
            ck_assert_msg(s == NB_OK, "no cJSON allocation failed but: %s", nb_last_error());
            break;
        }
        ck_assert_msg(s != NB_OK, "cJSON allocation %ld failed unnoticed", n);
        ck_assert_msg(nb_last_error()[0] != '\0', "allocation %ld: no message", n);
    }
    remove(path);
    ck_assert_msg(n > 20, "only %ld cJSON allocations: are the hooks in use?", n - 1);
}
END_TEST

/* An allocator of a small machine: nothing above 64 MB. */
static void *small_alloc(size_t bytes, void *user)
{
    (void)user;
    return bytes > ((size_t)64 << 20) ? NULL : malloc(bytes ? bytes : 1);
}

/* found by fuzz_api: the message was the allocator's "nabla: out of memory
 * for a tensor of ... bytes", which does not say which call asked */
START_TEST(an_op_whose_result_does_not_fit_is_named)
{
    nb_tensor *labels = nb_tensor_zeros(NB_F64, NB_SHAPE(1));
    nb_tape *tape = nb_tape_new();
    nb_set_allocator(&(nb_allocator){small_alloc, failing_release, NULL});
    nb_tape *tapes[] = {NULL, tape};
    for (int k = 0; k < 2; k++) {
        ck_assert_ptr_null(nb_one_hot(tapes[k], labels, (int64_t)1 << 40));
        ck_assert_int_eq(nb_last_status(), NB_ERR_NOMEM);
        ck_assert_error_contains("nb_one_hot: out of memory for its result [1, 1099511627776] f64 "
                                 "(8796093022208 bytes)");
    }
    nb_set_allocator(NULL);
    nb_tape_free(tape);
    nb_tensor_free(labels);
}
END_TEST

static Suite *alloc_failure_suite(void)
{
    Suite *s = suite_create("alloc_failure");
    TCase *tc = tcase_create("fail_nth_allocation");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_allocation_of_a_training_step_may_fail);
    tcase_add_test(tc, every_allocation_of_a_model_load_may_fail);
    tcase_add_test(tc, every_cjson_allocation_of_a_save_and_load_may_fail);
    tcase_add_test(tc, an_op_whose_result_does_not_fit_is_named);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(alloc_failure_suite)
