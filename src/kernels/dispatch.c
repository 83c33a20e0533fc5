/* Runtime CPU dispatch (vec.h): which compiled copy of the hot loops runs.
 * Chosen once, at the first use, from what the CPU supports, capped by the
 * NABLA_CPU environment variable as OpenBLAS's kernels are by
 * OPENBLAS_CORETYPE. Levels are nested (a CPU with AVX-512 has AVX2), so
 * "the best level up to the one asked for" is always defined. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "kernels/vec.h"
#include "nabla/backend.h"
#include "nabla_config.h"

/* x86-64 copies are built only with GCC or clang (meson.build checks), whose
 * __builtin_cpu_supports tells what the CPU and the OS's saved state allow. */
#if NB_HAVE_VEC_AVX2 && defined(__x86_64__)
#define HAVE_X86_LEVELS 1
#else
#define HAVE_X86_LEVELS 0
#endif

extern const nb__vec_kernels nb__vec_baseline;
#if NB_HAVE_VEC_AVX2
extern const nb__vec_kernels nb__vec_avx2;
#endif
#if NB_HAVE_VEC_AVX512
extern const nb__vec_kernels nb__vec_avx512;
#endif

static const char *const level_names[NB_VEC_N_LEVELS] = {"baseline", "avx2", "avx512"};

/* The level's table when this build has it, whatever the CPU. */
static const nb__vec_kernels *built_table(nb__vec_level level)
{
    switch (level) {
    case NB_VEC_BASELINE:
        return &nb__vec_baseline;
#if NB_HAVE_VEC_AVX2
    case NB_VEC_AVX2:
        return &nb__vec_avx2;
#endif
#if NB_HAVE_VEC_AVX512
    case NB_VEC_AVX512:
        return &nb__vec_avx512;
#endif
    default:
        return NULL;
    }
}

/* Whether the CPU runs the instructions the level's copy was compiled for
 * (meson.build: -mavx2 -mfma; AVX-512 adds -mavx512f/bw/vl/dq). */
static bool cpu_runs(nb__vec_level level)
{
    if (level == NB_VEC_BASELINE)
        return true;
#if HAVE_X86_LEVELS
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (level == NB_VEC_AVX2)
        return avx2;
    if (level == NB_VEC_AVX512)
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#endif
    return false;
}

const nb__vec_kernels *nb__vec_table(nb__vec_level level)
{
    if (level < NB_VEC_BASELINE || level >= NB_VEC_N_LEVELS || !cpu_runs(level))
        return NULL;
    return built_table(level);
}

nb__vec_level nb__vec_best_level(void)
{
    nb__vec_level best = NB_VEC_BASELINE;
    for (int level = NB_VEC_BASELINE + 1; level < NB_VEC_N_LEVELS; level++)
        if (nb__vec_table((nb__vec_level)level))
            best = (nb__vec_level)level;
    return best;
}

nb__vec_level nb__vec_choose(const char *request, nb__vec_level best, char *note,
                             int note_size)
{
    note[0] = '\0';
    if (!request || !*request)
        return best;
    int asked = NB_VEC_N_LEVELS;
    for (int level = 0; level < NB_VEC_N_LEVELS; level++)
        if (strcasecmp(request, level_names[level]) == 0)
            asked = level;
    if (asked == NB_VEC_N_LEVELS) {
        snprintf(note, (size_t)note_size,
                 "nabla: NABLA_CPU=%s is not one of baseline, avx2, avx512: using %s", request,
                 level_names[best]);
        return best;
    }
    if (asked > (int)best) {
        snprintf(note, (size_t)note_size,
                 "nabla: NABLA_CPU=%s: this CPU or build cannot run %s code: using %s", request,
                 level_names[asked], level_names[best]);
        return best;
    }
    return (nb__vec_level)asked;
}

/* NULL until the first use chooses. */
static _Atomic(const nb__vec_kernels *) in_use;
static pthread_once_t chosen = PTHREAD_ONCE_INIT;

/* The choice at first use; a NABLA_CPU that cannot be followed is said once,
 * on stderr, and the library goes on with the level it names there. */
static void choose_from_environment(void)
{
    char note[192];
    nb__vec_level level =
        nb__vec_choose(getenv("NABLA_CPU"), nb__vec_best_level(), note, (int)sizeof note);
    if (note[0])
        fprintf(stderr, "%s\n", note);
    atomic_store_explicit(&in_use, built_table(level), memory_order_release);
}

const nb__vec_kernels *nb__vec(void)
{
    const nb__vec_kernels *kernels = atomic_load_explicit(&in_use, memory_order_acquire);
    if (kernels)
        return kernels;
    pthread_once(&chosen, choose_from_environment);
    return atomic_load_explicit(&in_use, memory_order_acquire);
}

bool nb__vec_use(nb__vec_level level)
{
    const nb__vec_kernels *kernels = nb__vec_table(level);
    if (!kernels)
        return false;
    pthread_once(&chosen, choose_from_environment); /* so it cannot overwrite this later */
    atomic_store_explicit(&in_use, kernels, memory_order_release);
    return true;
}

const char *nb_cpu_kernels(void) { return nb__vec()->name; }
