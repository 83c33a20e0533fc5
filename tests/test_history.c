/* Tests for history files: CSV and PNG learning curves (src/io/history.c),
 * and the atomic writes beneath them (src/io/atomic.c). Histories are built
 * by hand, so these tests do not depend on fit. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nabla_config.h"
#include "nb_test.h"

/* ---- helpers ------------------------------------------------------------ */

static void put(nb_logs *logs, const char *name, double value)
{
    snprintf(logs->names[logs->n], sizeof logs->names[0], "%s", name);
    logs->values[logs->n++] = value;
}

/* A history of `epochs` epochs with loss, accuracy and their val_ twins. */
static nb_history make_history(int epochs)
{
    nb_history h = {.epochs = epochs, .capacity = epochs ? epochs : 1};
    h.logs = calloc((size_t)h.capacity, sizeof *h.logs);
    for (int e = 0; e < epochs; e++) {
        put(&h.logs[e], "loss", 1.0 / (e + 1));
        put(&h.logs[e], "accuracy", 0.5 + 0.125 * e);
        put(&h.logs[e], "val_loss", 1.5 / (e + 1));
        put(&h.logs[e], "val_accuracy", 0.25 + 0.125 * e);
    }
    return h;
}

/* The whole file as a string (caller frees), or NULL. */
static char *read_file(const char *path)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    fclose(in);
    buf[n] = '\0';
    return strdup(buf);
}

static void write_text(const char *path, const char *text)
{
    FILE *out = fopen(path, "w");
    ck_assert_ptr_nonnull(out);
    fputs(text, out);
    fclose(out);
}

/* ---- CSV ---------------------------------------------------------------- */

START_TEST(csv_has_a_header_and_a_row_per_epoch)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/history.csv", dir);
    nb_history h = make_history(3);
    ck_assert_int_eq(nb_history_write_csv(&h, path), NB_OK);
    char *text = read_file(path);
    ck_assert_str_eq(text, "epoch,loss,accuracy,val_loss,val_accuracy\n"
                           "1,1,0.5,1.5,0.25\n"
                           "2,0.5,0.625,0.75,0.375\n"
                           "3,0.3333333333333333,0.75,0.5,0.5\n");
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    free(text);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(csv_orders_columns_as_keras)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/h.csv", dir);
    nb_history h = {.epochs = 1, .capacity = 1, .logs = calloc(1, sizeof(nb_logs))};
    put(&h.logs[0], "val_mae", 4);
    put(&h.logs[0], "val_loss", 3);
    put(&h.logs[0], "mae", 2);
    put(&h.logs[0], "loss", 1);
    put(&h.logs[0], "lr", 0.001);
    ck_assert_int_eq(nb_history_write_csv(&h, path), NB_OK);
    char *text = read_file(path);
    ck_assert_str_eq(text, "epoch,loss,mae,lr,val_loss,val_mae\n1,1,2,0.001,3,4\n");
    free(text);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(csv_leaves_missing_values_empty)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/h.csv", dir);
    nb_history h = {.epochs = 2, .capacity = 2, .logs = calloc(2, sizeof(nb_logs))};
    put(&h.logs[0], "loss", 0.25);
    put(&h.logs[1], "loss", NAN);
    put(&h.logs[1], "val_loss", 0.5);
    ck_assert_int_eq(nb_history_write_csv(&h, path), NB_OK);
    char *text = read_file(path);
    ck_assert_str_eq(text, "epoch,loss,val_loss\n1,0.25,\n2,nan,0.5\n");
    free(text);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(csv_replaces_an_existing_file)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/h.csv", dir);
    write_text(path, "old contents\n");
    nb_history h = make_history(1);
    ck_assert_int_eq(nb_history_write_csv(&h, path), NB_OK);
    char *text = read_file(path);
    ck_assert_str_eq(text, "epoch,loss,accuracy,val_loss,val_accuracy\n1,1,0.5,1.5,0.25\n");
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    free(text);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(csv_into_a_missing_directory_fails_cleanly)
{
    char *dir = nb_test_make_dir("history"), path[160];
    snprintf(path, sizeof path, "%s/no/such/dir/h.csv", dir);
    nb_history h = make_history(2);
    ck_assert_int_eq(nb_history_write_csv(&h, path), NB_ERR_IO);
    ck_assert_error_contains("nb_history_write_csv: cannot write '");
    ck_assert_error_contains(path);
    ck_assert_error_contains(strerror(ENOENT));
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(csv_into_a_read_only_directory_fails_cleanly)
{
    /* root ignores directory permissions: nothing to test then */
    if (geteuid() == 0)
        return;
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/h.csv", dir);
    ck_assert_int_eq(chmod(dir, 0555), 0);
    nb_history h = make_history(2);
    ck_assert_int_eq(nb_history_write_csv(&h, path), NB_ERR_IO);
    ck_assert_error_contains(path);
    ck_assert_error_contains(strerror(EACCES));
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    chmod(dir, 0755);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(csv_over_a_directory_leaves_no_temporary_file)
{
    /* the temporary file is written, then rename fails: it must go */
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/taken", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    nb_history h = make_history(2);
    ck_assert_int_eq(nb_history_write_csv(&h, path), NB_ERR_IO);
    ck_assert_error_contains(path);
    ck_assert_error_contains(strerror(EISDIR));
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    free(h.logs);
    rmdir(path);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(empty_history_is_an_error)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/h.csv", dir);
    nb_history h = make_history(0);
    ck_assert_int_eq(nb_history_write_csv(&h, path), NB_ERR_ARG);
    ck_assert_error_contains("nb_history_write_csv: the history has 0 epochs: nothing to write");
    ck_assert_int_eq(nb_history_plot_png(&h, path, NULL), NB_ERR_ARG);
    ck_assert_error_contains("nb_history_plot_png: the history has 0 epochs");
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    ck_assert_int_eq(nb_history_write_csv(NULL, path), NB_ERR_NULL);
    ck_assert_error_contains("nb_history_write_csv: history is NULL");
    ck_assert_int_eq(nb_history_write_csv(&h, NULL), NB_ERR_NULL);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

/* ---- PNG ---------------------------------------------------------------- */

#if NB_HAVE_PLPLOT

START_TEST(png_is_a_1200_by_500_picture)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/curves.png", dir);
    nb_history h = make_history(12);
    ck_assert_int_eq(nb_history_plot_png(&h, path, "test #1"), NB_OK);
    uint32_t width = 0, height = 0;
    ck_assert_msg(nb_test_png_size(path, &width, &height), "%s is not a PNG", path);
    ck_assert_uint_eq(width, 1200);
    ck_assert_uint_eq(height, 500);
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_can_be_drawn_again_and_again)
{
    /* PLplot keeps global streams: each call must start and end its own */
    char *dir = nb_test_make_dir("history"), path[128];
    nb_history h = make_history(5);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/curves%d.png", dir, i);
        ck_assert_int_eq(nb_history_plot_png(&h, path, i % 2 ? NULL : "again"), NB_OK);
        uint32_t width = 0, height = 0;
        ck_assert(nb_test_png_size(path, &width, &height));
        ck_assert_uint_eq(width, 1200);
    }
    ck_assert_int_eq(nb_test_count_entries(dir), 3);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_without_accuracy_or_validation_has_one_panel)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/loss.png", dir);
    nb_history h = {.epochs = 4, .capacity = 4, .logs = calloc(4, sizeof(nb_logs))};
    for (int e = 0; e < 4; e++)
        put(&h.logs[e], "loss", 1.0 / (e + 1));
    ck_assert_int_eq(nb_history_plot_png(&h, path, NULL), NB_OK);
    uint32_t width = 0, height = 0;
    ck_assert(nb_test_png_size(path, &width, &height));
    ck_assert_uint_eq(height, 500);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_of_a_single_epoch_works)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/one.png", dir);
    nb_history h = make_history(1);
    ck_assert_int_eq(nb_history_plot_png(&h, path, "one epoch"), NB_OK);
    uint32_t width = 0, height = 0;
    ck_assert(nb_test_png_size(path, &width, &height));
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_into_a_missing_directory_fails_cleanly)
{
    char *dir = nb_test_make_dir("history"), path[160];
    snprintf(path, sizeof path, "%s/missing/curves.png", dir);
    nb_history h = make_history(3);
    ck_assert_int_eq(nb_history_plot_png(&h, path, NULL), NB_ERR_IO);
    ck_assert_error_contains("nb_history_plot_png: cannot write '");
    ck_assert_error_contains(path);
    ck_assert_error_contains(strerror(ENOENT));
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_over_a_directory_leaves_no_temporary_file)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/taken.png", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    nb_history h = make_history(3);
    ck_assert_int_eq(nb_history_plot_png(&h, path, NULL), NB_ERR_IO);
    ck_assert_error_contains(path);
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    free(h.logs);
    rmdir(path);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_needs_loss_or_accuracy)
{
    char *dir = nb_test_make_dir("history"), path[128];
    snprintf(path, sizeof path, "%s/none.png", dir);
    nb_history h = {.epochs = 1, .capacity = 1, .logs = calloc(1, sizeof(nb_logs))};
    put(&h.logs[0], "mae", 0.5);
    ck_assert_int_eq(nb_history_plot_png(&h, path, NULL), NB_ERR_ARG);
    ck_assert_error_contains("nb_history_plot_png: nothing to plot");
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    free(h.logs);
    nb_test_remove_dir(dir);
}
END_TEST

#else

START_TEST(png_without_plplot_says_so)
{
    nb_history h = make_history(2);
    ck_assert_int_eq(nb_history_plot_png(&h, "/tmp/never.png", NULL), NB_ERR_STATE);
    ck_assert_error_contains("nabla was built without PLplot");
    ck_assert_int_ne(access("/tmp/never.png", F_OK), 0);
    free(h.logs);
}
END_TEST

#endif

static Suite *history_suite(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("csv");
    tcase_add_test(tc, csv_has_a_header_and_a_row_per_epoch);
    tcase_add_test(tc, csv_orders_columns_as_keras);
    tcase_add_test(tc, csv_leaves_missing_values_empty);
    tcase_add_test(tc, csv_replaces_an_existing_file);
    tcase_add_test(tc, csv_into_a_missing_directory_fails_cleanly);
    tcase_add_test(tc, csv_into_a_read_only_directory_fails_cleanly);
    tcase_add_test(tc, csv_over_a_directory_leaves_no_temporary_file);
    tcase_add_test(tc, empty_history_is_an_error);
    suite_add_tcase(s, tc);
    tc = tcase_create("png");
#if NB_HAVE_PLPLOT
    tcase_add_test(tc, png_is_a_1200_by_500_picture);
    tcase_add_test(tc, png_can_be_drawn_again_and_again);
    tcase_add_test(tc, png_without_accuracy_or_validation_has_one_panel);
    tcase_add_test(tc, png_of_a_single_epoch_works);
    tcase_add_test(tc, png_into_a_missing_directory_fails_cleanly);
    tcase_add_test(tc, png_over_a_directory_leaves_no_temporary_file);
    tcase_add_test(tc, png_needs_loss_or_accuracy);
#else
    tcase_add_test(tc, png_without_plplot_says_so);
#endif
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(history_suite)
