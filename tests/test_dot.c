/* Tests for Graphviz export of tapes (src/autograd/dot.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nb_test.h"

/* ---- helpers ------------------------------------------------------------ */

/* A small layer on a tape: loss = mean(relu(x w + b)), x [4, 3] named "x",
 * w [3, 2] named "w" (a parameter), b [2] unnamed (a parameter). */
typedef struct layer_fixture {
    nb_tape *tape;
    nb_tensor *x, *w, *b, *loss;
} layer_fixture;

static layer_fixture make_layer(void)
{
    layer_fixture f = {.tape = nb_tape_new()};
    f.x = nb_tensor_from_doubles(NB_F32, NB_SHAPE(4, 3),
                                 (double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    f.w = nb_tensor_full(NB_F32, NB_SHAPE(3, 2), 0.5);
    f.b = nb_tensor_zeros(NB_F32, NB_SHAPE(2));
    nb_tensor_set_name(f.x, "x");
    nb_tensor_set_name(f.w, "w");
    nb_tensor_set_requires_grad(f.w, true);
    nb_tensor_set_requires_grad(f.b, true);
    nb_tensor *h = nb_relu(f.tape, nb_add_bias(f.tape, nb_matmul(f.tape, f.x, f.w), f.b));
    f.loss = nb_mean(f.tape, h);
    ck_assert_ptr_nonnull(f.loss);
    return f;
}

static void free_layer(layer_fixture *f)
{
    nb_tape_free(f->tape);
    nb_tensor_free(f->x);
    nb_tensor_free(f->w);
    nb_tensor_free(f->b);
}

/* The DOT text of a tape (caller frees). */
static char *dot_text(const nb_tape *tape, const nb_dot_options *options)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    nb_status s = nb_tape_write_dot(tape, out, options);
    fclose(out);
    ck_assert_msg(s == NB_OK, "nb_tape_write_dot: %s", nb_last_error());
    return buf;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The line of text that contains needle, copied into line. */
static const char *line_with(const char *text, const char *needle, char *line, size_t len)
{
    const char *hit = strstr(text, needle);
    ck_assert_msg(hit != NULL, "no line with %s in:\n%s", needle, text);
    const char *start = hit;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(hit, '\n');
    snprintf(line, len, "%.*s", (int)(end ? end - start : (long)strlen(start)), start);
    return line;
}

static int sum_of_inputs_and_outputs(const nb_tape *tape)
{
    int n = 0;
    for (size_t i = 0; i < nb_tape_size(tape); i++)
        n += nb_tape_node(tape, i)->n_inputs + 1;
    return n;
}

/* ---- structure ------------------------------------------------------------ */

START_TEST(every_op_and_tensor_is_a_node)
{
    layer_fixture f = make_layer();
    char *text = dot_text(f.tape, NULL);
    ck_assert_msg(strncmp(text, "digraph tape {\n", 15) == 0, "%s", text);
    ck_assert_msg(strcmp(text + strlen(text) - 2, "}\n") == 0, "%s", text);
    ck_assert_int_eq(count(text, "[shape=box"), (int)nb_tape_size(f.tape));
    ck_assert_int_eq(count(text, "[shape=box"), 4);
    /* x, w, b, and the results of matmul, add_bias, relu, mean */
    ck_assert_int_eq(count(text, "[shape=ellipse"), 7);
    ck_assert_int_eq(count(text, " -> "), sum_of_inputs_and_outputs(f.tape));
    ck_assert_int_eq(count(text, " -> "), 10);
    ck_assert_msg(strstr(text, "label=\"matmul\"") && strstr(text, "label=\"add_bias\"") &&
                      strstr(text, "label=\"relu\"") && strstr(text, "label=\"mean\""),
                  "%s", text);
    ck_assert_msg(strstr(text, "label=\"x\\n[4, 3] f32\""), "%s", text);
    ck_assert_msg(strstr(text, "label=\"w\\n[3, 2] f32\""), "%s", text);
    /* numbers follow first appearance: x t0, w t1, x w t2, b t3; b has no
     * name, so it is called after its number */
    ck_assert_msg(strstr(text, "t3 [shape=ellipse") && strstr(text, "label=\"t3\\n[2] f32\""),
                  "%s", text);
    ck_assert_msg(strstr(text, "t0 -> op0;\n  t1 -> op0;\n  op0 -> t2;"), "%s", text);
    free(text);
    free_layer(&f);
}
END_TEST

START_TEST(kinds_of_tensors_have_their_colours)
{
    layer_fixture f = make_layer();
    char *text = dot_text(f.tape, NULL), line[512];
    ck_assert_msg(strstr(line_with(text, "label=\"x\\n", line, sizeof line), "#dbe9f6"), "%s",
                  line);
    ck_assert_msg(strstr(line_with(text, "label=\"w\\n", line, sizeof line), "#d5efd5"), "%s",
                  line);
    ck_assert_msg(strstr(line_with(text, "t2 [shape=ellipse", line, sizeof line), "#fff2cc"),
                  "%s", line);
    /* the loss feeds no op: a double border */
    ck_assert_msg(strstr(line_with(text, "t6 [shape=ellipse", line, sizeof line),
                         "peripheries=2"),
                  "%s", line);
    ck_assert_int_eq(count(text, "peripheries=2"), 1);
    free(text);
    free_layer(&f);
}
END_TEST

START_TEST(a_tensor_used_twice_is_one_node)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *w = nb_tensor_full(NB_F64, NB_SHAPE(2), 3.0);
    nb_tensor_set_requires_grad(w, true);
    nb_mul(tape, w, w);
    char *text = dot_text(tape, NULL);
    ck_assert_int_eq(count(text, "[shape=ellipse"), 2);
    ck_assert_int_eq(count(text, "t0 -> op0;"), 2);
    ck_assert_int_eq(count(text, " -> "), 3);
    free(text);
    nb_tape_free(tape);
    nb_tensor_free(w);
}
END_TEST

START_TEST(values_and_gradients_are_shown_on_request)
{
    layer_fixture f = make_layer();
    nb_dot_options o = {.show_values = true, .show_grads = true, .max_values = 3};
    char *text = dot_text(f.tape, &o), line[512];
    ck_assert_msg(strstr(line_with(text, "label=\"x\\n", line, sizeof line),
                         "\\nvalues: [1, 2, 3, ...]\\ngrad: none"),
                  "%s", line);
    free(text);
    ck_assert_int_eq(nb_backward(f.loss), NB_OK);
    text = dot_text(f.tape, &o);
    /* d mean / d w[i][j] = sum over rows of x[r][i] / 8 (every unit is
     * active): 22 / 8, 22 / 8, 26 / 8 in the first three */
    ck_assert_msg(strstr(line_with(text, "label=\"w\\n", line, sizeof line),
                         "\\nvalues: [0.5, 0.5, 0.5, ...]\\ngrad: [2.75, 2.75, 3.25, ...]"),
                  "%s", line);
    ck_assert_msg(strstr(line_with(text, "label=\"t3\\n", line, sizeof line),
                         "values: [0, 0]\\ngrad: [0.5, 0.5]"),
                  "%s", line);
    free(text);
    /* max_values 0 means 4 */
    o.max_values = 0;
    o.show_grads = false;
    text = dot_text(f.tape, &o);
    ck_assert_msg(strstr(text, "values: [1, 2, 3, 4, ...]"), "%s", text);
    ck_assert_msg(!strstr(text, "grad:"), "%s", text);
    free(text);
    free_layer(&f);
}
END_TEST

/* on_edges: op results read by another op become op -> op edges; every
 * edge carries its tensor's values and, in red, its gradient. */
START_TEST(values_and_gradients_go_on_the_edges)
{
    layer_fixture f = make_layer();
    ck_assert_int_eq(nb_backward(f.loss), NB_OK);
    nb_dot_options o = {.show_values = true, .show_grads = true, .max_values = 3,
                        .on_edges = true};
    char *text = dot_text(f.tape, &o), line[512];
    /* x, w, b and the loss keep an ellipse, without numbers; t2, t4, t5 do not */
    ck_assert_int_eq(count(text, "[shape=ellipse"), 4);
    ck_assert_msg(strstr(text, "label=\"x\\n[4, 3] f32\"]"), "%s", text);
    ck_assert_msg(!strstr(text, "t2 [shape=ellipse") && !strstr(text, "t5 [shape=ellipse"),
                  "%s", text);
    /* 3 leaf edges, 3 op -> op edges, 1 edge into the loss, all labelled */
    ck_assert_int_eq(count(text, " -> "), 7);
    ck_assert_int_eq(count(text, "[label=<"), 7);
    ck_assert_msg(strstr(line_with(text, "t0 -> op0", line, sizeof line),
                         "values: [1, 2, 3, ...]<br/><font color=\"#c0392b\">grad: none</font>"),
                  "%s", line);
    ck_assert_msg(strstr(line_with(text, "t1 -> op0", line, sizeof line),
                         "values: [0.5, 0.5, 0.5, ...]<br/><font color=\"#c0392b\">"
                         "grad: [2.75, 2.75, 3.25, ...]</font>"),
                  "%s", line);
    /* an intermediate is named on its edge, unnamed ones after the node
     * that made it as in the trace: x w = [3, 3, 7.5, 7.5, ...] */
    ck_assert_msg(strstr(line_with(text, "op0 -> op1", line, sizeof line),
                         "[label=<t0 [4, 2]<br/>values: [3, 3, 7.5, ...]<br/>"),
                  "%s", line);
    ck_assert_msg(strstr(text, "op2 -> op3 [label=<t2 [4, 2]"), "%s", text);
    ck_assert_msg(strstr(line_with(text, "op3 -> t6", line, sizeof line),
                         "grad: [1]</font>>];"),
                  "%s", line);
    free(text);
    /* without values and gradients, only the op -> op edges need a label */
    o.show_values = o.show_grads = false;
    text = dot_text(f.tape, &o);
    ck_assert_int_eq(count(text, "[label=<"), 3);
    ck_assert_msg(strstr(text, "op0 -> op1 [label=<t0 [4, 2]>];"), "%s", text);
    free(text);
    o.show_values = o.show_grads = true;
    /* names are escaped for the HTML-like labels */
    nb_tensor_set_name(nb_tape_node(f.tape, 0)->output, "a<b & \"c\"");
    text = dot_text(f.tape, &o);
    ck_assert_msg(strstr(text, "op0 -> op1 [label=<a&lt;b &amp; &quot;c&quot; [4, 2]<br/>"),
                  "%s", text);
    free(text);
    free_layer(&f);
}
END_TEST

START_TEST(names_are_escaped)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(2));
    nb_tensor_set_name(x, "say \"hi\" \\o/");
    nb_tensor_set_requires_grad(x, true);
    nb_relu(tape, x);
    char *text = dot_text(tape, NULL);
    ck_assert_msg(strstr(text, "label=\"say \\\"hi\\\" \\\\o/\\n[2] f32\""), "%s", text);
    free(text);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(an_empty_tape_is_an_empty_graph)
{
    nb_tape *tape = nb_tape_new();
    char *text = dot_text(tape, NULL);
    ck_assert_msg(strncmp(text, "digraph tape {\n", 15) == 0, "%s", text);
    ck_assert_int_eq(count(text, "[shape="), 0);
    ck_assert_int_eq(count(text, " -> "), 0);
    free(text);
    nb_tape_free(tape);
}
END_TEST

START_TEST(bad_arguments_are_reported)
{
    nb_tape *tape = nb_tape_new();
    ck_assert_int_eq(nb_tape_write_dot(NULL, stdout, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_tape_write_dot: tape is NULL");
    ck_assert_int_eq(nb_tape_write_dot(tape, NULL, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_tape_write_dot: out is NULL");
    ck_assert_int_eq(nb_tape_write_dot(tape, stdout, &(nb_dot_options){.max_values = -2}),
                     NB_ERR_ARG);
    ck_assert_error_contains("nb_tape_write_dot: max_values is -2");
    ck_assert_int_eq(nb_tape_write_dot_file(tape, NULL, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_tape_write_dot_file: path is NULL");
    nb_tape_free(tape);
}
END_TEST

/* ---- files ---------------------------------------------------------------- */

START_TEST(file_is_written_whole_and_graphviz_reads_it)
{
    layer_fixture f = make_layer();
    nb_backward(f.loss);
    char *dir = nb_test_make_dir("dot"), path[128], png[128], command[512];
    snprintf(path, sizeof path, "%s/step.dot", dir);
    snprintf(png, sizeof png, "%s/step.png", dir);
    nb_dot_options o = {.show_values = true, .show_grads = true};
    ck_assert_int_eq(nb_tape_write_dot_file(f.tape, path, &o), NB_OK);
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    char *text = dot_text(f.tape, &o);
    FILE *in = fopen(path, "r");
    char file_text[1 << 14];
    size_t n = fread(file_text, 1, sizeof file_text - 1, in);
    fclose(in);
    file_text[n] = '\0';
    ck_assert_str_eq(file_text, text);
    if (access("/usr/bin/dot", X_OK) == 0) {
        snprintf(command, sizeof command, "/usr/bin/dot -Tpng '%s' -o '%s'", path, png);
        ck_assert_int_eq(system(command), 0);
        FILE *p = fopen(png, "rb");
        unsigned char head[8] = {0};
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(fread(head, 1, 8, p), 8);
        fclose(p);
        ck_assert(memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0);
    }
    free(text);
    nb_test_remove_dir(dir);
    free_layer(&f);
}
END_TEST

START_TEST(file_into_a_missing_directory_fails_cleanly)
{
    layer_fixture f = make_layer();
    char *dir = nb_test_make_dir("dot"), path[128];
    snprintf(path, sizeof path, "%s/nowhere/step.dot", dir);
    ck_assert_int_eq(nb_tape_write_dot_file(f.tape, path, NULL), NB_ERR_IO);
    ck_assert_error_contains("nb_tape_write_dot_file: cannot write '");
    ck_assert_error_contains(path);
    ck_assert_error_contains(strerror(ENOENT));
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    nb_test_remove_dir(dir);
    free_layer(&f);
}
END_TEST

START_TEST(file_over_a_directory_leaves_no_temporary_file)
{
    layer_fixture f = make_layer();
    char *dir = nb_test_make_dir("dot"), path[128];
    snprintf(path, sizeof path, "%s/taken.dot", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_int_eq(nb_tape_write_dot_file(f.tape, path, NULL), NB_ERR_IO);
    ck_assert_error_contains(strerror(EISDIR));
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    rmdir(path);
    nb_test_remove_dir(dir);
    free_layer(&f);
}
END_TEST

static Suite *dot_suite(void)
{
    Suite *s = suite_create("dot");
    TCase *tc = tcase_create("graph");
    tcase_add_test(tc, every_op_and_tensor_is_a_node);
    tcase_add_test(tc, kinds_of_tensors_have_their_colours);
    tcase_add_test(tc, a_tensor_used_twice_is_one_node);
    tcase_add_test(tc, values_and_gradients_are_shown_on_request);
    tcase_add_test(tc, values_and_gradients_go_on_the_edges);
    tcase_add_test(tc, names_are_escaped);
    tcase_add_test(tc, an_empty_tape_is_an_empty_graph);
    tcase_add_test(tc, bad_arguments_are_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("file");
    tcase_add_test(tc, file_is_written_whole_and_graphviz_reads_it);
    tcase_add_test(tc, file_into_a_missing_directory_fails_cleanly);
    tcase_add_test(tc, file_over_a_directory_leaves_no_temporary_file);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(dot_suite)
