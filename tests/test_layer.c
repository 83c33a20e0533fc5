/* Tests for the layer base and class registry (src/nn/layer.c): creation,
 * parameters, build, the checks of forward, and finding classes by type. The
 * activations and initializers of src/nn/init.c are tested in test_init.c. */
#include "nb_test.h"

/* ---- a minimal custom class: y = x + w, one parameter per input feature ---- */

static int destroyed; /* how many times shift_destroy ran */

static nb_status shift_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    (void)rng;
    nb_tensor *w = nb_tensor_full(self->dtype, in_rank, in_shape, 0.5);
    if (!w || nb_layer_add_param(self, "w", w) != NB_OK) {
        nb_tensor_free(w);
        return nb_last_status();
    }
    return NB_OK;
}

static nb_tensor *shift_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                nb_rng *rng)
{
    (void)training;
    (void)rng;
    return nb_add_bias(tape, x, self->params[0]);
}

static void shift_destroy(nb_layer *self)
{
    (void)self;
    destroyed++;
}

static const nb_layer_class shift_class = {
    .type = "Shift", .build = shift_build, .forward = shift_forward, .destroy = shift_destroy};

/* No build: the output is shaped as the input. */
static nb_tensor *identity_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                   nb_rng *rng)
{
    (void)self;
    (void)tape;
    (void)training;
    (void)rng;
    return x;
}

static const nb_layer_class identity_class = {.type = "Identity", .forward = identity_forward};

static nb_layer *built_shift(int64_t features, nb_dtype dtype)
{
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    nb_layer *layer = nb_layer_new(&shift_class, "shift", NULL);
    ck_assert_ptr_nonnull(layer);
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(features), dtype, &rng), NB_OK);
    return layer;
}

/* ---- base ------------------------------------------------------------------ */

START_TEST(new_layer_needs_a_class_with_forward)
{
    ck_assert_ptr_null(nb_layer_new(NULL, "x", NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_layer_new: the class or its forward function is NULL");
    static const nb_layer_class no_forward = {.type = "Broken"};
    ck_assert_ptr_null(nb_layer_new(&no_forward, "x", NULL));
    ck_assert_error_contains("nb_layer_new");
}
END_TEST

START_TEST(new_layer_is_unbuilt_with_its_name)
{
    nb_layer *layer = nb_layer_new(&shift_class, "my_shift", NULL);
    ck_assert_ptr_nonnull(layer);
    ck_assert_str_eq(layer->name, "my_shift");
    ck_assert(!layer->built);
    ck_assert_int_eq(layer->n_params, 0);
    ck_assert_ptr_eq(layer->cls, &shift_class);
    nb_layer_free(layer);
    nb_layer *unnamed = nb_layer_new(&shift_class, NULL, NULL);
    ck_assert_str_eq(unnamed->name, "");
    nb_layer_free(unnamed);
}
END_TEST

START_TEST(build_creates_params_that_require_grad_and_are_named_layer_slash_param)
{
    nb_layer *layer = built_shift(3, NB_F64);
    ck_assert(layer->built);
    ck_assert_int_eq(layer->n_params, 1);
    ck_assert_str_eq(layer->param_names[0], "w");
    ck_assert_str_eq(layer->params[0]->name, "shift/w");
    ck_assert(layer->params[0]->requires_grad);
    ck_assert_int_eq(layer->params[0]->dtype, NB_F64);
    ck_assert_int_eq(layer->dtype, NB_F64);
    ck_assert_int_eq(nb_layer_param_count(layer), 3);
    ck_assert_int_eq(layer->in_rank, 1);
    ck_assert_int_eq(layer->in_shape[0], 3);
    nb_layer_free(layer);
}
END_TEST

START_TEST(layer_without_build_keeps_the_input_shape)
{
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    nb_layer *layer = nb_layer_new(&identity_class, "id", NULL);
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(4, 5), NB_F32, &rng), NB_OK);
    ck_assert_int_eq(layer->out_rank, 2);
    ck_assert_int_eq(layer->out_shape[0], 4);
    ck_assert_int_eq(layer->out_shape[1], 5);
    ck_assert_int_eq(nb_layer_param_count(layer), 0);
    nb_layer_free(layer);
}
END_TEST

START_TEST(build_twice_is_an_error)
{
    nb_layer *layer = built_shift(2, NB_F32);
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(2), NB_F32, &rng), NB_ERR_STATE);
    ck_assert_error_contains("nb_layer_build: layer 'shift' is already built");
    ck_assert_int_eq(layer->n_params, 1);
    nb_layer_free(layer);
}
END_TEST

START_TEST(build_rejects_bad_arguments)
{
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    nb_layer *layer = nb_layer_new(&shift_class, "s", NULL);
    ck_assert_int_eq(nb_layer_build(NULL, NB_SHAPE(2), NB_F32, &rng), NB_ERR_NULL);
    ck_assert_error_contains("nb_layer_build: layer is NULL");
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(2), NB_F32, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_layer_build: rng is NULL");
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(0), NB_F32, &rng), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_layer_build: dimension 0");
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(2), (nb_dtype)7, &rng), NB_ERR_DTYPE);
    ck_assert_error_contains("nb_layer_build: dtype 7 is not NB_F32 or NB_F64");
    ck_assert(!layer->built);
    ck_assert_int_eq(layer->n_params, 0);
    nb_layer_free(layer);
}
END_TEST

START_TEST(add_param_rejects_tape_tensors_and_null)
{
    nb_layer *layer = nb_layer_new(&identity_class, "id", NULL);
    nb_tape *tape = nb_tape_new();
    nb_tensor *on_tape = nb_tape_tensor(tape, NB_F32, NB_SHAPE(2));
    ck_assert_int_eq(nb_layer_add_param(layer, "w", on_tape), NB_ERR_ARG);
    ck_assert_error_contains("nb_layer_add_param: weight 'w' of layer 'id' lives on a tape");
    ck_assert_int_eq(nb_layer_add_param(layer, "w", NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_layer_add_param: the tensor is NULL");
    ck_assert_int_eq(nb_layer_add_param(NULL, "w", on_tape), NB_ERR_NULL);
    ck_assert_error_contains("nb_layer_add_param: layer is NULL");
    ck_assert_int_eq(layer->n_params, 0);
    nb_tape_free(tape);
    nb_layer_free(layer);
}
END_TEST

START_TEST(add_param_stops_at_the_maximum)
{
    nb_layer *layer = nb_layer_new(&identity_class, "many", NULL);
    for (int i = 0; i < NB_LAYER_MAX_PARAMS; i++)
        ck_assert_int_eq(nb_layer_add_param(layer, "p", nb_tensor_zeros(NB_F32, NB_SHAPE(1))), NB_OK);
    nb_tensor *extra = nb_tensor_zeros(NB_F32, NB_SHAPE(1));
    ck_assert_int_eq(nb_layer_add_param(layer, "p", extra), NB_ERR_ARG);
    ck_assert_error_contains("already has 8 weights");
    ck_assert_int_eq(layer->n_params, NB_LAYER_MAX_PARAMS);
    ck_assert_int_eq(nb_layer_param_count(layer), NB_LAYER_MAX_PARAMS);
    nb_tensor_free(extra); /* refused, so still ours */
    nb_layer_free(layer);
}
END_TEST

START_TEST(free_runs_destroy_once_and_ignores_null)
{
    destroyed = 0;
    nb_layer_free(built_shift(2, NB_F32));
    ck_assert_int_eq(destroyed, 1);
    nb_layer_free(NULL);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

START_TEST(forward_computes_the_class_function)
{
    nb_layer *layer = built_shift(2, NB_F64);
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 2), (double[]){1, 2, 3, 4});
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, false, NULL);
    ck_assert_ptr_nonnull(y);
    ck_assert_double_eq(nb_tensor_get(y, 0), 1.5);
    ck_assert_double_eq(nb_tensor_get(y, 3), 4.5);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(forward_without_tape_gives_a_caller_owned_result)
{
    /* like an op with tape == NULL: the result is the caller's to free, even
     * for a layer that returns its input unchanged (no leak under ASan) */
    nb_layer *layer = built_shift(2, NB_F64);
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2), (double[]){1, 2});
    nb_tensor *y = nb_layer_forward(layer, NULL, x, false, NULL);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_null(y->tape);
    ck_assert_double_eq(nb_tensor_get(y, 1), 2.5);
    nb_tensor_free(y);
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    nb_layer *id = nb_layer_new(&identity_class, "id", NULL);
    nb_layer_build(id, NB_SHAPE(2), NB_F64, &rng);
    nb_tensor *same = nb_layer_forward(id, NULL, x, false, NULL);
    ck_assert_ptr_nonnull(same);
    ck_assert_ptr_ne(same, x);
    ck_assert_double_eq(nb_tensor_get(same, 1), 2.0);
    nb_tensor_free(same);
    nb_layer_free(id);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(forward_before_build_is_an_error)
{
    nb_layer *layer = nb_layer_new(&shift_class, "lazy", NULL);
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(1, 2));
    ck_assert_ptr_null(nb_layer_forward(layer, NULL, x, false, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_layer_forward: layer 'lazy' is not built");
    ck_assert_ptr_null(nb_layer_forward(NULL, NULL, x, false, NULL));
    ck_assert_error_contains("nb_layer_forward: layer is NULL");
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(forward_names_the_expected_input_shape)
{
    nb_layer *layer = built_shift(3, NB_F32);
    nb_tape *tape = nb_tape_new();
    nb_tensor *wide = nb_tensor_zeros(NB_F32, NB_SHAPE(5, 4));
    ck_assert_ptr_null(nb_layer_forward(layer, tape, wide, false, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("Shift layer 'shift': input has shape [5, 4]: expected [-1, 3]");
    nb_tensor *flat = nb_tensor_zeros(NB_F32, NB_SHAPE(3));
    ck_assert_ptr_null(nb_layer_forward(layer, tape, flat, false, NULL));
    ck_assert_error_contains("input has shape [3]: expected [-1, 3]");
    nb_tape_free(tape);
    nb_tensor_free(wide);
    nb_tensor_free(flat);
    nb_layer_free(layer);
}
END_TEST

START_TEST(forward_of_null_keeps_the_earlier_message)
{
    nb_layer *layer = built_shift(3, NB_F32);
    nb_error(NB_ERR_SHAPE, "earlier failure");
    ck_assert_ptr_null(nb_layer_forward(layer, NULL, NULL, false, NULL));
    ck_assert_str_eq(nb_last_error(), "earlier failure");
    nb_layer_free(layer);
}
END_TEST

START_TEST(layer_gradient_flows_to_its_parameters)
{
    nb_layer *layer = built_shift(2, NB_F64);
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3, 2), (double[]){1, 2, 3, 4, 5, 6});
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = nb_sum(tape, nb_layer_forward(layer, tape, x, true, NULL));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    /* d sum(x + w) / d w_j = number of rows */
    ck_assert_double_eq(nb_tensor_grad_get(layer->params[0], 0), 3.0);
    ck_assert_double_eq(nb_tensor_grad_get(layer->params[0], 1), 3.0);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

/* ---- registry --------------------------------------------------------------- */

START_TEST(builtin_classes_are_found_by_type)
{
    const char *types[] = {"Dense", "Activation", "Flatten", "Dropout"};
    for (int i = 0; i < 4; i++) {
        const nb_layer_class *cls = nb_layer_find_class(types[i]);
        ck_assert_msg(cls != NULL, "%s not found: %s", types[i], nb_last_error());
        ck_assert_str_eq(cls->type, types[i]);
        ck_assert(cls->from_config != NULL);
    }
    nb_layer *dense = nb_dense(3, NB_RELU);
    ck_assert_ptr_eq(nb_layer_find_class("Dense"), dense->cls);
    nb_layer_free(dense);
}
END_TEST

START_TEST(unknown_type_is_an_error_listing_the_known_ones)
{
    ck_assert_ptr_null(nb_layer_find_class("Conv3D"));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("unknown layer type 'Conv3D': expected Dense, Activation, Flatten, "
                             "Dropout, Reshape, Permute, Embedding, LayerNormalization, "
                             "BatchNormalization, SimpleRNN, LSTM, GRU, RepeatVector, "
                             "Bidirectional, Conv2D, Conv1D, MaxPooling2D, "
                             "AveragePooling2D, GlobalAveragePooling2D, MaxPooling1D, "
                             "AveragePooling1D, GlobalAveragePooling1D or a class given to "
                             "nb_layer_register_class");
    ck_assert_ptr_null(nb_layer_find_class(NULL));
    ck_assert_error_contains("'(null)'");
}
END_TEST

START_TEST(registered_class_is_found_and_registering_again_is_harmless)
{
    ck_assert_ptr_null(nb_layer_find_class("Shift"));
    ck_assert_int_eq(nb_layer_register_class(&shift_class), NB_OK);
    ck_assert_ptr_eq(nb_layer_find_class("Shift"), &shift_class);
    ck_assert_int_eq(nb_layer_register_class(&shift_class), NB_OK);
    ck_assert_ptr_eq(nb_layer_find_class("Shift"), &shift_class);
}
END_TEST

START_TEST(a_second_class_with_a_taken_type_name_is_refused)
{
    static const nb_layer_class fake_dense = {.type = "Dense", .forward = identity_forward};
    ck_assert_int_eq(nb_layer_register_class(&fake_dense), NB_ERR_ARG);
    ck_assert_error_contains("nb_layer_register_class: another class is registered as 'Dense'");
    ck_assert_ptr_ne(nb_layer_find_class("Dense"), &fake_dense);
    static const nb_layer_class shift_copy = {.type = "Shift", .forward = identity_forward};
    ck_assert_int_eq(nb_layer_register_class(&shift_class), NB_OK);
    ck_assert_int_eq(nb_layer_register_class(&shift_copy), NB_ERR_ARG);
    ck_assert_ptr_eq(nb_layer_find_class("Shift"), &shift_class);
}
END_TEST

START_TEST(register_rejects_null_class_or_type)
{
    ck_assert_int_eq(nb_layer_register_class(NULL), NB_ERR_NULL);
    static const nb_layer_class untyped = {.forward = identity_forward};
    ck_assert_int_eq(nb_layer_register_class(&untyped), NB_ERR_NULL);
    ck_assert_error_contains("nb_layer_register_class: the class or its type name is NULL");
}
END_TEST

static Suite *layer_suite(void)
{
    Suite *s = suite_create("layer");
    TCase *tc = tcase_create("base");
    tcase_add_test(tc, new_layer_needs_a_class_with_forward);
    tcase_add_test(tc, new_layer_is_unbuilt_with_its_name);
    tcase_add_test(tc, build_creates_params_that_require_grad_and_are_named_layer_slash_param);
    tcase_add_test(tc, layer_without_build_keeps_the_input_shape);
    tcase_add_test(tc, build_twice_is_an_error);
    tcase_add_test(tc, build_rejects_bad_arguments);
    tcase_add_test(tc, add_param_rejects_tape_tensors_and_null);
    tcase_add_test(tc, add_param_stops_at_the_maximum);
    tcase_add_test(tc, free_runs_destroy_once_and_ignores_null);
    tcase_add_test(tc, forward_computes_the_class_function);
    tcase_add_test(tc, forward_without_tape_gives_a_caller_owned_result);
    tcase_add_test(tc, forward_before_build_is_an_error);
    tcase_add_test(tc, forward_names_the_expected_input_shape);
    tcase_add_test(tc, forward_of_null_keeps_the_earlier_message);
    tcase_add_test(tc, layer_gradient_flows_to_its_parameters);
    suite_add_tcase(s, tc);
    tc = tcase_create("registry");
    tcase_add_test(tc, builtin_classes_are_found_by_type);
    tcase_add_test(tc, unknown_type_is_an_error_listing_the_known_ones);
    tcase_add_test(tc, registered_class_is_found_and_registering_again_is_harmless);
    tcase_add_test(tc, a_second_class_with_a_taken_type_name_is_refused);
    tcase_add_test(tc, register_rejects_null_class_or_type);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(layer_suite)
