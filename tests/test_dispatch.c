/* Tests for runtime CPU dispatch (src/kernels/dispatch.c, vec.h): every
 * kernel at every level this CPU runs gives the baseline's bits, f32 and
 * f64, on lengths with vector tails; NABLA_CPU selects a level and is
 * capped at what the CPU runs; and training steps give the same weights at
 * every level. meson runs this suite under NABLA_CPU unset, "baseline" and
 * "bogus" (tests/meson.build). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/vec.h"
#include "nb_test.h"

static const char *const level_names[] = {"baseline", "avx2", "avx512"};

/* Odd lengths: below, at and past the AVX-512 widths, with tails. */
static const int64_t lengths[] = {1, 3, 7, 8, 15, 17, 31, 33, 67, 1001};
#define N_LENGTHS (int)(sizeof lengths / sizeof lengths[0])
#define MAX_LEN 1001

/* ---- kernels against the baseline, bit for bit --------------------------------- */

/* Uniform in [low, high) from a fixed-seed generator. */
static double uniform(nb_rng *rng, double low, double high)
{
    return low + (high - low) * nb_rng_uniform(rng);
}

/* Three inputs and three outputs per type; outputs start as copies of the
 * state arrays so in-place kernels see the same starting values. */
typedef struct arrays_f32 {
    float p[MAX_LEN], m[MAX_LEN], v[MAX_LEN], g[MAX_LEN];
} arrays_f32;
typedef struct arrays_f64 {
    double p[MAX_LEN], m[MAX_LEN], v[MAX_LEN], g[MAX_LEN];
} arrays_f64;

/* g and p in [-1, 1); m in [-0.1, 0.1); v >= 0, as Adam's and RMSprop's
 * second moments are. */
#define FILL_ARRAYS(a, T, seed)                                                              \
    do {                                                                                     \
        nb_rng rng;                                                                          \
        nb_rng_seed(&rng, seed);                                                             \
        for (int i = 0; i < MAX_LEN; i++) {                                                  \
            (a)->p[i] = (T)uniform(&rng, -1, 1);                                             \
            (a)->m[i] = (T)uniform(&rng, -0.1, 0.1);                                         \
            (a)->v[i] = (T)uniform(&rng, 0, 0.01);                                           \
            (a)->g[i] = (T)uniform(&rng, -1, 1);                                             \
        }                                                                                    \
    } while (0)

/* Run every kernel of k (a type's table) on arrays a, n items. */
#define RUN_ALL_KERNELS(k, T, a, n)                                                          \
    do {                                                                                     \
        k.sgd(n, (a)->p, (a)->g, (T)0.01);                                                   \
        k.sgd_momentum(n, (a)->p, (a)->m, (a)->g, (T)0.01, (T)0.9, false);                   \
        k.sgd_momentum(n, (a)->p, (a)->m, (a)->g, (T)0.01, (T)0.9, true);                    \
        k.adam(n, (a)->p, (a)->m, (a)->v, (a)->g, (T)1e-3, (T)0.1, (T)0.001, (T)1e-7);       \
        k.rmsprop(n, (a)->p, (a)->v, NULL, (a)->g, (T)1e-3, (T)0.9, (T)0, (T)1e-7);          \
        k.rmsprop(n, (a)->p, (a)->v, (a)->m, (a)->g, (T)1e-3, (T)0.9, (T)0.5, (T)1e-7);      \
        k.accumulate(n, (a)->g, (a)->p);                                                     \
        k.relu(n, (a)->m, (a)->p);                                                           \
        k.relu_grad(n, (a)->v, (a)->g, (a)->p);                                              \
        /* n as rows x 1 and 1 x n: a bias of one column and one row */                      \
        k.add_rows(n, 1, (a)->m, (a)->p, (a)->g);                                            \
        k.add_rows(1, n, (a)->v, (a)->p, (a)->g);                                            \
        k.accumulate_column_sums(n, 1, (a)->g, (a)->p);                                      \
        k.accumulate_column_sums(1, n, (a)->g, (a)->p);                                      \
        /* and a real matrix: n / 3 rows of 3 (bias gradient of a narrow layer) */           \
        k.add_rows(n / 3, 3, (a)->m, (a)->p, (a)->v);                                        \
        k.accumulate_column_sums(n / 3, 3, (a)->g, (a)->v);                                  \
    } while (0)

/* Every kernel of `level`, run after one another on the same data as the
 * baseline's, leaves the same bytes in every array. */
static void assert_level_matches_baseline(nb__vec_level level)
{
    const nb__vec_kernels *base = nb__vec_table(NB_VEC_BASELINE), *k = nb__vec_table(level);
    static arrays_f32 want32, got32;
    static arrays_f64 want64, got64;
    for (int l = 0; l < N_LENGTHS; l++) {
        int64_t n = lengths[l];
        FILL_ARRAYS(&want32, float, 100 + l);
        FILL_ARRAYS(&want64, double, 200 + l);
        got32 = want32;
        got64 = want64;
        RUN_ALL_KERNELS(base->f32, float, &want32, n);
        RUN_ALL_KERNELS(k->f32, float, &got32, n);
        RUN_ALL_KERNELS(base->f64, double, &want64, n);
        RUN_ALL_KERNELS(k->f64, double, &got64, n);
        ck_assert_msg(memcmp(&want32, &got32, sizeof want32) == 0,
                      "%s f32 kernels differ from baseline at n = %lld", k->name, (long long)n);
        ck_assert_msg(memcmp(&want64, &got64, sizeof want64) == 0,
                      "%s f64 kernels differ from baseline at n = %lld", k->name, (long long)n);
    }
}

START_TEST(every_level_gives_the_baselines_bits)
{
    int compared = 0;
    for (int level = NB_VEC_BASELINE + 1; level < NB_VEC_N_LEVELS; level++) {
        if (!nb__vec_table((nb__vec_level)level))
            continue; /* not built, or not run by this CPU */
        assert_level_matches_baseline((nb__vec_level)level);
        compared++;
    }
    ck_assert_int_eq(compared, (int)nb__vec_best_level());
}
END_TEST

/* A NaN or an infinity at each position, the vector tail included, is
 * found at every level; finite data passes. */
START_TEST(all_finite_finds_every_position_at_every_level)
{
    static float x32[MAX_LEN];
    static double x64[MAX_LEN];
    const double specials[] = {NAN, INFINITY, -INFINITY};
    for (int level = 0; level <= (int)nb__vec_best_level(); level++) {
        const nb__vec_kernels *k = nb__vec_table((nb__vec_level)level);
        for (int l = 0; l < N_LENGTHS; l++) {
            int64_t n = lengths[l];
            for (int64_t i = 0; i < n; i++)
                x32[i] = (float)(x64[i] = (double)i - 3.5);
            ck_assert_msg(k->f32.all_finite(n, x32) && k->f64.all_finite(n, x64),
                          "%s: finite data of %lld reported not finite", k->name, (long long)n);
            for (int64_t bad = 0; bad < n; bad++) {
                double special = specials[bad % 3];
                x32[bad] = (float)(x64[bad] = special);
                ck_assert_msg(!k->f32.all_finite(n, x32) && !k->f64.all_finite(n, x64),
                              "%s: %g at %lld of %lld not found", k->name, special,
                              (long long)bad, (long long)n);
                x32[bad] = (float)(x64[bad] = 1);
            }
        }
    }
}
END_TEST

/* The comparison above compares the kernels' effects; this checks that it
 * would see a difference (a sum in another order changes the last bits). */
START_TEST(comparison_sees_a_last_bit_difference)
{
    static arrays_f32 a, b;
    FILL_ARRAYS(&a, float, 7);
    b = a;
    const nb__vec_kernels *base = nb__vec_table(NB_VEC_BASELINE);
    base->f32.accumulate(MAX_LEN, a.g, a.p);
    base->f32.accumulate(MAX_LEN, a.g, a.m);
    base->f32.accumulate(MAX_LEN, b.g, b.m); /* the same two additions, swapped */
    base->f32.accumulate(MAX_LEN, b.g, b.p);
    ck_assert_int_ne(memcmp(&a, &b, sizeof a), 0);
}
END_TEST

/* ---- choosing the level ------------------------------------------------------ */

START_TEST(no_request_takes_the_best_level)
{
    char note[192];
    for (int best = 0; best < NB_VEC_N_LEVELS; best++) {
        ck_assert_int_eq(nb__vec_choose(NULL, (nb__vec_level)best, note, sizeof note), best);
        ck_assert_str_eq(note, "");
        ck_assert_int_eq(nb__vec_choose("", (nb__vec_level)best, note, sizeof note), best);
        ck_assert_str_eq(note, "");
    }
}
END_TEST

START_TEST(request_at_or_below_the_best_is_followed)
{
    char note[192];
    ck_assert_int_eq(nb__vec_choose("baseline", NB_VEC_AVX512, note, sizeof note),
                     NB_VEC_BASELINE);
    ck_assert_str_eq(note, "");
    ck_assert_int_eq(nb__vec_choose("AVX2", NB_VEC_AVX512, note, sizeof note), NB_VEC_AVX2);
    ck_assert_str_eq(note, "");
    ck_assert_int_eq(nb__vec_choose("avx2", NB_VEC_AVX2, note, sizeof note), NB_VEC_AVX2);
    ck_assert_int_eq(nb__vec_choose("avx512", NB_VEC_AVX512, note, sizeof note), NB_VEC_AVX512);
    ck_assert_str_eq(note, "");
}
END_TEST

START_TEST(request_above_the_best_falls_back_with_a_note)
{
    char note[192];
    ck_assert_int_eq(nb__vec_choose("avx512", NB_VEC_AVX2, note, sizeof note), NB_VEC_AVX2);
    ck_assert_str_eq(note, "nabla: NABLA_CPU=avx512: this CPU or build cannot run avx512 code: "
                           "using avx2");
    ck_assert_int_eq(nb__vec_choose("avx2", NB_VEC_BASELINE, note, sizeof note),
                     NB_VEC_BASELINE);
    ck_assert_str_eq(note, "nabla: NABLA_CPU=avx2: this CPU or build cannot run avx2 code: "
                           "using baseline");
}
END_TEST

START_TEST(unknown_request_takes_the_best_level_with_a_note)
{
    char note[192];
    ck_assert_int_eq(nb__vec_choose("sse9", NB_VEC_AVX2, note, sizeof note), NB_VEC_AVX2);
    ck_assert_str_eq(note, "nabla: NABLA_CPU=sse9 is not one of baseline, avx2, avx512: using "
                           "avx2");
}
END_TEST

/* What this process was started with (meson runs it with several values). */
START_TEST(environment_choice_is_in_use_and_in_build_info)
{
    const char *request = getenv("NABLA_CPU");
    char note[192];
    nb__vec_level expected = nb__vec_choose(request, nb__vec_best_level(), note, sizeof note);
    if (request && strcmp(request, "baseline") == 0)
        ck_assert_int_eq(expected, NB_VEC_BASELINE);
    ck_assert_str_eq(nb_cpu_kernels(), level_names[expected]);
    ck_assert_ptr_eq(nb__vec(), nb__vec_table(expected));
    char info[64];
    snprintf(info, sizeof info, "cpu kernels: %s,", level_names[expected]);
    ck_assert_msg(strstr(nb_build_info(), info) != NULL, "%s", nb_build_info());
}
END_TEST

START_TEST(use_rejects_levels_the_cpu_cannot_run)
{
    const nb__vec_kernels *before = nb__vec();
    ck_assert(!nb__vec_use(NB_VEC_N_LEVELS));
    ck_assert(!nb__vec_use((nb__vec_level)-1));
    for (int level = nb__vec_best_level() + 1; level < NB_VEC_N_LEVELS; level++)
        ck_assert(!nb__vec_use((nb__vec_level)level));
    ck_assert_ptr_eq(nb__vec(), before);
    ck_assert(nb__vec_use(NB_VEC_BASELINE));
    ck_assert_str_eq(nb_cpu_kernels(), "baseline");
    ck_assert(nb__vec_use(nb__vec_best_level()));
    ck_assert_str_eq(nb_cpu_kernels(), level_names[nb__vec_best_level()]);
}
END_TEST

/* ---- end to end ------------------------------------------------------------------ */

/* A 5 -> 16 relu -> 3 softmax model of `dtype` trained for 2 epochs of 4
 * batches with `optimizer` at kernel level `level`; caller frees. */
static nb_model *trained(nb_dtype dtype, nb_optimizer *optimizer, nb__vec_level level)
{
    ck_assert(nb__vec_use(level));
    nb_model *model = nb_sequential();
    ck_assert_int_eq(nb_model_set_dtype(model, dtype), NB_OK);
    nb_model_set_seed(model, 5);
    nb_model_set_input_shape(model, NB_SHAPE(5));
    nb_model_add(model, nb_dense(16, NB_RELU));
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    nb_test_compiled(model, optimizer, "categorical_crossentropy", "accuracy");
    nb_rng rng;
    nb_rng_seed(&rng, 9);
    nb_tensor *x = nb_tensor_rand_normal(NB_F32, NB_SHAPE(32, 5), 0, 1, &rng);
    nb_tensor *y = nb_tensor_zeros(NB_F32, NB_SHAPE(32, 3));
    for (int64_t i = 0; i < 32; i++)
        nb_tensor_set(y, 3 * i + i % 3, 1);
    nb_fit_options fit = nb_test_quiet_fit(2, 8);
    nb_history *history = nb_model_fit(model, x, y, &fit);
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    nb_history_free(history);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return model;
}

static void assert_same_weights(const nb_model *a, const nb_model *b, const char *what)
{
    ck_assert_int_eq(nb_model_weight_count(a), nb_model_weight_count(b));
    for (int i = 0; i < nb_model_weight_count(a); i++) {
        const nb_tensor *wa = nb_model_weight(a, i), *wb = nb_model_weight(b, i);
        ck_assert_msg(memcmp(wa->data, wb->data, (size_t)wa->size * nb_dtype_size(wa->dtype)) == 0,
                      "%s: weight %d differs between baseline and %s", what, i, nb_cpu_kernels());
    }
}

START_TEST(training_gives_the_same_weights_at_every_level)
{
    static const nb_dtype dtypes[] = {NB_F32, NB_F64};
    for (int d = 0; d < 2; d++) {
        for (int o = 0; o < 4; o++) {
            nb_optimizer *opts[2];
            for (int k = 0; k < 2; k++)
                opts[k] = o == 0   ? nb_adam(0.01, 0.9, 0.999, 1e-7)
                          : o == 1 ? nb_sgd(0.1, 0.9, true)
                          : o == 2 ? nb_rmsprop(0.01, 0.9, 0.5, 1e-7)
                                   : nb_sgd(0.1, 0, false);
            nb_model *base = trained(dtypes[d], opts[0], NB_VEC_BASELINE);
            nb_model *best = trained(dtypes[d], opts[1], nb__vec_best_level());
            char what[64];
            snprintf(what, sizeof what, "%s, optimizer %d", dtypes[d] == NB_F32 ? "f32" : "f64",
                     o);
            assert_same_weights(base, best, what);
            nb_model_free(base);
            nb_model_free(best);
        }
    }
}
END_TEST

static Suite *dispatch_suite(void)
{
    Suite *s = suite_create("dispatch");
    TCase *kernels = tcase_create("kernels");
    tcase_add_test(kernels, every_level_gives_the_baselines_bits);
    tcase_add_test(kernels, comparison_sees_a_last_bit_difference);
    tcase_add_test(kernels, all_finite_finds_every_position_at_every_level);
    suite_add_tcase(s, kernels);
    TCase *choice = tcase_create("choice");
    tcase_add_test(choice, no_request_takes_the_best_level);
    tcase_add_test(choice, request_at_or_below_the_best_is_followed);
    tcase_add_test(choice, request_above_the_best_falls_back_with_a_note);
    tcase_add_test(choice, unknown_request_takes_the_best_level_with_a_note);
    tcase_add_test(choice, environment_choice_is_in_use_and_in_build_info);
    tcase_add_test(choice, use_rejects_levels_the_cpu_cannot_run);
    suite_add_tcase(s, choice);
    TCase *training = tcase_create("training");
    tcase_add_test(training, training_gives_the_same_weights_at_every_level);
    suite_add_tcase(s, training);
    return s;
}

NB_TEST_MAIN(dispatch_suite)
