/* GEMM dispatch: cblas when built in and selected, else the portable kernel;
 * large products are split across nabla's thread pool (kernels/parallel.c). */
#include "kernels/gemm.h"

#include <stdio.h>

#include "kernels/parallel.h"
#include "nabla/backend.h"
#include "nabla_config.h"

#if NB_HAVE_CBLAS
#include <cblas.h>
#endif

#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)

#define T float
#define SUFFIX f32
#include "kernels/gemm_portable.inc"
#undef T
#undef SUFFIX

#define T double
#define SUFFIX f64
#include "kernels/gemm_portable.inc"
#undef T
#undef SUFFIX

static nb_gemm_backend backend = NB_HAVE_CBLAS ? NB_GEMM_BLAS : NB_GEMM_PORTABLE;

bool nb_have_blas(void) { return NB_HAVE_CBLAS; }

nb_status nb_set_gemm_backend(nb_gemm_backend requested)
{
    if (requested != NB_GEMM_BLAS && requested != NB_GEMM_PORTABLE)
        return nb_error(NB_ERR_ARG, "nb_set_gemm_backend: backend %d is not NB_GEMM_BLAS or NB_GEMM_PORTABLE",
                        (int)requested);
    if (requested == NB_GEMM_BLAS && !NB_HAVE_CBLAS)
        return nb_error(NB_ERR_ARG, "nb_set_gemm_backend: NB_GEMM_BLAS requested but libnabla was "
                        "built without cblas (meson setup -Dblas=enabled)");
    backend = requested;
    return NB_OK;
}

nb_gemm_backend nb_gemm_backend_in_use(void) { return backend; }

/* Which of OpenBLAS's kernels run: it picks them for the CPU when it loads,
 * unless OPENBLAS_CORETYPE names others; docs/performance.md shows what the
 * choice is worth. */
static const char *blas_kernels(void)
{
#if NB_HAVE_OPENBLAS_CORENAME
    static char kernels[64];
    snprintf(kernels, sizeof kernels, " (OpenBLAS %s kernels)", openblas_get_corename());
    return kernels;
#else
    return "";
#endif
}

const char *nb_build_info(void)
{
    static char info[192];
    snprintf(info, sizeof info, "nabla %s, gemm: %s%s, cpu kernels: %s, plplot: %s, zlib: %s",
             NB_VERSION, backend == NB_GEMM_BLAS ? "cblas" : "portable",
             backend == NB_GEMM_BLAS ? blas_kernels() : "", nb_cpu_kernels(),
             NB_HAVE_PLPLOT ? "yes" : "no", NB_HAVE_ZLIB ? "yes" : "no");
    return info;
}

/* One GEMM call, either element type; offsets below are in elements. */
typedef struct gemm_args {
    bool f64, trans_a, trans_b;
    int64_t m, n, k, lda, ldb, ldc;
    double alpha, beta;
    const void *a, *b;
    void *c;
} gemm_args;

static void gemm_serial_f32(const gemm_args *g, int64_t a_off, int64_t b_off, int64_t c_off,
                            int64_t m, int64_t n)
{
    const float *a = (const float *)g->a + a_off, *b = (const float *)g->b + b_off;
    float *c = (float *)g->c + c_off;
#if NB_HAVE_CBLAS
    if (backend == NB_GEMM_BLAS) {
        cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                    g->trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)g->k,
                    (float)g->alpha, a, (int)g->lda, b, (int)g->ldb, (float)g->beta, c,
                    (int)g->ldc);
        return;
    }
#endif
    nb__gemm_portable_f32(g->trans_a, g->trans_b, m, n, g->k, (float)g->alpha, a, g->lda, b,
                          g->ldb, (float)g->beta, c, g->ldc);
}

static void gemm_serial_f64(const gemm_args *g, int64_t a_off, int64_t b_off, int64_t c_off,
                            int64_t m, int64_t n)
{
    const double *a = (const double *)g->a + a_off, *b = (const double *)g->b + b_off;
    double *c = (double *)g->c + c_off;
#if NB_HAVE_CBLAS
    if (backend == NB_GEMM_BLAS) {
        cblas_dgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                    g->trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)g->k, g->alpha,
                    a, (int)g->lda, b, (int)g->ldb, g->beta, c, (int)g->ldc);
        return;
    }
#endif
    nb__gemm_portable_f64(g->trans_a, g->trans_b, m, n, g->k, g->alpha, a, g->lda, b, g->ldb,
                          g->beta, c, g->ldc);
}

static void gemm_block(const gemm_args *g, int64_t a_off, int64_t b_off, int64_t c_off,
                       int64_t m, int64_t n)
{
    if (g->f64)
        gemm_serial_f64(g, a_off, b_off, c_off, m, n);
    else
        gemm_serial_f32(g, a_off, b_off, c_off, m, n);
}

/* Rows [i0, i1) of C: the same rows of op(A), all of op(B). */
static void gemm_rows(void *ctx, int64_t i0, int64_t i1)
{
    const gemm_args *g = ctx;
    gemm_block(g, g->trans_a ? i0 : i0 * g->lda, 0, i0 * g->ldc, i1 - i0, g->n);
}

/* Columns [j0, j1) of C: all of op(A), the same columns of op(B). */
static void gemm_cols(void *ctx, int64_t j0, int64_t j1)
{
    const gemm_args *g = ctx;
    gemm_block(g, 0, g->trans_b ? j0 * g->ldb : j0, j0, g->m, j1 - j0);
}

/* Products below this many multiply-adds (about 10 microseconds) run on one
 * thread: handing half of them to another thread costs more than it saves.
 * The MNIST MLP's first layer (batch x 784 x 128) is far above it. */
#define GEMM_PARALLEL_MACS (1 << 18)
/* Part boundaries at multiples of 8 rows or columns: whole SIMD vectors. */
#define GEMM_PART_ALIGN 8

/* Large products are split across the pool along the longer side of C, each
 * part a separate single-threaded product: every element of C is computed
 * by one thread, so the split decides the result, not the timing. */
static void gemm(const gemm_args *g)
{
    double macs = (double)g->m * (double)g->n * (double)g->k;
    if (nb__num_threads() == 1 || macs < GEMM_PARALLEL_MACS) {
        gemm_block(g, 0, 0, 0, g->m, g->n);
        return;
    }
    if (g->m >= g->n)
        nb__parallel_for(g->m, GEMM_PART_ALIGN, GEMM_PART_ALIGN, gemm_rows, (void *)g);
    else
        nb__parallel_for(g->n, GEMM_PART_ALIGN, GEMM_PART_ALIGN, gemm_cols, (void *)g);
}

void nb__gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc)
{
    gemm(&(gemm_args){false, trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c});
}

void nb__gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  const double *a, int64_t lda, const double *b, int64_t ldb, double beta,
                  double *c, int64_t ldc)
{
    gemm(&(gemm_args){true, trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c});
}
