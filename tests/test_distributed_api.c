/* Tests for nabla/distributed.h that need no second process, in every
 * build: without MPI every function that needs it says so; with MPI, the
 * calls that come before MPI is started are refused with a message. A model
 * without a communicator (the default) is a single process. Training across
 * ranks is tested by test_distributed.c under mpirun (the 'mpi' suite). */
#include "nb_test.h"

START_TEST(no_communicator_is_a_single_process)
{
    nb_model *model = nb_sequential();
    ck_assert_ptr_null(nb_model_comm(model));
    ck_assert_int_eq(nb_model_set_comm(model, NULL), NB_OK);
    ck_assert_ptr_null(nb_model_comm(model));
    ck_assert_int_eq(nb_comm_rank(NULL), 0);
    ck_assert_int_eq(nb_comm_size(NULL), 1);
    nb_comm_free(NULL);
    nb_model_free(model);
}
END_TEST

START_TEST(set_comm_needs_a_model)
{
    ck_assert_int_eq(nb_model_set_comm(NULL, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_set_comm: model is NULL");
    ck_assert_ptr_null(nb_model_comm(NULL));
}
END_TEST

START_TEST(without_mpi_the_functions_say_so)
{
    if (nb_mpi_available())
        return; /* an MPI build: see the next test */
    ck_assert_int_eq(nb_mpi_init(NULL, NULL), NB_ERR_STATE);
    ck_assert_error_contains("nb_mpi_init: nabla was built without MPI: install libopenmpi-dev "
                             "and reconfigure with -Dmpi=enabled");
    ck_assert_ptr_null(nb_comm_world());
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_comm_world: nabla was built without MPI");
    int fake = 0;
    ck_assert_ptr_null(nb_comm_from_mpi(&fake));
    ck_assert_error_contains("nb_comm_from_mpi: nabla was built without MPI");
    ck_assert_int_eq(nb_mpi_finalize(), NB_OK);
}
END_TEST

START_TEST(with_mpi_a_communicator_needs_mpi_started)
{
    if (!nb_mpi_available())
        return; /* a build without MPI: see the test before */
    ck_assert_ptr_null(nb_comm_world());
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_comm_world: MPI is not initialised: call nb_mpi_init first");
    ck_assert_ptr_null(nb_comm_from_mpi(NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_comm_from_mpi: mpi_comm is NULL: expected the address of an "
                             "MPI_Comm");
    ck_assert_int_eq(nb_mpi_finalize(), NB_OK); /* nothing to finalise */
}
END_TEST

static Suite *distributed_api_suite(void)
{
    Suite *s = suite_create("distributed_api");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, no_communicator_is_a_single_process);
    tcase_add_test(tc, set_comm_needs_a_model);
    tcase_add_test(tc, without_mpi_the_functions_say_so);
    tcase_add_test(tc, with_mpi_a_communicator_needs_mpi_started);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(distributed_api_suite)
