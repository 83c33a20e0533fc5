/* Tests for CSV files with a header line (src/io/csv.c). Every test writes
 * its own small files in a fresh temporary directory. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nb_test.h"

static char dir[256], path[512];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/nb_test_csv_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/data.csv", dir);
    nb_clear_error();
}

static void remove_dir(void)
{
    unlink(path);
    rmdir(dir);
}

static void write_bytes(const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_text(const char *text) { write_bytes(text, strlen(text)); }

static nb_csv *read_text(const char *text)
{
    write_text(text);
    nb_csv *csv = nb_csv_read(path);
    ck_assert_msg(csv != NULL, "%s", nb_last_error());
    return csv;
}

START_TEST(columns_by_name_and_by_index)
{
    nb_csv *csv = read_text("x1,x2,label\n1,2,0\n3.5,-4e2,1\n0.125,7,2\n");
    ck_assert_int_eq(csv->n_cols, 3);
    ck_assert_int_eq(csv->n_rows, 3);
    ck_assert_str_eq(csv->names[2], "label");
    ck_assert_int_eq(nb_csv_column_index(csv, "x2"), 1);

    nb_tensor *x = nb_csv_columns(csv, NB_F64, 2, (const char *[]){"x2", "x1"});
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->rank, 2);
    ck_assert_int_eq(x->shape[0], 3);
    ck_assert_int_eq(x->shape[1], 2);
    const double want[] = {2, 1, -400, 3.5, 7, 0.125};
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(nb_tensor_get(x, i), want[i]);

    nb_tensor *y = nb_csv_columns_at(csv, NB_F32, 1, (const int[]){2});
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(y->dtype, NB_F32);
    ck_assert_int_eq(y->shape[0], 3);
    ck_assert_int_eq(y->shape[1], 1);
    ck_assert_double_eq(nb_tensor_get(y, 2), 2.0);

    nb_tensor *same = nb_csv_columns_at(csv, NB_F64, 2, (const int[]){1, 0});
    ck_assert_mem_eq(same->data, x->data, 6 * sizeof(double));
    nb_tensor_free(same);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_csv_free(csv);
    nb_csv_free(NULL);
}
END_TEST

START_TEST(quotes_spaces_crlf_bom_and_blank_lines_are_read)
{
    nb_csv *csv = read_text("\xEF\xBB\xBF \"width, cm\" ,\"say \"\"hi\"\"\",c\r\n"
                            "\r\n"
                            " 1 , \"2\" ,3\r\n"
                            "\t4,5,  6e1\r\n"
                            "   \n"
                            "7,8,9");
    ck_assert_int_eq(csv->n_cols, 3);
    ck_assert_int_eq(csv->n_rows, 3);
    ck_assert_str_eq(csv->names[0], "width, cm");
    ck_assert_str_eq(csv->names[1], "say \"hi\"");
    ck_assert_str_eq(csv->names[2], "c");
    nb_tensor *t = nb_csv_columns(csv, NB_F64, 3, (const char *[]){"width, cm", "say \"hi\"", "c"});
    ck_assert_msg(t != NULL, "%s", nb_last_error());
    const double want[] = {1, 2, 3, 4, 5, 60, 7, 8, 9};
    for (int i = 0; i < 9; i++)
        ck_assert_double_eq(nb_tensor_get(t, i), want[i]);
    nb_tensor_free(t);
    nb_csv_free(csv);
}
END_TEST

START_TEST(text_columns_are_fine_until_selected)
{
    nb_csv *csv = read_text("sepal,species\n5.1,setosa\n4.9,setosa\n6.3,virginica\n");
    nb_tensor *x = nb_csv_columns(csv, NB_F32, 1, (const char *[]){"sepal"});
    ck_assert_ptr_nonnull(x);
    ck_assert_float_eq(nb_tensor_get(x, 2), 6.3f);
    ck_assert_ptr_null(nb_csv_columns(csv, NB_F32, 1, (const char *[]){"species"}));
    ck_assert_int_eq(nb_last_status(), NB_ERR_FORMAT);
    ck_assert_error_contains("line 2, column 2 ('species'): 'setosa' is not a number (and 2 "
                             "more bad cells in the column)");
    nb_tensor_free(x);
    nb_csv_free(csv);
}
END_TEST

/* ---- malformed files ------------------------------------------------------ */

typedef struct bad_csv {
    const char *name;
    const char *text;       /* NULL: the file does not exist */
    int n;                  /* columns to select; 0: reading must fail */
    const char *names[3];
    nb_status status;
    const char *message;
} bad_csv;

static const bad_csv bad_csvs[] = {
    {"bad number", "a,b\n1,2\n3,1.2.3\n", 2, {"a", "b"}, NB_ERR_FORMAT,
     "nb_csv_columns: '%s' line 3, column 2 ('b'): '1.2.3' is not a number"},
    {"empty field", "a,b,c\n1,,3\n", 3, {"a", "b", "c"}, NB_ERR_FORMAT,
     "nb_csv_columns: '%s' line 2, column 2 ('b'): empty field: expected a number"},
    {"empty last field", "a,b\n1,2\n\n3,\n", 1, {"b"}, NB_ERR_FORMAT,
     "'%s' line 4, column 2 ('b'): empty field"},
    {"quoted empty field", "a,b\n\"\",2\n", 1, {"a"}, NB_ERR_FORMAT,
     "'%s' line 2, column 1 ('a'): empty field"},
    {"number out of range", "a\n1e999\n", 1, {"a"}, NB_ERR_FORMAT,
     "'%s' line 2, column 1 ('a'): '1e999' is not a number"},
    {"missing column", "a,b,c\n1,2,3\n4,5\n", 0, {0}, NB_ERR_FORMAT,
     "nb_csv_read: '%s' line 3 has 2 fields: expected 3 like the header (missing column 3, 'c')"},
    {"ragged row", "a,b\n1,2\n3,4,5\n", 0, {0}, NB_ERR_FORMAT,
     "nb_csv_read: '%s' line 3 has 3 fields: expected 2 like the header (extra field 3: '5')"},
    {"one field", "a,b\n7\n", 0, {0}, NB_ERR_FORMAT,
     "'%s' line 2 has 1 field: expected 2 like the header (missing column 2, 'b')"},
    {"unknown name", "a,b\n1,2\n", 2, {"a", "zz"}, NB_ERR_ARG,
     "nb_csv_columns: '%s' has no column named 'zz': its columns are 'a', 'b'"},
    {"repeated name", "a,a\n1,2\n", 1, {"a"}, NB_ERR_ARG,
     "'%s': column name 'a' appears twice in the header (columns 1 and 2): select it by index"},
    {"header only", "a,b\n", 0, {0}, NB_ERR_FORMAT,
     "nb_csv_read: '%s' has a header line but no data rows"},
    {"header and blank lines", "a,b\n\n  \r\n", 0, {0}, NB_ERR_FORMAT,
     "'%s' has a header line but no data rows"},
    {"empty file", "", 0, {0}, NB_ERR_FORMAT,
     "nb_csv_read: '%s' is empty: expected a header line with column names"},
    {"blank file", "\n \n", 0, {0}, NB_ERR_FORMAT, "'%s' is empty"},
    {"nonexistent file", NULL, 0, {0}, NB_ERR_IO,
     "nb_csv_read: cannot open '%s': No such file or directory"},
    {"unterminated quote", "a,b\n1,\"2\n", 0, {0}, NB_ERR_FORMAT,
     "'%s' line 2, column 2: unterminated quote"},
    {"text after a quote", "a,b\n1,2\n\"3\"x,4\n", 0, {0}, NB_ERR_FORMAT,
     "'%s' line 3, column 1: unexpected 'x' after a closing quote: expected a comma"},
};
#define N_BAD_CSVS ((int)(sizeof bad_csvs / sizeof bad_csvs[0]))

START_TEST(malformed_csvs_are_errors_with_line_and_column)
{
    const bad_csv *b = &bad_csvs[_i];
    if (b->text)
        write_text(b->text);
    nb_csv *csv = nb_csv_read(path);
    nb_tensor *t = NULL;
    if (b->n == 0)
        ck_assert_msg(csv == NULL, "case '%s': the file was read", b->name);
    else {
        ck_assert_msg(csv != NULL, "case '%s': %s", b->name, nb_last_error());
        t = nb_csv_columns(csv, NB_F32, b->n, b->names);
        ck_assert_msg(t == NULL, "case '%s': the columns were selected", b->name);
    }
    char want[1024];
    snprintf(want, sizeof want, b->message, path);
    ck_assert_msg(nb_last_status() == b->status, "case '%s': status %s: %s", b->name,
                  nb_status_name(nb_last_status()), nb_last_error());
    ck_assert_msg(strstr(nb_last_error(), want), "case '%s': expected \"%s\", got \"%s\"",
                  b->name, want, nb_last_error());
    nb_csv_free(csv);
}
END_TEST

START_TEST(a_nul_byte_is_an_error)
{
    write_bytes("a,b\n1,2\n3,\0" "4\n", 13);
    ck_assert_ptr_null(nb_csv_read(path));
    ck_assert_int_eq(nb_last_status(), NB_ERR_FORMAT);
    char want[1024];
    snprintf(want, sizeof want, "nb_csv_read: '%s' line 3 has a NUL byte (at byte 3 of the "
             "line): expected text", path);
    ck_assert_error_contains(want);
}
END_TEST

START_TEST(bad_arguments_are_errors)
{
    ck_assert_ptr_null(nb_csv_read(NULL));
    ck_assert_error_contains("nb_csv_read: path is NULL");
    nb_csv *csv = read_text("a,b\n1,2\n");
    ck_assert_ptr_null(nb_csv_columns_at(csv, NB_F64, 1, (const int[]){2}));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    char want[1024];
    snprintf(want, sizeof want, "nb_csv_columns_at: column index 2 is out of range: '%s' has 2 "
             "columns (0 to 1)", path);
    ck_assert_error_contains(want);
    ck_assert_ptr_null(nb_csv_columns_at(csv, NB_F64, 1, (const int[]){-1}));
    ck_assert_error_contains("column index -1 is out of range");
    ck_assert_ptr_null(nb_csv_columns(csv, NB_F64, 0, (const char *[]){"a"}));
    ck_assert_error_contains("nb_csv_columns: n is 0: expected at least one column");
    ck_assert_ptr_null(nb_csv_columns(csv, (nb_dtype)5, 1, (const char *[]){"a"}));
    ck_assert_error_contains("nb_csv_columns: dtype 5 is not NB_F32 or NB_F64");
    ck_assert_ptr_null(nb_csv_columns(csv, NB_F32, 1, NULL));
    ck_assert_error_contains("nb_csv_columns: the column list is NULL");
    ck_assert_ptr_null(nb_csv_columns(csv, NB_F32, 2, (const char *[]){"a", NULL}));
    ck_assert_error_contains("nb_csv_columns: names[1] is NULL");
    ck_assert_ptr_null(nb_csv_columns(NULL, NB_F32, 1, (const char *[]){"a"}));
    ck_assert_error_contains("nb_csv_columns: csv is NULL");
    ck_assert_int_eq(nb_csv_column_index(csv, "c"), -1);
    ck_assert_error_contains("nb_csv_column_index: ");
    ck_assert_error_contains("has no column named 'c'");
    ck_assert_int_eq(nb_csv_column_index(NULL, "a"), -1);
    ck_assert_error_contains("nb_csv_column_index: csv is NULL");
    nb_csv_free(csv);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("csv");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_add_test(tc, columns_by_name_and_by_index);
    tcase_add_test(tc, quotes_spaces_crlf_bom_and_blank_lines_are_read);
    tcase_add_test(tc, text_columns_are_fine_until_selected);
    tcase_add_loop_test(tc, malformed_csvs_are_errors_with_line_and_column, 0, N_BAD_CSVS);
    tcase_add_test(tc, a_nul_byte_is_an_error);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(csv_suite)
