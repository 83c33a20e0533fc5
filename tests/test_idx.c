/* Tests for IDX files and MNIST-style directories (src/io/idx.c). Every test
 * writes its own small files in a fresh temporary directory. */
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nb_test.h"

/* ---- a temporary directory per test ------------------------------------- */

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/nb_test_idx_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    nb_clear_error();
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    char child[512];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        struct stat st;
        if (stat(child, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(child);
        else
            unlink(child);
    }
    closedir(d);
    rmdir(path);
}

static void remove_dir(void) { remove_tree(dir); }

/* dir/name in buf (512 bytes). */
static char *in_dir(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", dir, name);
    return buf;
}

static void write_file(const char *path, bool gz, const void *bytes, size_t n)
{
    if (gz) {
        gzFile g = gzopen(path, "wb");
        ck_assert_ptr_nonnull(g);
        if (n)
            ck_assert_int_eq(gzwrite(g, bytes, (unsigned)n), (int)n);
        ck_assert_int_eq(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
    }
}

/* ---- encoding IDX files -------------------------------------------------- */

static int type_size(int type)
{
    return type == 0x0B ? 2 : type == 0x0C || type == 0x0D ? 4 : type == 0x0E ? 8 : 1;
}

static void put_be(unsigned char *p, uint64_t bits, int bytes)
{
    for (int k = 0; k < bytes; k++)
        p[k] = (unsigned char)(bits >> (8 * (bytes - 1 - k)));
}

/* Header + values (converted to `type`, big-endian) into out; returns bytes. */
static size_t encode_idx(unsigned char *out, int type, int rank, const uint32_t *dims,
                         const double *values, int64_t n)
{
    size_t at = 0;
    out[at++] = 0;
    out[at++] = 0;
    out[at++] = (unsigned char)type;
    out[at++] = (unsigned char)rank;
    for (int i = 0; i < rank; i++, at += 4)
        put_be(out + at, dims[i], 4);
    for (int64_t i = 0; i < n; i++, at += (size_t)type_size(type)) {
        uint64_t bits;
        if (type == 0x0D) {
            float f = (float)values[i];
            uint32_t u;
            memcpy(&u, &f, 4);
            bits = u;
        } else if (type == 0x0E) {
            memcpy(&bits, &values[i], 8);
        } else {
            bits = (uint64_t)(int64_t)values[i]; /* two's complement, truncated by put_be */
        }
        put_be(out + at, bits, type_size(type));
    }
    return at;
}

static void write_idx(const char *path, bool gz, int type, int rank, const uint32_t *dims,
                      const double *values, int64_t n)
{
    unsigned char *buf = malloc(16 + (size_t)n * 8 + 64);
    ck_assert_ptr_nonnull(buf);
    size_t len = encode_idx(buf, type, rank, dims, values, n);
    write_file(path, gz, buf, len);
    free(buf);
}

/* ---- round trips ----------------------------------------------------------- */

static const int types[6] = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E};
/* six values per type, each exactly representable in it */
static const double samples[6][6] = {
    {0, 1, 127, 128, 200, 255},
    {-128, -1, 0, 1, 100, 127},
    {-32768, -300, -1, 0, 1000, 32767},
    {-2147483648.0, -70000, -1, 0, 65536, 2147483647.0},
    {-1.5, 0, 0.25, 0x1p127, 0x1p-20, -7.0},
    {-2.5, 0, 1e300, 1.0 / 3.0, -1e-300, 42},
};
static const uint32_t shapes[4][4] = {{6}, {2, 3}, {3, 1, 2}, {1, 2, 3, 1}};

/* 12 iterations: 6 types x (plain, gzip); the rank cycles through 1 to 4. */
START_TEST(every_type_round_trips_plain_and_gz)
{
    int t = _i / 2, rank = 1 + _i % 4;
    bool gz = _i % 2;
    char path[512];
    in_dir(path, gz ? "values.idx.gz" : "values.idx");
    write_idx(path, gz, types[t], rank, shapes[rank - 1], samples[t], 6);
    for (int dt = 0; dt < 2; dt++) {
        nb_tensor *x = nb_idx_load(path, (nb_dtype)dt);
        ck_assert_msg(x != NULL, "type 0x%02x: %s", types[t], nb_last_error());
        ck_assert_int_eq(x->dtype, dt);
        ck_assert_int_eq(x->rank, rank);
        for (int i = 0; i < rank; i++)
            ck_assert_int_eq(x->shape[i], shapes[rank - 1][i]);
        for (int64_t i = 0; i < 6; i++) {
            double want = dt == NB_F32 ? (double)(float)samples[t][i] : samples[t][i];
            ck_assert_msg(nb_tensor_get(x, i) == want, "type 0x%02x element %" PRId64
                          ": got %.17g, expected %.17g", types[t], i, nb_tensor_get(x, i), want);
        }
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(header_reports_type_and_shape)
{
    char path[512];
    write_idx(in_dir(path, "h.idx"), false, 0x0B, 3, (uint32_t[]){4, 5, 6},
              (double[120]){0}, 120);
    nb_idx_header h;
    ck_assert_int_eq(nb_idx_read_header(path, &h), NB_OK);
    ck_assert_int_eq(h.type, NB_IDX_I16);
    ck_assert_str_eq(nb_idx_type_name(h.type), "short");
    ck_assert_int_eq(h.rank, 3);
    ck_assert_int_eq(h.shape[0], 4);
    ck_assert_int_eq(h.shape[2], 6);
    ck_assert_int_eq(h.shape[3], 1);
    ck_assert_int_eq(h.size, 120);
    ck_assert_int_eq(h.data_bytes, 240);
    ck_assert_str_eq(nb_idx_type_name((nb_idx_type)0x42), "unknown");
}
END_TEST

START_TEST(a_missing_name_tries_the_gz_name_and_back)
{
    char path[512], plain[512];
    write_idx(in_dir(path, "a.idx.gz"), true, 0x08, 1, (uint32_t[]){3}, (double[]){7, 8, 9}, 3);
    nb_tensor *x = nb_idx_load(in_dir(plain, "a.idx"), NB_F32);
    ck_assert_msg(x != NULL, "%s", nb_last_error());
    ck_assert_double_eq(nb_tensor_get(x, 2), 9);
    nb_tensor_free(x);

    write_idx(in_dir(path, "b.idx"), false, 0x08, 1, (uint32_t[]){2}, (double[]){5, 6}, 2);
    x = nb_idx_load(in_dir(path, "b.idx.gz"), NB_F64);
    ck_assert_msg(x != NULL, "%s", nb_last_error());
    ck_assert_double_eq(nb_tensor_get(x, 1), 6);
    nb_tensor_free(x);
}
END_TEST

START_TEST(a_missing_file_names_both_names_tried)
{
    char path[512], want[1200];
    ck_assert_ptr_null(nb_idx_load(in_dir(path, "nothing"), NB_F32));
    ck_assert_int_eq(nb_last_status(), NB_ERR_IO);
    snprintf(want, sizeof want, "nb_idx_load: cannot open '%s' or '%s.gz': No such file", path,
             path);
    ck_assert_error_contains(want);
    nb_idx_header h;
    ck_assert_int_eq(nb_idx_read_header(in_dir(path, "nothing.gz"), &h), NB_ERR_IO);
    snprintf(want, sizeof want, "nb_idx_read_header: cannot open '%s' or '%s/nothing'", path,
             dir);
    ck_assert_error_contains(want);
}
END_TEST

START_TEST(a_directory_is_a_read_error)
{
    ck_assert_ptr_null(nb_idx_load(dir, NB_F32));
    ck_assert_int_eq(nb_last_status(), NB_ERR_IO);
    ck_assert_error_contains(dir);
    ck_assert_error_contains("cannot read the magic number");
}
END_TEST

/* ---- malformed files --------------------------------------------------------- */

#define BYTES(...) (const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__})

typedef enum { PLAIN, GZ, GZ_CUT } how;

typedef struct bad_file {
    const char *name;
    how how;
    const unsigned char *bytes;
    size_t len;
    const char *message; /* the field and what is wrong with it */
} bad_file;

static const bad_file bad_files[] = {
    {"empty", PLAIN, (const unsigned char[]){0}, 0, "is empty: expected an IDX header"},
    {"short magic", PLAIN, BYTES(0, 0), "header is truncated: the magic number needs 4 bytes, "
                                        "the file has 2"},
    {"bad magic", PLAIN, BYTES(1, 0, 8, 1, 0, 0, 0, 1, 5),
     "magic number 01 00 08 01 does not start with two zero bytes"},
    {"bad type code", PLAIN, BYTES(0, 0, 0x0A, 1, 0, 0, 0, 1, 5),
     "type code 0x0a in the magic number is not an IDX type"},
    {"zero rank", PLAIN, BYTES(0, 0, 8, 0, 5), "rank 0 in the magic number is out of range: "
                                                "expected 1 to 4"},
    {"rank 5", PLAIN, BYTES(0, 0, 8, 5, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
                            1, 9),
     "rank 5 in the magic number is out of range"},
    {"zero dimension", PLAIN, BYTES(0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 0),
     "dimension 1 of [3, 0] is 0: expected a positive size"},
    {"truncated header", PLAIN, BYTES(0, 0, 8, 3, 0, 0, 0, 2, 0, 0),
     "header is truncated: rank 3 needs 12 bytes of dimensions after the magic number, the "
     "file has 6"},
    {"truncated data", PLAIN, BYTES(0, 0, 8, 1, 0, 0, 0, 10, 1, 2, 3, 4),
     "data is truncated: dimensions [10] of ubyte claim 10 bytes of data, the file has 4"},
    {"truncated doubles", PLAIN, BYTES(0, 0, 0x0E, 1, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                       11, 12, 13, 14, 15, 16, 17, 18, 19, 20),
     "dimensions [3] of double claim 24 bytes of data, the file has 20"},
    {"no data at all", PLAIN, BYTES(0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2),
     "data is truncated: dimensions [2, 2] of ubyte claim 4 bytes of data, the file has 0"},
    {"trailing bytes", PLAIN, BYTES(0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3, 4, 5),
     "the file has 3 trailing bytes after the data: dimensions [2] of ubyte claim 2 bytes"},
    {"2^40 elements claimed", PLAIN,
     BYTES(0, 0, 8, 2, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
           14, 15, 16),
     "dimensions [1048576, 1048576] of ubyte claim 1099511627776 bytes of data, the file has 16"},
    {"element count overflow", PLAIN,
     BYTES(0, 0, 8, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
           0xFF, 0xFF, 0xFF, 0xFF, 1),
     "dimensions [4294967295, 4294967295, 4294967295, 4294967295] have too many elements "
     "(overflow)"},
    {"byte count overflow", PLAIN,
     BYTES(0, 0, 0x0E, 2, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF),
     "too many elements (overflow)"},
    {"corrupt gzip", PLAIN, BYTES(0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                  0xFF, 0xFF, 0xFF),
     "cannot read the magic number: the gzip data is corrupt or cut short"},
    {"gzip cut short", GZ_CUT, BYTES(0, 0, 8, 1, 0, 0, 0, 40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                                     27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40),
     "the gzip data is corrupt or cut short"},
    {"gzip of truncated data", GZ, BYTES(0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1),
     "data is truncated: dimensions [2] of int claim 8 bytes of data, the file has 4"},
    {"gzip with a trailing byte", GZ, BYTES(0, 0, 8, 1, 0, 0, 0, 1, 7, 8),
     "the file has 1 trailing byte after the data"},
    {"gzip of a lying header", GZ, BYTES(0, 0, 0x0D, 3, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 1, 0,
                                         1, 2, 3, 4),
     "dimensions [4096, 4096, 256] of float claim 17179869184 bytes of data, the file has 4"},
};
#define N_BAD_FILES ((int)(sizeof bad_files / sizeof bad_files[0]))

START_TEST(malformed_files_are_errors_naming_the_file_and_field)
{
    const bad_file *b = &bad_files[_i];
    char path[512];
    in_dir(path, b->how == PLAIN ? "bad.idx" : "bad.idx.gz");
    write_file(path, b->how != PLAIN, b->bytes, b->len);
    if (b->how == GZ_CUT) {
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
    }
    nb_tensor *x = nb_idx_load(path, NB_F32);
    ck_assert_msg(x == NULL, "case '%s' loaded", b->name);
    ck_assert_msg(nb_last_status() == NB_ERR_FORMAT, "case '%s': status %s: %s", b->name,
                  nb_status_name(nb_last_status()), nb_last_error());
    ck_assert_msg(strstr(nb_last_error(), path) && strstr(nb_last_error(), b->message),
                  "case '%s': expected the path and \"%s\", got \"%s\"", b->name, b->message,
                  nb_last_error());
    ck_assert(strncmp(nb_last_error(), "nb_idx_load: ", 13) == 0);
}
END_TEST

/* An allocator that remembers the largest request. */
static size_t largest;
static void *tracking_alloc(size_t bytes, void *user)
{
    (void)user;
    if (bytes > largest)
        largest = bytes;
    return malloc(bytes ? bytes : 1);
}
static void tracking_release(void *p, void *user)
{
    (void)user;
    free(p);
}

START_TEST(a_lying_header_allocates_only_what_arrives)
{
    char path[512];
    /* a float file claiming [65536, 65536, 16] (256 GiB) holding 2 MiB */
    int64_t n = 1 << 19;
    double *v = calloc((size_t)n, sizeof *v);
    write_idx(in_dir(path, "liar.idx"), false, 0x0D, 3, (uint32_t[]){65536, 65536, 16}, v, n);
    free(v);
    largest = 0;
    nb_set_allocator(&(nb_allocator){tracking_alloc, tracking_release, NULL});
    nb_tensor *x = nb_idx_load(path, NB_F64);
    nb_set_allocator(NULL);
    ck_assert_ptr_null(x);
    ck_assert_error_contains("claim 274877906944 bytes of data, the file has 2097152");
    ck_assert_msg(largest <= 4u << 20, "largest allocation %zu bytes for 2 MiB of data", largest);
}
END_TEST

START_TEST(bad_arguments_are_errors)
{
    ck_assert_ptr_null(nb_idx_load(NULL, NB_F32));
    ck_assert_error_contains("nb_idx_load: path is NULL");
    ck_assert_ptr_null(nb_idx_load("x", (nb_dtype)9));
    ck_assert_error_contains("nb_idx_load: dtype 9 is not NB_F32 or NB_F64");
    ck_assert_int_eq(nb_idx_read_header("x", NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_idx_read_header: out is NULL");
}
END_TEST

/* ---- MNIST-style directories -------------------------------------------------- */

/* Write <prefix>-images-idx3-ubyte (n images of rows x cols, pixel k of
 * image i is (i * 7 + k) % 256) and <prefix>-labels-idx1-ubyte (labels i % 10,
 * n_labels of them). */
static void write_split(const char *prefix, bool gz, int64_t n, uint32_t rows, uint32_t cols,
                        int64_t n_labels)
{
    char path[512], name[64];
    int64_t pixels = n * rows * cols;
    double *v = malloc((size_t)(pixels > n_labels ? pixels : n_labels) * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < rows * cols; k++)
            v[i * rows * cols + k] = (double)((i * 7 + k) % 256);
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
    write_idx(in_dir(path, name), gz, 0x08, 3, (uint32_t[]){(uint32_t)n, rows, cols}, v, pixels);
    for (int64_t i = 0; i < n_labels; i++)
        v[i] = (double)(i % 10);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
    write_idx(in_dir(path, name), gz, 0x08, 1, (uint32_t[]){(uint32_t)n_labels}, v, n_labels);
    free(v);
}

static void assert_empty(const nb_mnist *m)
{
    ck_assert_ptr_null(m->train_images);
    ck_assert_ptr_null(m->train_labels);
    ck_assert_ptr_null(m->test_images);
    ck_assert_ptr_null(m->test_labels);
}

START_TEST(mnist_loads_a_small_directory)
{
    write_split("train", true, 5, 28, 28, 5);
    write_split("t10k", false, 3, 28, 28, 3);
    nb_mnist m;
    ck_assert_msg(nb_mnist_load(dir, &m) == NB_OK, "%s", nb_last_error());
    ck_assert_int_eq(m.train_images->dtype, NB_F32);
    ck_assert_int_eq(m.train_images->rank, 3);
    ck_assert_int_eq(m.train_images->shape[0], 5);
    ck_assert_int_eq(m.train_images->shape[1], 28);
    ck_assert_int_eq(m.train_images->shape[2], 28);
    ck_assert_int_eq(m.test_images->shape[0], 3);
    ck_assert_int_eq(m.train_labels->rank, 1);
    ck_assert_int_eq(m.train_labels->shape[0], 5);
    ck_assert_int_eq(m.test_labels->shape[0], 3);
    /* image 2, pixel 100: (14 + 100) % 256 = 114 */
    ck_assert_float_eq_tol(nb_tensor_get(m.train_images, 2 * 784 + 100), 114.0 / 255, 1e-7);
    /* image 1, pixel 248: 255 -> exactly 1 */
    ck_assert_double_eq(nb_tensor_get(m.test_images, 784 + 248), 1.0);
    ck_assert_double_eq(nb_tensor_get(m.train_labels, 4), 4.0);
    ck_assert_double_eq(nb_tensor_get(m.test_labels, 2), 2.0);
    nb_mnist_free(&m);
    assert_empty(&m);
    nb_mnist_free(NULL);
}
END_TEST

START_TEST(mnist_count_mismatch_names_both_files)
{
    write_split("train", false, 5, 28, 28, 4);
    write_split("t10k", false, 3, 28, 28, 3);
    nb_mnist m;
    ck_assert_int_eq(nb_mnist_load(dir, &m), NB_ERR_FORMAT);
    assert_empty(&m);
    char want[1200];
    snprintf(want, sizeof want, "nb_mnist_load: '%s/train-images-idx3-ubyte' has 5 images but "
             "'%s/train-labels-idx1-ubyte' has 4 labels: expected the same count", dir, dir);
    ck_assert_error_contains(want);
}
END_TEST

START_TEST(mnist_missing_file_is_named)
{
    write_split("train", false, 5, 28, 28, 5);
    write_split("t10k", true, 3, 28, 28, 3);
    char path[512], want[1200];
    unlink(in_dir(path, "t10k-labels-idx1-ubyte.gz"));
    nb_mnist m;
    ck_assert_int_eq(nb_mnist_load(dir, &m), NB_ERR_IO);
    assert_empty(&m);
    snprintf(want, sizeof want, "nb_mnist_load: cannot open '%s/t10k-labels-idx1-ubyte' or "
             "'%s/t10k-labels-idx1-ubyte.gz'", dir, dir);
    ck_assert_error_contains(want);
    ck_assert_int_eq(nb_mnist_load(in_dir(path, "nowhere"), &m), NB_ERR_IO);
    ck_assert_error_contains("nowhere/train-labels-idx1-ubyte");
}
END_TEST

START_TEST(mnist_rejects_files_of_the_wrong_kind)
{
    char path[512];
    write_split("train", false, 5, 28, 28, 5);
    write_split("t10k", false, 3, 28, 28, 3);
    /* labels as int */
    write_idx(in_dir(path, "t10k-labels-idx1-ubyte"), false, 0x0C, 1, (uint32_t[]){3},
              (double[]){1, 2, 3}, 3);
    nb_mnist m;
    ck_assert_int_eq(nb_mnist_load(dir, &m), NB_ERR_FORMAT);
    assert_empty(&m);
    ck_assert_error_contains("t10k-labels-idx1-ubyte' holds int [3]: expected ubyte labels [n]");
    /* images of rank 2 */
    write_idx(path, false, 0x08, 1, (uint32_t[]){3}, (double[]){1, 2, 3}, 3);
    write_idx(in_dir(path, "t10k-images-idx3-ubyte"), false, 0x08, 2, (uint32_t[]){3, 4},
              (double[12]){0}, 12);
    ck_assert_int_eq(nb_mnist_load(dir, &m), NB_ERR_FORMAT);
    ck_assert_error_contains("t10k-images-idx3-ubyte' holds ubyte [3, 4]: expected ubyte images");
    /* test images of another size */
    write_split("t10k", false, 3, 14, 14, 3);
    ck_assert_int_eq(nb_mnist_load(dir, &m), NB_ERR_FORMAT);
    ck_assert_error_contains("training images are [5, 28, 28] but test images are [3, 14, 14]");
    ck_assert_int_eq(nb_mnist_load(NULL, &m), NB_ERR_NULL);
    ck_assert_int_eq(nb_mnist_load(dir, NULL), NB_ERR_NULL);
}
END_TEST

START_TEST(mnist_default_dir_prefers_env_then_data_mnist)
{
    char cwd[PATH_MAX], sub[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    const char *saved = getenv("NABLA_DATA");
    char *saved_copy = saved ? strdup(saved) : NULL;

    setenv("NABLA_DATA", "/some/where", 1);
    ck_assert_str_eq(nb_mnist_default_dir(), "/some/where");
    setenv("NABLA_DATA", "", 1);
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert_str_eq(nb_mnist_default_dir(), "/usr/share/datasets/fashion-mnist");
    ck_assert_int_eq(mkdir(in_dir(sub, "data"), 0700), 0);
    ck_assert_int_eq(mkdir(in_dir(sub, "data/mnist"), 0700), 0);
    ck_assert_str_eq(nb_mnist_default_dir(), "data/mnist");
    unsetenv("NABLA_DATA");
    ck_assert_str_eq(nb_mnist_default_dir(), "data/mnist");

    ck_assert_int_eq(chdir(cwd), 0);
    if (saved_copy)
        setenv("NABLA_DATA", saved_copy, 1);
    free(saved_copy);
}
END_TEST

static Suite *idx_suite(void)
{
    Suite *s = suite_create("idx");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_add_loop_test(tc, every_type_round_trips_plain_and_gz, 0, 12);
    tcase_add_test(tc, header_reports_type_and_shape);
    tcase_add_test(tc, a_missing_name_tries_the_gz_name_and_back);
    tcase_add_test(tc, a_missing_file_names_both_names_tried);
    tcase_add_test(tc, a_directory_is_a_read_error);
    tcase_add_loop_test(tc, malformed_files_are_errors_naming_the_file_and_field, 0, N_BAD_FILES);
    tcase_add_test(tc, a_lying_header_allocates_only_what_arrives);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);

    TCase *mnist = tcase_create("mnist");
    tcase_add_checked_fixture(mnist, make_dir, remove_dir);
    tcase_add_test(mnist, mnist_loads_a_small_directory);
    tcase_add_test(mnist, mnist_count_mismatch_names_both_files);
    tcase_add_test(mnist, mnist_missing_file_is_named);
    tcase_add_test(mnist, mnist_rejects_files_of_the_wrong_kind);
    tcase_add_test(mnist, mnist_default_dir_prefers_env_then_data_mnist);
    suite_add_tcase(s, mnist);
    return s;
}

NB_TEST_MAIN(idx_suite)
