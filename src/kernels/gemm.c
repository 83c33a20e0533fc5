/* GEMM dispatch: cblas when built in and selected, else the portable kernel. */
#include "kernels/gemm.h"

#include <stdio.h>

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

nb_status nb_set_num_threads(int n)
{
    if (n < 1)
        return nb_error(NB_ERR_ARG, "nb_set_num_threads: n is %d: expected at least 1", n);
#if NB_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(n);
#endif
    return NB_OK;
}

const char *nb_build_info(void)
{
    static char info[160];
    snprintf(info, sizeof info, "nabla %s, gemm: %s, plplot: %s, zlib: %s", NB_VERSION,
             backend == NB_GEMM_BLAS ? "cblas" : "portable", NB_HAVE_PLPLOT ? "yes" : "no",
             NB_HAVE_ZLIB ? "yes" : "no");
    return info;
}

void nb__gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc)
{
#if NB_HAVE_CBLAS
    if (backend == NB_GEMM_BLAS) {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a,
                    (int)lda, b, (int)ldb, beta, c, (int)ldc);
        return;
    }
#endif
    nb__gemm_portable_f32(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void nb__gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  const double *a, int64_t lda, const double *b, int64_t ldb, double beta,
                  double *c, int64_t ldc)
{
#if NB_HAVE_CBLAS
    if (backend == NB_GEMM_BLAS) {
        cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a,
                    (int)lda, b, (int)ldb, beta, c, (int)ldc);
        return;
    }
#endif
    nb__gemm_portable_f64(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
