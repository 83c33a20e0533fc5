/* Tests for src/kernels/threads.c: the thread count nabla chooses when the
 * program does not (nb_set_num_threads(0), or nothing), the environment
 * variables it reads, and OpenBLAS's own threads. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "nb_test.h"
#include "kernels/threads.h"

/* ---- a clean environment for each test ---------------------------------- */

static const char *const variables[] = {"NABLA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                        "OMP_NUM_THREADS", "OMPI_COMM_WORLD_LOCAL_SIZE",
                                        "MPI_LOCALNRANKS"};
enum { N_VARIABLES = sizeof variables / sizeof variables[0] };
static char *saved[N_VARIABLES];

/* The tests may run unforked (CK_FORK=no): put everything back after each. */
static void clear_environment(void)
{
    for (int i = 0; i < N_VARIABLES; i++) {
        const char *value = getenv(variables[i]);
        saved[i] = value ? strdup(value) : NULL;
        unsetenv(variables[i]);
    }
}

static void restore_environment(void)
{
    for (int i = 0; i < N_VARIABLES; i++) {
        if (saved[i])
            setenv(variables[i], saved[i], 1);
        else
            unsetenv(variables[i]);
        free(saved[i]);
        saved[i] = NULL;
    }
    nb_set_num_threads(1);
}

/* The automatic count when nothing is set: one thread per CPU. */
static int cpus(void) { return nb__cpus_available(); }

/* ---- reading a variable ------------------------------------------------- */

static int parse(const char *name, const char *value, char *why)
{
    why[0] = '\0';
    return nb__threads_parse(name, value, why, 160);
}

START_TEST(parse_reads_counts_and_treats_unset_and_zero_as_automatic)
{
    char why[160];
    ck_assert_int_eq(parse("NABLA_NUM_THREADS", NULL, why), 0);
    ck_assert_int_eq(parse("NABLA_NUM_THREADS", "", why), 0);
    ck_assert_int_eq(parse("NABLA_NUM_THREADS", "0", why), 0);
    ck_assert_int_eq(parse("NABLA_NUM_THREADS", "1", why), 1);
    ck_assert_int_eq(parse("NABLA_NUM_THREADS", "64", why), 64);
    ck_assert_str_eq(why, "");
}
END_TEST

START_TEST(parse_rejects_what_is_not_a_count_and_says_why)
{
    static const char *const bad[] = {"65", "-1", "two", "2.5", "3x", " ", "4,2"};
    char why[160], expected[160];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(parse("NABLA_NUM_THREADS", bad[i], why), -1);
        snprintf(expected, sizeof expected, "NABLA_NUM_THREADS is \"%s\": expected a whole "
                 "number from 1 to 64, or 0 for the automatic choice", bad[i]);
        ck_assert_str_eq(why, expected);
    }
}
END_TEST

/* ---- the choice --------------------------------------------------------- */

START_TEST(zero_is_the_automatic_choice_one_thread_per_cpu)
{
    ck_assert_int_ge(cpus(), 1);
    ck_assert_int_le(cpus(), 64);
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), cpus());
    ck_assert_msg(strncmp(nb_num_threads_source(), "automatic: ", 11) == 0,
                  "source is \"%s\"", nb_num_threads_source());
}
END_TEST

START_TEST(nabla_num_threads_sets_the_automatic_count)
{
    setenv("NABLA_NUM_THREADS", "3", 1);
    setenv("OMP_NUM_THREADS", "2", 1); /* NABLA_NUM_THREADS comes first */
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 3);
    ck_assert_str_eq(nb_num_threads_source(), "NABLA_NUM_THREADS");
    setenv("NABLA_NUM_THREADS", "0", 1); /* 0: the rest of the rules */
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 2);
    ck_assert_str_eq(nb_num_threads_source(), "OMP_NUM_THREADS");
}
END_TEST

START_TEST(an_explicit_count_wins_over_the_environment)
{
    setenv("NABLA_NUM_THREADS", "3", 1);
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 2);
    ck_assert_str_eq(nb_num_threads_source(), "nb_set_num_threads");
}
END_TEST

START_TEST(a_bad_nabla_num_threads_is_an_error_and_the_rest_applies)
{
    setenv("NABLA_NUM_THREADS", "two", 1);
    nb_clear_error();
    ck_assert_int_eq(nb_set_num_threads(0), NB_ERR_ARG);
    char expected[256];
    snprintf(expected, sizeof expected, "nb_set_num_threads: NABLA_NUM_THREADS is \"two\": "
             "expected a whole number from 1 to 64, or 0 for the automatic choice (the "
             "automatic choice, %d, is used)", cpus());
    ck_assert_str_eq(nb_last_error(), expected);
    ck_assert_int_eq(nb_num_threads(), cpus());
}
END_TEST

START_TEST(omp_num_threads_is_read_as_pytorch_reads_it)
{
    setenv("OMP_NUM_THREADS", "1", 1);
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 1);
    ck_assert_str_eq(nb_num_threads_source(), "OMP_NUM_THREADS");
    setenv("OMP_NUM_THREADS", "3,1", 1); /* per nesting level: the outermost applies */
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 3);
    setenv("OMP_NUM_THREADS", "100", 1); /* at most 64 */
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 64);
    setenv("OMP_NUM_THREADS", "many", 1); /* OpenMP's to report: the next rule applies */
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), cpus());
}
END_TEST

START_TEST(mpi_ranks_on_the_machine_share_its_cpus)
{
    char ranks[16];
    snprintf(ranks, sizeof ranks, "%d", cpus());
    setenv("OMPI_COMM_WORLD_LOCAL_SIZE", ranks, 1); /* one rank per CPU */
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 1);
    ck_assert_msg(strstr(nb_num_threads_source(), " MPI ranks") || cpus() == 1,
                  "source is \"%s\"", nb_num_threads_source());
}
END_TEST

/* ---- OpenBLAS's own threads (when the BLAS is OpenBLAS) ----------------- */

START_TEST(openblas_is_kept_at_one_thread)
{
    if (nb__blas_threads() == 0)
        return; /* not OpenBLAS: nothing nabla can set */
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb__blas_threads(), 1);
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK);
    ck_assert_int_eq(nb__blas_threads(), 1);
    setenv("OPENBLAS_NUM_THREADS", "1", 1); /* changes nothing */
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), cpus());
    ck_assert_int_eq(nb__blas_threads(), 1);
}
END_TEST

START_TEST(openblas_num_threads_gives_the_cores_to_openblas)
{
    if (nb__blas_threads() == 0)
        return;
    setenv("OPENBLAS_NUM_THREADS", "3", 1);
    ck_assert_int_eq(nb_set_num_threads(0), NB_OK);
    ck_assert_int_eq(nb_num_threads(), 1); /* nabla's: none to race OpenBLAS's */
    ck_assert_int_eq(nb__blas_threads(), 3);
    ck_assert_str_eq(nb_num_threads_source(), "OPENBLAS_NUM_THREADS=3, for OpenBLAS");
    ck_assert_int_eq(nb_set_num_threads(2), NB_OK); /* an explicit count holds it at one */
    ck_assert_int_eq(nb__blas_threads(), 1);
}
END_TEST

/* ---- without any call --------------------------------------------------- */

/* A product, the first use of threads in a program that never set them. */
static void first_use(void)
{
    nb_tensor *a = nb_tensor_ones(NB_F32, NB_SHAPE(4, 4));
    nb_tensor *c = nb_matmul(NULL, a, a);
    ck_assert_ptr_nonnull(c);
    nb_tensor_free(c);
    nb_tensor_free(a);
}

START_TEST(the_first_use_makes_the_automatic_choice)
{
    ck_assert_int_eq(nb_set_num_threads(1), NB_OK);
    setenv("NABLA_NUM_THREADS", "3", 1);
    nb__threads_forget();
    first_use();
    ck_assert_int_eq(nb_num_threads(), 3);
    ck_assert_str_eq(nb_num_threads_source(), "NABLA_NUM_THREADS");
    if (nb__blas_threads() != 0)
        ck_assert_int_eq(nb__blas_threads(), 1);
}
END_TEST

START_TEST(a_bad_variable_at_first_use_leaves_the_automatic_choice)
{
    setenv("NABLA_NUM_THREADS", "-4", 1); /* reported on stderr, no caller to return it to */
    nb__threads_forget();
    nb_clear_error();
    first_use();
    ck_assert_int_eq(nb_num_threads(), cpus());
    ck_assert_int_eq(nb_last_status(), NB_OK); /* the program's own errors are untouched */
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("environment");
    tcase_add_test(tc, parse_reads_counts_and_treats_unset_and_zero_as_automatic);
    tcase_add_test(tc, parse_rejects_what_is_not_a_count_and_says_why);
    suite_add_tcase(s, tc);
    tc = tcase_create("choice");
    tcase_add_checked_fixture(tc, clear_environment, restore_environment);
    tcase_add_test(tc, zero_is_the_automatic_choice_one_thread_per_cpu);
    tcase_add_test(tc, nabla_num_threads_sets_the_automatic_count);
    tcase_add_test(tc, an_explicit_count_wins_over_the_environment);
    tcase_add_test(tc, a_bad_nabla_num_threads_is_an_error_and_the_rest_applies);
    tcase_add_test(tc, omp_num_threads_is_read_as_pytorch_reads_it);
    tcase_add_test(tc, mpi_ranks_on_the_machine_share_its_cpus);
    tcase_add_test(tc, openblas_is_kept_at_one_thread);
    tcase_add_test(tc, openblas_num_threads_gives_the_cores_to_openblas);
    tcase_add_test(tc, the_first_use_makes_the_automatic_choice);
    tcase_add_test(tc, a_bad_variable_at_first_use_leaves_the_automatic_choice);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(threads_suite)
