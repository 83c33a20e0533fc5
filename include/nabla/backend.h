/* nabla/backend.h: which kernels run the matrix products, and threads.
 *
 * Matrix products go through cblas (OpenBLAS) when the library was built
 * with it, and through a portable blocked kernel otherwise. A program can
 * switch to the portable kernel at run time, for example to compare them. */
#ifndef NABLA_BACKEND_H
#define NABLA_BACKEND_H

#include <stdbool.h>

#include "nabla/error.h"

typedef enum nb_gemm_backend {
    NB_GEMM_BLAS = 0,    /* cblas_sgemm / cblas_dgemm */
    NB_GEMM_PORTABLE = 1 /* nabla's own kernel, always available */
} nb_gemm_backend;

/* True when libnabla was built with cblas. */
bool nb_have_blas(void);

/* Choose the kernel; NB_ERR_ARG when BLAS is asked for but not built in. */
nb_status nb_set_gemm_backend(nb_gemm_backend backend);
nb_gemm_backend nb_gemm_backend_in_use(void);

/* Threads the BLAS may use (no effect on the portable kernel); n >= 1. */
nb_status nb_set_num_threads(int n);

/* One line describing the build: version, BLAS, optional features. */
const char *nb_build_info(void);

#endif
