/* Tests of src/io/model_save.c (and safetensors_write.c under it): what
 * nb_model_save refuses, the file it writes being plain safetensors with the
 * architecture in its metadata, and its atomic replacement of the file, which
 * a failed write or allocation leaves as it was. */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "nabla/model_io.h"
#include "nb_test.h"
#include "nn/model_internal.h"

/* ---- helpers: files and directories -------------------------------------- */

static char dir[64];
static char path[128];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/nabla-model-save-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
}

/* Remove the directory and the files in it. */
static void remove_dir(void) { nb_test_remove_dir(dir); }

static int files_in_dir(void) { return nb_test_count_entries(dir); }

static void plain_release(void *p, void *user)
{
    (void)user;
    free(p);
}

/* ---- what is refused ----------------------------------------------------------- */

START_TEST(saving_needs_a_built_model_and_a_path)
{
    make_dir();
    nb_model *model = nb_sequential();
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    ck_assert_int_eq(nb_model_save(model, path, true), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_save: the model is not built");
    ck_assert_int_eq(nb_model_save(NULL, path, true), NB_ERR_NULL);
    ck_assert_int_eq(nb_model_save(model, NULL, true), NB_ERR_NULL);
    ck_assert_ptr_null(nb_model_load(NULL));
    ck_assert_int_eq(files_in_dir(), 0);
    nb_model_free(model);
    remove_dir();
}
END_TEST

START_TEST(duplicate_layer_names_are_refused)
{
    make_dir();
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    snprintf(nb_model_layer(model, 1)->name, 32, "dense");
    ck_assert_int_eq(nb_model_save(model, path, false), NB_ERR_ARG);
    ck_assert_error_contains("both named 'dense'");
    ck_assert_int_eq(files_in_dir(), 0);
    nb_model_free(model);
    remove_dir();
}
END_TEST


/* ---- the file is plain safetensors ------------------------------------------ */

static void assert_entry(const cJSON *header, const char *name, const char *dtype, int rank,
                         const int *shape, double begin, double end)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(header, name);
    ck_assert_msg(cJSON_IsObject(e), "no entry %s", name);
    ck_assert_str_eq(cJSON_GetObjectItem(e, "dtype")->valuestring, dtype);
    const cJSON *s = cJSON_GetObjectItem(e, "shape");
    ck_assert_int_eq(cJSON_GetArraySize(s), rank);
    for (int d = 0; d < rank; d++)
        ck_assert_double_eq(cJSON_GetArrayItem(s, d)->valuedouble, shape[d]);
    const cJSON *o = cJSON_GetObjectItem(e, "data_offsets");
    ck_assert_double_eq(cJSON_GetArrayItem(o, 0)->valuedouble, begin);
    ck_assert_double_eq(cJSON_GetArrayItem(o, 1)->valuedouble, end);
}

START_TEST(file_is_a_valid_safetensors_file)
{
    make_dir();
    nb_model *model = nb_test_mlp(NB_F32, nb_sgd(0.1, 0.9, true));
    nb_tensor *x, *y;
    nb_test_mlp_data(16, &x, &y);
    nb_test_fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_test_bytes file = nb_test_read_all(path);
    ck_assert_uint_ge(file.len, 8);
    uint64_t n = nb_test_le64(file.data);
    ck_assert_uint_le(8 + n, file.len);
    ck_assert_uint_eq((8 + n) % 8, 0);
    ck_assert_int_eq(file.data[8], '{');
    cJSON *header = cJSON_ParseWithLength((const char *)file.data + 8, (size_t)n);
    ck_assert_ptr_nonnull(header);

    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(header, "__metadata__");
    ck_assert(cJSON_IsObject(meta));
    for (const cJSON *item = meta->child; item; item = item->next)
        ck_assert_msg(cJSON_IsString(item), "metadata %s is not a string", item->string);
    ck_assert_str_eq(cJSON_GetObjectItem(meta, "format")->valuestring, "nabla-1");
    cJSON *arch = cJSON_Parse(cJSON_GetObjectItem(meta, "nabla_model")->valuestring);
    ck_assert(cJSON_IsObject(arch));
    ck_assert_str_eq(cJSON_GetObjectItem(arch, "dtype")->valuestring, "f32");
    ck_assert_str_eq(cJSON_GetObjectItem(arch, "seed")->valuestring, "18364758544493064720");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(arch, "layers")), 3);
    const cJSON *dense = cJSON_GetArrayItem(cJSON_GetObjectItem(arch, "layers"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(dense, "type")->valuestring, "Dense");
    ck_assert_str_eq(cJSON_GetObjectItem(dense, "name")->valuestring, "dense");
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(dense, "config"), "units")
                            ->valuedouble, 16);
    ck_assert_str_eq(cJSON_GetObjectItem(arch, "loss")->valuestring, "categorical_crossentropy");
    const cJSON *opt = cJSON_GetObjectItem(arch, "optimizer");
    ck_assert_str_eq(cJSON_GetObjectItem(opt, "name")->valuestring, "SGD");
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(opt, "config"), "momentum")
                            ->valuedouble, 0.9);
    ck_assert_double_eq(cJSON_GetObjectItem(opt, "state_tensors")->valuedouble, 4);

    /* weights, then the momenta, back to back */
    assert_entry(header, "dense/kernel", "F32", 2, (int[]){6, 16}, 0, 384);
    assert_entry(header, "dense/bias", "F32", 1, (int[]){16}, 384, 448);
    assert_entry(header, "dense_1/kernel", "F32", 2, (int[]){16, 4}, 448, 704);
    assert_entry(header, "dense_1/bias", "F32", 1, (int[]){4}, 704, 720);
    assert_entry(header, "optimizer/0", "F32", 2, (int[]){6, 16}, 720, 1104);
    assert_entry(header, "optimizer/3", "F32", 1, (int[]){4}, 1424, 1440);
    ck_assert_uint_eq(file.len, 8 + n + 1440);
    ck_assert_int_eq(cJSON_GetArraySize(header), 9);
    ck_assert(memcmp(file.data + 8 + n, nb_model_weight(model, 0)->data, 384) == 0);
    ck_assert(memcmp(file.data + 8 + n + 720, nb_optimizer_state(nb_model_optimizer(model), 0)->data,
                     384) == 0);

    cJSON_Delete(arch);
    cJSON_Delete(header);
    free(file.data);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

/* ---- atomic saving ---------------------------------------------------------------- */

START_TEST(save_into_a_missing_directory_fails_and_leaves_nothing)
{
    make_dir();
    nb_model *model = nb_test_mlp(NB_F32, nb_adam_default());
    char missing[192];
    snprintf(missing, sizeof missing, "%s/no/such/dir/model.safetensors", dir);
    ck_assert_int_eq(nb_model_save(model, missing, true), NB_ERR_IO);
    ck_assert_error_contains(missing);
    ck_assert_error_contains("No such file or directory");
    ck_assert_int_eq(files_in_dir(), 0);
    nb_model_free(model);
    remove_dir();
}
END_TEST

START_TEST(save_replaces_an_existing_file_completely)
{
    make_dir();
    static char junk[100000];
    memset(junk, 'x', sizeof junk);
    nb_test_write_all(path, junk, sizeof junk);
    nb_model *model = nb_test_mlp(NB_F32, nb_adam_default());
    ck_assert_int_eq(nb_model_save(model, path, false), NB_OK);
    nb_test_bytes file = nb_test_read_all(path);
    ck_assert_uint_eq(file.len, 8 + nb_test_le64(file.data) + 720);
    ck_assert_int_eq(files_in_dir(), 1);
    nb_model *loaded = nb_model_load(path);
    ck_assert_ptr_nonnull(loaded);
    nb_test_assert_same_weights(model, loaded);
    free(file.data);
    nb_model_free(model);
    nb_model_free(loaded);
    remove_dir();
}
END_TEST

/* A write that fails half-way (the file-size limit stops it after 1 KB of
 * about 10 KB) leaves the old file and no temporary file. */
START_TEST(failed_write_keeps_the_old_file)
{
    make_dir();
    nb_test_write_all(path, "old model", 9);
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(32));
    nb_model_add(model, nb_dense(64, NB_RELU));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    struct rlimit old;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {1024, old.rlim_max};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    nb_status s = nb_model_save(model, path, false);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    ck_assert_int_eq(s, NB_ERR_IO);
    ck_assert_error_contains(path);
    nb_test_bytes file = nb_test_read_all(path);
    ck_assert_uint_eq(file.len, 9);
    ck_assert(memcmp(file.data, "old model", 9) == 0);
    ck_assert_int_eq(files_in_dir(), 1);
    free(file.data);
    nb_model_free(model);
    remove_dir();
}
END_TEST

/* Fail each allocation of a save in turn: each failure is reported (or
 * comes after the rename), and the old file stays whole. */
static long allocations, fail_at;
static void *failing_alloc(size_t bytes, void *user)
{
    (void)user;
    return ++allocations == fail_at ? NULL : malloc(bytes ? bytes : 1);
}

START_TEST(failed_allocation_keeps_the_old_file)
{
    make_dir();
    nb_model *model = nb_test_mlp(NB_F32, nb_sgd(0.1, 0.9, false));
    nb_tensor *x, *y;
    nb_test_mlp_data(16, &x, &y);
    nb_test_fit_quietly(model, x, y, 1);
    nb_allocator failing = {failing_alloc, plain_release, NULL};
    allocations = 0, fail_at = -1;
    nb_set_allocator(&failing);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_set_allocator(NULL);
    long total = allocations;
    ck_assert_int_gt(total, 3);
    nb_test_bytes good = nb_test_read_all(path);
    for (fail_at = 1; fail_at <= total; fail_at++) {
        nb_test_write_all(path, "old", 3);
        allocations = 0;
        nb_set_allocator(&failing);
        nb_status s = nb_model_save(model, path, true);
        nb_set_allocator(NULL);
        nb_test_bytes now = nb_test_read_all(path);
        if (s == NB_OK)
            ck_assert(now.len == good.len && memcmp(now.data, good.data, good.len) == 0);
        else {
            ck_assert_int_eq(s, NB_ERR_NOMEM);
            ck_assert_msg(now.len == 3 && memcmp(now.data, "old", 3) == 0,
                          "allocation %ld: the old file changed", fail_at);
        }
        ck_assert_int_eq(files_in_dir(), 1);
        free(now.data);
    }
    free(good.data);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("model_save");
    TCase *tc = tcase_create("refused");
    tcase_add_test(tc, saving_needs_a_built_model_and_a_path);
    tcase_add_test(tc, duplicate_layer_names_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("format");
    tcase_add_test(tc, file_is_a_valid_safetensors_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("atomic");
    tcase_add_test(tc, save_into_a_missing_directory_fails_and_leaves_nothing);
    tcase_add_test(tc, save_replaces_an_existing_file_completely);
    tcase_add_test(tc, failed_write_keeps_the_old_file);
    tcase_add_test(tc, failed_allocation_keeps_the_old_file);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(make_suite)
