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

/* Threads nabla computes with, 1 to 64 (the calling thread counts as one),
 * or 0 for the automatic choice, which is also what a program gets that
 * never calls this: at first use nabla takes NABLA_NUM_THREADS if set (1
 * to 64; 0 means automatic), else one thread when OPENBLAS_NUM_THREADS
 * asks for more than one (OpenBLAS then keeps that many of its own), else
 * OMP_NUM_THREADS, else one per CPU the process may use (its affinity mask
 * and cgroup quota, shared among the MPI ranks on the machine). Except in
 * that OPENBLAS_NUM_THREADS case OpenBLAS is held at one thread, so that
 * its threads never race nabla's on products too small to pay.
 *
 * With n > 1, large matrix products (split by rows or columns of the
 * result), the optimizer update and large elementwise loops are divided
 * into n contiguous parts, one per thread, with either kernel.
 * nb_model_fit instead splits a training step of at least 16 rows per
 * thread by rows, each thread on its own copy of the model (f32 models
 * whose layer classes have from_config), so results differ from one
 * thread's by rounding; a small step (under 2^20 multiply-adds) is not
 * split at all. The parts depend only on the sizes and n, so a run is
 * repeatable for a given n; with n = 1 nothing is split. The automatic n
 * depends on the machine, so a run on more cores can differ in the last
 * bits from a one-thread run: for the same bits on every machine, set
 * NABLA_NUM_THREADS=1 or call nb_set_num_threads(1).
 *
 * The pool serves one computation at a time: a second thread of the
 * program computing meanwhile runs its parts on itself (the same parts, so
 * the same results). A program that computes on several threads of its own
 * at once can keep nabla to them with nb_set_num_threads(1).
 *
 * NB_ERR_ARG for n out of range, and for n = 0 when NABLA_NUM_THREADS is
 * not a count (the message names it; the rest of the automatic choice is
 * applied; without a call, the automatic choice prints that on stderr and
 * goes on); NB_ERR_STATE when the system would not start all the threads
 * (the ones that started are used), or when called from code nabla runs
 * on its threads (a layer's forward in a split training step), where
 * changing the pool would wait for itself. */
nb_status nb_set_num_threads(int n);

/* The thread count nabla computes with: the one nb_set_num_threads
 * reached, or the automatic choice (made by this call if not yet made). */
int nb_num_threads(void);

/* Why nb_num_threads is what it is, for a program's report:
 * "nb_set_num_threads", "NABLA_NUM_THREADS", "OMP_NUM_THREADS",
 * "OPENBLAS_NUM_THREADS=4, for OpenBLAS" or "automatic: 2 CPUs" (with
 * " / 2 MPI ranks" under mpirun). A static string, valid until the next
 * nb_set_num_threads. */
const char *nb_num_threads_source(void);

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
 * BLAS's own threads (OpenBLAS's run only when OPENBLAS_NUM_THREADS asks
 * for them, see nb_set_num_threads) keep their mode. */
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
