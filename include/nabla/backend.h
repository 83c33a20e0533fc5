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

/* Choose the kernel; NB_ERR_ARG when BLAS is asked for but not built in.
 * Like nb_set_num_threads, a process-wide setting: change it between
 * computations, not while another thread of yours is computing. */
nb_status nb_set_gemm_backend(nb_gemm_backend backend);
nb_gemm_backend nb_gemm_backend_in_use(void);

/* Threads nabla computes with, 1 to 64 (the calling thread counts as one).
 * With n > 1, large matrix products (split by rows or columns of the
 * result), the optimizer update and large elementwise loops are divided
 * into n contiguous parts, one per thread, with either kernel; OpenBLAS is
 * then kept at one thread of its own. nb_model_fit instead splits a
 * training step of at least 16 rows per thread by rows, each thread on its
 * own copy of the model (f32 models whose layer classes have from_config),
 * so results differ from one thread's by rounding. The parts depend only
 * on the sizes and n, so a run is repeatable for a given n; with n = 1
 * nothing is split. Until it is called, nabla uses one thread and OpenBLAS its own
 * default. NB_ERR_ARG for n out of range; NB_ERR_STATE when the system
 * would not start all the threads (the ones that started are used), or
 * when called from code nabla runs on its threads (a layer's forward in a
 * split training step), where changing the pool would wait for itself. */
nb_status nb_set_num_threads(int n);

/* The thread count nb_set_num_threads reached (1 before any call). */
int nb_num_threads(void);

/* Whether nb_model_fit, nb_model_evaluate and nb_model_predict flush
 * subnormal ("denormal") numbers to zero while they run, as TensorFlow does
 * for Keras: operations on them are slow on many CPUs, and training makes
 * them steadily. On by default where nabla can set it (x86 with SSE2
 * maths: FTZ and DAZ; 64-bit Arm: FZ). The caller's mode is restored when
 * those functions return, so gradient checks and other calls, such as a
 * loop of your own around nb_model_forward, keep IEEE arithmetic (their
 * results can then differ from predict's where values are subnormal); a
 * callback's code runs in the flushed mode. A process-wide setting, like
 * nb_set_num_threads. As torch.set_flush_denormal, returns false (and
 * leaves flushing off) when asked to flush on a CPU where nabla cannot. A
 * BLAS's own threads (OpenBLAS's are used only before nb_set_num_threads
 * is called) keep their mode. */
bool nb_set_flush_denormals(bool on);
bool nb_flush_denormals(void);

/* Which compiled copy of nabla's own hot loops runs (the optimizer updates,
 * add_bias; matrix products are BLAS's): "baseline", "avx2" or "avx512".
 * Chosen at the first use from what the CPU supports; the environment
 * variable NABLA_CPU, read then, caps it at a lower level ("baseline",
 * "avx2", "avx512"). A value not known, or a level the CPU or build cannot
 * run, is said once on stderr and the best level that can run is used
 * instead. Every level gives bit-identical results (docs/performance.md). */
const char *nb_cpu_kernels(void);

/* One line describing the build: version, BLAS, CPU kernels (as
 * nb_cpu_kernels), optional features. */
const char *nb_build_info(void);

#endif
