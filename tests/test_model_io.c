/* Tests for src/io/model_io.c, src/io/safetensors.c and src/nn/checkpoint.c:
 * model files in the safetensors format, and the ModelCheckpoint callback. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nabla/model_io.h"
#include "nb_test.h"
#include "nn/model_internal.h"

/* ---- helpers: files and directories -------------------------------------- */

static char dir[64];
static char path[128];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/nabla-model-io-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
}

/* Remove the directory and the files in it. */
static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char name[512];
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(name, sizeof name, "%s/%s", dir, e->d_name);
        unlink(name);
    }
    closedir(d);
    rmdir(dir);
}

static int files_in_dir(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

typedef struct bytes {
    unsigned char *data;
    size_t len;
} bytes;

static bytes read_all(const char *file)
{
    bytes b = {0};
    FILE *f = fopen(file, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", file);
    fseek(f, 0, SEEK_END);
    b.len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.data = malloc(b.len + 1);
    ck_assert_uint_eq(fread(b.data, 1, b.len, f), b.len);
    fclose(f);
    return b;
}

static void write_all(const char *file, const void *data, size_t len)
{
    FILE *f = fopen(file, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static bool file_exists(const char *file)
{
    struct stat st;
    return stat(file, &st) == 0;
}

/* ---- helpers: models and data --------------------------------------------- */

/* x [n, 6] uniform, y [n, 4] one-hot of a fixed rule on x. */
static void make_data(int64_t n, nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 99);
    *x = nb_tensor_rand_uniform(NB_F32, NB_SHAPE(n, 6), -1, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 4));
    for (int64_t i = 0; i < n; i++) {
        double a = nb_tensor_get(*x, i * 6) + nb_tensor_get(*x, i * 6 + 1);
        double b = nb_tensor_get(*x, i * 6 + 2) - nb_tensor_get(*x, i * 6 + 3);
        nb_tensor_set(*y, i * 4 + (a > 0) * 2 + (b > 0), 1.0);
    }
}

/* Dense(16, relu) + Dropout(0.25) + Dense(4, softmax) on 6 inputs. */
static nb_model *make_mlp(nb_dtype dtype, nb_optimizer *opt)
{
    nb_model *m = nb_sequential();
    ck_assert_int_eq(nb_model_set_seed(m, 0xfedcba9876543210ULL), NB_OK);
    ck_assert_int_eq(nb_model_set_dtype(m, dtype), NB_OK);
    ck_assert_int_eq(nb_model_set_input_shape(m, NB_SHAPE(6)), NB_OK);
    ck_assert_int_eq(nb_model_add(m, nb_dense(16, NB_RELU)), NB_OK);
    ck_assert_int_eq(nb_model_add(m, nb_dropout(0.25)), NB_OK);
    ck_assert_int_eq(nb_model_add(m, nb_dense(4, NB_SOFTMAX)), NB_OK);
    nb_compile_options o = {.optimizer = opt, .loss = "categorical_crossentropy",
                            .metrics = {"accuracy"}};
    ck_assert_msg(nb_model_compile(m, &o) == NB_OK, "%s", nb_last_error());
    return m;
}

static void fit_quietly(nb_model *m, const nb_tensor *x, const nb_tensor *y, int epochs)
{
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = epochs;
    fit.batch_size = 16;
    fit.verbose = 0;
    nb_history *h = nb_model_fit(m, x, y, &fit);
    ck_assert_msg(h != NULL, "fit: %s", nb_last_error());
    nb_history_free(h);
}

static bool same_tensor(const nb_tensor *a, const nb_tensor *b)
{
    return a->dtype == b->dtype && nb_same_shape(a, b) &&
           memcmp(a->data, b->data, (size_t)a->size * nb_dtype_size(a->dtype)) == 0;
}

static void assert_same_weights(const nb_model *a, const nb_model *b)
{
    ck_assert_int_eq(nb_model_weight_count(a), nb_model_weight_count(b));
    for (int i = 0; i < nb_model_weight_count(a); i++)
        ck_assert_msg(same_tensor(nb_model_weight(a, i), nb_model_weight(b, i)),
                      "weight %d differs", i);
}

static void assert_same_optimizer(const nb_model *a, const nb_model *b)
{
    const nb_optimizer *oa = nb_model_optimizer(a), *ob = nb_model_optimizer(b);
    ck_assert_ptr_nonnull(oa);
    ck_assert_ptr_nonnull(ob);
    ck_assert_str_eq(nb_optimizer_name(oa), nb_optimizer_name(ob));
    ck_assert_int_eq(nb_optimizer_iterations(oa), nb_optimizer_iterations(ob));
    ck_assert_int_eq(nb_optimizer_state_count(oa), nb_optimizer_state_count(ob));
    for (int i = 0; i < nb_optimizer_state_count(oa); i++)
        ck_assert_msg(same_tensor(nb_optimizer_state(oa, i), nb_optimizer_state(ob, i)),
                      "optimizer state %d differs", i);
}

static char *summary_of(const nb_model *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_int_eq(nb_model_summary(m, out), NB_OK);
    fclose(out);
    return text;
}

/* ---- round trips -------------------------------------------------------------- */

/* _i: 0 for f32, 1 for f64 */
START_TEST(round_trip_predicts_bit_identically_and_trains_on_identically)
{
    nb_dtype dtype = _i ? NB_F64 : NB_F32;
    make_dir();
    nb_tensor *x, *y;
    make_data(64, &x, &y);
    nb_model *model = make_mlp(dtype, nb_adam_default());
    fit_quietly(model, x, y, 2);
    ck_assert_msg(nb_model_save(model, path, true) == NB_OK, "%s", nb_last_error());
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "load: %s", nb_last_error());

    ck_assert_int_eq(nb_model_dtype(loaded), dtype);
    ck_assert_uint_eq(loaded->seed, model->seed);
    ck_assert(memcmp(&loaded->train_rng, &model->train_rng, sizeof model->train_rng) == 0);
    nb_tensor *p1 = nb_model_predict(model, x, 0), *p2 = nb_model_predict(loaded, x, 0);
    ck_assert(p1 && p2 && same_tensor(p1, p2));
    char *s1 = summary_of(model), *s2 = summary_of(loaded);
    ck_assert_str_eq(s1, s2);
    ck_assert_str_eq(nb_model_loss(loaded)->name, "categorical_crossentropy");
    ck_assert_int_eq(nb_model_metric_count(loaded), 1);
    ck_assert_str_eq(nb_model_metric(loaded, 0)->name, "accuracy");
    ck_assert_int_eq(nb_optimizer_iterations(nb_model_optimizer(loaded)), 8);
    assert_same_optimizer(model, loaded);

    /* one more epoch each (shuffling, dropout and Adam all continue) */
    fit_quietly(model, x, y, 1);
    fit_quietly(loaded, x, y, 1);
    assert_same_weights(model, loaded);
    assert_same_optimizer(model, loaded);

    free(s1);
    free(s2);
    nb_tensor_free(p1);
    nb_tensor_free(p2);
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

START_TEST(without_optimizer_state_the_optimizer_starts_afresh)
{
    make_dir();
    nb_tensor *x, *y;
    make_data(32, &x, &y);
    nb_model *model = make_mlp(NB_F32, nb_rmsprop(0.01, 0.8, 0.5, 1e-6));
    fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, false), NB_OK);
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    const nb_optimizer *opt = nb_model_optimizer(loaded);
    ck_assert_str_eq(nb_optimizer_name(opt), "RMSprop");
    ck_assert_double_eq(nb_optimizer_learning_rate(opt), 0.01);
    ck_assert_int_eq(nb_optimizer_iterations(opt), 0);
    ck_assert_int_eq(nb_optimizer_state_count(opt), 0);
    assert_same_weights(model, loaded);
    int n;
    const char *names[NB_OPTIMIZER_CONFIG_MAX];
    double a[NB_OPTIMIZER_CONFIG_MAX], b[NB_OPTIMIZER_CONFIG_MAX];
    nb_optimizer_config(nb_model_optimizer(model), &n, names, a);
    nb_optimizer_config(opt, &n, names, b);
    ck_assert(memcmp(a, b, (size_t)n * sizeof *a) == 0);
    fit_quietly(loaded, x, y, 1); /* trains: the optimizer works */
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

/* SGD without momentum keeps no state: the step count still comes back. */
START_TEST(stateless_optimizer_restores_its_iterations)
{
    make_dir();
    nb_tensor *x, *y;
    make_data(32, &x, &y);
    nb_model *model = make_mlp(NB_F32, nb_sgd(0.05, 0.0, false));
    fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    assert_same_optimizer(model, loaded);
    ck_assert_int_eq(nb_optimizer_iterations(nb_model_optimizer(loaded)), 2);
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

START_TEST(built_but_uncompiled_model_loads_built)
{
    make_dir();
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(2, 3));
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dense_with(&(nb_dense_options){.units = 5, .no_bias = true,
                                                          .activation = NB_TANH}));
    nb_model_add(model, nb_activation_layer(NB_SIGMOID));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    ck_assert_ptr_null(nb_model_loss(loaded));
    ck_assert_ptr_null(nb_model_optimizer(loaded));
    ck_assert_int_eq(nb_model_weight_count(loaded), 1);
    assert_same_weights(model, loaded);
    nb_model_free(model);
    nb_model_free(loaded);
    remove_dir();
}
END_TEST

static nb_tensor *my_loss(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    return nb_loss_mse(tape, pred, target);
}

START_TEST(custom_loss_loads_uncompiled_with_its_weights)
{
    make_dir();
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    static const nb_loss custom = {"my_loss", my_loss};
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){
                         .optimizer = nb_sgd(0.1, 0.9, false), .custom_loss = &custom}),
                     NB_OK);
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(4, 3)), *y = nb_tensor_zeros(NB_F32, NB_SHAPE(4, 2));
    fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_clear_error();
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    ck_assert_ptr_null(nb_model_loss(loaded));
    ck_assert_str_eq(nb_last_error(), ""); /* the failed loss lookup left no message */
    assert_same_weights(model, loaded);
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

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

/* A custom layer: y = x + shift, shift a parameter shaped as one sample. */
static nb_status shift_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    (void)rng;
    nb_tensor *shift = nb_tensor_full(self->dtype, in_rank, in_shape, 0.5);
    if (!shift || nb_layer_add_param(self, "shift", shift) != NB_OK) {
        nb_tensor_free(shift);
        return nb_last_status();
    }
    return NB_OK;
}

static nb_tensor *shift_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                nb_rng *rng)
{
    (void)training;
    (void)rng;
    return nb_add_bias(tape, x, self->params[0]);
}

static nb_layer *shift_from_config(const cJSON *json);

static const nb_layer_class shift_class = {
    .type = "TestShift",
    .build = shift_build,
    .forward = shift_forward,
    .from_config = shift_from_config,
};

static nb_layer *shift_from_config(const cJSON *json)
{
    (void)json;
    return nb_layer_new(&shift_class, NULL, NULL);
}

START_TEST(custom_layer_loads_once_its_class_is_registered)
{
    make_dir();
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_layer_new(&shift_class, NULL, NULL));
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){
                         .optimizer = nb_adam_default(), .loss = "mse"}), NB_OK);
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(4, 3)), *y = nb_tensor_zeros(NB_F32, NB_SHAPE(4, 2));
    fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    if (!nb_layer_find_class("TestShift")) { /* first run in this process */
        ck_assert_ptr_null(nb_model_load(path));
        ck_assert_error_contains("layer 0 ('test_shift'): nb_layer_find_class: unknown layer "
                                 "type 'TestShift'");
    }
    ck_assert_int_eq(nb_layer_register_class(&shift_class), NB_OK);
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    assert_same_weights(model, loaded);
    assert_same_optimizer(model, loaded);
    nb_tensor *p1 = nb_model_predict(model, x, 0), *p2 = nb_model_predict(loaded, x, 0);
    ck_assert(p1 && p2 && same_tensor(p1, p2));
    nb_tensor_free(p1);
    nb_tensor_free(p2);
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

/* ---- the file is plain safetensors ------------------------------------------ */

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

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
    nb_model *model = make_mlp(NB_F32, nb_sgd(0.1, 0.9, true));
    nb_tensor *x, *y;
    make_data(16, &x, &y);
    fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    bytes file = read_all(path);
    ck_assert_uint_ge(file.len, 8);
    uint64_t n = le64(file.data);
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

/* ---- malformed files ----------------------------------------------------------- */

/* A valid file of a small model, split into its parts so that a test can
 * change one thing and join them again: Dense(2) on 3 inputs, f32,
 * dense/kernel at [0, 24) and dense/bias at [24, 32). */
typedef struct parts {
    cJSON *header;
    cJSON *arch; /* written back into __metadata__ unless NULL */
    unsigned char data[4096];
    size_t len;
} parts;

static void split_valid_file(parts *p)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){
                         .optimizer = nb_sgd_default(), .loss = "mse"}), NB_OK);
    ck_assert_int_eq(nb_model_save(model, path, false), NB_OK);
    nb_model_free(model);
    bytes file = read_all(path);
    uint64_t n = le64(file.data);
    p->header = cJSON_ParseWithLength((const char *)file.data + 8, (size_t)n);
    p->arch = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetObjectItem(p->header, "__metadata__"),
                                              "nabla_model")->valuestring);
    p->len = file.len - 8 - (size_t)n;
    ck_assert_uint_eq(p->len, 32);
    memcpy(p->data, file.data + 8 + n, p->len);
    free(file.data);
}

static void join_file(parts *p)
{
    cJSON *meta = cJSON_GetObjectItem(p->header, "__metadata__");
    if (p->arch && meta) {
        char *text = cJSON_PrintUnformatted(p->arch);
        cJSON_ReplaceItemInObjectCaseSensitive(meta, "nabla_model", cJSON_CreateString(text));
        free(text);
    }
    char *header = cJSON_PrintUnformatted(p->header);
    size_t n = strlen(header);
    unsigned char *file = malloc(8 + n + p->len);
    for (int k = 0; k < 8; k++)
        file[k] = (unsigned char)((uint64_t)n >> (8 * k));
    memcpy(file + 8, header, n);
    memcpy(file + 8 + n, p->data, p->len);
    write_all(path, file, 8 + n + p->len);
    free(file);
    free(header);
}

static cJSON *entry(parts *p, const char *name) { return cJSON_GetObjectItem(p->header, name); }

static void set_numbers(cJSON *parent, const char *key, int n, const double *v)
{
    cJSON_ReplaceItemInObjectCaseSensitive(parent, key, cJSON_CreateDoubleArray(v, n));
}

static cJSON *dense_config(parts *p)
{
    return cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p->arch, "layers"), 0),
                               "config");
}

static void no_metadata(parts *p) { cJSON_DeleteItemFromObject(p->header, "__metadata__"); }
static void wrong_format(parts *p)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p->header, "__metadata__"), "format",
                              cJSON_CreateString("pt"));
}
static void no_architecture(parts *p)
{
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(p->header, "__metadata__"), "nabla_model");
    cJSON_Delete(p->arch);
    p->arch = NULL;
}
static void architecture_not_json(parts *p)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p->header, "__metadata__"), "nabla_model",
                              cJSON_CreateString("{\"layers\": [broken"));
    cJSON_Delete(p->arch);
    p->arch = NULL;
}
static void metadata_not_string(parts *p)
{
    cJSON_AddNumberToObject(cJSON_GetObjectItem(p->header, "__metadata__"), "epochs", 3);
}
static void unknown_layer_type(parts *p)
{
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(p->arch, "layers"), 0),
                              "type", cJSON_CreateString("Conv3D"));
}
static void no_layers(parts *p)
{
    cJSON_ReplaceItemInObject(p->arch, "layers", cJSON_CreateArray());
}
static void bad_dense_config(parts *p)
{
    cJSON_ReplaceItemInObject(dense_config(p), "units", cJSON_CreateString("two"));
}
/* the bias gone from the header and from the data */
static void tensor_missing(parts *p)
{
    cJSON_DeleteItemFromObject(p->header, "dense/bias");
    p->len = 24;
}
static void extra_tensor(parts *p)
{
    cJSON *e = cJSON_AddObjectToObject(p->header, "extra");
    cJSON_AddStringToObject(e, "dtype", "F32");
    cJSON_AddItemToObject(e, "shape", cJSON_CreateDoubleArray((double[]){1}, 1));
    cJSON_AddItemToObject(e, "data_offsets", cJSON_CreateDoubleArray((double[]){32, 36}, 2));
    p->len = 36;
}
static void unknown_dtype(parts *p)
{
    cJSON_ReplaceItemInObject(entry(p, "dense/bias"), "dtype", cJSON_CreateString("F33"));
}
static void integer_dtype(parts *p)
{
    cJSON_ReplaceItemInObject(entry(p, "dense/bias"), "dtype", cJSON_CreateString("I32"));
}
static void dtype_too_wide(parts *p)
{
    cJSON_ReplaceItemInObject(entry(p, "dense/bias"), "dtype", cJSON_CreateString("F64"));
}
static void shape_transposed(parts *p)
{
    set_numbers(entry(p, "dense/kernel"), "shape", 2, (double[]){2, 3});
}
static void negative_shape(parts *p)
{
    set_numbers(entry(p, "dense/kernel"), "shape", 2, (double[]){-3, -2});
}
static void input_shape_changed(parts *p)
{
    set_numbers(p->arch, "input_shape", 1, (double[]){5});
}
static void huge_units(parts *p)
{
    cJSON_ReplaceItemInObject(dense_config(p), "units", cJSON_CreateNumber(1e9));
}
static void offsets_reversed(parts *p)
{
    set_numbers(entry(p, "dense/bias"), "data_offsets", 2, (double[]){32, 24});
}
static void offsets_overlap(parts *p)
{
    set_numbers(entry(p, "dense/bias"), "data_offsets", 2, (double[]){16, 24});
    p->len = 24;
}
static void offsets_gap(parts *p)
{
    set_numbers(entry(p, "dense/bias"), "data_offsets", 2, (double[]){28, 36});
    p->len = 36;
}
static void offsets_beyond_file(parts *p)
{
    set_numbers(entry(p, "dense/bias"), "data_offsets", 2, (double[]){1000, 1008});
}
static void offsets_huge(parts *p)
{
    set_numbers(entry(p, "dense/bias"), "data_offsets", 2,
                (double[]){18446744073709551615.0, 18446744073709551615.0});
}
static void truncated_data(parts *p) { p->len = 28; }
static void trailing_bytes(parts *p) { p->len = 40; }
static void duplicate_name(parts *p)
{
    cJSON *e = cJSON_Duplicate(entry(p, "dense/bias"), true);
    cJSON_AddItemToObject(p->header, "dense/bias", e);
}
static void state_count_wrong(parts *p)
{
    cJSON_AddNumberToObject(cJSON_GetObjectItem(p->arch, "optimizer"), "state_tensors", 1);
}
static void state_count_huge(parts *p)
{
    cJSON_AddNumberToObject(cJSON_GetObjectItem(p->arch, "optimizer"), "state_tensors", 1e9);
}
static void bad_optimizer(parts *p)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p->arch, "optimizer"), "name",
                              cJSON_CreateString("Adagrad"));
}
static void bad_seed(parts *p)
{
    cJSON_ReplaceItemInObject(p->arch, "seed", cJSON_CreateString("99999999999999999999"));
}

typedef struct bad_file {
    const char *what;
    void (*change)(parts *p); /* NULL: the file is `raw` */
    const char *raw;
    size_t raw_len;
    const char *expect; /* in the message */
} bad_file;

#define RAW(s) NULL, s, sizeof s - 1

static const bad_file bad_files[] = {
    {"empty file", RAW(""), "the file is empty"},
    {"3 bytes", RAW("abc"), "has only 3 bytes: too short for the 8-byte header length"},
    {"header longer than the file", RAW("\x10\0\0\0\0\0\0\0{}"),
     "header length is 16 bytes but only 2 bytes follow it"},
    {"header length 2^63", RAW("\0\0\0\0\0\0\0\x80{}"),
     "header length is 9223372036854775808 bytes but only 2"},
    {"header length 0", RAW("\0\0\0\0\0\0\0\0"), "too short for a JSON object"},
    {"header not JSON", RAW("\x08\0\0\0\0\0\0\0{nope!!}"), "the header is not valid JSON"},
    {"header JSON not an object", RAW("\x05\0\0\0\0\0\0\0[1,2]"),
     "the header is not a JSON object"},
    {"header not UTF-8", RAW("\x08\0\0\0\0\0\0\0{\"\xff\":1} "), "not valid UTF-8"},
    {"header with a NUL", RAW("\x08\0\0\0\0\0\0\0{}\0     "), "not valid UTF-8"},
    {"garbage after the header JSON", RAW("\x08\0\0\0\0\0\0\0{}  xyz "),
     "more after its JSON object"},
    {"safetensors without metadata", RAW("\x08\0\0\0\0\0\0\0{}      "),
     "not a nabla model file: __metadata__ \"format\" is missing"},
    {"no __metadata__", no_metadata, NULL, 0, "not a nabla model file"},
    {"other format", wrong_format, NULL, 0, "\"format\" is \"pt\": expected \"nabla-1\""},
    {"no nabla_model", no_architecture, NULL, 0, "no \"nabla_model\""},
    {"architecture not JSON", architecture_not_json, NULL, 0,
     "\"nabla_model\" is not a JSON object"},
    {"metadata value not a string", metadata_not_string, NULL, 0,
     "__metadata__ entry 'epochs' is not a string"},
    {"unknown layer type", unknown_layer_type, NULL, 0,
     "layer 0 ('dense'): nb_layer_find_class: unknown layer type 'Conv3D'"},
    {"no layers", no_layers, NULL, 0, "\"layers\" is missing or empty"},
    {"bad layer config", bad_dense_config, NULL, 0, "layer 0 ('dense'): Dense config: \"units\""},
    {"tensor missing", tensor_missing, NULL, 0, "tensor 'dense/bias' of layer 'dense' is missing"},
    {"extra tensor", extra_tensor, NULL, 0, "unexpected tensor 'extra'"},
    {"unknown dtype", unknown_dtype, NULL, 0, "tensor 'dense/bias': unknown dtype 'F33'"},
    {"integer dtype", integer_dtype, NULL, 0, "tensor 'dense/bias' is I32 [2]: expected F32 [2]"},
    {"dtype wider than its bytes", dtype_too_wide, NULL, 0,
     "data_offsets [24, 32] hold 8 bytes but its shape and dtype F64 need 16"},
    {"shape mismatch", shape_transposed, NULL, 0,
     "tensor 'dense/kernel' is [2, 3] but layer 'dense' as configured needs [3, 2]"},
    {"negative shape", negative_shape, NULL, 0, "shape entry 0 is not a whole number >= 0"},
    {"input shape changed", input_shape_changed, NULL, 0,
     "tensor 'dense/kernel' is [3, 2] but layer 'dense' as configured needs [5, 2]"},
    {"huge units", huge_units, NULL, 0, "needs [3, 1000000000]"},
    {"offsets reversed", offsets_reversed, NULL, 0, "data_offsets [32, 24] are reversed"},
    {"offsets overlap", offsets_overlap, NULL, 0,
     "tensors 'dense/kernel' and 'dense/bias' overlap"},
    {"offsets with a gap", offsets_gap, NULL, 0, "a gap of 4 bytes before tensor 'dense/bias'"},
    {"offsets beyond the file", offsets_beyond_file, NULL, 0,
     "tensor 'dense/bias' ends at byte 1008 of the data but the file holds only 32"},
    {"offsets past 2^53", offsets_huge, NULL, 0, "\"data_offsets\" is missing or not two whole"},
    {"truncated data", truncated_data, NULL, 0,
     "tensor 'dense/bias' ends at byte 32 of the data but the file holds only 28 bytes of data: "
     "truncated?"},
    {"trailing bytes", trailing_bytes, NULL, 0, "8 bytes follow the last tensor"},
    {"duplicate tensor name", duplicate_name, NULL, 0, "names tensor 'dense/bias' twice"},
    {"wrong state count", state_count_wrong, NULL, 0,
     "the file has 1 optimizer state tensors but SGD over 2 weights keeps 0"},
    {"huge state count", state_count_huge, NULL, 0,
     "\"state_tensors\" is not a whole number from 0 to the 2 tensors in the file"},
    {"unknown optimizer", bad_optimizer, NULL, 0, "unknown optimizer 'Adagrad'"},
    {"seed out of range", bad_seed, NULL, 0, "\"seed\" is not a 64-bit unsigned integer"},
};

/* The loader must never ask for a large block: a limit on the allocator
 * turns an attempt into a failure the test sees. */
static size_t refused;
static void *capped_alloc(size_t bytes, void *user)
{
    (void)user;
    if (bytes > (64u << 20)) {
        refused++;
        return NULL;
    }
    return malloc(bytes ? bytes : 1);
}
static void plain_release(void *p, void *user)
{
    (void)user;
    free(p);
}

START_TEST(malformed_file_gives_a_clear_error)
{
    const bad_file *c = &bad_files[_i];
    make_dir();
    if (c->change) {
        parts p;
        split_valid_file(&p);
        c->change(&p);
        join_file(&p);
        cJSON_Delete(p.header);
        cJSON_Delete(p.arch);
    } else
        write_all(path, c->raw, c->raw_len);
    refused = 0;
    nb_set_allocator(&(nb_allocator){capped_alloc, plain_release, NULL});
    nb_model *model = nb_model_load(path);
    nb_set_allocator(NULL);
    ck_assert_msg(model == NULL, "%s: loaded", c->what);
    ck_assert_uint_eq(refused, 0);
    ck_assert_msg(strstr(nb_last_error(), "nb_model_load: ") == nb_last_error() &&
                      strstr(nb_last_error(), path) && strstr(nb_last_error(), c->expect),
                  "%s: expected a message naming the path and containing \"%s\", got \"%s\"",
                  c->what, c->expect, nb_last_error());
    remove_dir();
}
END_TEST

START_TEST(header_over_the_limit_is_refused_without_reading_it)
{
    make_dir();
    /* a sparse file: large on paper, nothing on disk */
    uint64_t n = 200000000;
    unsigned char length[8];
    for (int k = 0; k < 8; k++)
        length[k] = (unsigned char)(n >> (8 * k));
    write_all(path, length, 8);
    ck_assert_int_eq(truncate(path, (off_t)(8 + n)), 0);
    refused = 0;
    nb_set_allocator(&(nb_allocator){capped_alloc, plain_release, NULL});
    ck_assert_ptr_null(nb_model_load(path));
    nb_set_allocator(NULL);
    ck_assert_uint_eq(refused, 0);
    ck_assert_int_eq(nb_last_status(), NB_ERR_FORMAT);
    ck_assert_error_contains("header length is 200000000 bytes: more than the limit of 100000000");
    remove_dir();
}
END_TEST

START_TEST(missing_file_or_directory_is_an_io_error)
{
    make_dir();
    ck_assert_ptr_null(nb_model_load(path));
    ck_assert_int_eq(nb_last_status(), NB_ERR_IO);
    ck_assert_error_contains("nb_model_load: cannot open");
    ck_assert_error_contains("No such file");
    ck_assert_ptr_null(nb_model_load(dir));
    ck_assert_int_eq(nb_last_status(), NB_ERR_IO);
    ck_assert_error_contains("not a regular file");
    remove_dir();
}
END_TEST

/* ---- atomic saving ---------------------------------------------------------------- */

START_TEST(save_into_a_missing_directory_fails_and_leaves_nothing)
{
    make_dir();
    nb_model *model = make_mlp(NB_F32, nb_adam_default());
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
    write_all(path, junk, sizeof junk);
    nb_model *model = make_mlp(NB_F32, nb_adam_default());
    ck_assert_int_eq(nb_model_save(model, path, false), NB_OK);
    bytes file = read_all(path);
    ck_assert_uint_eq(file.len, 8 + le64(file.data) + 720);
    ck_assert_int_eq(files_in_dir(), 1);
    nb_model *loaded = nb_model_load(path);
    ck_assert_ptr_nonnull(loaded);
    assert_same_weights(model, loaded);
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
    write_all(path, "old model", 9);
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
    bytes file = read_all(path);
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
    nb_model *model = make_mlp(NB_F32, nb_sgd(0.1, 0.9, false));
    nb_tensor *x, *y;
    make_data(16, &x, &y);
    fit_quietly(model, x, y, 1);
    nb_allocator failing = {failing_alloc, plain_release, NULL};
    allocations = 0, fail_at = -1;
    nb_set_allocator(&failing);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_set_allocator(NULL);
    long total = allocations;
    ck_assert_int_gt(total, 3);
    bytes good = read_all(path);
    for (fail_at = 1; fail_at <= total; fail_at++) {
        write_all(path, "old", 3);
        allocations = 0;
        nb_set_allocator(&failing);
        nb_status s = nb_model_save(model, path, true);
        nb_set_allocator(NULL);
        bytes now = read_all(path);
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

/* ---- ModelCheckpoint ------------------------------------------------------------- */

START_TEST(checkpoint_saves_every_epoch)
{
    make_dir();
    nb_tensor *x, *y;
    make_data(32, &x, &y);
    nb_model *model = make_mlp(NB_F32, nb_adam_default());
    char pattern[128], file[128];
    snprintf(pattern, sizeof pattern, "%s/model-{epoch}.safetensors", dir);
    nb_callback *cb = nb_model_checkpoint(pattern, NULL, false, true);
    ck_assert_ptr_nonnull(cb);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 3;
    fit.verbose = 0;
    fit.callbacks[0] = cb;
    nb_history *h = nb_model_fit(model, x, y, &fit);
    ck_assert_msg(h != NULL, "%s", nb_last_error());
    ck_assert_int_eq(files_in_dir(), 3);
    for (int e = 1; e <= 3; e++) {
        snprintf(file, sizeof file, "%s/model-%02d.safetensors", dir, e);
        ck_assert_msg(file_exists(file), "no %s", file);
    }
    nb_model *last = nb_model_load(file);
    ck_assert_ptr_nonnull(last);
    assert_same_weights(model, last);
    assert_same_optimizer(model, last);
    nb_model_free(last);
    nb_history_free(h);
    nb_callback_free(cb);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

static nb_logs logs_with(const char *name, double value)
{
    nb_logs logs = {.n = 1};
    snprintf(logs.names[0], sizeof logs.names[0], "%s", name);
    logs.values[0] = value;
    return logs;
}

/* _i: 0 monitors a loss (lower is better), 1 an accuracy (higher) */
START_TEST(checkpoint_saves_only_on_improvement)
{
    make_dir();
    const char *monitor = _i ? "val_accuracy" : "val_loss";
    double sign = _i ? -1 : 1;
    nb_model *model = make_mlp(NB_F32, nb_adam_default());
    nb_callback *cb = nb_model_checkpoint(path, _i ? monitor : NULL, true, false);
    const double values[] = {1.0, 2.0, 1.0, NAN, 0.5};
    const bool saves[] = {true, false, false, false, true};
    for (int e = 0; e < 5; e++) {
        nb_logs logs = logs_with(monitor, sign * values[e]);
        ck_assert_int_eq(cb->on_epoch_end(cb, model, e, &logs), NB_OK);
        ck_assert_msg(file_exists(path) == saves[e], "epoch %d: saved %d", e, !saves[e]);
        unlink(path);
    }
    nb_callback_free(cb);
    nb_model_free(model);
    remove_dir();
}
END_TEST

START_TEST(checkpoint_best_only_with_validation_in_fit)
{
    make_dir();
    nb_tensor *x, *y;
    make_data(48, &x, &y);
    nb_model *model = make_mlp(NB_F64, nb_adam(0.01, 0.9, 0.999, 1e-7));
    nb_callback *cb = nb_model_checkpoint(path, "val_loss", true, true);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 3;
    fit.batch_size = 12; /* 36 training rows: 3 steps an epoch */
    fit.verbose = 0;
    fit.validation_split = 0.25;
    fit.callbacks[0] = cb;
    nb_history *h = nb_model_fit(model, x, y, &fit);
    ck_assert_msg(h != NULL, "%s", nb_last_error());
    double val[3];
    ck_assert_int_eq(nb_history_series(h, "val_loss", val, 3), 3);
    int best = 0;
    for (int e = 1; e < 3; e++)
        best = val[e] < val[best] ? e : best;
    nb_model *saved = nb_model_load(path);
    ck_assert_msg(saved != NULL, "%s", nb_last_error());
    ck_assert_int_eq(nb_optimizer_iterations(nb_model_optimizer(saved)), 3 * (best + 1));
    if (best == 2)
        assert_same_weights(model, saved);
    nb_model_free(saved);
    nb_history_free(h);
    nb_callback_free(cb);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

START_TEST(checkpoint_without_its_monitor_stops_fit)
{
    make_dir();
    nb_tensor *x, *y;
    make_data(16, &x, &y);
    nb_model *model = make_mlp(NB_F32, nb_adam_default());
    nb_callback *cb = nb_model_checkpoint(path, NULL, true, false);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 2;
    fit.verbose = 0;
    fit.callbacks[0] = cb;
    ck_assert_ptr_null(nb_model_fit(model, x, y, &fit));
    ck_assert_error_contains("nb_model_checkpoint: monitor 'val_loss' is not in the logs of "
                             "epoch 1; available: loss, accuracy");
    ck_assert_int_eq(files_in_dir(), 0);
    nb_callback_free(cb);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

START_TEST(checkpoint_checks_its_arguments)
{
    ck_assert_ptr_null(nb_model_checkpoint(NULL, NULL, false, false));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_ptr_null(nb_model_checkpoint("", NULL, false, false));
    ck_assert_error_contains("nb_model_checkpoint: path is empty");
    ck_assert_ptr_null(nb_model_checkpoint("m.safetensors", "a_monitor_name_that_is_much_too_long",
                                           true, false));
    ck_assert_error_contains("must have 1 to 31 characters");
    nb_callback_free(NULL);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("model_io");
    TCase *tc = tcase_create("round_trip");
    tcase_add_loop_test(tc, round_trip_predicts_bit_identically_and_trains_on_identically, 0, 2);
    tcase_add_test(tc, without_optimizer_state_the_optimizer_starts_afresh);
    tcase_add_test(tc, stateless_optimizer_restores_its_iterations);
    tcase_add_test(tc, built_but_uncompiled_model_loads_built);
    tcase_add_test(tc, custom_loss_loads_uncompiled_with_its_weights);
    tcase_add_test(tc, custom_layer_loads_once_its_class_is_registered);
    tcase_add_test(tc, saving_needs_a_built_model_and_a_path);
    tcase_add_test(tc, duplicate_layer_names_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("format");
    tcase_add_test(tc, file_is_a_valid_safetensors_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, malformed_file_gives_a_clear_error, 0,
                        (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_test(tc, header_over_the_limit_is_refused_without_reading_it);
    tcase_add_test(tc, missing_file_or_directory_is_an_io_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("atomic");
    tcase_add_test(tc, save_into_a_missing_directory_fails_and_leaves_nothing);
    tcase_add_test(tc, save_replaces_an_existing_file_completely);
    tcase_add_test(tc, failed_write_keeps_the_old_file);
    tcase_add_test(tc, failed_allocation_keeps_the_old_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("checkpoint");
    tcase_add_test(tc, checkpoint_saves_every_epoch);
    tcase_add_loop_test(tc, checkpoint_saves_only_on_improvement, 0, 2);
    tcase_add_test(tc, checkpoint_best_only_with_validation_in_fit);
    tcase_add_test(tc, checkpoint_without_its_monitor_stops_fit);
    tcase_add_test(tc, checkpoint_checks_its_arguments);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(make_suite)
