/* Helpers shared by the Check suites. */
#ifndef NB_TEST_H
#define NB_TEST_H

#include <check.h>
#include <string.h>

#include "nabla/nabla.h"

/* Assert that the last error message contains `needle`. */
#define ck_assert_error_contains(needle)                                                     \
    ck_assert_msg(strstr(nb_last_error(), (needle)) != NULL,                                 \
                  "expected an error message containing \"%s\", got \"%s\"", (needle),       \
                  nb_last_error())

/* Run a suite made by `make_suite` and exit with its verdict: the body of
 * every test executable's main(). CK_FORK stays as the environment sets it. */
#define NB_TEST_MAIN(make_suite)                                                             \
    int main(void)                                                                           \
    {                                                                                        \
        SRunner *runner = srunner_create(make_suite());                                      \
        srunner_run_all(runner, CK_NORMAL);                                                  \
        int failed = srunner_ntests_failed(runner);                                          \
        srunner_free(runner);                                                                \
        return failed == 0 ? 0 : 1;                                                          \
    }

/* Gradient-check f on inputs with the default tolerances; on failure print
 * the report and fail the test. */
#define ck_assert_gradcheck(f, n, inputs, user)                                              \
    do {                                                                                     \
        nb_gradcheck_report report_;                                                         \
        nb_status status_ = nb_gradcheck((f), (n), (inputs), (user), NULL, &report_);        \
        ck_assert_msg(status_ == NB_OK, "nb_gradcheck could not run: %s", nb_last_error()); \
        if (!report_.passed)                                                                 \
            nb_gradcheck_print(&report_, stderr);                                            \
        ck_assert_msg(report_.passed, "gradient check failed (report on stderr)");           \
    } while (0)

#endif
