/* Tests for the GEMM kernels (src/kernels/gemm.c, gemm_portable.inc): the
 * portable kernel against cblas and a plain reference, the run-time
 * choice of backend, and the thread pool (parallel.c, fpenv.c). */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/fpenv.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "nn/progress.h" /* nb__now */
#include "nb_test.h"

/* Every test may switch the backend; the fixture puts it back. */
static nb_gemm_backend saved_backend;
static void save_backend(void) { saved_backend = nb_gemm_backend_in_use(); }
static void restore_backend(void) { nb_set_gemm_backend(saved_backend); }

/* ---- a strided matrix with poisoned padding ----------------------------- */

/* rows x cols values in a buffer with leading dimension ld > cols. The
 * padding holds `pad`: NaN in inputs (a kernel that reads it poisons its
 * result), a sentinel in outputs (a kernel that writes it is caught). */
typedef struct matrix {
    int64_t rows, cols, ld;
    double *data; /* doubles; converted to float for the f32 kernels */
} matrix;

static matrix matrix_random(int64_t rows, int64_t cols, int64_t extra_ld, double pad,
                            nb_rng *rng)
{
    matrix m = {rows, cols, cols + extra_ld, NULL};
    m.data = malloc((size_t)(rows * m.ld) * sizeof *m.data);
    ck_assert_ptr_nonnull(m.data);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < m.ld; j++)
            m.data[i * m.ld + j] = j < cols ? 2 * nb_rng_uniform(rng) - 1 : pad;
    return m;
}

static float *to_f32(const matrix *m)
{
    int64_t n = m->rows * m->ld;
    float *f = malloc((size_t)n * sizeof *f);
    ck_assert_ptr_nonnull(f);
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)m->data[i];
    return f;
}

static double *copy_f64(const matrix *m)
{
    int64_t n = m->rows * m->ld;
    double *d = malloc((size_t)n * sizeof *d);
    ck_assert_ptr_nonnull(d);
    for (int64_t i = 0; i < n; i++)
        d[i] = m->data[i];
    return d;
}

/* ---- the reference ------------------------------------------------------ */

typedef struct gemm_case {
    bool trans_a, trans_b;
    int64_t m, n, k;
    double alpha, beta;
} gemm_case;

/* C = alpha op(A) op(B) + beta C in long double, plus for each element a
 * bound on the round-off of a float or double kernel: the sum of the
 * magnitudes of the terms times (k + 2) units of round-off, doubled. */
static void reference(const gemm_case *g, const matrix *a, const matrix *b, const matrix *c,
                      double unit, double *expected, double *bound)
{
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j = 0; j < g->n; j++) {
            long double sum = 0, magnitude = 0;
            for (int64_t p = 0; p < g->k; p++) {
                double x = g->trans_a ? a->data[p * a->ld + i] : a->data[i * a->ld + p];
                double y = g->trans_b ? b->data[j * b->ld + p] : b->data[p * b->ld + j];
                sum += (long double)x * y;
                magnitude += fabsl((long double)x * y);
            }
            double c0 = c->data[i * c->ld + j];
            expected[i * g->n + j] = (double)(g->alpha * sum + g->beta * c0);
            bound[i * g->n + j] =
                2 * unit * (double)(g->k + 2) *
                (double)(fabs(g->alpha) * magnitude + fabs(g->beta * c0) + 1e-30L);
        }
}

/* Assert a kernel's C (float or double, by `f32`) matches the reference and
 * left the padding alone. */
static void assert_gemm_result(const char *kernel, const gemm_case *g, const matrix *c,
                               const void *result, bool f32, const double *expected,
                               const double *bound, double pad)
{
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j = 0; j < c->ld; j++) {
            int64_t at = i * c->ld + j;
            double v = f32 ? (double)((const float *)result)[at] : ((const double *)result)[at];
            if (j >= g->n) {
                ck_assert_msg(v == pad, "%s wrote the padding of C at (%d, %d)", kernel, (int)i,
                              (int)j);
                continue;
            }
            double e = expected[i * g->n + j], tol = bound[i * g->n + j];
            ck_assert_msg(fabs(v - e) <= tol,
                          "%s %s trans_a %d trans_b %d m %d n %d k %d: C(%d, %d) is %.17g, "
                          "expected %.17g (tolerance %.3g)",
                          kernel, f32 ? "f32" : "f64", g->trans_a, g->trans_b, (int)g->m,
                          (int)g->n, (int)g->k, (int)i, (int)j, v, e, tol);
        }
}

/* Run the portable kernel, and the cblas one when built in, on one case in
 * f32 and f64; both must match the reference. */
static void check_gemm_case(const gemm_case *g, uint64_t seed)
{
    const double pad = 12345.0;
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    /* A is stored m x k, or k x m when transposed; B k x n, or n x k */
    matrix a = g->trans_a ? matrix_random(g->k, g->m, 3, NAN, &rng)
                          : matrix_random(g->m, g->k, 3, NAN, &rng);
    matrix b = g->trans_b ? matrix_random(g->n, g->k, 5, NAN, &rng)
                          : matrix_random(g->k, g->n, 5, NAN, &rng);
    matrix c = matrix_random(g->m, g->n, 2, pad, &rng);
    double *expected = malloc((size_t)(g->m * g->n) * sizeof *expected);
    double *bound = malloc((size_t)(g->m * g->n) * sizeof *bound);
    ck_assert(expected && bound);

    for (int backend = 0; backend < 2; backend++) {
        bool blas = backend == 0;
        if (blas && !nb_have_blas())
            continue;
        ck_assert_int_eq(nb_set_gemm_backend(blas ? NB_GEMM_BLAS : NB_GEMM_PORTABLE), NB_OK);
        const char *kernel = blas ? "cblas" : "portable";

        float *af = to_f32(&a), *bf = to_f32(&b), *cf = to_f32(&c);
        /* the reference sees the inputs the f32 kernel sees */
        matrix a32 = a, b32 = b, c32 = c;
        a32.data = copy_f64(&a), b32.data = copy_f64(&b), c32.data = copy_f64(&c);
        for (int64_t i = 0; i < a.rows * a.ld; i++)
            a32.data[i] = af[i];
        for (int64_t i = 0; i < b.rows * b.ld; i++)
            b32.data[i] = bf[i];
        for (int64_t i = 0; i < c.rows * c.ld; i++)
            c32.data[i] = cf[i];
        reference(g, &a32, &b32, &c32, FLT_EPSILON, expected, bound);
        if (blas)
            nb__gemm_f32(g->trans_a, g->trans_b, g->m, g->n, g->k, (float)g->alpha, af, a.ld, bf,
                         b.ld, (float)g->beta, cf, c.ld);
        else
            nb__gemm_portable_f32(g->trans_a, g->trans_b, g->m, g->n, g->k, (float)g->alpha, af,
                                  a.ld, bf, b.ld, (float)g->beta, cf, c.ld);
        assert_gemm_result(kernel, g, &c, cf, true, expected, bound, pad);
        free(af), free(bf), free(cf);
        free(a32.data), free(b32.data), free(c32.data);

        double *cd = copy_f64(&c);
        reference(g, &a, &b, &c, DBL_EPSILON, expected, bound);
        if (blas)
            nb__gemm_f64(g->trans_a, g->trans_b, g->m, g->n, g->k, g->alpha, a.data, a.ld, b.data,
                         b.ld, g->beta, cd, c.ld);
        else
            nb__gemm_portable_f64(g->trans_a, g->trans_b, g->m, g->n, g->k, g->alpha, a.data,
                                  a.ld, b.data, b.ld, g->beta, cd, c.ld);
        assert_gemm_result(kernel, g, &c, cd, false, expected, bound, pad);
        free(cd);
    }
    free(a.data), free(b.data), free(c.data);
    free(expected), free(bound);
}

/* ---- kernels ------------------------------------------------------------ */

/* Loop test: bit 0 of _i transposes A, bit 1 transposes B. */
START_TEST(portable_and_blas_match_reference_for_odd_sizes)
{
    static const int64_t sizes[][3] = {
        /* m, n, k */
        {1, 1, 1},   {7, 1, 33},  {1, 33, 7},    {33, 7, 1},   {7, 33, 257},
        {257, 7, 33}, {33, 257, 7}, {1, 257, 257}, {257, 33, 257},
    };
    for (int s = 0; s < (int)(sizeof sizes / sizeof sizes[0]); s++) {
        gemm_case g = {(_i & 1) != 0, (_i & 2) != 0, sizes[s][0], sizes[s][1], sizes[s][2],
                       s % 2 ? -1.25 : 0.75, s % 2 ? 0.5 : -1.5};
        check_gemm_case(&g, (uint64_t)(100 * _i + s));
    }
}
END_TEST

START_TEST(portable_gemm_matches_products_by_hand)
{
    /* A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]]:
     *   A B     = [[19, 22], [43, 50]]    A^T B   = [[26, 30], [38, 44]]
     *   A B^T   = [[17, 23], [39, 53]]    A^T B^T = [[23, 31], [34, 46]]
     * with alpha = 2 and beta = 0.5 on C = ones: 2 op(A) op(B) + 0.5 */
    const double a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
    const double products[4][4] = {
        {19, 22, 43, 50}, {26, 30, 38, 44}, {17, 23, 39, 53}, {23, 31, 34, 46}};
    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = t & 2;
        double c[] = {1, 1, 1, 1};
        float af[4], bf[4], cf[4] = {1, 1, 1, 1};
        for (int i = 0; i < 4; i++)
            af[i] = (float)a[i], bf[i] = (float)b[i];
        nb__gemm_portable_f64(ta, tb, 2, 2, 2, 2.0, a, 2, b, 2, 0.5, c, 2);
        nb__gemm_portable_f32(ta, tb, 2, 2, 2, 2.0f, af, 2, bf, 2, 0.5f, cf, 2);
        for (int i = 0; i < 4; i++) {
            double expected = 2 * products[t][i] + 0.5;
            ck_assert_msg(c[i] == expected && cf[i] == (float)expected,
                          "trans %d element %d: f64 %g, f32 %g, expected %g", t, i, c[i],
                          (double)cf[i], expected);
        }
    }
}
END_TEST

START_TEST(beta_zero_overwrites_c_even_when_it_holds_nan)
{
    for (int backend = 0; backend < 2; backend++) {
        if (backend == 0 && !nb_have_blas())
            continue;
        nb_set_gemm_backend(backend == 0 ? NB_GEMM_BLAS : NB_GEMM_PORTABLE);
        const double a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
        double c[] = {NAN, NAN, NAN, NAN};
        nb__gemm_f64(false, false, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2);
        const double ab[] = {19, 22, 43, 50};
        for (int i = 0; i < 4; i++)
            ck_assert_msg(c[i] == ab[i], "backend %d: C[%d] is %g, expected %g", backend, i,
                          c[i], ab[i]);
    }
}
END_TEST

START_TEST(alpha_zero_only_scales_c)
{
    for (int backend = 0; backend < 2; backend++) {
        if (backend == 0 && !nb_have_blas())
            continue;
        nb_set_gemm_backend(backend == 0 ? NB_GEMM_BLAS : NB_GEMM_PORTABLE);
        const float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
        float c[] = {1, -2, 3, -4};
        nb__gemm_f32(true, false, 2, 2, 2, 0.0f, a, 2, b, 2, -0.5f, c, 2);
        const float expected[] = {-0.5f, 1, -1.5f, 2};
        for (int i = 0; i < 4; i++)
            ck_assert_msg(c[i] == expected[i], "backend %d: C[%d] is %g, expected %g", backend, i,
                          (double)c[i], (double)expected[i]);
    }
}
END_TEST

/* ---- nb_matmul on either backend ---------------------------------------- */

/* C = A B and its gradients on the current backend, copied out as doubles. */
static void matmul_with_grads(nb_dtype dtype, double *c, double *da, double *db)
{
    nb_rng rng;
    nb_rng_seed(&rng, 5);
    nb_tensor *a = nb_tensor_rand_uniform(dtype, NB_SHAPE(33, 257), -1, 1, &rng);
    nb_tensor *b = nb_tensor_rand_uniform(dtype, NB_SHAPE(257, 7), -1, 1, &rng);
    nb_tensor *g = nb_tensor_rand_uniform(dtype, NB_SHAPE(33, 7), -1, 1, &rng);
    nb_tensor_set_requires_grad(a, true);
    nb_tensor_set_requires_grad(b, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *out = nb_matmul(tape, a, b);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(nb_backward_from(out, g), NB_OK);
    for (int64_t i = 0; i < out->size; i++)
        c[i] = nb_tensor_get(out, i);
    for (int64_t i = 0; i < a->size; i++)
        da[i] = nb_tensor_grad_get(a, i);
    for (int64_t i = 0; i < b->size; i++)
        db[i] = nb_tensor_grad_get(b, i);
    nb_tape_free(tape);
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(g);
}

static void assert_arrays_close(const char *what, nb_dtype dtype, const double *x,
                                const double *y, int64_t n)
{
    /* sums of up to 257 products of values in [-1, 1] */
    double tol = dtype == NB_F32 ? 1e-4 : 1e-12;
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs(x[i] - y[i]) <= tol, "%s (%s) element %d: cblas %.17g, portable %.17g",
                      what, nb_dtype_name(dtype), (int)i, x[i], y[i]);
}

START_TEST(matmul_gives_the_same_result_on_either_backend)
{
    enum { C_SIZE = 33 * 7, A_SIZE = 33 * 257, B_SIZE = 257 * 7 };
    static double c[2][C_SIZE], da[2][A_SIZE], db[2][B_SIZE];
    for (int d = 0; d < 2; d++) {
        nb_dtype dtype = d ? NB_F64 : NB_F32;
        for (int backend = 0; backend < 2; backend++) {
            nb_gemm_backend which = backend ? NB_GEMM_PORTABLE : NB_GEMM_BLAS;
            ck_assert_int_eq(nb_set_gemm_backend(which), NB_OK);
            ck_assert_int_eq(nb_gemm_backend_in_use(), which);
            matmul_with_grads(dtype, c[backend], da[backend], db[backend]);
        }
        assert_arrays_close("C", dtype, c[0], c[1], C_SIZE);
        assert_arrays_close("dA", dtype, da[0], da[1], A_SIZE);
        assert_arrays_close("dB", dtype, db[0], db[1], B_SIZE);
    }
}
END_TEST

/* ---- backend selection -------------------------------------------------- */

START_TEST(set_gemm_backend_rejects_unknown_values)
{
    nb_gemm_backend before = nb_gemm_backend_in_use();
    ck_assert_int_eq(nb_set_gemm_backend((nb_gemm_backend)7), NB_ERR_ARG);
    ck_assert_error_contains("nb_set_gemm_backend: backend 7 is not NB_GEMM_BLAS or NB_GEMM_PORTABLE");
    ck_assert_int_eq(nb_set_gemm_backend((nb_gemm_backend)-1), NB_ERR_ARG);
    ck_assert_error_contains("nb_set_gemm_backend: backend -1 is not NB_GEMM_BLAS");
    ck_assert_int_eq(nb_gemm_backend_in_use(), before);
}
END_TEST

START_TEST(blas_backend_is_available_exactly_when_built_in)
{
    ck_assert_int_eq(nb_set_gemm_backend(NB_GEMM_PORTABLE), NB_OK);
    ck_assert_int_eq(nb_gemm_backend_in_use(), NB_GEMM_PORTABLE);
    ck_assert_msg(strstr(nb_build_info(), "gemm: portable") != NULL, "%s", nb_build_info());
    if (nb_have_blas()) {
        ck_assert_int_eq(nb_set_gemm_backend(NB_GEMM_BLAS), NB_OK);
        ck_assert_int_eq(nb_gemm_backend_in_use(), NB_GEMM_BLAS);
        ck_assert_msg(strstr(nb_build_info(), "gemm: cblas") != NULL, "%s", nb_build_info());
    } else {
        ck_assert_int_eq(nb_set_gemm_backend(NB_GEMM_BLAS), NB_ERR_ARG);
        ck_assert_error_contains("nb_set_gemm_backend: NB_GEMM_BLAS requested but libnabla was "
                                 "built without cblas");
        ck_assert_int_eq(nb_gemm_backend_in_use(), NB_GEMM_PORTABLE);
    }
}
END_TEST

/* ---- threads --------------------------------------------------------------- */

static void one_thread(void) { nb_set_num_threads(1); }

/* C = op(A) op(B) in f32 with `threads` threads on the current backend; A
 * and B filled from `seed`, both stored with a few columns of padding. */
static float *threaded_product(int threads, bool trans_a, bool trans_b, int64_t m, int64_t n,
                               int64_t k, uint64_t seed)
{
    ck_assert_int_eq(nb_set_num_threads(threads), NB_OK);
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    matrix a = matrix_random(trans_a ? k : m, trans_a ? m : k, 3, 0, &rng);
    matrix b = matrix_random(trans_b ? n : k, trans_b ? k : n, 5, 0, &rng);
    float *fa = to_f32(&a), *fb = to_f32(&b), *c = calloc((size_t)(m * n), sizeof *c);
    ck_assert_ptr_nonnull(c);
    nb__gemm_f32(trans_a, trans_b, m, n, k, 1.0f, fa, a.ld, fb, b.ld, 0.0f, c, n);
    free(fa), free(fb), free(a.data), free(b.data);
    return c;
}

/* Large enough to be split: by rows (m > n), then by columns (n > m). */
static const int64_t split_shapes[][3] = {{203, 72, 300}, {40, 261, 100}};

START_TEST(threaded_products_repeat_exactly_and_match_one_thread)
{
    nb_gemm_backend which = _i ? NB_GEMM_PORTABLE : NB_GEMM_BLAS;
    if (which == NB_GEMM_BLAS && !nb_have_blas())
        return;
    ck_assert_int_eq(nb_set_gemm_backend(which), NB_OK);
    for (int shape = 0; shape < 2; shape++)
        for (int t = 0; t < 4; t++) {
            bool ta = t & 1, tb = t & 2;
            int64_t m = split_shapes[shape][0], n = split_shapes[shape][1];
            int64_t k = split_shapes[shape][2];
            float *one = threaded_product(1, ta, tb, m, n, k, 7);
            float *two = threaded_product(2, ta, tb, m, n, k, 7);
            float *again = threaded_product(2, ta, tb, m, n, k, 7);
            float *three = threaded_product(3, ta, tb, m, n, k, 7);
            for (int64_t i = 0; i < m * n; i++) {
                ck_assert_msg(two[i] == again[i], "2 threads, trans %d %d, element %d: %.9g then "
                              "%.9g: expected the same bits", ta, tb, (int)i, two[i], again[i]);
                /* the portable kernel sums each element in the same order
                 * however C is cut: exactly one thread's bits */
                float tolerance = which == NB_GEMM_PORTABLE ? 0.0f : 1e-4f;
                ck_assert_msg(fabsf(two[i] - one[i]) <= tolerance &&
                                  fabsf(three[i] - one[i]) <= tolerance,
                              "trans %d %d element %d: 1 thread %.9g, 2 threads %.9g, 3 threads "
                              "%.9g", ta, tb, (int)i, one[i], two[i], three[i]);
            }
            free(one), free(two), free(again), free(three);
        }
}
END_TEST

/* Two parts, each recording whether its thread flushes subnormals; the
 * first to start waits (up to 1 s, polling) until the other has run, so
 * two threads ran them: the caller and a worker. */
typedef struct two_parts {
    atomic_int done;
    bool flushed[2];
    pthread_t thread[2];
} two_parts;

static void record_part(void *ctx, int64_t begin, int64_t end)
{
    two_parts *p = ctx;
    for (int64_t i = begin; i < end; i++) {
        p->flushed[i] = nb_test_flushing();
        p->thread[i] = pthread_self();
        if (atomic_fetch_add(&p->done, 1) == 0) {
            double give_up = nb__now() + 1;
            while (atomic_load(&p->done) < 2 && nb__now() < give_up)
                continue;
        }
    }
}

static two_parts run_two_parts(void)
{
    two_parts p = {0};
    nb__parallel_for(2, 1, 1, record_part, &p);
    ck_assert_int_eq(atomic_load(&p.done), 2);
    ck_assert_msg(!pthread_equal(p.thread[0], p.thread[1]), "one thread ran both parts");
    return p;
}

/* Each part records the thread that ran it. */
static void record_thread(void *ctx, int64_t begin, int64_t end)
{
    pthread_t *threads = ctx;
    for (int64_t i = begin; i < end; i++)
        threads[i] = pthread_self();
}

START_TEST(serial_mode_runs_every_part_on_the_caller)
{
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    pthread_t threads[2];
    uint64_t posted = nb__pool_jobs_posted();
    nb__parallel_for(2, 1, 1, record_thread, threads);
    ck_assert_uint_eq(nb__pool_jobs_posted(), posted + 1); /* the counter counts */
    ck_assert(!nb__set_serial(true));
    nb__parallel_for(2, 1, 1, record_thread, threads);
    ck_assert(nb__set_serial(false)); /* and it said what it was */
    ck_assert_uint_eq(nb__pool_jobs_posted(), posted + 1); /* nothing handed out */
    ck_assert_msg(pthread_equal(threads[0], pthread_self()) &&
                      pthread_equal(threads[1], pthread_self()),
                  "a part of a serial job ran on a worker");
    nb_set_num_threads(1);
}
END_TEST

START_TEST(pool_workers_take_the_callers_floating_point_mode)
{
    if (!nb_test_can_flush())
        return; /* no flushing on this CPU, or under valgrind: nothing to check */
    for (int round = 0; round < 5; round++) {
        /* a job posted right after the workers start: they must take part */
        ck_assert_int_eq(nb_set_num_threads(1), NB_OK);
        ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
        unsigned saved = nb__fp_enter(); /* flushing, as fit computes */
        two_parts p = run_two_parts();
        nb__fp_leave(saved);
        ck_assert(p.flushed[0] && p.flushed[1]);
        p = run_two_parts(); /* the worker does not keep the last job's mode */
        ck_assert(!p.flushed[0] && !p.flushed[1]);
    }
}
END_TEST

/* Each part tries to change the thread count, as a layer's forward might
 * during a split training step; each gets an error instead of waiting for
 * the job it is part of. */
typedef struct resize_attempt {
    nb_status status[2];
    char message[2][256];
} resize_attempt;

static void try_resize(void *ctx, int64_t begin, int64_t end)
{
    resize_attempt *a = ctx;
    for (int64_t i = begin; i < end; i++) {
        a->status[i] = nb_set_num_threads(1);
        snprintf(a->message[i], sizeof a->message[i], "%s", nb_last_error());
    }
}

START_TEST(set_num_threads_from_inside_a_part_is_an_error)
{
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    resize_attempt a = {{NB_OK, NB_OK}, {"", ""}};
    nb__parallel_for(2, 1, 1, try_resize, &a);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(a.status[i], NB_ERR_STATE);
        ck_assert_str_eq(a.message[i], "nb_set_num_threads: called from code that runs on "
                         "nabla's threads (a layer's forward in a split training step): change "
                         "the thread count between computations");
    }
    ck_assert_int_eq(nb_num_threads(), 2);
    ck_assert_int_eq(nb_set_num_threads(1), NB_OK); /* and between computations it works */
}
END_TEST

START_TEST(set_num_threads_rejects_counts_out_of_range)
{
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 2);
    ck_assert_int_eq(nb_set_num_threads(-1), NB_ERR_ARG);
    ck_assert_error_contains("nb_set_num_threads: n is -1: expected 1 to 64, or 0 for the "
                             "automatic choice");
    ck_assert_int_eq(nb_set_num_threads(65), NB_ERR_ARG);
    ck_assert_error_contains("nb_set_num_threads: n is 65: expected 1 to 64, or 0 for the "
                             "automatic choice");
    ck_assert_int_eq(nb_num_threads(), 2);
    ck_assert_int_eq(nb_set_num_threads(1), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 1);
}
END_TEST

static Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("kernels");
    tcase_add_checked_fixture(tc, save_backend, restore_backend);
    tcase_add_loop_test(tc, portable_and_blas_match_reference_for_odd_sizes, 0, 4);
    tcase_add_test(tc, portable_gemm_matches_products_by_hand);
    tcase_add_test(tc, beta_zero_overwrites_c_even_when_it_holds_nan);
    tcase_add_test(tc, alpha_zero_only_scales_c);
    suite_add_tcase(s, tc);
    tc = tcase_create("backend");
    tcase_add_checked_fixture(tc, save_backend, restore_backend);
    if (nb_have_blas()) /* with one backend there is nothing to compare */
        tcase_add_test(tc, matmul_gives_the_same_result_on_either_backend);
    tcase_add_test(tc, set_gemm_backend_rejects_unknown_values);
    tcase_add_test(tc, blas_backend_is_available_exactly_when_built_in);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_checked_fixture(tc, save_backend, restore_backend);
    tcase_add_checked_fixture(tc, NULL, one_thread);
    tcase_add_loop_test(tc, threaded_products_repeat_exactly_and_match_one_thread, 0, 2);
    tcase_add_test(tc, serial_mode_runs_every_part_on_the_caller);
    tcase_add_test(tc, pool_workers_take_the_callers_floating_point_mode);
    tcase_add_test(tc, set_num_threads_from_inside_a_part_is_an_error);
    tcase_add_test(tc, set_num_threads_rejects_counts_out_of_range);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(gemm_suite)
