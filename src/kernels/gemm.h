/* Row-major GEMM: C = alpha * op(A) * op(B) + beta * C, where op(A) is m x k
 * and op(B) is k x n; op transposes when the flag is set (no copies). */
#ifndef NABLA_KERNELS_GEMM_H
#define NABLA_KERNELS_GEMM_H

#include <stdbool.h>
#include <stdint.h>

void nb__gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc);
void nb__gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  const double *a, int64_t lda, const double *b, int64_t ldb, double beta,
                  double *c, int64_t ldc);

/* The portable kernels, always compiled; tests compare them with cblas. */
void nb__gemm_portable_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                           float alpha, const float *a, int64_t lda, const float *b,
                           int64_t ldb, float beta, float *c, int64_t ldc);
void nb__gemm_portable_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                           double alpha, const double *a, int64_t lda, const double *b,
                           int64_t ldb, double beta, double *c, int64_t ldc);

#endif
