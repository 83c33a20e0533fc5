/* Tests for the helpers that prepare examples (src/io/dataset.c). */
#include <inttypes.h>
#include <math.h>

#include "nb_test.h"

static void setup(void) { nb_clear_error(); }

/* [rows, cols] with element (r, c) = 10 * r + c. */
static nb_tensor *numbered(nb_dtype dtype, int64_t rows, int64_t cols)
{
    nb_tensor *t = nb_tensor_zeros(dtype, NB_SHAPE(rows, cols));
    for (int64_t i = 0; i < rows * cols; i++)
        nb_tensor_set(t, i, (double)(10 * (i / cols) + i % cols));
    return t;
}

/* ---- to_categorical ------------------------------------------------------- */

START_TEST(to_categorical_makes_one_hot_rows)
{
    for (int dt = 0; dt < 2; dt++) {
        nb_tensor *labels = nb_tensor_from_doubles(NB_F32, NB_SHAPE(4), (double[]){2, 0, 1, 2});
        nb_tensor *y = nb_to_categorical(labels, 3, (nb_dtype)dt);
        ck_assert_msg(y != NULL, "%s", nb_last_error());
        ck_assert_int_eq(y->dtype, dt);
        ck_assert_int_eq(y->shape[0], 4);
        ck_assert_int_eq(y->shape[1], 3);
        const double want[] = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1};
        for (int i = 0; i < 12; i++)
            ck_assert_double_eq(nb_tensor_get(y, i), want[i]);
        nb_tensor_free(y);
        nb_tensor_free(labels);
    }
    /* a CSV target column is [n, 1] */
    nb_tensor *column = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 1), (double[]){1, 0});
    nb_tensor *y = nb_to_categorical(column, 2, NB_F64);
    ck_assert_ptr_nonnull(y);
    ck_assert_double_eq(nb_tensor_get(y, 1), 1.0);
    ck_assert_double_eq(nb_tensor_get(y, 2), 1.0);
    nb_tensor_free(y);
    nb_tensor_free(column);
}
END_TEST

START_TEST(to_categorical_rejects_bad_labels)
{
    nb_tensor *labels = nb_tensor_from_doubles(NB_F32, NB_SHAPE(3), (double[]){0, 10, 1});
    ck_assert_ptr_null(nb_to_categorical(labels, 10, NB_F32));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_to_categorical: label 10 at index 1 is not a class index: "
                             "expected an integer in [0, 10)");
    nb_tensor_set(labels, 1, 2.5);
    ck_assert_ptr_null(nb_to_categorical(labels, 10, NB_F32));
    ck_assert_error_contains("label 2.5 at index 1");
    nb_tensor_set(labels, 1, -1);
    ck_assert_ptr_null(nb_to_categorical(labels, 10, NB_F32));
    ck_assert_error_contains("label -1 at index 1");
    nb_tensor_set(labels, 1, NAN);
    ck_assert_ptr_null(nb_to_categorical(labels, 10, NB_F32));
    ck_assert_error_contains("label nan at index 1");
    nb_tensor_set(labels, 1, 1);
    ck_assert_ptr_null(nb_to_categorical(labels, 0, NB_F32));
    ck_assert_error_contains("nb_to_categorical: classes is 0: expected at least 1");
    ck_assert_ptr_null(nb_to_categorical(labels, 3, (nb_dtype)4));
    ck_assert_error_contains("nb_to_categorical: dtype 4 is not NB_F32 or NB_F64");
    nb_tensor_free(labels);

    nb_tensor *wide = nb_tensor_zeros(NB_F32, NB_SHAPE(3, 2));
    ck_assert_ptr_null(nb_to_categorical(wide, 3, NB_F32));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("labels are [3, 2]: expected [n] or [n, 1] class indices");
    nb_tensor_free(wide);
    nb_tensor *scalar = nb_tensor_zeros(NB_F32, 0, NULL);
    ck_assert_ptr_null(nb_to_categorical(scalar, 3, NB_F32));
    ck_assert_error_contains("nb_to_categorical: labels is a scalar (rank 0)");
    nb_tensor_free(scalar);

    nb_clear_error();
    ck_assert_ptr_null(nb_to_categorical(NULL, 3, NB_F32));
    ck_assert_error_contains("nb_to_categorical: labels is NULL");
}
END_TEST

START_TEST(a_null_input_keeps_the_earlier_message)
{
    nb_tensor *missing = nb_idx_load(NULL, NB_F32);
    ck_assert_error_contains("nb_idx_load: path is NULL");
    ck_assert_ptr_null(nb_to_categorical(missing, 10, NB_F32));
    ck_assert_ptr_null(nb_take_rows(missing, (int64_t[]){0}, 1));
    ck_assert_int_eq(nb_scale_in_place(missing, 2.0), NB_ERR_NULL);
    ck_assert_error_contains("nb_idx_load: path is NULL");
}
END_TEST

/* ---- scale ------------------------------------------------------------------ */

START_TEST(scale_in_place_multiplies_every_element)
{
    nb_tensor *t = nb_tensor_from_doubles(NB_F32, NB_SHAPE(2, 2), (double[]){0, 51, 255, 3});
    ck_assert_int_eq(nb_scale_in_place(t, 1.0 / 255), NB_OK);
    ck_assert_double_eq(nb_tensor_get(t, 0), 0.0);
    ck_assert_float_eq(nb_tensor_get(t, 1), 0.2f);
    ck_assert_double_eq(nb_tensor_get(t, 2), 1.0);
    nb_tensor *d = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){1.5, -2});
    ck_assert_int_eq(nb_scale_in_place(d, -2), NB_OK);
    ck_assert_double_eq(nb_tensor_get(d, 0), -3.0);
    ck_assert_double_eq(nb_tensor_get(d, 1), 4.0);

    ck_assert_int_eq(nb_scale_in_place(t, INFINITY), NB_ERR_ARG);
    ck_assert_error_contains("nb_scale_in_place: factor is inf: expected a finite number");
    ck_assert_int_eq(nb_scale_in_place(t, NAN), NB_ERR_ARG);
    nb_clear_error();
    ck_assert_int_eq(nb_scale_in_place(NULL, 2), NB_ERR_NULL);
    ck_assert_error_contains("nb_scale_in_place: tensor is NULL");
    nb_tensor_free(t);
    nb_tensor_free(d);
}
END_TEST

START_TEST(in_place_helpers_refuse_op_results)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F64, NB_SHAPE(2, 2));
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *y = nb_square(tape, x);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(nb_scale_in_place(y, 2), NB_ERR_STATE);
    ck_assert_error_contains("nb_scale_in_place: the tensor is the result of op 'square'");
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    ck_assert_int_eq(nb_shuffle_rows(x, y, &rng), NB_ERR_STATE);
    ck_assert_error_contains("nb_shuffle_rows: b is the result of op 'square'");
    /* a leaf on the tape is fine */
    nb_tensor *leaf = nb_tape_tensor(tape, NB_F32, NB_SHAPE(3));
    ck_assert_int_eq(nb_scale_in_place(leaf, 2), NB_OK);
    /* and reading rows of an op result is fine too */
    nb_tensor *row = nb_take_rows(y, (int64_t[]){1}, 1);
    ck_assert_ptr_nonnull(row);
    nb_tensor_free(row);
    nb_tape_reset(tape);
    ck_assert_ptr_null(nb_take_rows(y, (int64_t[]){1}, 1));
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_take_rows: tensor");
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

/* ---- shuffle ------------------------------------------------------------------ */

START_TEST(shuffle_keeps_pairs_together_and_repeats_for_a_seed)
{
    int64_t n = 50;
    nb_tensor *x = numbered(NB_F32, n, 3);
    nb_tensor *y = nb_tensor_zeros(NB_F64, NB_SHAPE(n));
    for (int64_t i = 0; i < n; i++)
        nb_tensor_set(y, i, (double)i);
    nb_rng rng, again;
    nb_rng_seed(&rng, 7);
    nb_rng_seed(&again, 7);
    ck_assert_int_eq(nb_shuffle_rows(x, y, &rng), NB_OK);

    int64_t order[50];
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    nb_rng_shuffle(&again, order, n);
    bool seen[50] = {false}, moved = false;
    for (int64_t i = 0; i < n; i++) {
        int64_t from = (int64_t)nb_tensor_get(y, i);
        ck_assert_int_eq(from, order[i]);
        ck_assert(!seen[from]);
        seen[from] = true;
        moved |= from != i;
        for (int64_t c = 0; c < 3; c++)
            ck_assert_double_eq(nb_tensor_get(x, i * 3 + c), (double)(10 * from + c));
    }
    ck_assert(moved);

    /* one tensor alone, rank 3 */
    nb_tensor *images = nb_tensor_zeros(NB_F64, NB_SHAPE(4, 2, 2));
    for (int64_t i = 0; i < 16; i++)
        nb_tensor_set(images, i, (double)(i / 4));
    ck_assert_int_eq(nb_shuffle_rows(images, NULL, &rng), NB_OK);
    for (int64_t i = 0; i < 16; i++)
        ck_assert_double_eq(nb_tensor_get(images, i), nb_tensor_get(images, i / 4 * 4));
    nb_tensor_free(images);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(shuffle_checks_its_arguments)
{
    nb_tensor *x = numbered(NB_F32, 5, 2);
    nb_tensor *y = nb_tensor_zeros(NB_F32, NB_SHAPE(4));
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    ck_assert_int_eq(nb_shuffle_rows(x, y, &rng), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_shuffle_rows: a is [5, 2] and b is [4]: expected the same "
                             "number of rows");
    ck_assert_int_eq(nb_shuffle_rows(x, NULL, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_shuffle_rows: rng is NULL");
    nb_clear_error();
    ck_assert_int_eq(nb_shuffle_rows(NULL, y, &rng), NB_ERR_NULL);
    ck_assert_error_contains("nb_shuffle_rows: a is NULL");
    nb_tensor *scalar = nb_tensor_zeros(NB_F32, 0, NULL);
    ck_assert_int_eq(nb_shuffle_rows(scalar, NULL, &rng), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_shuffle_rows: a is a scalar (rank 0)");
    nb_tensor_free(scalar);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* ---- split, slice, take ------------------------------------------------------- */

START_TEST(split_rows_copies_head_and_tail)
{
    nb_tensor *t = numbered(NB_F64, 5, 2);
    nb_tensor *head, *tail;
    ck_assert_int_eq(nb_split_rows(t, 3, &head, &tail), NB_OK);
    ck_assert_int_eq(head->shape[0], 3);
    ck_assert_int_eq(head->shape[1], 2);
    ck_assert_int_eq(tail->shape[0], 2);
    ck_assert_double_eq(nb_tensor_get(head, 5), 21.0);
    ck_assert_double_eq(nb_tensor_get(tail, 0), 30.0);
    ck_assert_double_eq(nb_tensor_get(tail, 3), 41.0);
    ck_assert_ptr_null(head->tape);
    ck_assert(head->data != t->data);
    nb_tensor_free(head);
    nb_tensor_free(tail);

    for (int64_t bad = -1; bad <= 5; bad += 6) {
        ck_assert_int_eq(nb_split_rows(t, bad, &head, &tail), NB_ERR_ARG);
        ck_assert_ptr_null(head);
        ck_assert_ptr_null(tail);
    }
    ck_assert_int_eq(nb_split_rows(t, 0, &head, &tail), NB_ERR_ARG);
    ck_assert_error_contains("nb_split_rows: first_n is 0 for a tensor of shape [5, 2]: expected "
                             "1 to 4 so that both parts have rows");
    ck_assert_int_eq(nb_split_rows(t, 2, NULL, &tail), NB_ERR_NULL);
    ck_assert_error_contains("nb_split_rows: head is NULL");
    nb_tensor_free(t);
}
END_TEST

START_TEST(slice_rows_copies_a_batch)
{
    nb_tensor *t = numbered(NB_F32, 6, 3);
    nb_tensor *b = nb_slice_rows(t, 4, 2);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(b->shape[0], 2);
    ck_assert_int_eq(b->shape[1], 3);
    ck_assert_double_eq(nb_tensor_get(b, 0), 40.0);
    ck_assert_double_eq(nb_tensor_get(b, 5), 52.0);
    nb_tensor_free(b);
    ck_assert_ptr_null(nb_slice_rows(t, 5, 2));
    ck_assert_error_contains("nb_slice_rows: rows [5, 5 + 2) are out of range for shape [6, 3]");
    ck_assert_ptr_null(nb_slice_rows(t, -1, 2));
    ck_assert_ptr_null(nb_slice_rows(t, 0, 0));
    ck_assert_ptr_null(nb_slice_rows(t, INT64_MAX, 2));
    nb_tensor_free(t);
}
END_TEST

START_TEST(take_rows_gathers_in_order_with_repeats)
{
    nb_tensor *t = numbered(NB_F64, 4, 2);
    nb_tensor *g = nb_take_rows(t, (int64_t[]){3, 0, 3}, 3);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->shape[0], 3);
    ck_assert_int_eq(g->shape[1], 2);
    const double want[] = {30, 31, 0, 1, 30, 31};
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(nb_tensor_get(g, i), want[i]);
    nb_tensor_free(g);

    nb_tensor *v = nb_tensor_from_doubles(NB_F32, NB_SHAPE(3), (double[]){5, 6, 7});
    g = nb_take_rows(v, (int64_t[]){2}, 1);
    ck_assert_int_eq(g->rank, 1);
    ck_assert_double_eq(nb_tensor_item(g), 7.0);
    nb_tensor_free(g);
    nb_tensor_free(v);

    ck_assert_ptr_null(nb_take_rows(t, (int64_t[]){1, 4}, 2));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_take_rows: rows[1] is 4: out of range for shape [4, 2] "
                             "(expected 0 to 3)");
    ck_assert_ptr_null(nb_take_rows(t, (int64_t[]){-2}, 1));
    ck_assert_error_contains("rows[0] is -2");
    ck_assert_ptr_null(nb_take_rows(t, NULL, 1));
    ck_assert_error_contains("nb_take_rows: rows is NULL");
    ck_assert_ptr_null(nb_take_rows(t, (int64_t[]){0}, 0));
    ck_assert_error_contains("nb_take_rows: n is 0: expected at least one row");
    nb_tensor_free(t);
}
END_TEST

static Suite *dataset_suite(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("dataset");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, to_categorical_makes_one_hot_rows);
    tcase_add_test(tc, to_categorical_rejects_bad_labels);
    tcase_add_test(tc, a_null_input_keeps_the_earlier_message);
    tcase_add_test(tc, scale_in_place_multiplies_every_element);
    tcase_add_test(tc, in_place_helpers_refuse_op_results);
    tcase_add_test(tc, shuffle_keeps_pairs_together_and_repeats_for_a_seed);
    tcase_add_test(tc, shuffle_checks_its_arguments);
    tcase_add_test(tc, split_rows_copies_head_and_tail);
    tcase_add_test(tc, slice_rows_copies_a_batch);
    tcase_add_test(tc, take_rows_gathers_in_order_with_repeats);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(dataset_suite)
