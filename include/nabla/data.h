/* nabla/data.h: getting examples into tensors.
 *
 * MNIST-style directories, the IDX files they hold (plain or gzip), CSV files
 * with a header line, and helpers that prepare examples for training: one-hot
 * labels, scaling, shuffling, splitting and picking rows.
 *
 * Every tensor returned here is caller-owned: free it with nb_tensor_free().
 * Nothing in a file is trusted: on a malformed file a loader returns NULL (or
 * an nb_status) with a message naming the function, the file and the field,
 * line or column at fault. docs/data.md lists the rules that are checked.
 */
#ifndef NABLA_DATA_H
#define NABLA_DATA_H

#include <stdint.h>

#include "nabla/error.h"
#include "nabla/rng.h"
#include "nabla/tensor.h"

/* ---- MNIST-style directories (src/io/idx.c) ----------------------------- */

/* The four tensors of an MNIST-style data set (MNIST, Fashion-MNIST, ...). */
typedef struct nb_mnist {
    nb_tensor *train_images; /* f32 [n_train, rows, cols], pixels / 255 in [0, 1] */
    nb_tensor *train_labels; /* f32 [n_train], class indices 0, 1, 2, ... */
    nb_tensor *test_images;  /* f32 [n_test, rows, cols] */
    nb_tensor *test_labels;  /* f32 [n_test] */
} nb_mnist;

/* Load train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte from `dir`, each plain or
 * with a ".gz" suffix. Images must be ubyte [n, rows, cols] (28 x 28 for
 * MNIST) with the same size in both splits; labels ubyte [n], as many as the
 * images. On success the tensors in *out are caller-owned (free them with
 * nb_mnist_free); on error *out is all NULL and the message names the file:
 * NB_ERR_NULL, NB_ERR_IO (missing or unreadable file), NB_ERR_FORMAT
 * (malformed file, counts or sizes that disagree), NB_ERR_NOMEM. */
nb_status nb_mnist_load(const char *dir, nb_mnist *out);

/* Free the four tensors and set them to NULL. NULL is ignored. */
void nb_mnist_free(nb_mnist *mnist);

/* Where to look for MNIST when the user names no directory: $NABLA_DATA when
 * set and not empty, else "data/mnist" when that directory exists (relative to
 * the working directory; scripts/get-mnist.sh fills it), else
 * "/usr/share/datasets/fashion-mnist" (Debian's dataset-fashion-mnist). The
 * string is static or the environment's: do not free it. */
const char *nb_mnist_default_dir(void);

/* ---- IDX files (src/io/idx.c) ------------------------------------------- */

/* The element types of the IDX format; the value is the type code stored in
 * the third byte of the file's magic number. */
typedef enum nb_idx_type {
    NB_IDX_U8 = 0x08,  /* unsigned byte ("ubyte") */
    NB_IDX_I8 = 0x09,  /* signed byte */
    NB_IDX_I16 = 0x0B, /* short, 2 bytes big-endian */
    NB_IDX_I32 = 0x0C, /* int, 4 bytes big-endian */
    NB_IDX_F32 = 0x0D, /* float, 4 bytes big-endian IEEE 754 */
    NB_IDX_F64 = 0x0E  /* double, 8 bytes big-endian IEEE 754 */
} nb_idx_type;

/* What an IDX header says. */
typedef struct nb_idx_header {
    nb_idx_type type;
    int rank;                   /* 1 to NB_MAX_RANK */
    int64_t shape[NB_MAX_RANK]; /* shape[0..rank); unused entries are 1 */
    int64_t size;               /* number of elements: product of shape */
    int64_t data_bytes;         /* size times the bytes of one element */
} nb_idx_header;

/* "ubyte", "sbyte", "short", "int", "float", "double" (or "unknown"). */
const char *nb_idx_type_name(nb_idx_type type);

/* Load an IDX file, plain or gzip (detected from the contents, not the name),
 * as a caller-owned tensor of the file's shape with every value converted to
 * `dtype` (no scaling). When `path` does not exist, "<path>.gz" is tried (or,
 * for a path ending in ".gz", the path without it). The header is checked
 * against the data that actually arrives: a truncated file, trailing bytes,
 * or dimensions that claim more data than the file holds are errors, and the
 * buffer grows only as data arrives, so a lying header costs no memory.
 * Errors: NB_ERR_NULL, NB_ERR_DTYPE, NB_ERR_IO (cannot open or read; names
 * the file or files tried), NB_ERR_FORMAT (names the file and the field),
 * NB_ERR_NOMEM. */
nb_tensor *nb_idx_load(const char *path, nb_dtype dtype);

/* Read and check only the header of an IDX file (same file lookup as
 * nb_idx_load). The data is not read, so a truncated or oversized file is
 * found only by nb_idx_load. */
nb_status nb_idx_read_header(const char *path, nb_idx_header *out);

/* ---- CSV files with a header line (src/io/csv.c) ------------------------ */

struct nb_csv_cell;

/* A CSV file read into memory. Fields are read-only. */
typedef struct nb_csv {
    char *path;       /* the file it came from, for messages */
    int n_cols;       /* columns named by the header line */
    int64_t n_rows;   /* data rows (the header line is not counted) */
    char **names;     /* names[0..n_cols): the header's column names */
    double *values;   /* n_rows x n_cols, row-major; NaN where a cell is not
                         a number */
    struct nb_csv_cell *bad; /* internal: the first bad cell of each column */
} nb_csv;

/* Read a comma-separated file whose first line names the columns. Fields may
 * be surrounded by spaces or "double quotes" ("" inside quotes is a quote);
 * "\r\n" line ends and a UTF-8 byte-order mark are accepted, blank lines
 * skipped. Every data row must have as many fields as the header. Cells are
 * parsed as numbers (strtod in the C locale, the whole field); cells that are
 * empty or not a number are remembered and reported only when their column is
 * selected, so a file may hold text columns that are never used. Messages
 * count lines and columns from 1, like an editor. Returns a caller-owned nb_csv (free it
 * with nb_csv_free), or NULL: NB_ERR_NULL, NB_ERR_IO (cannot open or read),
 * NB_ERR_FORMAT (empty file, header only, ragged row, bad quoting, a NUL
 * byte; with the line), NB_ERR_NOMEM. */
nb_csv *nb_csv_read(const char *path);

/* Index (from 0) of the column called `name`, or -1 with an NB_ERR_ARG error
 * when there is none or when the header has the name twice. */
int nb_csv_column_index(const nb_csv *csv, const char *name);

/* The columns called names[0..n) as a caller-owned [n_rows, n] tensor of
 * `dtype`, in the order asked (n = 1 gives [n_rows, 1]). Errors: NB_ERR_NULL,
 * NB_ERR_ARG (unknown or repeated name, n < 1), NB_ERR_DTYPE, NB_ERR_FORMAT
 * (a selected cell is empty or not a number: names its line, column and
 * column name), NB_ERR_NOMEM. */
nb_tensor *nb_csv_columns(const nb_csv *csv, nb_dtype dtype, int n, const char *const names[]);

/* Like nb_csv_columns, with columns given by index (from 0). */
nb_tensor *nb_csv_columns_at(const nb_csv *csv, nb_dtype dtype, int n, const int columns[]);

/* Free a CSV and everything it holds. NULL is ignored. */
void nb_csv_free(nb_csv *csv);

/* ---- preparing examples (src/io/dataset.c) ------------------------------
 * "Rows" are the entries along axis 0: the examples of a data set. Functions
 * that change a tensor in place accept caller-owned tensors and tape leaves,
 * but not results of ops (their values may be needed by backward). Given a
 * NULL tensor from an earlier failed call they return NULL / NB_ERR_NULL and
 * keep that call's message. */

/* Class indices [n] (or [n, 1]) holding integers in [0, classes) -> a
 * caller-owned one-hot [n, classes] tensor of `dtype`. Errors: NB_ERR_NULL,
 * NB_ERR_ARG (classes < 1, or a label that is not an integer in range: names
 * its index and value), NB_ERR_SHAPE, NB_ERR_DTYPE, NB_ERR_NOMEM. */
nb_tensor *nb_to_categorical(const nb_tensor *labels, int64_t classes, nb_dtype dtype);

/* Multiply every element by `factor` (finite), e.g. 1.0 / 255 for pixels. */
nb_status nb_scale_in_place(nb_tensor *t, double factor);

/* Shuffle the rows of `a` and, when `b` is not NULL, those of `b` with the
 * same permutation (examples and their labels stay paired). Both need the
 * same number of rows. The permutation is the one nb_rng_shuffle would apply
 * to 0..n-1, so a seed gives the same order everywhere. No allocation. */
nb_status nb_shuffle_rows(nb_tensor *a, nb_tensor *b, nb_rng *rng);

/* Copy rows [0, first_n) of t into *head and the rest into *tail, both new and
 * caller-owned (a train/validation split). first_n must be in [1, n - 1].
 * On error *head and *tail are NULL. */
nb_status nb_split_rows(const nb_tensor *t, int64_t first_n, nb_tensor **head,
                        nb_tensor **tail);

/* A caller-owned copy of rows [start, start + count): a mini-batch. */
nb_tensor *nb_slice_rows(const nb_tensor *t, int64_t start, int64_t count);

/* A caller-owned tensor of rows t[rows[0]], t[rows[1]], ... t[rows[n-1]]
 * (n >= 1; an index may repeat). Errors name the first index out of range. */
nb_tensor *nb_take_rows(const nb_tensor *t, const int64_t *rows, int64_t n);

#endif
