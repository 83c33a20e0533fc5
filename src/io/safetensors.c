/* The safetensors container (see safetensors.h): the checked reader, and
 * what the writer (safetensors_write.c) shares with it. Nothing read from a
 * file is used as a size or an offset before it has been checked against the
 * file's real size. */
#include "io/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "internal.h"

/* Every dtype of the format with a whole number of bytes per element. */
static const struct {
    const char *name;
    unsigned bytes;
} dtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
    {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8},
};

/* Bytes per element of a dtype name, or 0 when the name is unknown. */
static unsigned dtype_bytes(const char *name)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtypes[i].name, name) == 0)
            return dtypes[i].bytes;
    return 0;
}

const char *nb__st_dtype_name(nb_dtype dtype) { return dtype == NB_F64 ? "F64" : "F32"; }

/* JSON numbers are doubles: integers are exact up to 2^53. */
#define MAX_EXACT 9007199254740992.0

bool nb__st_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

void nb__st_swap_bytes(unsigned char *p, size_t count, size_t width)
{
    for (size_t e = 0; e < count; e++, p += width)
        for (size_t a = 0, b = width - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

bool nb__st_valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                                : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (c == 0 || len == 0 || len > n - i)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false; /* overlong, out of range or a surrogate */
        i += len;
    }
    return true;
}

/* ---- reading: the header ---------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static nb_status bad(const nb_st_file *f, const char *fmt, ...)
{
    char what[400];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    return nb_error(NB_ERR_FORMAT, "%s: '%s': %s", f->fn, f->path, what);
}

static nb_status read_error(const nb_st_file *f, const char *what)
{
    int err = errno;
    return nb_error(NB_ERR_IO, "%s: '%s': cannot read %s: %s", f->fn, f->path, what,
                    ferror(f->stream) && err ? strerror(err)
                                             : "the file ended early (did it change?)");
}

/* Read the length and the header text; parse it into f->header. */
static nb_status read_header(nb_st_file *f)
{
    if (f->file_size < 8)
        return f->file_size == 0
                   ? bad(f, "the file is empty: expected a safetensors file")
                   : bad(f, "the file has only %" PRIu64 " bytes: too short for the 8-byte "
                         "header length of a safetensors file", f->file_size);
    unsigned char length[8];
    if (fread(length, 1, 8, f->stream) != 8)
        return read_error(f, "the header length");
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--)
        n = n << 8 | length[k];
    uint64_t room = f->file_size - 8;
    if (n > room)
        return bad(f, "the header length is %" PRIu64 " bytes but only %" PRIu64 " bytes "
                   "follow it: truncated, or not a safetensors file", n, room);
    if (n > NB_ST_MAX_HEADER)
        return bad(f, "the header length is %" PRIu64 " bytes: more than the limit of %u",
                   n, NB_ST_MAX_HEADER);
    if (n < 2)
        return bad(f, "the header length is %" PRIu64 " bytes: too short for a JSON object", n);
    char *text = nb_alloc((size_t)n + 1);
    if (!text)
        return nb_error(NB_ERR_NOMEM, "%s: '%s': out of memory for a header of %" PRIu64
                        " bytes", f->fn, f->path, n);
    nb_status s = NB_OK;
    const char *end = NULL;
    if (fread(text, 1, (size_t)n, f->stream) != (size_t)n)
        s = read_error(f, "the header");
    else if (text[0] != '{')
        s = bad(f, "the header is not a JSON object: it starts with byte 0x%02x, not '{'",
                (unsigned char)text[0]);
    else if (!nb__st_valid_utf8((const unsigned char *)text, (size_t)n))
        s = bad(f, "the header is not valid UTF-8 text (or holds a NUL byte)");
    else if (!(f->header = cJSON_ParseWithLengthOpts(text, (size_t)n, &end, false)))
        s = bad(f, "the header is not valid JSON: error at byte %td of %" PRIu64,
                end ? end - text : 0, n);
    for (const char *p = end; s == NB_OK && p < text + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            s = bad(f, "the header has more after its JSON object, at byte %td", p - text);
    if (s == NB_OK && !cJSON_IsObject(f->header))
        s = bad(f, "the header is not a JSON object");
    nb_release(text);
    f->header_size = n;
    f->data_size = room - n;
    return s;
}

/* A JSON number that is a whole number in [0, 2^53]. */
static bool json_uint(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return false;
    double v = item->valuedouble;
    if (!(v >= 0 && v <= MAX_EXACT) || v != (double)(uint64_t)v)
        return false;
    *out = (uint64_t)v;
    return true;
}

static nb_status parse_shape(const nb_st_file *f, const char *name, const cJSON *shape,
                             nb_st_tensor *t, uint64_t *count)
{
    if (!cJSON_IsArray(shape))
        return bad(f, "tensor '%.64s': \"shape\" is missing or not an array", name);
    int rank = cJSON_GetArraySize(shape);
    if (rank > NB_MAX_RANK)
        return bad(f, "tensor '%.64s': the shape has %d axes: nabla reads at most %d", name,
                   rank, NB_MAX_RANK);
    t->rank = rank;
    *count = 1;
    int d = 0;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, d++) {
        uint64_t v;
        if (!json_uint(dim, &v))
            return bad(f, "tensor '%.64s': shape entry %d is not a whole number >= 0", name, d);
        if (v != 0 && *count > UINT64_MAX / v)
            return bad(f, "tensor '%.64s': the shape's element count overflows", name);
        t->shape[d] = (int64_t)v;
        *count *= v;
    }
    return NB_OK;
}

/* One "name": {"dtype", "shape", "data_offsets"} entry. */
static nb_status parse_entry(const nb_st_file *f, const cJSON *entry, nb_st_tensor *t)
{
    const char *name = entry->string;
    t->name = name;
    if (!cJSON_IsObject(entry))
        return bad(f, "tensor '%.64s': its entry is not a JSON object", name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsString(dtype))
        return bad(f, "tensor '%.64s': \"dtype\" is missing or not a string", name);
    unsigned width = dtype_bytes(dtype->valuestring);
    if (!width)
        return bad(f, "tensor '%.64s': unknown dtype '%.16s': expected a safetensors dtype "
                   "such as F32 or F64", name, dtype->valuestring);
    t->dtype = dtype->valuestring;
    uint64_t count = 0;
    nb_status s = parse_shape(f, name, shape, t, &count);
    if (s != NB_OK)
        return s;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !json_uint(offsets->child, &t->begin) || !json_uint(offsets->child->next, &t->end))
        return bad(f, "tensor '%.64s': \"data_offsets\" is missing or not two whole numbers "
                   ">= 0", name);
    if (t->begin > t->end)
        return bad(f, "tensor '%.64s': data_offsets [%" PRIu64 ", %" PRIu64 "] are reversed: "
                   "expected begin <= end", name, t->begin, t->end);
    if (count > UINT64_MAX / width || count * width != t->end - t->begin)
        return bad(f, "tensor '%.64s': data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                   " bytes but its shape and dtype %s need %s%" PRIu64, name, t->begin,
                   t->end, t->end - t->begin, t->dtype,
                   count > UINT64_MAX / width ? "more than " : "",
                   count > UINT64_MAX / width ? UINT64_MAX : count * width);
    return NB_OK;
}

static nb_status parse_metadata(nb_st_file *f, const cJSON *item)
{
    if (f->metadata)
        return bad(f, "the header has two __metadata__ entries");
    if (!cJSON_IsObject(item))
        return bad(f, "__metadata__ is not a JSON object");
    for (const cJSON *value = item->child; value; value = value->next)
        if (!cJSON_IsString(value))
            return bad(f, "__metadata__ entry '%.64s' is not a string: safetensors metadata "
                       "maps strings to strings", value->string);
    f->metadata = item;
    return NB_OK;
}

static int compare_tensor_names(const void *a, const void *b)
{
    return strcmp(((const nb_st_tensor *)a)->name, ((const nb_st_tensor *)b)->name);
}

static nb_status parse_tensors(nb_st_file *f)
{
    int n = 0;
    for (const cJSON *item = f->header->child; item; item = item->next)
        n += strcmp(item->string, "__metadata__") != 0;
    f->tensors = nb_alloc_zeroed((size_t)(n ? n : 1) * sizeof *f->tensors);
    if (!f->tensors)
        return nb_error(NB_ERR_NOMEM, "%s: '%s': out of memory for %d tensor entries", f->fn,
                        f->path, n);
    for (const cJSON *item = f->header->child; item; item = item->next) {
        nb_status s = strcmp(item->string, "__metadata__") == 0
                          ? parse_metadata(f, item)
                          : parse_entry(f, item, &f->tensors[f->n++]);
        if (s != NB_OK)
            return s;
    }
    qsort(f->tensors, (size_t)f->n, sizeof *f->tensors, compare_tensor_names);
    for (int i = 1; i < f->n; i++)
        if (strcmp(f->tensors[i - 1].name, f->tensors[i].name) == 0)
            return bad(f, "the header names tensor '%.64s' twice", f->tensors[i].name);
    return NB_OK;
}

/* ---- reading: the data layout ----------------------------------------------- */

typedef struct span {
    uint64_t begin, end;
    int index;
} span;

static int compare_spans(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Every tensor inside the data; together they cover it exactly, in order,
 * without gaps or overlaps (empty tensors may sit anywhere in between). */
static nb_status check_layout(const nb_st_file *f)
{
    for (int i = 0; i < f->n; i++)
        if (f->tensors[i].end > f->data_size)
            return bad(f, "tensor '%.64s' ends at byte %" PRIu64 " of the data but the file "
                       "holds only %" PRIu64 " bytes of data: truncated?", f->tensors[i].name,
                       f->tensors[i].end, f->data_size);
    span *spans = nb_alloc((size_t)(f->n ? f->n : 1) * sizeof *spans);
    if (!spans)
        return nb_error(NB_ERR_NOMEM, "%s: '%s': out of memory", f->fn, f->path);
    for (int i = 0; i < f->n; i++)
        spans[i] = (span){f->tensors[i].begin, f->tensors[i].end, i};
    qsort(spans, (size_t)f->n, sizeof *spans, compare_spans);
    nb_status s = NB_OK;
    uint64_t covered = 0;
    int last = -1; /* the tensor that ends at `covered` */
    for (int k = 0; k < f->n && s == NB_OK; k++) {
        const nb_st_tensor *t = &f->tensors[spans[k].index];
        if (t->begin < covered)
            s = bad(f, "tensors '%.64s' and '%.64s' overlap in the data", f->tensors[last].name,
                    t->name);
        else if (t->begin > covered)
            s = bad(f, "a gap of %" PRIu64 " bytes before tensor '%.64s': the tensors must "
                    "fill the data without holes", t->begin - covered, t->name);
        else if (t->end > covered) {
            covered = t->end;
            last = spans[k].index;
        }
    }
    nb_release(spans);
    if (s == NB_OK && covered != f->data_size)
        s = bad(f, "%" PRIu64 " bytes follow the last tensor: the data must end where the "
                "last tensor ends", f->data_size - covered);
    return s;
}

/* ---- reading: the public part ----------------------------------------------- */

nb_status nb__st_open(nb_st_file *f, const char *fn, const char *path)
{
    *f = (nb_st_file){.fn = fn, .path = path};
    if (!path)
        return nb_error(NB_ERR_NULL, "%s: path is NULL", fn);
    f->stream = fopen(path, "rb");
    if (!f->stream)
        return nb_error(NB_ERR_IO, "%s: cannot open '%s': %s", fn, path, strerror(errno));
    struct stat st;
    nb_status s = NB_OK;
    if (fstat(fileno(f->stream), &st) != 0)
        s = nb_error(NB_ERR_IO, "%s: cannot open '%s': %s", fn, path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        s = nb_error(NB_ERR_IO, "%s: cannot open '%s': not a regular file", fn, path);
    f->file_size = s == NB_OK ? (uint64_t)st.st_size : 0;
    if (s == NB_OK)
        s = read_header(f);
    if (s == NB_OK)
        s = parse_tensors(f);
    if (s == NB_OK)
        s = check_layout(f);
    if (s != NB_OK)
        nb__st_close(f);
    return s;
}

void nb__st_close(nb_st_file *f)
{
    if (!f)
        return;
    if (f->stream)
        fclose(f->stream);
    cJSON_Delete(f->header);
    nb_release(f->tensors);
    *f = (nb_st_file){.fn = f->fn, .path = f->path};
}

int nb__st_find(const nb_st_file *f, const char *name)
{
    const nb_st_tensor key = {.name = name};
    const nb_st_tensor *hit =
        f->n ? bsearch(&key, f->tensors, (size_t)f->n, sizeof key, compare_tensor_names) : NULL;
    return hit ? (int)(hit - f->tensors) : -1;
}

const char *nb__st_metadata(const nb_st_file *f, const char *key)
{
    return f->metadata ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f->metadata, key))
                       : NULL;
}

nb_status nb__st_check(const nb_st_file *f, int i, const nb_tensor *dst)
{
    const nb_st_tensor *t = &f->tensors[i];
    bool same = strcmp(t->dtype, nb__st_dtype_name(dst->dtype)) == 0 && t->rank == dst->rank;
    for (int d = 0; same && d < t->rank; d++)
        same = t->shape[d] == dst->shape[d];
    if (same)
        return NB_OK;
    char got[NB_SHAPE_BUF], want[NB_SHAPE_BUF];
    return bad(f, "tensor '%.64s' is %s %s: expected %s %s", t->name, t->dtype,
               nb__dims_str(t->rank, t->shape, got, sizeof got), nb__st_dtype_name(dst->dtype),
               nb_shape_str(dst, want, sizeof want));
}

nb_status nb__st_read(nb_st_file *f, int i, nb_tensor *dst)
{
    nb_status s = nb__st_check(f, i, dst);
    if (s != NB_OK)
        return s;
    const nb_st_tensor *t = &f->tensors[i];
    size_t bytes = (size_t)(t->end - t->begin);
    uint64_t at = 8 + f->header_size + t->begin;
    char what[96];
    snprintf(what, sizeof what, "tensor '%.64s'", t->name);
    if (bytes == 0)
        return NB_OK;
    if (at > (uint64_t)INT64_MAX || fseeko(f->stream, (off_t)at, SEEK_SET) != 0 ||
        fread(dst->data, 1, bytes, f->stream) != bytes)
        return read_error(f, what);
    if (!nb__st_little_endian())
        nb__st_swap_bytes(dst->data, (size_t)dst->size, nb_dtype_size(dst->dtype));
    return NB_OK;
}
