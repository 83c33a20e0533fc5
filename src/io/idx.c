/* IDX files (the MNIST format), plain or gzip, and MNIST-style directories.
 *
 * An IDX file is a magic number, the dimensions, then the elements:
 *     00 00 <type code> <rank>    4 bytes
 *     rank x uint32 big-endian    the shape, outermost first
 *     size x element big-endian   row-major
 * Nothing in the header is trusted. The data buffer grows only as bytes
 * arrive (capped at what the header claims), so a header claiming terabytes in
 * a 100-byte file costs 100 bytes, and the data must end exactly where the
 * header says. zlib's gzread reads plain and gzip files alike.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "internal.h"
#include "nabla/data.h"

/* The first allocation for data (see read_data). */
#define FIRST_CHUNK ((int64_t)1 << 16)
#define PATH_BUF 4096

static int type_bytes(int code)
{
    switch (code) {
    case NB_IDX_U8:
    case NB_IDX_I8: return 1;
    case NB_IDX_I16: return 2;
    case NB_IDX_I32:
    case NB_IDX_F32: return 4;
    case NB_IDX_F64: return 8;
    }
    return 0;
}

const char *nb_idx_type_name(nb_idx_type type)
{
    switch (type) {
    case NB_IDX_U8: return "ubyte";
    case NB_IDX_I8: return "sbyte";
    case NB_IDX_I16: return "short";
    case NB_IDX_I32: return "int";
    case NB_IDX_F32: return "float";
    case NB_IDX_F64: return "double";
    }
    return "unknown";
}

/* ---- opening and reading ------------------------------------------------ */

typedef struct idx_stream {
    gzFile gz;
    const char *fn;   /* the public function, for messages */
    const char *path; /* the file actually opened */
    char *alt;        /* path with ".gz" added or removed (owned) */
} idx_stream;

static void idx_close(idx_stream *s)
{
    if (s->gz)
        gzclose(s->gz);
    nb_release(s->alt);
    s->gz = NULL;
    s->alt = NULL;
}

/* "foo" -> "foo.gz" and "foo.gz" -> "foo". */
static char *alt_path(const char *path)
{
    size_t len = strlen(path);
    bool has_gz = len > 3 && strcmp(path + len - 3, ".gz") == 0;
    char *alt = nb_alloc(len + 4);
    if (!alt)
        return NULL;
    memcpy(alt, path, len + 1);
    if (has_gz)
        alt[len - 3] = '\0';
    else
        memcpy(alt + len, ".gz", 4);
    return alt;
}

/* gzopen, with the reason for a failure in *err (an errno value). */
static gzFile open_gz(const char *path, int *err)
{
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    *err = gz ? 0 : errno ? errno : ENOMEM;
    return gz;
}

static nb_status idx_open(const char *fn, const char *path, idx_stream *s)
{
    *s = (idx_stream){.fn = fn, .path = path};
    if (!path)
        return nb_error(NB_ERR_NULL, "%s: path is NULL", fn);
    int err;
    s->gz = open_gz(path, &err);
    if (!s->gz && err == ENOENT) {
        if (!(s->alt = alt_path(path)))
            return nb_error(NB_ERR_NOMEM, "%s: out of memory for a file name", fn);
        s->gz = open_gz(s->alt, &err);
        if (!s->gz && err == ENOENT) {
            nb_error(NB_ERR_IO, "%s: cannot open '%s' or '%s': %s", fn, path, s->alt,
                     strerror(err));
            idx_close(s);
            return NB_ERR_IO;
        }
        s->path = s->alt; /* opened, or failed for another reason worth naming */
    }
    if (!s->gz) {
        nb_error(NB_ERR_IO, "%s: cannot open '%s': %s", fn, s->path, strerror(err));
        idx_close(s);
        return NB_ERR_IO;
    }
    gzbuffer(s->gz, 1 << 17);
    return NB_OK;
}

/* Read up to n bytes of `what` (a field name for messages). Returns the count
 * read, fewer than n only at the end of the data, or -1 after a read error or
 * corrupt gzip data (message set). */
static int64_t idx_read(idx_stream *s, void *buf, int64_t n, const char *what)
{
    int64_t got = 0;
    while (got < n) {
        int64_t want = n - got < (1 << 30) ? n - got : (1 << 30);
        int r = gzread(s->gz, (unsigned char *)buf + got, (unsigned)want);
        if (r > 0) {
            got += r;
            continue;
        }
        int errnum = Z_OK;
        const char *msg = gzerror(s->gz, &errnum);
        if (r < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
            if (errnum == Z_ERRNO)
                nb_error(NB_ERR_IO, "%s: '%s': cannot read the %s: %s", s->fn, s->path, what,
                         strerror(errno));
            else {
                /* zlib's message repeats the file name: "<path>: <reason>" */
                size_t len = strlen(s->path);
                if (strncmp(msg, s->path, len) == 0 && strncmp(msg + len, ": ", 2) == 0)
                    msg += len + 2;
                nb_error(NB_ERR_FORMAT, "%s: '%s': cannot read the %s: the gzip data is corrupt "
                         "or cut short (zlib: %s)", s->fn, s->path, what, msg);
            }
            return -1;
        }
        break; /* end of the data */
    }
    return got;
}

/* ---- the header --------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static nb_status read_magic(idx_stream *s, nb_idx_header *h)
{
    unsigned char m[4];
    int64_t got = idx_read(s, m, 4, "magic number");
    if (got < 0)
        return nb_last_status();
    if (got == 0)
        return nb_error(NB_ERR_FORMAT, "%s: '%s' is empty: expected an IDX header (magic number "
                        "00 00 <type> <rank>)", s->fn, s->path);
    if (got < 4)
        return nb_error(NB_ERR_FORMAT, "%s: '%s': header is truncated: the magic number needs 4 "
                        "bytes, the file has %" PRId64, s->fn, s->path, got);
    if (m[0] != 0 || m[1] != 0)
        return nb_error(NB_ERR_FORMAT, "%s: '%s': magic number %02x %02x %02x %02x does not start "
                        "with two zero bytes: not an IDX file", s->fn, s->path, m[0], m[1], m[2],
                        m[3]);
    if (!type_bytes(m[2]))
        return nb_error(NB_ERR_FORMAT, "%s: '%s': type code 0x%02x in the magic number is not an "
                        "IDX type: expected 0x08 (ubyte), 0x09 (sbyte), 0x0b (short), 0x0c (int), "
                        "0x0d (float) or 0x0e (double)", s->fn, s->path, m[2]);
    if (m[3] < 1 || m[3] > NB_MAX_RANK)
        return nb_error(NB_ERR_FORMAT, "%s: '%s': rank %d in the magic number is out of range: "
                        "expected 1 to %d", s->fn, s->path, m[3], NB_MAX_RANK);
    h->type = (nb_idx_type)m[2];
    h->rank = m[3];
    return NB_OK;
}

static nb_status read_header(idx_stream *s, nb_idx_header *out)
{
    nb_idx_header h = {.shape = {1, 1, 1, 1}};
    nb_status st = read_magic(s, &h);
    if (st != NB_OK)
        return st;
    unsigned char dims[4 * NB_MAX_RANK];
    int64_t need = 4 * h.rank;
    int64_t got = idx_read(s, dims, need, "dimensions");
    if (got < 0)
        return nb_last_status();
    if (got < need)
        return nb_error(NB_ERR_FORMAT, "%s: '%s': header is truncated: rank %d needs %" PRId64
                        " bytes of dimensions after the magic number, the file has %" PRId64,
                        s->fn, s->path, h.rank, need, got);
    int64_t bytes = type_bytes(h.type), size = 1;
    for (int i = 0; i < h.rank; i++)
        h.shape[i] = be32(dims + 4 * i);
    for (int i = 0; i < h.rank; i++) {
        char buf[NB_SHAPE_BUF];
        if (h.shape[i] == 0)
            return nb_error(NB_ERR_FORMAT, "%s: '%s': dimension %d of %s is 0: expected a "
                            "positive size", s->fn, s->path, i,
                            nb__dims_str(h.rank, h.shape, buf, sizeof buf));
        /* keep the element count, its bytes and an f64 tensor's bytes in range */
        if (size > (INT64_MAX / 8) / h.shape[i])
            return nb_error(NB_ERR_FORMAT, "%s: '%s': dimensions %s have too many elements "
                            "(overflow)", s->fn, s->path,
                            nb__dims_str(h.rank, h.shape, buf, sizeof buf));
        size *= h.shape[i];
    }
    h.size = size;
    h.data_bytes = size * bytes;
    *out = h;
    return NB_OK;
}

/* ---- the data ------------------------------------------------------------ */

/* The data arrives into a list of chunks, each twice the size of the one
 * before (up to LAST_CHUNK), so memory follows the bytes that really arrive
 * and nothing is copied to grow. Every chunk but the last holds a multiple of
 * 8 bytes, so no element straddles two chunks. */
typedef struct chunk {
    struct chunk *next;
    int64_t len; /* bytes filled */
    unsigned char bytes[];
} chunk;

#define LAST_CHUNK ((int64_t)1 << 24)

static void free_chunks(chunk *c)
{
    while (c) {
        chunk *next = c->next;
        nb_release(c);
        c = next;
    }
}

/* Count the bytes left after the data (0 for a well-formed file). */
static int64_t count_trailing(idx_stream *s)
{
    unsigned char scratch[1 << 14];
    int64_t total = 0, got;
    while ((got = idx_read(s, scratch, sizeof scratch, "bytes after the data")) > 0)
        total += got;
    return got < 0 ? -1 : total;
}

/* Read the data bytes the header claims; NULL with a message when they do not
 * all arrive, when more follow, or on a read error. */
static chunk *read_data(idx_stream *s, const nb_idx_header *h)
{
    int64_t want = h->data_bytes, got = 0, size = FIRST_CHUNK;
    chunk *first = NULL, **tail = &first;
    while (got < want) {
        int64_t cap = want - got < size ? want - got : size;
        chunk *c = nb_alloc(sizeof *c + (size_t)cap);
        if (!c) {
            nb_error(NB_ERR_NOMEM, "%s: '%s': out of memory for %" PRId64 " bytes of data",
                     s->fn, s->path, cap);
            goto fail;
        }
        c->next = NULL;
        *tail = c;
        tail = &c->next;
        c->len = idx_read(s, c->bytes, cap, "data");
        if (c->len < 0)
            goto fail;
        got += c->len;
        if (c->len < cap)
            break; /* the file ended early */
        size = size < LAST_CHUNK ? size * 2 : size;
    }
    char dims[NB_SHAPE_BUF];
    nb__dims_str(h->rank, h->shape, dims, sizeof dims);
    if (got < want) {
        nb_error(NB_ERR_FORMAT, "%s: '%s': data is truncated: dimensions %s of %s claim %" PRId64
                 " bytes of data, the file has %" PRId64 " after the header", s->fn, s->path,
                 dims, nb_idx_type_name(h->type), want, got);
        goto fail;
    }
    int64_t extra = count_trailing(s);
    if (extra < 0)
        goto fail;
    if (extra > 0) {
        nb_error(NB_ERR_FORMAT, "%s: '%s': the file has %" PRId64 " trailing byte%s after the "
                 "data: dimensions %s of %s claim %" PRId64 " bytes", s->fn, s->path, extra,
                 extra == 1 ? "" : "s", dims, nb_idx_type_name(h->type), want);
        goto fail;
    }
    return first;
fail:
    free_chunks(first);
    return NULL;
}

/* One element of `type` at p, big-endian, as a double (exact for all types). */
static double decode(nb_idx_type type, const unsigned char *p)
{
    switch (type) {
    case NB_IDX_U8: return p[0];
    case NB_IDX_I8: return p[0] < 128 ? p[0] : p[0] - 256;
    case NB_IDX_I16: {
        int32_t u = p[0] << 8 | p[1];
        return u < 32768 ? u : u - 65536;
    }
    case NB_IDX_I32: {
        uint32_t u = be32(p);
        return u < 0x80000000u ? (double)u : (double)u - 4294967296.0;
    }
    case NB_IDX_F32: {
        uint32_t u = be32(p);
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    case NB_IDX_F64: {
        uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    }
    return 0;
}

/* Convert the chunks' elements into t, element i of the file to t's i. */
static void convert(nb_idx_type type, const chunk *c, nb_tensor *t)
{
    int step = type_bytes(type);
    int64_t i = 0;
    for (; c; c = c->next) {
        int64_t n = c->len / step;
        if (t->dtype == NB_F32) {
            float *out = (float *)t->data + i;
            if (type == NB_IDX_U8) /* the common case, kept simple for the compiler */
                for (int64_t k = 0; k < n; k++)
                    out[k] = c->bytes[k];
            else
                for (int64_t k = 0; k < n; k++)
                    out[k] = (float)decode(type, c->bytes + k * step);
        } else {
            double *out = (double *)t->data + i;
            for (int64_t k = 0; k < n; k++)
                out[k] = decode(type, c->bytes + k * step);
        }
        i += n;
    }
}

/* Load `path` for public function `fn`; on success fill *hdr and copy the
 * name of the file actually opened into opened[PATH_BUF] (both optional). */
static nb_tensor *load_idx(const char *fn, const char *path, nb_dtype dtype, nb_idx_header *hdr,
                           char *opened)
{
    if (dtype != NB_F32 && dtype != NB_F64) {
        nb_error(NB_ERR_DTYPE, "%s: dtype %d is not NB_F32 or NB_F64", fn, (int)dtype);
        return NULL;
    }
    idx_stream s;
    if (idx_open(fn, path, &s) != NB_OK)
        return NULL;
    nb_idx_header h;
    nb_tensor *t = NULL;
    chunk *data = read_header(&s, &h) == NB_OK ? read_data(&s, &h) : NULL;
    if (data)
        t = nb__tensor_alloc(NULL, dtype, h.rank, h.shape);
    if (t) {
        convert(h.type, data, t);
        if (hdr)
            *hdr = h;
        if (opened)
            snprintf(opened, PATH_BUF, "%s", s.path);
    }
    free_chunks(data);
    idx_close(&s);
    return t;
}

nb_tensor *nb_idx_load(const char *path, nb_dtype dtype)
{
    return load_idx("nb_idx_load", path, dtype, NULL, NULL);
}

nb_status nb_idx_read_header(const char *path, nb_idx_header *out)
{
    const char *fn = "nb_idx_read_header";
    if (!out)
        return nb_error(NB_ERR_NULL, "%s: out is NULL", fn);
    idx_stream s;
    nb_status st = idx_open(fn, path, &s);
    if (st == NB_OK)
        st = read_header(&s, out);
    idx_close(&s);
    return st;
}

/* ---- MNIST-style directories --------------------------------------------- */

static nb_status join(const char *fn, const char *dir, const char *name, char *buf)
{
    int n = snprintf(buf, PATH_BUF, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_BUF)
        return nb_error(NB_ERR_ARG, "%s: directory '%.64s...' is too long: expected a path under "
                        "%d bytes", fn, dir, PATH_BUF);
    return NB_OK;
}

/* Load one split: images "<prefix>-images-idx3-ubyte" and labels
 * "<prefix>-labels-idx1-ubyte", checked against each other. */
static nb_status load_split(const char *dir, const char *prefix, nb_tensor **images,
                            nb_tensor **labels)
{
    const char *fn = "nb_mnist_load";
    char name[64], ipath[PATH_BUF], lpath[PATH_BUF], ifile[PATH_BUF], lfile[PATH_BUF];
    char shape[NB_SHAPE_BUF];
    nb_idx_header ih, lh;
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    if (join(fn, dir, name, ipath) != NB_OK)
        return NB_ERR_ARG;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    if (join(fn, dir, name, lpath) != NB_OK)
        return NB_ERR_ARG;
    /* labels first: they are small, so a mismatch is found before the images load */
    *labels = load_idx(fn, lpath, NB_F32, &lh, lfile);
    if (!*labels)
        return nb_last_status();
    if (lh.type != NB_IDX_U8 || lh.rank != 1)
        return nb_error(NB_ERR_FORMAT, "%s: '%s' holds %s %s: expected ubyte labels [n]", fn,
                        lfile, nb_idx_type_name(lh.type),
                        nb__dims_str(lh.rank, lh.shape, shape, sizeof shape));
    *images = load_idx(fn, ipath, NB_F32, &ih, ifile);
    if (!*images)
        return nb_last_status();
    if (ih.type != NB_IDX_U8 || ih.rank != 3)
        return nb_error(NB_ERR_FORMAT, "%s: '%s' holds %s %s: expected ubyte images [n, rows, "
                        "cols]", fn, ifile, nb_idx_type_name(ih.type),
                        nb__dims_str(ih.rank, ih.shape, shape, sizeof shape));
    if (ih.shape[0] != lh.shape[0])
        return nb_error(NB_ERR_FORMAT, "%s: '%s' has %" PRId64 " images but '%s' has %" PRId64
                        " labels: expected the same count", fn, ifile, ih.shape[0], lfile,
                        lh.shape[0]);
    return nb_scale_in_place(*images, 1.0 / 255.0);
}

nb_status nb_mnist_load(const char *dir, nb_mnist *out)
{
    const char *fn = "nb_mnist_load";
    if (!out)
        return nb_error(NB_ERR_NULL, "%s: out is NULL", fn);
    *out = (nb_mnist){0};
    if (!dir)
        return nb_error(NB_ERR_NULL, "%s: dir is NULL", fn);
    nb_status st = load_split(dir, "train", &out->train_images, &out->train_labels);
    if (st == NB_OK)
        st = load_split(dir, "t10k", &out->test_images, &out->test_labels);
    if (st == NB_OK && (out->train_images->shape[1] != out->test_images->shape[1] ||
                        out->train_images->shape[2] != out->test_images->shape[2])) {
        char a[NB_SHAPE_BUF], b[NB_SHAPE_BUF];
        st = nb_error(NB_ERR_FORMAT, "%s: '%s': training images are %s but test images are %s: "
                      "expected the same image size", fn, dir,
                      nb_shape_str(out->train_images, a, sizeof a),
                      nb_shape_str(out->test_images, b, sizeof b));
    }
    if (st != NB_OK)
        nb_mnist_free(out);
    return st;
}

void nb_mnist_free(nb_mnist *mnist)
{
    if (!mnist)
        return;
    nb_tensor_free(mnist->train_images);
    nb_tensor_free(mnist->train_labels);
    nb_tensor_free(mnist->test_images);
    nb_tensor_free(mnist->test_labels);
    *mnist = (nb_mnist){0};
}

const char *nb_mnist_default_dir(void)
{
    const char *env = getenv("NABLA_DATA");
    if (env && env[0])
        return env;
    struct stat st;
    if (stat("data/mnist", &st) == 0 && S_ISDIR(st.st_mode))
        return "data/mnist";
    return "/usr/share/datasets/fashion-mnist";
}
