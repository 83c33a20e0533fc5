/* Tests of src/io/model_load.c (and the safetensors reader,
 * src/io/safetensors.c, under it): every malformed file, from a damaged
 * container to an architecture that does not match its tensors, is refused
 * with a message naming the path and the fault, without a large allocation;
 * missing files are I/O errors. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nabla/model_io.h"
#include "nb_test.h"

/* ---- helpers: files and directories -------------------------------------- */

static char dir[64];
static char path[128];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/nabla-model-load-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
}

/* Remove the directory and the files in it. */
static void remove_dir(void) { nb_test_remove_dir(dir); }

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
    nb_test_bytes file = nb_test_read_all(path);
    uint64_t n = nb_test_le64(file.data);
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
    nb_test_write_all(path, file, 8 + n + p->len);
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
        nb_test_write_all(path, c->raw, c->raw_len);
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
    nb_test_write_all(path, length, 8);
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

/* ---- the suite ---------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("model_load");
    TCase *tc = tcase_create("malformed");
    tcase_add_loop_test(tc, malformed_file_gives_a_clear_error, 0,
                        (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_test(tc, header_over_the_limit_is_refused_without_reading_it);
    tcase_add_test(tc, missing_file_or_directory_is_an_io_error);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(make_suite)
