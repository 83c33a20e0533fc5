/* Helpers shared by the Check suites (declared in nb_test.h): tensor
 * assertions, seeded random tensors, kept tensors, a counting allocator,
 * small-model plumbing and the model files' MLP, recurrent layers, temporary directories,
 * whole files and PNG headers. Linked into
 * every test executable (tests/meson.build). */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernels/fpenv.h"
#include "nb_test.h"

/* ---- tensors ------------------------------------------------------------------------------ */

void nb_test_assert_close_rel(const char *what, const nb_tensor *t, bool grad,
                              const double *expected, int64_t n, double f32_rel)
{
    ck_assert_msg(t != NULL, "%s: no tensor: %s", what, nb_last_error());
    ck_assert_int_eq(t->size, n);
    for (int64_t i = 0; i < n; i++) {
        double v = grad ? nb_tensor_grad_get(t, i) : nb_tensor_get(t, i);
        double tolerance = (t->dtype == NB_F32 ? f32_rel : 1e-12) * fmax(1.0, fabs(expected[i]));
        ck_assert_msg(isfinite(v) && fabs(v - expected[i]) <= tolerance,
                      "%s %s (%s): element %d is %.17g, expected %.17g", what,
                      grad ? "gradient" : "value", nb_dtype_name(t->dtype), (int)i, v, expected[i]);
    }
}

void nb_test_assert_close(const char *what, const nb_tensor *t, bool grad, const double *expected,
                          int64_t n)
{
    nb_test_assert_close_rel(what, t, grad, expected, n, NB_TEST_F32_REL);
}

void nb_test_check_unary(const char *what, nb_test_unary_fn f, int64_t n, const double *x,
                         const double *y, const double *dydx)
{
    static const nb_dtype dtypes[] = {NB_F32, NB_F64};
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *xt = nb_tensor_from_doubles(dtypes[d], 1, (const int64_t[]){n}, x);
        nb_tensor_set_requires_grad(xt, true);
        nb_tensor *yt = f(tape, xt);
        nb_test_assert_close(what, yt, false, y, n);
        ck_assert_int_eq(nb_backward(nb_sum(tape, yt)), NB_OK);
        nb_test_assert_close(what, xt, true, dydx, n);
        nb_tape_free(tape);
        nb_tensor_free(xt);
    }
}

void nb_test_assert_shape(const char *what, const nb_tensor *t, int rank, const int64_t *dims)
{
    ck_assert_msg(t != NULL, "%s: no tensor: %s", what, nb_last_error());
    char got[64];
    ck_assert_msg(t->rank == rank, "%s: shape is %s, expected rank %d", what,
                  nb_shape_str(t, got, sizeof got), rank);
    for (int d = 0; d < rank; d++)
        ck_assert_msg(t->shape[d] == dims[d], "%s: shape is %s, expected dimension %d to be %d",
                      what, nb_shape_str(t, got, sizeof got), d, (int)dims[d]);
}

nb_tensor *nb_test_uniform(nb_dtype dtype, int rank, const int64_t *shape, double low,
                           double high, uint64_t seed)
{
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    nb_tensor *t = nb_tensor_rand_uniform(dtype, rank, shape, low, high, &rng);
    ck_assert_ptr_nonnull(t);
    return t;
}

nb_tensor *nb_test_uniform_param(nb_dtype dtype, int rank, const int64_t *shape, double low,
                                 double high, uint64_t seed)
{
    nb_tensor *t = nb_test_uniform(dtype, rank, shape, low, high, seed);
    nb_tensor_set_requires_grad(t, true);
    return t;
}

void nb_test_keep_away(nb_tensor *t, double point, double gap)
{
    for (int64_t i = 0; i < t->size; i++) {
        double v = nb_tensor_get(t, i);
        if (fabs(v - point) < gap)
            nb_tensor_set(t, i, v >= point ? point + gap : point - gap);
    }
}

const nb_test_shape nb_test_grad_shapes[NB_TEST_N_GRAD_SHAPES] = {
    {2, {1, 1}}, {2, {1, 5}}, {2, {3, 4}}, {3, {2, 3, 2}}, {0, {1}}, {4, {2, 1, 2, 3}},
};

void nb_test_assert_op_values(const char *what, nb_gradcheck_fn f, nb_tensor *const in[],
                              void *user, int rank, const int64_t *shape, const double *expected)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *on_tape = f(tape, in, user);
    nb_tensor *caller_owned = f(NULL, in, user);
    ck_assert_msg(on_tape && caller_owned, "%s: %s", what, nb_last_error());
    nb_test_assert_shape(what, on_tape, rank, shape);
    nb_test_assert_shape(what, caller_owned, rank, shape);
    ck_assert_int_eq(on_tape->dtype, in[0]->dtype);
    ck_assert_int_eq(caller_owned->dtype, in[0]->dtype);
    ck_assert_ptr_null(caller_owned->tape);
    nb_test_assert_close(what, on_tape, false, expected, on_tape->size);
    nb_test_assert_close(what, caller_owned, false, expected, caller_owned->size);
    nb_tensor_free(caller_owned);
    nb_tape_free(tape);
}

void nb_test_assert_op_gradcheck(nb_gradcheck_fn f, int n, const nb_test_shape *shapes,
                                 void *user, uint64_t seed)
{
    nb_tensor *in[NB_GRADCHECK_MAX_INPUTS];
    for (int i = 0; i < n; i++)
        in[i] = nb_test_uniform_param(NB_F64, shapes[i].rank, shapes[i].shape, -1, 1,
                                      seed + (uint64_t)i);
    ck_assert_gradcheck(f, n, in, user);
    for (int i = 0; i < n; i++)
        nb_tensor_free(in[i]);
}

/* ---- kept tensors ------------------------------------------------------------------------- */

static nb_tensor *kept[32];
static int n_kept;

nb_tensor *nb_test_keep(nb_tensor *t)
{
    ck_assert_msg(t != NULL, "tensor construction failed: %s", nb_last_error());
    ck_assert_int_lt(n_kept, 32);
    kept[n_kept++] = t;
    return t;
}

void nb_test_free_kept(void)
{
    while (n_kept > 0)
        nb_tensor_free(kept[--n_kept]);
}

/* ---- counting allocator ------------------------------------------------------------------- */

long nb_test_allocations;

static void *counting_alloc(size_t bytes, void *user)
{
    (void)user;
    nb_test_allocations++;
    return malloc(bytes ? bytes : 1);
}

static void counting_release(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

void nb_test_count_allocations(void)
{
    nb_test_allocations = 0;
    nb_set_allocator(&(nb_allocator){counting_alloc, counting_release, NULL});
}

/* ---- models ------------------------------------------------------------------------------- */

nb_model *nb_test_compiled(nb_model *model, nb_optimizer *optimizer, const char *loss,
                           const char *metric)
{
    nb_status s = nb_model_compile(model, &(nb_compile_options){
                                              .optimizer = optimizer,
                                              .loss = loss,
                                              .metrics = {metric}});
    ck_assert_msg(s == NB_OK, "compile failed: %s", nb_last_error());
    return model;
}

nb_fit_options nb_test_quiet_fit(int epochs, int64_t batch_size)
{
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = epochs;
    fit.batch_size = batch_size;
    fit.verbose = 0;
    return fit;
}

bool nb_test_same_weights(const nb_model *a, const nb_model *b)
{
    if (nb_model_weight_count(a) != nb_model_weight_count(b))
        return false;
    for (int i = 0; i < nb_model_weight_count(a); i++) {
        const nb_tensor *wa = nb_model_weight(a, i), *wb = nb_model_weight(b, i);
        if (wa->size != wb->size ||
            memcmp(wa->data, wb->data, (size_t)wa->size * nb_dtype_size(wa->dtype)) != 0)
            return false;
    }
    return true;
}

/* x [n, 6] uniform, y [n, 4] one-hot of a fixed rule on x. */
void nb_test_mlp_data(int64_t n, nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 99);
    *x = nb_tensor_rand_uniform(NB_F32, NB_SHAPE(n, 6), -1, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 4));
    for (int64_t i = 0; i < n; i++) {
        double a = nb_tensor_get(*x, i * 6) + nb_tensor_get(*x, i * 6 + 1);
        double b = nb_tensor_get(*x, i * 6 + 2) - nb_tensor_get(*x, i * 6 + 3);
        nb_tensor_set(*y, i * 4 + (a > 0) * 2 + (b > 0), 1.0);
    }
}

/* Dense(16, relu) + Dropout(0.25) + Dense(4, softmax) on 6 inputs. */
nb_model *nb_test_mlp(nb_dtype dtype, nb_optimizer *opt)
{
    nb_model *m = nb_sequential();
    ck_assert_int_eq(nb_model_set_seed(m, 0xfedcba9876543210ULL), NB_OK);
    ck_assert_int_eq(nb_model_set_dtype(m, dtype), NB_OK);
    ck_assert_int_eq(nb_model_set_input_shape(m, NB_SHAPE(6)), NB_OK);
    ck_assert_int_eq(nb_model_add(m, nb_dense(16, NB_RELU)), NB_OK);
    ck_assert_int_eq(nb_model_add(m, nb_dropout(0.25)), NB_OK);
    ck_assert_int_eq(nb_model_add(m, nb_dense(4, NB_SOFTMAX)), NB_OK);
    nb_compile_options o = {.optimizer = opt, .loss = "categorical_crossentropy",
                            .metrics = {"accuracy"}};
    ck_assert_msg(nb_model_compile(m, &o) == NB_OK, "%s", nb_last_error());
    return m;
}

void nb_test_fit_quietly(nb_model *m, const nb_tensor *x, const nb_tensor *y, int epochs)
{
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = epochs;
    fit.batch_size = 16;
    fit.verbose = 0;
    nb_history *h = nb_model_fit(m, x, y, &fit);
    ck_assert_msg(h != NULL, "fit: %s", nb_last_error());
    nb_history_free(h);
}

bool nb_test_same_tensor(const nb_tensor *a, const nb_tensor *b)
{
    return a->dtype == b->dtype && nb_same_shape(a, b) &&
           memcmp(a->data, b->data, (size_t)a->size * nb_dtype_size(a->dtype)) == 0;
}

void nb_test_assert_same_weights(const nb_model *a, const nb_model *b)
{
    ck_assert_int_eq(nb_model_weight_count(a), nb_model_weight_count(b));
    for (int i = 0; i < nb_model_weight_count(a); i++)
        ck_assert_msg(nb_test_same_tensor(nb_model_weight(a, i), nb_model_weight(b, i)),
                      "weight %d differs", i);
}

void nb_test_assert_same_optimizer(const nb_model *a, const nb_model *b)
{
    const nb_optimizer *oa = nb_model_optimizer(a), *ob = nb_model_optimizer(b);
    ck_assert_ptr_nonnull(oa);
    ck_assert_ptr_nonnull(ob);
    ck_assert_str_eq(nb_optimizer_name(oa), nb_optimizer_name(ob));
    ck_assert_int_eq(nb_optimizer_iterations(oa), nb_optimizer_iterations(ob));
    ck_assert_int_eq(nb_optimizer_state_count(oa), nb_optimizer_state_count(ob));
    for (int i = 0; i < nb_optimizer_state_count(oa); i++)
        ck_assert_msg(nb_test_same_tensor(nb_optimizer_state(oa, i), nb_optimizer_state(ob, i)),
                      "optimizer state %d differs", i);
}

/* ---- recurrent layers ----------------------------------------------------------------- */

nb_layer *nb_test_built(nb_layer *layer, int64_t time, int64_t features, uint64_t seed)
{
    ck_assert_ptr_nonnull(layer);
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    ck_assert_msg(nb_layer_build(layer, NB_SHAPE(time, features), NB_F64, &rng) == NB_OK,
                  "%s", nb_last_error());
    return layer;
}

nb_tensor *nb_test_layer_fn(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    return nb_layer_forward(user, tape, inputs[0], false, NULL);
}

void nb_test_randomize_weights(nb_layer *layer, uint64_t seed)
{
    for (int k = 0; k < layer->n_params; k++) {
        nb_tensor *r = nb_test_uniform(NB_F64, layer->params[k]->rank, layer->params[k]->shape,
                                       -0.8, 0.8, seed + (uint64_t)k);
        nb_tensor_copy_data(layer->params[k], r);
        nb_tensor_free(r);
    }
}

void nb_test_gradcheck_layer(nb_layer *layer, nb_tensor *x)
{
    nb_tensor *inputs[NB_LAYER_MAX_PARAMS + 1] = {x};
    for (int k = 0; k < layer->n_params; k++)
        inputs[k + 1] = layer->params[k];
    ck_assert_gradcheck(nb_test_layer_fn, layer->n_params + 1, inputs, layer);
}

void nb_test_gradcheck_cell(nb_test_make_rnn_fn make, bool sequences, int64_t batch,
                            int64_t time, uint64_t seed)
{
    nb_layer *layer = nb_test_built(make(&(nb_recurrent_options){.units = 3,
                                                                 .return_sequences = sequences}),
                                    time, 2, seed);
    nb_test_randomize_weights(layer, seed + 10);
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(batch, time, 2), -1, 1, seed + 20);
    nb_test_gradcheck_layer(layer, x);
    nb_tensor_free(x);
    nb_layer_free(layer);
}

/* ---- files -------------------------------------------------------------------------------- */

char *nb_test_make_dir(const char *name)
{
    static char dir[128];
    snprintf(dir, sizeof dir, "/tmp/nb_test_%s_XXXXXX", name);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

int nb_test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

void nb_test_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            remove(path);
    }
    closedir(d);
    rmdir(dir);
}

nb_test_bytes nb_test_read_all(const char *file)
{
    nb_test_bytes b = {0};
    FILE *f = fopen(file, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", file);
    fseek(f, 0, SEEK_END);
    b.len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.data = malloc(b.len + 1);
    ck_assert_uint_eq(fread(b.data, 1, b.len, f), b.len);
    fclose(f);
    return b;
}

void nb_test_write_all(const char *file, const void *data, size_t len)
{
    FILE *f = fopen(file, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

uint64_t nb_test_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

/* big-endian 32-bit number at p */
static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool nb_test_png_size(const char *path, uint32_t *width, uint32_t *height)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char head[24];
    FILE *in = fopen(path, "rb");
    if (!in)
        return false;
    size_t n = fread(head, 1, sizeof head, in);
    fclose(in);
    if (n != sizeof head || memcmp(head, signature, 8) != 0 || memcmp(head + 12, "IHDR", 4) != 0)
        return false;
    *width = be32(head + 16);
    *height = be32(head + 20);
    return true;
}

bool nb_test_flushing(void)
{
    volatile float tiny = FLT_MIN;
    tiny = tiny * 0.5f;
    return tiny == 0;
}

bool nb_test_can_flush(void)
{
    if (!nb_flush_denormals())
        return false;
    unsigned saved = nb__fp_enter();
    bool flushed = nb_test_flushing();
    nb__fp_leave(saved);
    return flushed;
}

nb_tensor *nb_test_counting(nb_dtype dtype, int rank, const int64_t *shape, double first)
{
    nb_tensor *t = nb_tensor_zeros(dtype, rank, shape);
    ck_assert_ptr_nonnull(t);
    for (int64_t i = 0; i < t->size; i++)
        nb_tensor_set(t, i, first + (double)i);
    return t;
}

void nb_test_unravel(int64_t flat, int rank, const int64_t *shape, int64_t *idx)
{
    for (int d = rank - 1; d >= 0; d--) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
}

char *nb_test_summary(const nb_model *model)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(nb_model_summary(model, out), NB_OK);
    fclose(out);
    return text;
}
