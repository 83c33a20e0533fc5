/* Flushing subnormal floats to zero while nabla trains and predicts.
 *
 * Training produces subnormal numbers steadily (Adam's second moment of a
 * weight whose gradient is almost always zero, such as that of a pixel
 * that is rarely lit, decays through the subnormal range over thousands of
 * steps; the profile put most of the saving in Adam), and on many
 * CPUs every operation on such a number is slow (on this project's
 * benchmark machine flushing them made a batch-32 epoch of the MNIST MLP
 * 13 to 22% shorter: docs/performance.md). TensorFlow, and so
 * Keras, runs its ops with subnormals flushed (FTZ and DAZ on x86, FZ on
 * Arm); PyTorch offers the same as torch.set_flush_denormal. nabla flushes
 * inside nb_model_fit, nb_model_evaluate and nb_model_predict by default
 * and restores the caller's mode when they return, so gradient checks and
 * the caller's own arithmetic keep full IEEE behaviour. */
#include "kernels/fpenv.h"

#include <stdatomic.h>
#include <stdint.h>

#include "nabla/backend.h"

/* x86 only when the compiler does float and double maths in SSE (x87
 * maths ignores MXCSR): always on x86-64 unless told otherwise */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2_MATH__)
#include <xmmintrin.h>
#define FLUSH_BITS 0x8040u   /* MXCSR: FTZ (bit 15) and DAZ (bit 6) */
#define CONTROL_BITS 0xffc0u /* MXCSR bits 6 to 15; bits 0 to 5 are flags */
static unsigned read_env(void) { return _mm_getcsr(); }
static void write_env(unsigned env) { _mm_setcsr(env); }
#elif defined(__aarch64__)
#define FLUSH_BITS (1u << 24)  /* FPCR.FZ */
#define CONTROL_BITS 0xffffffffu /* FPCR holds no flags (they are in FPSR) */
static unsigned read_env(void)
{
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (unsigned)fpcr;
}
static void write_env(unsigned env)
{
    uint64_t fpcr = env;
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
#else
#define FLUSH_BITS 0u
#define CONTROL_BITS 0u
static unsigned read_env(void) { return 0; }
static void write_env(unsigned env) { (void)env; }
#endif

static atomic_bool flush = FLUSH_BITS != 0;

bool nb_set_flush_denormals(bool on)
{
    if (on && FLUSH_BITS == 0)
        return false;
    atomic_store(&flush, on);
    return true;
}

bool nb_flush_denormals(void) { return atomic_load(&flush); }

unsigned nb__fp_control(void) { return read_env() & CONTROL_BITS; }

void nb__fp_set_control(unsigned control)
{
    unsigned env = read_env();
    if ((env & CONTROL_BITS) != control)
        write_env((env & ~CONTROL_BITS) | control);
}

unsigned nb__fp_enter(void)
{
    unsigned saved = read_env();
    if (atomic_load(&flush) && (saved & FLUSH_BITS) != FLUSH_BITS)
        write_env(saved | FLUSH_BITS);
    return saved & FLUSH_BITS;
}

void nb__fp_leave(unsigned saved)
{
    unsigned env = read_env();
    if ((env & FLUSH_BITS) != saved)
        write_env((env & ~FLUSH_BITS) | saved);
}
