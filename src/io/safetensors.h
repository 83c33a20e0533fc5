/* The safetensors container: reading, checking and writing the file format,
 * with no knowledge of models (that is model_io.c).
 *
 *     8 bytes   N, the header's length: an unsigned 64-bit little-endian int
 *     N bytes   the header: a UTF-8 JSON object
 *                 {"__metadata__": {"key": "value", ...},        (optional)
 *                  "name": {"dtype": "F32", "shape": [4, 8],
 *                           "data_offsets": [begin, end]}, ...}
 *               padded with spaces so the data start 8-byte aligned
 *     the rest  the data buffer: each tensor's bytes, row-major,
 *               little-endian, at [begin, end) of the buffer
 *
 * The reader trusts nothing in the file: nb__st_open checks every length,
 * offset, dtype and shape against the file and against each other before
 * anything is allocated from them, the same rules as the reference
 * implementation (header at most 100 MB, begins with '{', valid UTF-8, no
 * duplicate names, tensors contiguous from offset 0 to the end of the file
 * with no gap, overlap or trailing bytes).
 *
 * Not installed: library code only. */
#ifndef NABLA_IO_SAFETENSORS_H
#define NABLA_IO_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nabla/tensor.h"

struct cJSON;

/* The largest header accepted, as in the reference implementation. */
#define NB_ST_MAX_HEADER 100000000u

/* One tensor to write: its name in the file and its data. */
typedef struct nb_st_item {
    const char *name;
    const nb_tensor *tensor;
} nb_st_item;

/* Write `items` in order with a header holding `metadata` (a JSON object
 * whose values are all strings; NULL for none), atomically (io/atomic.h).
 * Messages start with "fn: cannot write 'path'" for I/O errors. */
nb_status nb__st_write(const char *fn, const char *path, const struct cJSON *metadata, int n,
                       const nb_st_item *items);

/* A tensor as the header declares it (already checked against the file). */
typedef struct nb_st_tensor {
    const char *name;  /* owned by the parsed header */
    const char *dtype; /* "F32", "F64", "I8", ...: a safetensors dtype */
    int rank;
    int64_t shape[NB_MAX_RANK];
    uint64_t begin, end; /* data_offsets: bytes of the data buffer */
} nb_st_tensor;

/* An open, checked file. Every field is read-only for callers. */
typedef struct nb_st_file {
    const char *fn, *path; /* for messages; not copied: keep them alive */
    FILE *stream;
    uint64_t file_size, header_size, data_size; /* 8 + header + data = file */
    struct cJSON *header;
    const struct cJSON *metadata; /* "__metadata__", or NULL */
    int n;
    nb_st_tensor *tensors; /* [n], sorted by name */
} nb_st_file;

/* Open `path` and check everything about it (see above). On failure f is
 * left closed and the message reads "fn: 'path': what is wrong". */
nb_status nb__st_open(nb_st_file *f, const char *fn, const char *path);
/* Close the file and free what open made; a closed or zeroed f is fine. */
void nb__st_close(nb_st_file *f);

/* The index in f->tensors of the tensor called `name`, or -1. */
int nb__st_find(const nb_st_file *f, const char *name);
/* A string value of __metadata__, or NULL when absent. */
const char *nb__st_metadata(const nb_st_file *f, const char *key);

/* Check that tensor i has the dtype and shape of dst ("expected F32 [4, 8]"
 * in the message otherwise), then read its bytes into dst->data. */
nb_status nb__st_check(const nb_st_file *f, int i, const nb_tensor *dst);
nb_status nb__st_read(nb_st_file *f, int i, nb_tensor *dst);

/* The safetensors dtype name of an nb_dtype: "F32" or "F64". */
const char *nb__st_dtype_name(nb_dtype dtype);

/* Data are little-endian in the file: on a big-endian host each element's
 * bytes are reversed (count elements of `width` bytes at p). */
bool nb__st_little_endian(void);
void nb__st_swap_bytes(unsigned char *p, size_t count, size_t width);

/* True when bytes[0..n) are valid UTF-8 without NUL bytes. */
bool nb__st_valid_utf8(const unsigned char *bytes, size_t n);

#endif
