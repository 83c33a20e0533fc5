/* Writing safetensors files (see safetensors.h): the header built as text,
 * then the tensors back to back, through io/atomic.c so that the file
 * appears whole or not at all. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/atomic.h"
#include "io/safetensors.h"

/* A growing string in nb_alloc memory; `failed` sticks after a failed alloc. */
typedef struct strbuf {
    char *data;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_append(strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *bigger = nb_alloc(cap);
        if (!bigger) {
            b->failed = true;
            return;
        }
        if (b->data)
            memcpy(bigger, b->data, b->len);
        nb_release(b->data);
        b->data = bigger;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s) { sb_append(b, s, strlen(s)); }

static void sb_u64(strbuf *b, uint64_t v)
{
    char digits[24];
    sb_append(b, digits, (size_t)snprintf(digits, sizeof digits, "%" PRIu64, v));
}

/* s as a JSON string literal: quotes, backslashes and control characters
 * escaped; other bytes as they are (the whole header is checked to be UTF-8). */
static void sb_json_string(strbuf *b, const char *s)
{
    sb_str(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\')
            sb_append(b, (const char[]){'\\', (char)c}, 2);
        else if (c < 0x20)
            sb_append(b, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", c));
        else
            sb_append(b, (const char *)&c, 1);
    }
    sb_str(b, "\"");
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names must be non-empty, unique and not "__metadata__". */
static nb_status check_item_names(const char *fn, int n, const nb_st_item *items)
{
    const char **names = nb_alloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    nb_status s = NB_OK;
    for (int i = 0; i < n && s == NB_OK; i++) {
        names[i] = items[i].name;
        if (!items[i].name || !items[i].tensor)
            s = nb_error(NB_ERR_NULL, "%s: tensor %d or its name is NULL", fn, i);
        else if (items[i].name[0] == '\0' || strcmp(items[i].name, "__metadata__") == 0)
            s = nb_error(NB_ERR_ARG, "%s: tensor %d is named '%s': expected a non-empty name "
                         "other than __metadata__", fn, i, items[i].name);
    }
    if (s == NB_OK)
        qsort(names, (size_t)n, sizeof *names, compare_names);
    for (int i = 1; i < n && s == NB_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            s = nb_error(NB_ERR_ARG, "%s: two tensors are named '%.64s': names in a file must "
                         "be unique", fn, names[i]);
    nb_release(names);
    return s;
}

static nb_status check_metadata(const char *fn, const cJSON *metadata)
{
    if (!metadata)
        return NB_OK;
    if (!cJSON_IsObject(metadata))
        return nb_error(NB_ERR_ARG, "%s: the metadata is not a JSON object", fn);
    for (const cJSON *item = metadata->child; item; item = item->next)
        if (!cJSON_IsString(item))
            return nb_error(NB_ERR_ARG, "%s: metadata '%s' is not a string: safetensors "
                            "metadata maps strings to strings", fn, item->string);
    return NB_OK;
}

/* The header text, padded with spaces so that 8 + its length is a multiple
 * of 8 (the data then start aligned). */
static nb_status build_header(const char *fn, const cJSON *metadata, int n,
                              const nb_st_item *items, strbuf *b)
{
    sb_str(b, "{");
    if (metadata) {
        char *text = cJSON_PrintUnformatted(metadata);
        if (!text)
            return nb_error(NB_ERR_NOMEM, "%s: out of memory for the header", fn);
        sb_str(b, "\"__metadata__\":");
        sb_str(b, text);
        cJSON_free(text);
    }
    uint64_t offset = 0;
    for (int i = 0; i < n; i++) {
        const nb_tensor *t = items[i].tensor;
        sb_str(b, i || metadata ? "," : "");
        sb_json_string(b, items[i].name);
        sb_str(b, ":{\"dtype\":\"");
        sb_str(b, nb__st_dtype_name(t->dtype));
        sb_str(b, "\",\"shape\":[");
        for (int d = 0; d < t->rank; d++) {
            sb_str(b, d ? "," : "");
            sb_u64(b, (uint64_t)t->shape[d]);
        }
        uint64_t bytes = (uint64_t)t->size * nb_dtype_size(t->dtype);
        sb_str(b, "],\"data_offsets\":[");
        sb_u64(b, offset);
        sb_str(b, ",");
        sb_u64(b, offset + bytes);
        sb_str(b, "]}");
        offset += bytes;
    }
    sb_str(b, "}");
    while (!b->failed && (8 + b->len) % 8 != 0)
        sb_str(b, " ");
    if (b->failed)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory for the header", fn);
    if (!nb__st_valid_utf8((const unsigned char *)b->data, b->len))
        return nb_error(NB_ERR_ARG, "%s: a tensor name is not valid UTF-8", fn);
    return NB_OK;
}

/* Write count elements of `width` bytes as little-endian. */
static bool write_le(FILE *out, const void *data, size_t count, size_t width)
{
    if (nb__st_little_endian())
        return fwrite(data, width, count, out) == count;
    unsigned char chunk[4096];
    size_t per = sizeof chunk / width;
    for (size_t done = 0; done < count; done += per) {
        size_t k = count - done < per ? count - done : per;
        memcpy(chunk, (const unsigned char *)data + done * width, k * width);
        nb__st_swap_bytes(chunk, k, width);
        if (fwrite(chunk, width, k, out) != k)
            return false;
    }
    return true;
}

nb_status nb__st_write(const char *fn, const char *path, const cJSON *metadata, int n,
                       const nb_st_item *items)
{
    if (n < 0 || (n > 0 && !items))
        return nb_error(NB_ERR_NULL, "%s: no tensors to write", fn);
    nb_status s = check_metadata(fn, metadata);
    if (s == NB_OK)
        s = check_item_names(fn, n, items);
    strbuf header = {0};
    if (s == NB_OK)
        s = build_header(fn, metadata, n, items, &header);
    nb_atomic_file file;
    if (s == NB_OK)
        s = nb__atomic_begin(&file, fn, path);
    if (s != NB_OK) {
        nb_release(header.data);
        return s;
    }
    unsigned char length[8];
    for (int k = 0; k < 8; k++)
        length[k] = (unsigned char)((uint64_t)header.len >> (8 * k));
    bool ok = fwrite(length, 1, 8, file.stream) == 8 &&
              fwrite(header.data, 1, header.len, file.stream) == header.len;
    for (int i = 0; ok && i < n; i++) {
        const nb_tensor *t = items[i].tensor;
        ok = write_le(file.stream, t->data, (size_t)t->size, nb_dtype_size(t->dtype));
    }
    nb_release(header.data);
    if (!ok) {
        nb_status status = nb_error(NB_ERR_IO, "%s: cannot write '%s': %s", fn, path,
                                    strerror(errno ? errno : EIO));
        nb__atomic_discard(&file);
        return status;
    }
    return nb__atomic_commit(&file);
}
