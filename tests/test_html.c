/* Tests for the backprop explorer page (src/autograd/html.c, html_data.c):
 * the file itself, the facts in its JSON (the same texts as the trace), the
 * escaping of user text, and the errors. The page in a browser is tested by
 * tests/browser/test_explorer.py. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nb_test.h"

#define DATA_OPEN "<script type=\"application/json\" id=\"tape-data\">\n"

/* ---- helpers ------------------------------------------------------------ */

/* y = x * x (one tensor, twice), h = tanh(y W) + y W (h's input used by two
 * ops, so it gets a "total"), loss = mean(h): f32, x [2, 3] named "x", W
 * [3, 3] a parameter. */
typedef struct fixture {
    nb_tape *tape;
    nb_tensor *x, *w, *loss;
} fixture;

static fixture make_fixture(nb_dtype dtype)
{
    fixture f = {.tape = nb_tape_new()};
    f.x = nb_tensor_from_doubles(dtype, NB_SHAPE(2, 3), (double[]){1, -2, 0.5, 3, 0, -1});
    f.w = nb_tensor_from_doubles(dtype, NB_SHAPE(3, 3),
                                 (double[]){0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9});
    nb_tensor_set_name(f.x, "x");
    nb_tensor_set_requires_grad(f.x, true);
    nb_tensor_set_name(f.w, "W");
    nb_tensor_set_requires_grad(f.w, true);
    nb_tensor *y = nb_mul(f.tape, f.x, f.x);
    nb_tensor *yw = nb_matmul(f.tape, y, f.w);
    f.loss = nb_mean(f.tape, nb_add(f.tape, nb_tanh(f.tape, yw), yw));
    ck_assert_ptr_nonnull(f.loss);
    return f;
}

static void free_fixture(fixture *f)
{
    nb_tape_free(f->tape);
    nb_tensor_free(f->x);
    nb_tensor_free(f->w);
}

static char *read_all(FILE *in)
{
    ck_assert_ptr_nonnull(in);
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    for (size_t got; (got = fread(text + n, 1, cap - n - 1, in)) > 0;) {
        n += got;
        if (n + 1 == cap)
            text = realloc(text, cap *= 2);
    }
    text[n] = '\0';
    return text;
}

/* Write the page into a fresh directory and return its text. */
static char *page_text(const nb_tape *tape, const nb_html_options *options)
{
    char *dir = nb_test_make_dir("html"), path[128];
    snprintf(path, sizeof path, "%s/page.html", dir);
    ck_assert_msg(nb_tape_write_html(tape, path, options) == NB_OK, "%s", nb_last_error());
    ck_assert_int_eq(nb_test_count_entries(dir), 1); /* no temporary file left */
    FILE *in = fopen(path, "r");
    char *text = read_all(in);
    fclose(in);
    remove(path);
    rmdir(dir);
    return text;
}

/* The JSON between the data script's tags, parsed. */
static cJSON *page_data(const char *page)
{
    const char *start = strstr(page, DATA_OPEN);
    ck_assert_ptr_nonnull(start);
    start += strlen(DATA_OPEN);
    const char *end = strstr(start, "\n</script>");
    ck_assert_ptr_nonnull(end);
    cJSON *data = cJSON_ParseWithLength(start, (size_t)(end - start));
    ck_assert_msg(data != NULL, "the page's JSON does not parse");
    return data;
}

static char *trace_text(nb_tensor *loss)
{
    FILE *out = tmpfile();
    ck_assert_int_eq(nb_tape_trace_backward(loss, out, NULL), NB_OK);
    rewind(out);
    char *text = read_all(out);
    fclose(out);
    return text;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsString(item), "no string \"%s\"", key);
    return item->valuestring;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A step's line as nb_tape_trace_backward prints it: "rule:  text\n",
 * "sends: text\n", or a note's text alone. */
static void line_as_traced(const cJSON *line, char *buf, size_t len)
{
    const cJSON *label = cJSON_GetObjectItem(line, "label");
    char head[16] = "";
    if (cJSON_IsString(label))
        snprintf(head, sizeof head, "%s:%s", label->valuestring,
                 strlen(label->valuestring) == 4 ? "  " : " ");
    snprintf(buf, len, "%s%s\n", head, str(line, "text"));
}

/* ---- the page ------------------------------------------------------------- */

START_TEST(page_needs_nothing_but_itself)
{
    fixture f = make_fixture(NB_F64);
    ck_assert_int_eq(nb_backward(f.loss), NB_OK);
    char *page = page_text(f.tape, NULL);
    ck_assert_ptr_eq(strstr(page, "<!DOCTYPE html>"), page);
    ck_assert_ptr_nonnull(strstr(page, "default-src 'none'"));
    ck_assert_ptr_nonnull(strstr(page, "<title>Backprop explorer</title>"));
    ck_assert_ptr_null(strstr(page, " src="));
    ck_assert_ptr_null(strstr(page, "<link"));
    ck_assert_ptr_null(strstr(page, "@SCRIPT@"));
    ck_assert_ptr_null(strstr(page, "@DATA@"));
    ck_assert_ptr_nonnull(strstr(page, "function go(to)")); /* the script is inline */
    ck_assert_int_eq(count(page, "</script>"), 2);
    free(page);
    free_fixture(&f);
}
END_TEST

START_TEST(steps_say_what_the_trace_says)
{
    for (nb_dtype dtype = NB_F32; dtype <= NB_F64; dtype++) {
        fixture f = make_fixture(dtype);
        char *trace = trace_text(f.loss);
        char *page = page_text(f.tape, NULL);
        cJSON *data = page_data(page);
        const cJSON *backward = cJSON_GetObjectItem(data, "backward");
        ck_assert(strstr(trace, str(backward, "banner")) == trace);
        const cJSON *steps = cJSON_GetObjectItem(backward, "steps");
        ck_assert_int_eq(cJSON_GetArraySize(steps), 5); /* mul, matmul, tanh, add, mean */
        int totals = 0, again = 0;
        const cJSON *step, *input, *line;
        cJSON_ArrayForEach(step, steps)
        {
            ck_assert_ptr_nonnull(strstr(trace, str(step, "header")));
            ck_assert_ptr_nonnull(strstr(trace, str(step, "upstream")));
            cJSON_ArrayForEach(input, cJSON_GetObjectItem(step, "inputs"))
                cJSON_ArrayForEach(line, cJSON_GetObjectItem(input, "lines"))
                {
                    char expected[512];
                    const cJSON *label = cJSON_GetObjectItem(line, "label");
                    line_as_traced(line, expected, sizeof expected);
                    ck_assert_msg(strstr(trace, expected), "not in the trace: %s", expected);
                    totals += cJSON_IsString(label) && strcmp(label->valuestring, "total") == 0;
                    again += strstr(expected, "again") != NULL;
                }
        }
        ck_assert_int_eq(totals, count(trace, "total:"));
        ck_assert_int_eq(totals, 1); /* yW, read by tanh and by add */
        ck_assert_int_eq(again, 1);  /* x, twice in x * x */
        cJSON_Delete(data);
        free(page);
        free(trace);
        free_fixture(&f);
    }
}
END_TEST

START_TEST(the_tape_keeps_its_gradients)
{
    fixture f = make_fixture(NB_F32);
    ck_assert_int_eq(nb_backward(f.loss), NB_OK);
    float before[9];
    memcpy(before, f.w->grad, sizeof before);
    void *loss_grad = f.loss->grad;
    char *page = page_text(f.tape, NULL);
    ck_assert_int_eq(memcmp(before, f.w->grad, sizeof before), 0);
    ck_assert_ptr_eq(f.loss->grad, loss_grad);
    cJSON *data = page_data(page);
    const cJSON *tensor;
    bool found = false;
    cJSON_ArrayForEach(tensor, cJSON_GetObjectItem(data, "tensors"))
    {
        if (strcmp(str(tensor, "name"), "W") != 0)
            continue;
        found = true;
        ck_assert_str_eq(str(tensor, "kind"), "parameter");
        ck_assert_str_eq(str(tensor, "shape_text"), "[3, 3]");
        const cJSON *grad = cJSON_GetObjectItem(tensor, "grad");
        ck_assert_int_eq(cJSON_GetArraySize(grad), 9);
        for (int i = 0; i < 9; i++)
            /* cJSON writes 15 digits when they read back to within a rounding */
            ck_assert_double_eq_tol(cJSON_GetArrayItem(grad, i)->valuedouble, before[i], 1e-12);
    }
    ck_assert(found);
    cJSON_Delete(data);
    free(page);
    free_fixture(&f);
}
END_TEST

START_TEST(before_backward_the_page_shows_the_forward_pass)
{
    fixture f = make_fixture(NB_F64);
    char *page = page_text(f.tape, NULL);
    cJSON *data = page_data(page);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(data, "backward")));
    const cJSON *nodes = cJSON_GetObjectItem(data, "nodes");
    ck_assert_int_eq(cJSON_GetArraySize(nodes), 5);
    ck_assert_str_eq(str(cJSON_GetArrayItem(nodes, 0), "header"), "[0] t0 = mul(x, x)");
    const cJSON *lines = cJSON_GetObjectItem(cJSON_GetArrayItem(nodes, 0), "lines");
    ck_assert_str_eq(str(cJSON_GetArrayItem(lines, 2), "text"),
                     "t0       [2, 3]   = [1, 4, 0.25, 9, 0, 1]");
    cJSON_Delete(data);
    free(page);
    free_fixture(&f);
}
END_TEST

START_TEST(names_and_title_are_escaped)
{
    fixture f = make_fixture(NB_F64);
    const char *name = "</script><b x=\"'&'\">";
    nb_tensor_set_name(f.w, name);
    ck_assert_int_eq(nb_backward(f.loss), NB_OK);
    nb_html_options o = {.title = "<i>\"T\" & 'U'</i>"};
    char *page = page_text(f.tape, &o);
    ck_assert_int_eq(count(page, "</script>"), 2);
    ck_assert_int_eq(count(page, "</script"), 2);
    ck_assert_ptr_null(strstr(page, "<b x="));
    ck_assert_ptr_null(strstr(page, "<i>"));
    ck_assert_ptr_nonnull(strstr(page, "<title>&lt;i&gt;&quot;T&quot; &amp; &#39;U&#39;&lt;/i&gt;</title>"));
    cJSON *data = page_data(page);
    ck_assert_str_eq(str(data, "title"), o.title);
    const cJSON *tensor;
    int found = 0;
    cJSON_ArrayForEach(tensor, cJSON_GetObjectItem(data, "tensors"))
        found += strcmp(str(tensor, "name"), name) == 0;
    ck_assert_int_eq(found, 1);
    cJSON_Delete(data);
    free(page);
    free_fixture(&f);
}
END_TEST

START_TEST(large_tensors_are_summarised)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_zeros(NB_F64, NB_SHAPE(50, 40));
    for (int64_t i = 0; i < x->size; i++)
        nb_tensor_set(x, i, (double)i);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *loss = nb_sum(tape, nb_square(tape, x));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    nb_html_options o = {.max_values = 100};
    char *page = page_text(tape, &o);
    cJSON *data = page_data(page);
    const cJSON *leaf = cJSON_GetArrayItem(cJSON_GetObjectItem(data, "tensors"), 2);
    ck_assert_str_eq(str(leaf, "name"), "leaf0");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(leaf, "values")), 100);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(leaf, "grad")), 100);
    ck_assert_double_eq(cJSON_GetObjectItem(leaf, "size")->valuedouble, 2000);
    const cJSON *stats = cJSON_GetObjectItem(leaf, "stats");
    ck_assert_double_eq(cJSON_GetObjectItem(stats, "max")->valuedouble, 1999);
    ck_assert_double_eq(cJSON_GetObjectItem(stats, "mean")->valuedouble, 999.5);
    ck_assert_str_eq(str(leaf, "values_text"), "[0, 1, 2, 3, 4, 5, 6, 7, ... (2000 values)]");
    cJSON_Delete(data);
    free(page);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

START_TEST(bad_arguments_are_reported)
{
    fixture f = make_fixture(NB_F64);
    ck_assert_int_eq(nb_tape_write_html(NULL, "x.html", NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_tape_write_html: tape is NULL");
    ck_assert_int_eq(nb_tape_write_html(f.tape, NULL, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_tape_write_html: path is NULL");
    ck_assert_int_eq(nb_tape_write_html(f.tape, "x.html", &(nb_html_options){.max_values = -1}),
                     NB_ERR_ARG);
    ck_assert_error_contains("nb_tape_write_html: max_values is -1: expected >= 0");
    nb_html_options bad_trace = {.trace = {.precision = -2}};
    ck_assert_int_eq(nb_tape_write_html(f.tape, "x.html", &bad_trace), NB_ERR_ARG);
    ck_assert_error_contains("nb_tape_write_html: max_values is 0 and precision -2");
    nb_tape *empty = nb_tape_new();
    ck_assert_int_eq(nb_tape_write_html(empty, "x.html", NULL), NB_ERR_ARG);
    ck_assert_error_contains("nb_tape_write_html: the tape has no recorded op");
    ck_assert_int_eq(access("x.html", F_OK), -1);
    nb_tape_free(empty);
    free_fixture(&f);
}
END_TEST

START_TEST(a_missing_directory_fails_cleanly)
{
    fixture f = make_fixture(NB_F64);
    char *dir = nb_test_make_dir("html"), path[128];
    snprintf(path, sizeof path, "%s/nowhere/page.html", dir);
    ck_assert_int_eq(nb_tape_write_html(f.tape, path, NULL), NB_ERR_IO);
    ck_assert_error_contains("nb_tape_write_html: cannot write '");
    ck_assert_error_contains(path);
    ck_assert_error_contains(strerror(ENOENT));
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    rmdir(dir);
    free_fixture(&f);
}
END_TEST

START_TEST(a_directory_in_the_way_leaves_no_temporary_file)
{
    fixture f = make_fixture(NB_F64);
    char *dir = nb_test_make_dir("html"), path[128];
    snprintf(path, sizeof path, "%s/taken.html", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_int_eq(nb_tape_write_html(f.tape, path, NULL), NB_ERR_IO);
    ck_assert_error_contains("nb_tape_write_html");
    ck_assert_error_contains(strerror(EISDIR));
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    rmdir(path);
    rmdir(dir);
    free_fixture(&f);
}
END_TEST

static Suite *html_suite(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("page");
    tcase_add_test(tc, page_needs_nothing_but_itself);
    tcase_add_test(tc, steps_say_what_the_trace_says);
    tcase_add_test(tc, the_tape_keeps_its_gradients);
    tcase_add_test(tc, before_backward_the_page_shows_the_forward_pass);
    tcase_add_test(tc, names_and_title_are_escaped);
    tcase_add_test(tc, large_tensors_are_summarised);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, bad_arguments_are_reported);
    tcase_add_test(tc, a_missing_directory_fails_cleanly);
    tcase_add_test(tc, a_directory_in_the_way_leaves_no_temporary_file);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(html_suite)
