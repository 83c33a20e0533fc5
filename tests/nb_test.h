/* Helpers shared by the Check suites: the macros here, and the functions
 * declared below and defined in nb_test_util.c (linked into every test
 * executable). Their names start with nb_test_ / NB_TEST_ so a suite's own
 * static helpers never clash with them. */
#ifndef NB_TEST_H
#define NB_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "nabla/nabla.h"

/* Assert that the last error message contains `needle`. */
#define ck_assert_error_contains(needle)                                                     \
    ck_assert_msg(strstr(nb_last_error(), (needle)) != NULL,                                 \
                  "expected an error message containing \"%s\", got \"%s\"", (needle),       \
                  nb_last_error())

/* Run a suite made by `make_suite` and exit with its verdict: the body of
 * every test executable's main(). CK_FORK stays as the environment sets it. */
#define NB_TEST_MAIN(make_suite)                                                             \
    int main(void)                                                                           \
    {                                                                                        \
        SRunner *runner = srunner_create(make_suite());                                      \
        srunner_run_all(runner, CK_NORMAL);                                                  \
        int failed = srunner_ntests_failed(runner);                                          \
        srunner_free(runner);                                                                \
        return failed == 0 ? 0 : 1;                                                          \
    }

/* Gradient-check f on inputs with the default tolerances; on failure print
 * the report and fail the test. */
#define ck_assert_gradcheck(f, n, inputs, user)                                              \
    do {                                                                                     \
        nb_gradcheck_report report_;                                                         \
        nb_status status_ = nb_gradcheck((f), (n), (inputs), (user), NULL, &report_);        \
        ck_assert_msg(status_ == NB_OK, "nb_gradcheck could not run: %s", nb_last_error()); \
        if (!report_.passed)                                                                 \
            nb_gradcheck_print(&report_, stderr);                                            \
        ck_assert_msg(report_.passed, "gradient check failed (report on stderr)");           \
    } while (0)

/* ---- shared helpers (tests/nb_test_util.c, linked into every test) ----------------------- */

/* Relative error allowed in f32 by nb_test_assert_close: f32 keeps about 7
 * digits. f64 always gets 1e-12. */
#define NB_TEST_F32_REL 2e-6

/* Assert the values (or, with grad, the gradient) of t element by element
 * against `expected`: each must be finite and within
 * (f32 ? f32_rel : 1e-12) * max(1, |expected|). `what` starts the message. */
void nb_test_assert_close_rel(const char *what, const nb_tensor *t, bool grad,
                              const double *expected, int64_t n, double f32_rel);

/* nb_test_assert_close_rel with f32_rel NB_TEST_F32_REL. */
void nb_test_assert_close(const char *what, const nb_tensor *t, bool grad, const double *expected,
                          int64_t n);

/* An op of one input, as nb_relu or nb_exp. */
typedef nb_tensor *(*nb_test_unary_fn)(nb_tape *tape, nb_tensor *x);

/* y = f(x) and dy/dx (from the backward of sum(y)) against values computed by
 * hand, for x of shape [n], in f32 and f64 (nb_test_assert_close). */
void nb_test_check_unary(const char *what, nb_test_unary_fn f, int64_t n, const double *x,
                         const double *y, const double *dydx);

/* Assert t is not NULL and its shape is [dims...] (rank entries). */
void nb_test_assert_shape(const char *what, const nb_tensor *t, int rank, const int64_t *dims);

/* A caller-owned tensor of uniform values in [low, high) drawn with `seed`. */
nb_tensor *nb_test_uniform(nb_dtype dtype, int rank, const int64_t *shape, double low,
                           double high, uint64_t seed);

/* nb_test_uniform, and the tensor requires a gradient. */
nb_tensor *nb_test_uniform_param(nb_dtype dtype, int rank, const int64_t *shape, double low,
                                 double high, uint64_t seed);

/* Move every value of t closer than `gap` to `point` out to point +- gap, so
 * a finite difference of step 1e-6 never straddles a kink or a pole there. */
void nb_test_keep_away(nb_tensor *t, double point, double gap);

/* A caller-owned tensor holding first, first + 1, first + 2, ... (asserted). */
nb_tensor *nb_test_counting(nb_dtype dtype, int rank, const int64_t *shape, double first);

/* Unravel a row-major flat index of shape into idx (rank entries). */
void nb_test_unravel(int64_t flat, int rank, const int64_t *shape, int64_t *idx);

/* A shape for a table of shapes to loop over. */
typedef struct nb_test_shape {
    int rank;
    int64_t shape[NB_MAX_RANK];
} nb_test_shape;

/* Shapes the elementwise ops and activations are gradient-checked on: 1x1,
 * batch 1, a matrix, rank 3, a scalar and rank 4. */
#define NB_TEST_N_GRAD_SHAPES 6
extern const nb_test_shape nb_test_grad_shapes[NB_TEST_N_GRAD_SHAPES];

/* f(in, user) on a tape and without one: both of shape (rank, shape), of
 * in[0]'s dtype, holding `expected`. For ops of several inputs and
 * arguments, with f an nb_gradcheck_fn as for ck_assert_gradcheck. */
void nb_test_assert_op_values(const char *what, nb_gradcheck_fn f, nb_tensor *const in[],
                              void *user, int rank, const int64_t *shape, const double *expected);

/* Gradient-check f(in, user) on n f64 inputs of the given shapes, uniform
 * in [-1, 1) drawn with seeds seed, seed + 1, ... */
void nb_test_assert_op_gradcheck(nb_gradcheck_fn f, int n, const nb_test_shape *shapes,
                                 void *user, uint64_t seed);

/* Keep t (asserted non-NULL) until nb_test_free_kept, the teardown fixture
 * of suites that build their inputs with NB_TEST_TENSOR. At most 32. */
nb_tensor *nb_test_keep(nb_tensor *t);
void nb_test_free_kept(void);

/* A kept tensor of doubles: NB_TEST_TENSOR(NB_F32, NB_SHAPE(2), 1, 2). */
#define NB_TEST_TENSOR(dtype, shape, ...)                                                    \
    nb_test_keep(nb_tensor_from_doubles(dtype, shape, (double[]){__VA_ARGS__}))

/* Allocations counted since nb_test_count_allocations, which sets this to 0
 * and installs a counting allocator (undo with nb_set_allocator(NULL)). */
extern long nb_test_allocations;
void nb_test_count_allocations(void);

/* model compiled with optimizer, loss and one metric (asserted to work). */
nb_model *nb_test_compiled(nb_model *model, nb_optimizer *optimizer, const char *loss,
                           const char *metric);

/* nb_fit_defaults with epochs, batch_size and verbose 0. */
nb_fit_options nb_test_quiet_fit(int epochs, int64_t batch_size);

/* True when this thread's arithmetic now flushes subnormal results to zero
 * (FLT_MIN / 2 comes out 0). */
bool nb_test_flushing(void);

/* True when nabla's flushing of subnormals takes effect here: it is on
 * (nb_flush_denormals) and the CPU honours it. valgrind does not emulate
 * FTZ and DAZ, so under valgrind this is false and the tests of flushing
 * have nothing to check. */
bool nb_test_can_flush(void);

/* The recurrent layers' suites (recurrent, lstm_gru): */

/* layer built for [time, features] samples in f64 (asserted) */
nb_layer *nb_test_built(nb_layer *layer, int64_t time, int64_t features, uint64_t seed);

/* What nb_model_summary prints for model, as a string the caller frees. */
char *nb_test_summary(const nb_model *model);

/* A layer's forward outside training on inputs[0], for nb_gradcheck
 * (user is the layer). */
nb_tensor *nb_test_layer_fn(nb_tape *tape, nb_tensor *const inputs[], void *user);

/* Gradient-check a built layer with respect to x (when x requires a
 * gradient) and every weight (asserted). */
void nb_test_gradcheck_layer(nb_layer *layer, nb_tensor *x);

/* Every weight drawn from U(-0.8, 0.8), so no gate sits at its initial
 * value (a zero bias, a forget bias of one) and every path carries weight. */
void nb_test_randomize_weights(nb_layer *layer, uint64_t seed);

/* A maker of recurrent layers, as nb_lstm_with. */
typedef nb_layer *(*nb_test_make_rnn_fn)(const nb_recurrent_options *options);

/* Gradient-check a layer of 3 units made by make, with randomized weights,
 * on [batch, time, 2] inputs, against the input and every weight. */
void nb_test_gradcheck_cell(nb_test_make_rnn_fn make, bool sequences, int64_t batch,
                            int64_t time, uint64_t seed);

/* Whether a and b have as many weights, of the same sizes and bytes. */
bool nb_test_same_weights(const nb_model *a, const nb_model *b);

/* The model files' suites (model_io, model_save, checkpoint): */

/* x [n, 6] uniform, y [n, 4] one-hot of a fixed rule on x. */
void nb_test_mlp_data(int64_t n, nb_tensor **x, nb_tensor **y);

/* Dense(16, relu) + Dropout(0.25) + Dense(4, softmax) on 6 inputs, seeded,
 * compiled with opt, categorical cross-entropy and accuracy. */
nb_model *nb_test_mlp(nb_dtype dtype, nb_optimizer *opt);

/* model fitted on x, y for `epochs` in batches of 16, silently (asserted). */
void nb_test_fit_quietly(nb_model *m, const nb_tensor *x, const nb_tensor *y, int epochs);

/* Whether a and b have the same dtype, shape and bytes. */
bool nb_test_same_tensor(const nb_tensor *a, const nb_tensor *b);

/* Assert a and b have the same weights (nb_test_same_tensor each). */
void nb_test_assert_same_weights(const nb_model *a, const nb_model *b);

/* Assert a's and b's optimizers have the same name, step count and state. */
void nb_test_assert_same_optimizer(const nb_model *a, const nb_model *b);

/* A new directory /tmp/nb_test_<name>_XXXXXX (asserted); the path is in a
 * static buffer, overwritten by the next call. */
char *nb_test_make_dir(const char *name);

/* Number of entries in dir (without . and ..); -1 when it cannot be read. */
int nb_test_count_entries(const char *dir);

/* Remove the files in dir, then dir. */
void nb_test_remove_dir(const char *dir);

/* A whole file's bytes, with one byte more allocated; the caller frees data. */
typedef struct nb_test_bytes {
    unsigned char *data;
    size_t len;
} nb_test_bytes;

/* The bytes of file (asserted readable). */
nb_test_bytes nb_test_read_all(const char *file);

/* Write len bytes of data to file, replacing it (asserted). */
void nb_test_write_all(const char *file, const void *data, size_t len);

/* The little-endian 64-bit number at p (a safetensors header length). */
uint64_t nb_test_le64(const unsigned char *p);

/* Width and height from a PNG's signature and IHDR chunk; false when the
 * file is no PNG. */
bool nb_test_png_size(const char *path, uint32_t *width, uint32_t *height);

#endif
