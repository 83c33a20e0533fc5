/* Tests for the tape, backward and op application (src/autograd). */
#include <math.h>
#include <stdlib.h>

#include "nb_test.h"

START_TEST(backward_of_product_gives_each_factor)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *a = nb_tensor_full(NB_F64, 0, NULL, 3.0);
    nb_tensor *b = nb_tensor_full(NB_F64, 0, NULL, -2.0);
    nb_tensor_set_requires_grad(a, true);
    nb_tensor_set_requires_grad(b, true);
    nb_tensor *y = nb_mul(tape, a, b);
    ck_assert_int_eq(nb_backward(y), NB_OK);
    ck_assert_double_eq(nb_tensor_grad_get(a, 0), -2.0);
    ck_assert_double_eq(nb_tensor_grad_get(b, 0), 3.0);
    nb_tape_free(tape);
    nb_tensor_free(a);
    nb_tensor_free(b);
}
END_TEST

START_TEST(fan_out_accumulates_gradients)
{
    /* y = x*x + 3x, dy/dx = 2x + 3 = 7 at x = 2 */
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_full(NB_F64, 0, NULL, 2.0);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *y = nb_add(tape, nb_mul(tape, x, x), nb_scale(tape, x, 3.0));
    ck_assert_int_eq(nb_backward(y), NB_OK);
    ck_assert_double_eq(nb_tensor_grad_get(x, 0), 7.0);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(leaf_gradients_accumulate_until_zeroed)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_full(NB_F64, 0, NULL, 2.0);
    nb_tensor_set_requires_grad(x, true);
    for (int step = 0; step < 2; step++) {
        nb_backward(nb_scale(tape, x, 5.0));
        nb_tape_reset(tape);
    }
    ck_assert_double_eq(nb_tensor_grad_get(x, 0), 10.0);
    nb_tensor_zero_grad(x);
    ck_assert_double_eq(nb_tensor_grad_get(x, 0), 0.0);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(second_backward_on_same_tape_does_not_double_intermediates)
{
    /* y = (2x)^2; dy/dx = 8x = 8 at x = 1; twice gives 16, not more */
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_full(NB_F64, 0, NULL, 1.0);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *y = nb_square(tape, nb_scale(tape, x, 2.0));
    nb_backward(y);
    nb_backward(y);
    ck_assert_double_eq(nb_tensor_grad_get(x, 0), 16.0);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(inference_mode_records_nothing)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(2, 2));
    nb_tensor_set_requires_grad(x, true);
    ck_assert(nb_tape_set_grad_enabled(tape, false));
    nb_tensor *y = nb_relu(tape, x);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(nb_tape_size(tape), 0);
    ck_assert(!y->requires_grad);
    ck_assert_int_eq(nb_backward(nb_sum(tape, y)), NB_ERR_STATE);
    ck_assert_error_contains("nb_backward: the tensor does not require a gradient");
    nb_tape_set_grad_enabled(tape, true);
    nb_relu(tape, x);
    ck_assert_int_eq(nb_tape_size(tape), 1);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(null_tape_gives_caller_owned_results)
{
    nb_tensor *x = nb_tensor_full(NB_F32, NB_SHAPE(3), -1.0);
    nb_tensor *y = nb_relu(NULL, x);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_null(y->tape);
    ck_assert_double_eq(nb_tensor_get(y, 2), 0.0);
    nb_tensor_free(y);
    nb_tensor_free(x);
}
END_TEST

START_TEST(detach_stops_gradients)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_full(NB_F64, 0, NULL, 3.0);
    nb_tensor_set_requires_grad(x, true);
    /* y = x * detach(x): dy/dx = detach(x) = 3 */
    nb_tensor *y = nb_mul(tape, x, nb_detach(tape, x));
    nb_backward(y);
    ck_assert_double_eq(nb_tensor_grad_get(x, 0), 3.0);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(reset_keeps_memory_and_parameters)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *w = nb_tensor_ones(NB_F32, NB_SHAPE(64, 64));
    nb_tensor_set_requires_grad(w, true);
    nb_backward(nb_sum(tape, nb_matmul(tape, w, w)));
    size_t bytes = nb_tape_arena_bytes(tape);
    for (int step = 0; step < 5; step++) {
        nb_tape_reset(tape);
        ck_assert_int_eq(nb_tape_size(tape), 0);
        nb_backward(nb_sum(tape, nb_matmul(tape, w, w)));
    }
    ck_assert_uint_eq(nb_tape_arena_bytes(tape), bytes);
    ck_assert_double_eq(nb_tensor_get(w, 0), 1.0);
    nb_tape_free(tape);
    nb_tensor_free(w);
}
END_TEST

START_TEST(backward_from_non_scalar_needs_a_gradient)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F64, NB_SHAPE(2, 3));
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *y = nb_scale(tape, x, 2.0);
    ck_assert_int_eq(nb_backward(y), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_backward: loss has shape [2, 3] (6 elements): expected a single element");
    nb_tensor *g = nb_tensor_full(NB_F64, NB_SHAPE(2, 3), 0.5);
    ck_assert_int_eq(nb_backward_from(y, g), NB_OK);
    ck_assert_double_eq(nb_tensor_grad_get(x, 4), 1.0);
    nb_tensor *wrong = nb_tensor_ones(NB_F64, NB_SHAPE(3, 2));
    ck_assert_int_eq(nb_backward_from(y, wrong), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_backward_from: output is [2, 3] but grad is [3, 2]");
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(g);
    nb_tensor_free(wrong);
}
END_TEST

START_TEST(use_after_reset_is_reported)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(2));
    nb_tensor *y = nb_relu(tape, x);
    nb_tensor_set_name(y, "hidden");
    nb_tape_reset(tape);
    ck_assert_ptr_null(nb_relu(tape, y));
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_relu: tensor 'hidden' was freed by nb_tape_reset");
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

/* found by fuzz_api: the seed's values were read from the rewound arena */
START_TEST(backward_from_a_reset_gradient_is_reported)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F64, NB_SHAPE(2));
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *seed = nb_detach(tape, x);
    nb_tensor_set_name(seed, "seed");
    nb_tape_reset(tape);
    ck_assert_int_eq(nb_backward_from(x, seed), NB_ERR_STATE);
    ck_assert_error_contains("nb_backward_from: tensor 'seed' was freed by nb_tape_reset");
    ck_assert_ptr_null(x->grad);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(null_input_keeps_the_first_message)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *a = nb_tensor_ones(NB_F32, NB_SHAPE(2, 3));
    nb_tensor *b = nb_tensor_ones(NB_F32, NB_SHAPE(4, 5));
    nb_tensor *y = nb_relu(tape, nb_sigmoid(tape, nb_matmul(tape, a, b)));
    ck_assert_ptr_null(y);
    ck_assert_error_contains("nb_matmul: inner dimensions differ: a is [2, 3], b is [4, 5]");
    nb_clear_error();
    ck_assert_ptr_null(nb_relu(tape, NULL));
    ck_assert_error_contains("nb_relu: input 0 is NULL");
    nb_tape_free(tape);
    nb_tensor_free(a);
    nb_tensor_free(b);
}
END_TEST

START_TEST(inputs_from_another_tape_are_rejected)
{
    nb_tape *t1 = nb_tape_new(), *t2 = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(2));
    nb_tensor *y = nb_relu(t1, x);
    ck_assert_ptr_null(nb_relu(t2, y));
    ck_assert_error_contains("nb_relu: input 0 belongs to another tape");
    nb_tape_free(t1);
    nb_tape_free(t2);
    nb_tensor_free(x);
}
END_TEST

START_TEST(print_lists_nodes_in_order)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(2, 3));
    nb_tensor *w = nb_tensor_ones(NB_F32, NB_SHAPE(3, 4));
    nb_tensor_set_name(x, "x");
    nb_tensor_set_name(w, "w");
    nb_tensor_set_requires_grad(w, true);
    nb_relu(tape, nb_matmul(tape, x, w));
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    nb_tape_print(tape, out);
    fclose(out);
    ck_assert_msg(strstr(buf, "tape: 2 nodes") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "#0   matmul         (x [2, 3], w [3, 4]) -> [2, 4] f32") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "#1   relu           (#0 [2, 4]) -> [2, 4] f32") != NULL, "%s", buf);
    free(buf);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(w);
}
END_TEST

/* An op whose forward writes nothing: its output shows what nb_op_apply
 * put there before forward ran. */
static nb_status writes_nothing(nb_node *node)
{
    (void)node;
    return NB_OK;
}

START_TEST(outputs_are_zeroed_unless_the_op_overwrites_them)
{
    static const nb_op untouched_op = {
        .name = "untouched", .n_inputs = 1, .infer = nb_infer_same_as_input,
        .forward = writes_nothing,
    };
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(64));
    for (int step = 0; step < 2; step++) {
        /* step 1 reuses the arena memory that step 0's exp output filled */
        nb_tensor *e = nb_exp(tape, x);
        ck_assert_ptr_nonnull(e);
        ck_assert_double_eq_tol(nb_tensor_get(e, 63), exp(1.0), 1e-6);
        nb_tape_reset(tape);
        nb_tensor *out = nb_op_apply(tape, &untouched_op, 1, &x, NULL, 0);
        ck_assert_ptr_nonnull(out);
        for (int64_t i = 0; i < out->size; i++)
            ck_assert_msg(nb_tensor_get(out, i) == 0, "step %d: element %d is %g: expected 0",
                          step, (int)i, nb_tensor_get(out, i));
        nb_tape_reset(tape);
    }
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

/* An op whose infer gives an output of no elements: nb_op_apply refuses it,
 * naming the op as nb_<name>, as it names the built-in ones. */
static nb_status infer_empty(const nb_node *node, nb_dtype *dtype, int *rank, int64_t *shape)
{
    *dtype = node->inputs[0]->dtype;
    *rank = 2;
    shape[0] = 3;
    shape[1] = 0;
    return NB_OK;
}

START_TEST(an_op_that_infers_an_empty_output_is_named_in_the_error)
{
    static const nb_op empty_op = {
        .name = "empty_rows", .n_inputs = 1, .infer = infer_empty, .forward = writes_nothing,
    };
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(3));
    ck_assert_ptr_null(nb_op_apply(tape, &empty_op, 1, &x, NULL, 0));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_str_eq(nb_last_error(),
                     "nb_empty_rows: dimension 1 of shape [3, 0] is 0: expected a positive size");
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

static Suite *tape_suite(void)
{
    Suite *s = suite_create("tape");
    TCase *tc = tcase_create("backward");
    tcase_add_test(tc, backward_of_product_gives_each_factor);
    tcase_add_test(tc, fan_out_accumulates_gradients);
    tcase_add_test(tc, leaf_gradients_accumulate_until_zeroed);
    tcase_add_test(tc, second_backward_on_same_tape_does_not_double_intermediates);
    tcase_add_test(tc, detach_stops_gradients);
    tcase_add_test(tc, backward_from_non_scalar_needs_a_gradient);
    suite_add_tcase(s, tc);
    tc = tcase_create("recording");
    tcase_add_test(tc, inference_mode_records_nothing);
    tcase_add_test(tc, null_tape_gives_caller_owned_results);
    tcase_add_test(tc, reset_keeps_memory_and_parameters);
    tcase_add_test(tc, use_after_reset_is_reported);
    tcase_add_test(tc, backward_from_a_reset_gradient_is_reported);
    tcase_add_test(tc, an_op_that_infers_an_empty_output_is_named_in_the_error);
    tcase_add_test(tc, null_input_keeps_the_first_message);
    tcase_add_test(tc, inputs_from_another_tape_are_rejected);
    tcase_add_test(tc, print_lists_nodes_in_order);
    tcase_add_test(tc, outputs_are_zeroed_unless_the_op_overwrites_them);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(tape_suite)
