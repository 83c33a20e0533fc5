/* Tests for log-log PNG plots (src/io/loglog.c). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "nabla_config.h"
#include "nb_test.h"

static const double xs[5] = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5};
static const double ys[5] = {1e-2, 1e-4, 1e-6, 1e-5, 1e-3};

START_TEST(misuse_is_reported)
{
    nb_plot_series one = {"a", xs, ys, 5};
    ck_assert_int_eq(nb_plot_loglog_png(NULL, &one, 1, NULL, NULL, NULL), NB_ERR_NULL);
    ck_assert_int_eq(nb_plot_loglog_png("/tmp/x.png", NULL, 1, NULL, NULL, NULL), NB_ERR_NULL);
    ck_assert_int_eq(nb_plot_loglog_png("/tmp/x.png", &one, 0, NULL, NULL, NULL), NB_ERR_ARG);
    ck_assert_error_contains("nb_plot_loglog_png: 0 series");
    nb_plot_series no_values = {"a", NULL, ys, 5};
    ck_assert_int_eq(nb_plot_loglog_png("/tmp/x.png", &no_values, 1, NULL, NULL, NULL),
                     NB_ERR_ARG);
    const double zeros[2] = {0, -1};
    nb_plot_series undrawable = {"a", xs, zeros, 2};
    ck_assert_int_eq(nb_plot_loglog_png("/tmp/x.png", &undrawable, 1, NULL, NULL, NULL),
                     NB_ERR_ARG);
    ck_assert_error_contains("no point has x > 0 and y > 0");
}
END_TEST

#if NB_HAVE_PLPLOT

START_TEST(png_is_a_900_by_600_picture)
{
    char *dir = nb_test_make_dir("loglog"), path[128];
    snprintf(path, sizeof path, "%s/v.png", dir);
    /* a zero and a NaN are left out, not an error */
    const double y2[5] = {1e-3, 0, NAN, 1e-7, 1e-2};
    nb_plot_series two[2] = {{"f32 #1", xs, ys, 5}, {"f64", xs, y2, 5}};
    ck_assert_int_eq(nb_plot_loglog_png(path, two, 2, "title", "eps", "error"), NB_OK);
    uint32_t width = 0, height = 0;
    ck_assert_msg(nb_test_png_size(path, &width, &height), "%s is not a PNG", path);
    ck_assert_uint_eq(width, 900);
    ck_assert_uint_eq(height, 600);
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_into_a_missing_directory_fails_cleanly)
{
    char *dir = nb_test_make_dir("loglog"), path[128];
    snprintf(path, sizeof path, "%s/missing/v.png", dir);
    nb_plot_series one = {NULL, xs, ys, 5};
    ck_assert_int_eq(nb_plot_loglog_png(path, &one, 1, NULL, NULL, NULL), NB_ERR_IO);
    ck_assert_error_contains("nb_plot_loglog_png: cannot write '");
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    nb_test_remove_dir(dir);
}
END_TEST

#else

START_TEST(png_without_plplot_says_so)
{
    nb_plot_series one = {"a", xs, ys, 5};
    ck_assert_int_eq(nb_plot_loglog_png("/tmp/never.png", &one, 1, NULL, NULL, NULL),
                     NB_ERR_STATE);
    ck_assert_error_contains("nabla was built without PLplot");
    ck_assert_int_ne(access("/tmp/never.png", F_OK), 0);
}
END_TEST

#endif

static Suite *loglog_suite(void)
{
    Suite *s = suite_create("loglog");
    TCase *tc = tcase_create("loglog");
    tcase_add_test(tc, misuse_is_reported);
#if NB_HAVE_PLPLOT
    tcase_add_test(tc, png_is_a_900_by_600_picture);
    tcase_add_test(tc, png_into_a_missing_directory_fails_cleanly);
#else
    tcase_add_test(tc, png_without_plplot_says_so);
#endif
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(loglog_suite)
