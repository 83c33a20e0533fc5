/* CSV files with a header line, read into an f64 matrix.
 *
 * The whole file is read into one buffer, split into lines and fields in
 * place (each field NUL-terminated where its comma or quote was), and every
 * cell parsed as a number. A cell that is not a number is not an error yet:
 * its column remembers the first one, and selecting the column reports it.
 * Lines and columns in messages count from 1, as editors show them.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nabla/data.h"

#define SHOWN_TEXT 40 /* characters of a bad cell quoted in messages */

/* The first cell of a column that is empty or not a number. */
struct nb_csv_cell {
    int64_t line;  /* 0 when the column is all numbers */
    int64_t count; /* bad cells in the column */
    char text[SHOWN_TEXT + 1];
};

/* ---- small helpers ------------------------------------------------------ */

static char *copy_string(const char *s)
{
    size_t len = strlen(s);
    char *copy = nb_alloc(len + 1);
    if (copy)
        memcpy(copy, s, len + 1);
    return copy;
}

/* Make room for `need` elements of `size` bytes in *p (capacity *cap). */
static bool reserve(void **p, int64_t *cap, int64_t need, size_t size)
{
    if (need <= *cap)
        return true;
    int64_t new_cap = *cap ? *cap : 64;
    while (new_cap < need)
        new_cap *= 2;
    if ((uint64_t)new_cap > SIZE_MAX / size)
        return false;
    void *bigger = nb_alloc((size_t)new_cap * size);
    if (!bigger)
        return false;
    if (*p)
        memcpy(bigger, *p, (size_t)*cap * size);
    nb_release(*p);
    *p = bigger;
    *cap = new_cap;
    return true;
}

/* The whole file plus one spare byte (so the last field can be terminated);
 * the buffer grows as data arrives. */
static char *read_file(const char *fn, const char *path, int64_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nb_error(NB_ERR_IO, "%s: cannot open '%s': %s", fn, path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    int64_t cap = 0, used = 0;
    for (;;) {
        if (!reserve((void **)&buf, &cap, used + 4096 + 1, 1)) {
            nb_error(NB_ERR_NOMEM, "%s: '%s': out of memory after %" PRId64 " bytes", fn, path,
                     used);
            goto fail;
        }
        size_t r = fread(buf + used, 1, (size_t)(cap - used - 1), f);
        used += (int64_t)r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        nb_error(NB_ERR_IO, "%s: cannot read '%s': %s", fn, path, strerror(errno));
        goto fail;
    }
    fclose(f);
    buf[used] = '\0';
    *len = used;
    return buf;
fail:
    fclose(f);
    nb_release(buf);
    return NULL;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* ---- splitting a line into fields --------------------------------------- */

typedef struct line_parser {
    const char *fn, *path;
    int64_t line; /* current line number, from 1 */
} line_parser;

/* Split [s, end) in place into fields, each trimmed, unquoted and
 * NUL-terminated (*end must be writable). Stores the first `max` field starts
 * in fields[] and returns how many fields the line has, or -1 on bad quoting
 * (message set). */
static int64_t split_fields(const line_parser *lp, char *s, char *end, char **fields, int64_t max)
{
    int64_t n = 0;
    for (;;) {
        while (s < end && is_blank(*s))
            s++;
        char *start = s, *out = s;
        if (s < end && *s == '"') {
            for (s++; s < end; s++) {
                if (*s == '"' && s + 1 < end && s[1] == '"')
                    *out++ = '"', s++;
                else if (*s == '"')
                    break;
                else
                    *out++ = *s;
            }
            if (s >= end) {
                nb_error(NB_ERR_FORMAT, "%s: '%s' line %" PRId64 ", column %" PRId64
                         ": unterminated quote (quoted fields cannot span lines)", lp->fn,
                         lp->path, lp->line, n + 1);
                return -1;
            }
            for (s++; s < end && is_blank(*s); s++)
                ;
            if (s < end && *s != ',') {
                nb_error(NB_ERR_FORMAT, "%s: '%s' line %" PRId64 ", column %" PRId64
                         ": unexpected '%c' after a closing quote: expected a comma", lp->fn,
                         lp->path, lp->line, n + 1, *s);
                return -1;
            }
        } else {
            while (s < end && *s != ',')
                s++;
            out = s;
            while (out > start && is_blank(out[-1]))
                out--;
        }
        if (n < max)
            fields[n] = start;
        n++;
        bool last = s >= end;
        *out = '\0'; /* out <= s: over the comma, the line end or the spare byte */
        if (last)
            return n;
        s++; /* past the comma */
    }
}

/* ---- cells --------------------------------------------------------------- */

static bool parse_number(const char *s, double *value)
{
    char *end;
    errno = 0;
    *value = strtod(s, &end);
    if (end == s || *end != '\0')
        return false;
    return !(errno == ERANGE && isinf(*value));
}

static void note_bad_cell(struct nb_csv_cell *bad, int64_t line, const char *text)
{
    if (bad->count++ == 0) {
        bad->line = line;
        snprintf(bad->text, sizeof bad->text, "%s", text);
    }
}

/* ---- reading -------------------------------------------------------------- */

/* The next line of [*pos, end): its start, with *line_end at the '\n', '\r' or
 * end; *pos moves past the line. NULL at the end of the buffer. */
static char *next_line(char **pos, char *end, char **line_end)
{
    char *s = *pos;
    if (s >= end)
        return NULL;
    char *nl = memchr(s, '\n', (size_t)(end - s));
    char *e = nl ? nl : end;
    *pos = nl ? nl + 1 : end;
    if (e > s && e[-1] == '\r')
        e--;
    *line_end = e;
    return s;
}

static bool line_is_blank(const char *s, const char *e)
{
    while (s < e && (is_blank(*s) || *s == '\r'))
        s++;
    return s == e;
}

/* A NUL byte would cut a field short without a trace: refuse binary files. */
static nb_status check_text(const line_parser *lp, const char *s, const char *e)
{
    const char *nul = memchr(s, '\0', (size_t)(e - s));
    if (nul)
        return nb_error(NB_ERR_FORMAT, "%s: '%s' line %" PRId64 " has a NUL byte (at byte %td "
                        "of the line): expected text", lp->fn, lp->path, lp->line, nul - s + 1);
    return NB_OK;
}

static nb_status read_header(nb_csv *csv, line_parser *lp, char *s, char *e)
{
    if (check_text(lp, s, e) != NB_OK)
        return NB_ERR_FORMAT;
    int64_t max = 1; /* a line has at most one field more than it has commas */
    for (const char *p = s; p < e; p++)
        max += *p == ',';
    char **fields = nb_alloc((size_t)max * sizeof *fields);
    if (!fields)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory for the header", lp->fn);
    nb_status st = NB_OK;
    int64_t n = split_fields(lp, s, e, fields, max);
    if (n < 0)
        st = NB_ERR_FORMAT;
    else if (n > INT32_MAX / 2)
        st = nb_error(NB_ERR_FORMAT, "%s: '%s' line %" PRId64 ": the header has %" PRId64
                      " columns: too many", lp->fn, lp->path, lp->line, n);
    else {
        csv->names = nb_alloc_zeroed((size_t)n * sizeof *csv->names);
        csv->bad = nb_alloc_zeroed((size_t)n * sizeof *csv->bad);
        if (csv->names && csv->bad)
            csv->n_cols = (int)n;
        for (int c = 0; c < csv->n_cols && st == NB_OK; c++)
            if (!(csv->names[c] = copy_string(fields[c])))
                st = NB_ERR_NOMEM;
        if (!csv->n_cols || st != NB_OK)
            st = nb_error(NB_ERR_NOMEM, "%s: '%s': out of memory for %" PRId64 " column names",
                          lp->fn, lp->path, n);
    }
    nb_release(fields);
    return st;
}

static nb_status read_row(nb_csv *csv, line_parser *lp, char *s, char *e, char **fields,
                          int64_t *cap)
{
    if (check_text(lp, s, e) != NB_OK)
        return NB_ERR_FORMAT;
    int64_t n = split_fields(lp, s, e, fields, csv->n_cols + 1);
    if (n < 0)
        return NB_ERR_FORMAT;
    if (n < csv->n_cols)
        return nb_error(NB_ERR_FORMAT, "%s: '%s' line %" PRId64 " has %" PRId64 " field%s: "
                        "expected %d like the header (missing column %" PRId64 ", '%s')",
                        lp->fn, lp->path, lp->line, n, n == 1 ? "" : "s", csv->n_cols, n + 1,
                        csv->names[n]);
    if (n > csv->n_cols)
        return nb_error(NB_ERR_FORMAT, "%s: '%s' line %" PRId64 " has %" PRId64 " fields: "
                        "expected %d like the header (extra field %d: '%.*s')", lp->fn, lp->path,
                        lp->line, n, csv->n_cols, csv->n_cols + 1, SHOWN_TEXT,
                        fields[csv->n_cols]);
    if (!reserve((void **)&csv->values, cap, (csv->n_rows + 1) * csv->n_cols, sizeof(double)))
        return nb_error(NB_ERR_NOMEM, "%s: '%s': out of memory at line %" PRId64, lp->fn,
                        lp->path, lp->line);
    double *row = csv->values + csv->n_rows * csv->n_cols;
    for (int c = 0; c < csv->n_cols; c++)
        if (!parse_number(fields[c], &row[c])) {
            row[c] = NAN;
            note_bad_cell(&csv->bad[c], lp->line, fields[c]);
        }
    csv->n_rows++;
    return NB_OK;
}

static nb_status parse(nb_csv *csv, line_parser *lp, char *buf, int64_t len)
{
    char *pos = buf, *end = buf + len, *s, *e;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos += 3; /* UTF-8 byte-order mark */
    while ((s = next_line(&pos, end, &e)) && (lp->line++, line_is_blank(s, e)))
        ;
    if (!s)
        return nb_error(NB_ERR_FORMAT, "%s: '%s' is empty: expected a header line with column "
                        "names", lp->fn, lp->path);
    nb_status st = read_header(csv, lp, s, e);
    if (st != NB_OK)
        return st;
    char **fields = nb_alloc(((size_t)csv->n_cols + 1) * sizeof *fields);
    if (!fields)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory", lp->fn);
    int64_t cap = 0;
    while (st == NB_OK && (s = next_line(&pos, end, &e))) {
        lp->line++;
        if (!line_is_blank(s, e))
            st = read_row(csv, lp, s, e, fields, &cap);
    }
    nb_release(fields);
    if (st == NB_OK && csv->n_rows == 0)
        st = nb_error(NB_ERR_FORMAT, "%s: '%s' has a header line but no data rows", lp->fn,
                      lp->path);
    return st;
}

nb_csv *nb_csv_read(const char *path)
{
    const char *fn = "nb_csv_read";
    if (!path) {
        nb_error(NB_ERR_NULL, "%s: path is NULL", fn);
        return NULL;
    }
    int64_t len = 0;
    char *buf = read_file(fn, path, &len);
    if (!buf)
        return NULL;
    nb_csv *csv = nb_alloc_zeroed(sizeof *csv);
    if (!csv || !(csv->path = copy_string(path))) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        nb_release(buf);
        nb_csv_free(csv);
        return NULL;
    }
    line_parser lp = {fn, path, 0};
    nb_status st = parse(csv, &lp, buf, len);
    nb_release(buf);
    if (st != NB_OK) {
        nb_csv_free(csv);
        return NULL;
    }
    return csv;
}

void nb_csv_free(nb_csv *csv)
{
    if (!csv)
        return;
    for (int c = 0; csv->names && c < csv->n_cols; c++)
        nb_release(csv->names[c]);
    nb_release(csv->names);
    nb_release(csv->bad);
    nb_release(csv->values);
    nb_release(csv->path);
    nb_release(csv);
}

/* ---- selecting columns ---------------------------------------------------- */

/* "'a', 'b', 'c'" (shortened when long) for messages. */
static char *names_str(const nb_csv *csv, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; c < csv->n_cols && used < len; c++) {
        int w = snprintf(buf + used, len - used, "%s'%s'", c ? ", " : "", csv->names[c]);
        if (w < 0 || (size_t)w >= len - used) {
            if (len > 4)
                snprintf(buf + (used < len - 4 ? used : len - 4), 4, "...");
            break;
        }
        used += (size_t)w;
    }
    return buf;
}

static int column_index(const char *fn, const nb_csv *csv, const char *name)
{
    int found = -1;
    for (int c = 0; c < csv->n_cols; c++) {
        if (strcmp(csv->names[c], name) != 0)
            continue;
        if (found >= 0) {
            nb_error(NB_ERR_ARG, "%s: '%s': column name '%s' appears twice in the header "
                     "(columns %d and %d): select it by index", fn, csv->path, name, found + 1,
                     c + 1);
            return -1;
        }
        found = c;
    }
    if (found < 0) {
        char buf[200];
        nb_error(NB_ERR_ARG, "%s: '%s' has no column named '%s': its columns are %s", fn,
                 csv->path, name, names_str(csv, buf, sizeof buf));
    }
    return found;
}

int nb_csv_column_index(const nb_csv *csv, const char *name)
{
    if (!csv || !name) {
        nb_error(NB_ERR_NULL, "nb_csv_column_index: %s is NULL", csv ? "name" : "csv");
        return -1;
    }
    return column_index("nb_csv_column_index", csv, name);
}

static nb_tensor *gather_columns(const char *fn, const nb_csv *csv, nb_dtype dtype, int n,
                                 const int *cols)
{
    for (int k = 0; k < n; k++) {
        int c = cols[k];
        if (c < 0 || c >= csv->n_cols) {
            nb_error(NB_ERR_ARG, "%s: column index %d is out of range: '%s' has %d columns "
                     "(0 to %d)", fn, c, csv->path, csv->n_cols, csv->n_cols - 1);
            return NULL;
        }
        const struct nb_csv_cell *bad = &csv->bad[c];
        if (bad->count) {
            char more[64] = "";
            if (bad->count > 1)
                snprintf(more, sizeof more, " (and %" PRId64 " more bad cells in the column)",
                         bad->count - 1);
            if (bad->text[0])
                nb_error(NB_ERR_FORMAT, "%s: '%s' line %" PRId64 ", column %d ('%s'): '%s' is "
                         "not a number%s", fn, csv->path, bad->line, c + 1, csv->names[c],
                         bad->text, more);
            else
                nb_error(NB_ERR_FORMAT, "%s: '%s' line %" PRId64 ", column %d ('%s'): empty "
                         "field: expected a number%s", fn, csv->path, bad->line, c + 1,
                         csv->names[c], more);
            return NULL;
        }
    }
    nb_tensor *t = nb_tensor_zeros(dtype, NB_SHAPE(csv->n_rows, n));
    if (!t)
        return NULL;
    for (int64_t r = 0; r < csv->n_rows; r++)
        for (int k = 0; k < n; k++) {
            double v = csv->values[r * csv->n_cols + cols[k]];
            if (dtype == NB_F32)
                ((float *)t->data)[r * n + k] = (float)v;
            else
                ((double *)t->data)[r * n + k] = v;
        }
    return t;
}

static bool check_select(const char *fn, const nb_csv *csv, nb_dtype dtype, int n,
                         const void *list)
{
    if (!csv || !list) {
        nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, csv ? "the column list" : "csv");
        return false;
    }
    if (n < 1) {
        nb_error(NB_ERR_ARG, "%s: n is %d: expected at least one column", fn, n);
        return false;
    }
    if (dtype != NB_F32 && dtype != NB_F64) {
        nb_error(NB_ERR_DTYPE, "%s: dtype %d is not NB_F32 or NB_F64", fn, (int)dtype);
        return false;
    }
    return true;
}

nb_tensor *nb_csv_columns_at(const nb_csv *csv, nb_dtype dtype, int n, const int columns[])
{
    const char *fn = "nb_csv_columns_at";
    if (!check_select(fn, csv, dtype, n, columns))
        return NULL;
    return gather_columns(fn, csv, dtype, n, columns);
}

nb_tensor *nb_csv_columns(const nb_csv *csv, nb_dtype dtype, int n, const char *const names[])
{
    const char *fn = "nb_csv_columns";
    if (!check_select(fn, csv, dtype, n, names))
        return NULL;
    int *cols = nb_alloc((size_t)n * sizeof *cols);
    if (!cols) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    nb_tensor *t = NULL;
    int k = 0;
    for (; k < n; k++) {
        if (!names[k]) {
            nb_error(NB_ERR_NULL, "%s: names[%d] is NULL", fn, k);
            break;
        }
        if ((cols[k] = column_index(fn, csv, names[k])) < 0)
            break;
    }
    if (k == n)
        t = gather_columns(fn, csv, dtype, n, cols);
    nb_release(cols);
    return t;
}
