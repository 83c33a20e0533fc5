/* Tests for pictures of activations (src/io/activations.c) and of any
 * tensor as a grid (src/io/grid.c). The model is small and seeded:
 * input [4, 4] -> Flatten -> Dense 8 relu -> Dense 3 softmax. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/grid.h"
#include "nabla_config.h"
#include "nb_test.h"

/* ---- helpers ------------------------------------------------------------ */

static nb_model *make_model(bool build)
{
    nb_model *model = nb_sequential();
    ck_assert_ptr_nonnull(model);
    ck_assert_int_eq(nb_model_set_seed(model, 7), NB_OK);
    ck_assert_int_eq(nb_model_set_input_shape(model, NB_SHAPE(4, 4)), NB_OK);
    ck_assert_int_eq(nb_model_add(model, nb_flatten_layer()), NB_OK);
    ck_assert_int_eq(nb_model_add(model, nb_dense(8, NB_RELU)), NB_OK);
    ck_assert_int_eq(nb_model_add(model, nb_dense(3, NB_SOFTMAX)), NB_OK);
    if (build)
        ck_assert_int_eq(nb_model_build(model), NB_OK);
    return model;
}

/* A [4, 4] image: a bright diagonal on a dark ground. */
static nb_tensor *make_image(nb_dtype dtype, int rank, const int64_t *shape)
{
    double v[16];
    for (int i = 0; i < 16; i++)
        v[i] = i / 4 == i % 4 ? 1.0 : 0.1 * (i % 3);
    nb_tensor *t = nb_tensor_from_doubles(dtype, rank, shape, v);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* ---- grid shapes (no PLplot needed) -------------------------------------- */

static void assert_shape(int64_t n, int64_t rows, int64_t cols)
{
    int64_t r = 0, c = 0;
    nb__grid_shape(n, &r, &c);
    ck_assert_msg(r == rows && c == cols, "%lld units: expected %lld x %lld, got %lld x %lld",
                  (long long)n, (long long)rows, (long long)cols, (long long)r, (long long)c);
}

START_TEST(grid_shape_is_near_square)
{
    assert_shape(128, 8, 16);
    assert_shape(64, 8, 8);
    assert_shape(784, 28, 28);
    assert_shape(100, 10, 10);
    assert_shape(512, 16, 32);
}
END_TEST

START_TEST(grid_shape_of_few_units_is_a_column)
{
    assert_shape(10, 10, 1);
    assert_shape(3, 3, 1);
    assert_shape(1, 1, 1);
    assert_shape(16, 16, 1);
}
END_TEST

START_TEST(grid_shape_of_a_prime_leaves_the_last_row_short)
{
    assert_shape(97, 10, 10);  /* 97 cells of 100 */
    assert_shape(17, 4, 5);    /* 17 of 20 */
}
END_TEST

START_TEST(grid_range_includes_zero)
{
    double relu[3] = {0.5, 2.0, 1.0}, signed_v[3] = {-1.0, 0.5, 3.0}, zeros[2] = {0, 0};
    nb_grid_panel p = {.values = relu, .n = 3};
    nb__grid_range(&p, false);
    ck_assert(p.lo == 0 && p.hi == 2.0 && p.min == 0.5 && p.max == 2.0);
    p = (nb_grid_panel){.values = signed_v, .n = 3};
    nb__grid_range(&p, false);
    ck_assert(p.lo == -1.0 && p.hi == 3.0);
    p = (nb_grid_panel){.values = relu, .n = 1};
    nb__grid_range(&p, true);
    ck_assert(p.lo == 0 && p.hi == 1); /* probabilities on 0..1 */
    p = (nb_grid_panel){.values = zeros, .n = 2};
    nb__grid_range(&p, false);
    ck_assert(p.lo == 0 && p.hi == 1);
}
END_TEST

START_TEST(page_size_wraps_after_four_panels)
{
    int w = 0, h = 0;
    nb__grid_page_size(3, true, &w, &h);
    ck_assert_int_eq(w, 1200);
    ck_assert_int_eq(h, 496);
    nb__grid_page_size(6, false, &w, &h);
    ck_assert_int_eq(w, 1600);
    ck_assert_int_eq(h, 880);
}
END_TEST

/* ---- errors (checked before any drawing) --------------------------------- */

START_TEST(null_arguments_are_named)
{
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    ck_assert_int_eq(nb_activations_plot_png(NULL, image, "/tmp/x.png", NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_activations_plot_png: model is NULL");
    ck_assert_int_eq(nb_activations_plot_png(model, NULL, "/tmp/x.png", NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_activations_plot_png: input is NULL");
    ck_assert_int_eq(nb_activations_plot_png(model, image, NULL, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_activations_plot_png: path is NULL");
    ck_assert_int_eq(nb_tensor_plot_grid_png(NULL, 0, 0, "/tmp/x.png", NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_tensor_plot_grid_png: values is NULL");
    nb_tensor_free(image);
    nb_model_free(model);
}
END_TEST

START_TEST(unbuilt_model_is_an_error)
{
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/act.png", dir);
    nb_model *model = make_model(false);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    ck_assert_int_eq(nb_activations_plot_png(model, image, path, NULL), NB_ERR_STATE);
    ck_assert_error_contains("nb_activations_plot_png: the model is not built");
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    nb_tensor_free(image);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(input_of_another_shape_is_an_error)
{
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/act.png", dir);
    nb_model *model = make_model(true);
    nb_tensor *wrong = make_image(NB_F32, NB_SHAPE(2, 8));
    ck_assert_int_eq(nb_activations_plot_png(model, wrong, path, NULL), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_activations_plot_png: input is [2, 8]: expected one sample "
                             "shaped like the model's input, [4, 4] (or [1, 4, 4])");
    nb_tensor_free(wrong);
    /* a batch of two is not one sample */
    nb_tensor *two = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 4, 4));
    ck_assert_int_eq(nb_activations_plot_png(model, two, path, NULL), NB_ERR_SHAPE);
    ck_assert_error_contains("input is [2, 4, 4]");
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    nb_tensor_free(two);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(class_names_must_match_the_last_layer)
{
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/act.png", dir);
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    const char *names[2] = {"cat", "dog"};
    nb_activation_plot_options o = {.class_names = names, .n_class_names = 2};
    ck_assert_int_eq(nb_activations_plot_png(model, image, path, &o), NB_ERR_ARG);
    ck_assert_error_contains("nb_activations_plot_png: 2 class names for the 3 units of the "
                             "last layer 'dense_1'");
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    nb_tensor_free(image);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(grid_that_does_not_fit_the_values_is_an_error)
{
    nb_tensor *t = nb_tensor_zeros(NB_F32, NB_SHAPE(12));
    ck_assert_int_eq(nb_tensor_plot_grid_png(t, 5, 2, "/tmp/never.png", NULL), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_tensor_plot_grid_png: a 5 x 2 grid does not fit the 12 values "
                             "of a [12] tensor");
    ck_assert_int_eq(nb_tensor_plot_grid_png(t, -3, -4, "/tmp/never.png", NULL), NB_ERR_SHAPE);
    ck_assert_int_ne(access("/tmp/never.png", F_OK), 0);
    nb_tensor_free(t);
}
END_TEST

/* ---- PNG ---------------------------------------------------------------- */

#if NB_HAVE_PLPLOT

static void assert_png(const char *path, uint32_t width, uint32_t height)
{
    uint32_t w = 0, h = 0;
    ck_assert_msg(nb_test_png_size(path, &w, &h), "%s is not a PNG", path);
    ck_assert_msg(w == width && h == height, "%s: expected %u x %u, got %u x %u", path, width,
                  height, w, h);
}

START_TEST(png_has_input_and_two_dense_panels)
{
    /* input, dense, dense_1 (flatten is left out): 3 panels under a title */
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/act.png", dir);
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    const char *names[3] = {"circle", "square", "#3 triangle"};
    nb_activation_plot_options o = {.title = "tiny model #1", .class_names = names,
                                    .n_class_names = 3};
    ck_assert_int_eq(nb_activations_plot_png(model, image, path, &o), NB_OK);
    assert_png(path, 1200, 496);
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    nb_tensor_free(image);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_with_all_layers_shows_flatten_too)
{
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/act.png", dir);
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    nb_activation_plot_options o = {.all_layers = true};
    ck_assert_int_eq(nb_activations_plot_png(model, image, path, &o), NB_OK);
    assert_png(path, 1600, 440);
    nb_tensor_free(image);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_takes_a_batch_of_one_in_either_dtype)
{
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/act.png", dir);
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F64, NB_SHAPE(1, 4, 4));
    ck_assert_int_eq(nb_activations_plot_png(model, image, path, NULL), NB_OK);
    assert_png(path, 1200, 440);
    nb_tensor_free(image);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_leaves_model_and_input_as_they_were)
{
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/act.png", dir);
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(1, 4, 4));
    nb_tensor *before = nb_model_predict(model, image, 1);
    ck_assert_int_eq(nb_activations_plot_png(model, image, path, NULL), NB_OK);
    nb_tensor *after = nb_model_predict(model, image, 1);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq(nb_tensor_get(before, i), nb_tensor_get(after, i));
    ck_assert_double_eq(nb_tensor_get(image, 0), 1.0);
    ck_assert_ptr_null(image->grad);
    nb_tensor_free(before);
    nb_tensor_free(after);
    nb_tensor_free(image);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_of_a_deep_model_wraps_its_panels)
{
    /* input [6] (not a picture) and five layers: 6 panels, two rows */
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/deep.png", dir);
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(6));
    nb_model_add(model, nb_dense(20, NB_TANH));
    nb_model_add(model, nb_dropout(0.5));
    nb_model_add(model, nb_dense(17, NB_LINEAR));
    nb_model_add(model, nb_activation_layer(NB_SIGMOID));
    nb_model_add(model, nb_dense(5, NB_RELU));
    nb_model_add(model, nb_dense(1, NB_SIGMOID));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    nb_tensor *x = nb_tensor_full(NB_F32, NB_SHAPE(6), 0.5);
    /* dropout is left out: input and five layers */
    ck_assert_int_eq(nb_activations_plot_png(model, x, path, NULL), NB_OK);
    assert_png(path, 1600, 880);
    nb_tensor_free(x);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_can_be_drawn_again_and_again)
{
    /* PLplot keeps global streams: each call must start and end its own,
     * and history curves share the machinery */
    char *dir = nb_test_make_dir("activations"), path[128];
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/act%d.png", dir, i);
        ck_assert_int_eq(nb_activations_plot_png(model, image, path, NULL), NB_OK);
        assert_png(path, 1200, 440);
    }
    nb_history h = {.epochs = 1, .capacity = 1, .logs = calloc(1, sizeof(nb_logs))};
    h.logs[0] = (nb_logs){.n = 1, .names = {"loss"}, .values = {0.5}};
    snprintf(path, sizeof path, "%s/curves.png", dir);
    ck_assert_int_eq(nb_history_plot_png(&h, path, NULL), NB_OK);
    assert_png(path, 1200, 500);
    ck_assert_int_eq(nb_test_count_entries(dir), 4);
    free(h.logs);
    nb_tensor_free(image);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_into_a_missing_directory_fails_cleanly)
{
    char *dir = nb_test_make_dir("activations"), path[160];
    snprintf(path, sizeof path, "%s/missing/act.png", dir);
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    ck_assert_int_eq(nb_activations_plot_png(model, image, path, NULL), NB_ERR_IO);
    ck_assert_error_contains("nb_activations_plot_png: cannot write '");
    ck_assert_error_contains(path);
    ck_assert_error_contains(strerror(ENOENT));
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    nb_tensor_free(image);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(png_over_a_directory_leaves_no_temporary_file)
{
    /* the picture is drawn, then the rename fails: the temporary file goes */
    char *dir = nb_test_make_dir("activations"), path[128];
    snprintf(path, sizeof path, "%s/taken.png", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    ck_assert_int_eq(nb_activations_plot_png(model, image, path, NULL), NB_ERR_IO);
    ck_assert_error_contains(path);
    ck_assert_int_eq(nb_test_count_entries(dir), 1);
    nb_tensor_free(image);
    nb_model_free(model);
    rmdir(path);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(tensor_grid_png_is_one_panel)
{
    char *dir = nb_test_make_dir("activations"), path[128];
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    nb_tensor *t = nb_tensor_rand_normal(NB_F64, NB_SHAPE(128), 0, 1, &rng);
    nb_tensor_set_name(t, "weights");
    snprintf(path, sizeof path, "%s/grid.png", dir);
    ck_assert_int_eq(nb_tensor_plot_grid_png(t, 0, 0, path, "128 normal values"), NB_OK);
    assert_png(path, 400, 496);
    snprintf(path, sizeof path, "%s/strip.png", dir);
    ck_assert_int_eq(nb_tensor_plot_grid_png(t, 1, 128, path, NULL), NB_OK);
    assert_png(path, 400, 440);
    ck_assert_int_eq(nb_test_count_entries(dir), 2);
    nb_tensor_free(t);
    nb_test_remove_dir(dir);
}
END_TEST

#else

START_TEST(png_without_plplot_says_so)
{
    nb_model *model = make_model(true);
    nb_tensor *image = make_image(NB_F32, NB_SHAPE(4, 4));
    ck_assert_int_eq(nb_activations_plot_png(model, image, "/tmp/never.png", NULL), NB_ERR_STATE);
    ck_assert_error_contains("nb_activations_plot_png: cannot write '/tmp/never.png'");
    ck_assert_error_contains("nabla was built without PLplot");
    ck_assert_int_eq(nb_tensor_plot_grid_png(image, 0, 0, "/tmp/never.png", NULL), NB_ERR_STATE);
    ck_assert_error_contains("nabla was built without PLplot");
    ck_assert_int_ne(access("/tmp/never.png", F_OK), 0);
    nb_tensor_free(image);
    nb_model_free(model);
}
END_TEST

#endif

static Suite *activations_suite(void)
{
    Suite *s = suite_create("activations");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, grid_shape_is_near_square);
    tcase_add_test(tc, grid_shape_of_few_units_is_a_column);
    tcase_add_test(tc, grid_shape_of_a_prime_leaves_the_last_row_short);
    tcase_add_test(tc, grid_range_includes_zero);
    tcase_add_test(tc, page_size_wraps_after_four_panels);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, null_arguments_are_named);
    tcase_add_test(tc, unbuilt_model_is_an_error);
    tcase_add_test(tc, input_of_another_shape_is_an_error);
    tcase_add_test(tc, class_names_must_match_the_last_layer);
    tcase_add_test(tc, grid_that_does_not_fit_the_values_is_an_error);
    suite_add_tcase(s, tc);
    tc = tcase_create("png");
#if NB_HAVE_PLPLOT
    tcase_add_test(tc, png_has_input_and_two_dense_panels);
    tcase_add_test(tc, png_with_all_layers_shows_flatten_too);
    tcase_add_test(tc, png_takes_a_batch_of_one_in_either_dtype);
    tcase_add_test(tc, png_leaves_model_and_input_as_they_were);
    tcase_add_test(tc, png_of_a_deep_model_wraps_its_panels);
    tcase_add_test(tc, png_can_be_drawn_again_and_again);
    tcase_add_test(tc, png_into_a_missing_directory_fails_cleanly);
    tcase_add_test(tc, png_over_a_directory_leaves_no_temporary_file);
    tcase_add_test(tc, tensor_grid_png_is_one_panel);
#else
    tcase_add_test(tc, png_without_plplot_says_so);
#endif
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(activations_suite)
