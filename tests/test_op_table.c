/* The tests generated from the op table (tests/op_table.h): for every entry
 * the same checks, each a Check loop test over the entries, so a failure
 * names the entry and the sample:
 *   gradcheck       f64 gradient check of every differentiable input
 *   f32_vs_f64      f32 forward against the f64 forward of the same values
 *   rejects         every rejection returns NULL naming the op and the reason
 *   tape            the op on a tape equals the op without one, bit for bit
 *   threads         1 and 2 threads give the same values and gradients, bit
 *                   for bit unless the entry allows threads_ulps (the pool
 *                   splits rows, images or columns, so every element is
 *                   computed by one thread, but OpenBLAS's sgemm rounds a
 *                   part differently from the whole)
 *   gradgradcheck   second derivatives, for entries with NB_OPT_DIFF2
 *   null_inputs     a NULL input gives NULL and keeps the earlier message
 *
 * `test_op_table --list` prints the entries' names, one a line, for the
 * coverage test (op_table_coverage.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nb_test.h"
#include "op_table.h"

#define SEED 2200

/* What a test calls the op with; the user argument of a gradcheck. */
typedef struct op_call {
    const nb_op_entry *entry;
    int n;
    const nb_op_args *args;
} op_call;

static nb_tensor *call_op(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    const op_call *c = user;
    return c->entry->call(tape, c->n, inputs, c->args);
}

static int sample_inputs(const nb_op_entry *e, const nb_op_sample *s)
{
    return s->n_inputs > 0 ? s->n_inputs : e->arity;
}

static bool gets_grad(const nb_op_entry *e, int k)
{
    if (!(e->flags & NB_OPT_DIFF))
        return false;
    return e->grad_inputs == 0 || (e->grad_inputs >> k & 1u);
}

/* n caller-owned inputs of `shapes`: drawn in f64 (uniform in the entry's
 * [low, high), seeds from `seed`), prepared by the entry, then converted to
 * dtype, so f32 and f64 inputs hold the same values. With mixed, the last
 * input is in the other dtype. With grad, the differentiable inputs require
 * gradients. */
static void make_inputs(const nb_op_entry *e, int n, const nb_opt_shape *shapes,
                        const nb_op_args *args, nb_dtype dtype, bool mixed, bool grad,
                        uint64_t seed, nb_tensor *inputs[])
{
    for (int k = 0; k < n; k++) {
        inputs[k] = nb_test_uniform(NB_F64, shapes[k].rank, shapes[k].dims, e->low, e->high,
                                    seed + (uint64_t)k);
        ck_assert_msg(inputs[k], "%s: input %d: %s", e->name, k, nb_last_error());
    }
    if (e->prepare)
        e->prepare(n, inputs, args);
    for (int k = 0; k < n; k++) {
        nb_dtype want = mixed && k == n - 1 ? (dtype == NB_F32 ? NB_F64 : NB_F32) : dtype;
        if (want != NB_F64) {
            nb_tensor *converted = nb_tensor_copy(inputs[k], want);
            ck_assert_msg(converted, "%s: input %d: %s", e->name, k, nb_last_error());
            nb_tensor_free(inputs[k]);
            inputs[k] = converted;
        }
        if (grad && gets_grad(e, k))
            ck_assert(nb_tensor_set_requires_grad(inputs[k], true) == NB_OK);
    }
}

static void free_inputs(int n, nb_tensor *inputs[])
{
    for (int k = 0; k < n; k++)
        nb_tensor_free(inputs[k]);
}

/* Free a caller-owned result, unless the op handed back one of its inputs
 * (nb_activate with NB_LINEAR returns x). */
static void free_result(nb_tensor *y, int n, nb_tensor *const inputs[])
{
    for (int k = 0; k < n; k++)
        if (y == inputs[k])
            return;
    nb_tensor_free(y);
}

static uint64_t sample_seed(int entry, int sample)
{
    return SEED + 1000u * (uint64_t)entry + 16u * (uint64_t)sample;
}

/* ---- gradcheck ------------------------------------------------------------ */

static nb_gradcheck_options grad_options(const nb_op_entry *e)
{
    nb_gradcheck_options o = {1e-6, 1e-5, 1e-3, 0};
    if (e->grad_atol > 0)
        o.atol = e->grad_atol;
    if (e->grad_rtol > 0)
        o.rtol = e->grad_rtol;
    return o;
}

typedef nb_status (*checker_fn)(nb_gradcheck_fn f, int n_inputs, nb_tensor *const inputs[],
                                void *user, const nb_gradcheck_options *options,
                                nb_gradcheck_report *report);

/* Run `check` (nb_gradcheck or nb_gradgradcheck) on every sample of entry i. */
static void check_gradients(int i, checker_fn check, const char *what)
{
    const nb_op_entry *e = nb_op_table_entry(i);
    if (!(e->flags & NB_OPT_DIFF))
        return;
    nb_gradcheck_options o = grad_options(e);
    for (int s = 0; s < e->n_samples; s++) {
        const nb_op_sample *sm = &e->samples[s];
        int n = sample_inputs(e, sm);
        nb_tensor *in[NB_OPT_MAX_INPUTS] = {NULL};
        make_inputs(e, n, sm->shapes, &sm->args, NB_F64, false, true, sample_seed(i, s), in);
        op_call c = {e, n, &sm->args};
        nb_gradcheck_report report;
        nb_status st = check(call_op, n, in, &c, &o, &report);
        if (st == NB_OK && !report.passed) {
            fprintf(stderr, "%s of %s, sample \"%s\":\n", what, e->name, sm->label);
            nb_gradcheck_print(&report, stderr);
        }
        free_inputs(n, in);
        ck_assert_msg(st == NB_OK, "%s, sample \"%s\": %s could not run: %s", e->name,
                      sm->label, what, nb_last_error());
        ck_assert_msg(report.passed, "%s, sample \"%s\": %s failed (report on stderr)",
                      e->name, sm->label, what);
    }
}

START_TEST(entry_gradcheck) { check_gradients(_i, nb_gradcheck, "nb_gradcheck"); }
END_TEST

START_TEST(entry_gradgradcheck)
{
    if (nb_op_table_entry(_i)->flags & NB_OPT_DIFF2)
        check_gradients(_i, nb_gradgradcheck, "nb_gradgradcheck");
}
END_TEST

/* ---- f32 against f64 ------------------------------------------------------ */

/* The first element where |a - b| > rtol max(1, |a|) (or only one is NaN),
 * or -1. One assertion after it, not one per element: Check marks each. */
static int64_t first_apart(const nb_tensor *a, const nb_tensor *b, double rtol)
{
    for (int64_t j = 0; j < a->size; j++) {
        double x = nb_tensor_get(a, j), y = nb_tensor_get(b, j);
        if (isnan(x) && isnan(y))
            continue;
        if (!(fabs(x - y) <= rtol * fmax(1.0, fabs(x))) && x != y)
            return j;
    }
    return -1;
}

static void assert_same_shape(const nb_op_entry *e, const char *label, const nb_tensor *a,
                              const nb_tensor *b)
{
    ck_assert_msg(nb_same_shape(a, b), "%s, sample \"%s\": shapes differ (rank %d and %d)",
                  e->name, label, a->rank, b->rank);
}

START_TEST(entry_f32_matches_f64)
{
    const nb_op_entry *e = nb_op_table_entry(_i);
    double rtol = e->f32_rtol > 0 ? e->f32_rtol : 1e-5;
    for (int s = 0; s < e->n_samples; s++) {
        const nb_op_sample *sm = &e->samples[s];
        int n = sample_inputs(e, sm);
        nb_tensor *in64[NB_OPT_MAX_INPUTS] = {NULL}, *in32[NB_OPT_MAX_INPUTS] = {NULL};
        make_inputs(e, n, sm->shapes, &sm->args, NB_F64, false, false, sample_seed(_i, s), in64);
        make_inputs(e, n, sm->shapes, &sm->args, NB_F32, false, false, sample_seed(_i, s), in32);
        nb_tensor *y64 = e->call(NULL, n, in64, &sm->args);
        ck_assert_msg(y64, "%s, sample \"%s\" (f64): %s", e->name, sm->label, nb_last_error());
        nb_tensor *y32 = e->call(NULL, n, in32, &sm->args);
        ck_assert_msg(y32, "%s, sample \"%s\" (f32): %s", e->name, sm->label, nb_last_error());
        ck_assert_msg(y32->dtype == NB_F32 && y64->dtype == NB_F64,
                      "%s, sample \"%s\": results in %s and %s", e->name, sm->label,
                      nb_dtype_name(y32->dtype), nb_dtype_name(y64->dtype));
        assert_same_shape(e, sm->label, y32, y64);
        int64_t j = first_apart(y64, y32, rtol);
        ck_assert_msg(j < 0, "%s, sample \"%s\": element %lld is %.9g in f32, %.17g in f64 "
                      "(f32_rtol %g)", e->name, sm->label, (long long)j,
                      j < 0 ? 0.0 : nb_tensor_get(y32, j), j < 0 ? 0.0 : nb_tensor_get(y64, j),
                      rtol);
        free_result(y32, n, in32);
        free_result(y64, n, in64);
        free_inputs(n, in32);
        free_inputs(n, in64);
    }
}
END_TEST

/* ---- rejections ----------------------------------------------------------- */

static void assert_rejects(const nb_op_entry *e, const nb_op_reject *r, nb_tape *tape,
                           uint64_t seed)
{
    int n = r->n_inputs > 0 ? r->n_inputs : e->arity;
    nb_tensor *in[NB_OPT_MAX_INPUTS] = {NULL};
    make_inputs(e, n, r->shapes, &r->args, r->dtype, r->mixed_dtype, true, seed, in);
    nb_clear_error();
    nb_tensor *y = e->call(tape, n, in, &r->args);
    const char *msg = nb_last_error();
    nb_status status = nb_last_status();
    bool named = strstr(msg, e->name) != NULL, said = strstr(msg, r->message) != NULL;
    if (y && !tape)
        free_result(y, n, in);
    free_inputs(n, in);
    ck_assert_msg(!y, "%s, reject \"%s\"%s: returned a result", e->name, r->label,
                  tape ? " (on a tape)" : "");
    ck_assert_msg(named && said, "%s, reject \"%s\": expected a message naming %s and "
                  "containing \"%s\", got \"%s\"", e->name, r->label, e->name, r->message, msg);
    ck_assert_msg(r->status == NB_OK || status == r->status,
                  "%s, reject \"%s\": expected status %s, got %s", e->name, r->label,
                  nb_status_name(r->status), nb_status_name(status));
}

START_TEST(entry_rejects)
{
    const nb_op_entry *e = nb_op_table_entry(_i);
    nb_tape *tape = nb_tape_new();
    for (int r = 0; r < e->n_rejects; r++) {
        assert_rejects(e, &e->rejects[r], NULL, sample_seed(_i, r));
        assert_rejects(e, &e->rejects[r], tape, sample_seed(_i, r));
    }
    nb_tape_free(tape);
}
END_TEST

/* ---- on a tape and without one -------------------------------------------- */

/* a and b hold the same bits; a failure names the first element that differs */
static void assert_same_bits(const nb_op_entry *e, const char *label, const char *what,
                             const nb_tensor *a, const nb_tensor *b)
{
    assert_same_shape(e, label, a, b);
    ck_assert_msg(a->dtype == b->dtype, "%s, sample \"%s\": %s: dtypes differ", e->name, label,
                  what);
    size_t width = nb_dtype_size(a->dtype);
    int64_t j = 0;
    while (j < a->size &&
           memcmp((const char *)a->data + j * width, (const char *)b->data + j * width, width) == 0)
        j++;
    ck_assert_msg(j == a->size,
                  "%s, sample \"%s\" (%s): %s differ at element %lld: %.17g and %.17g", e->name,
                  label, nb_dtype_name(a->dtype), what, (long long)j,
                  j < a->size ? nb_tensor_get(a, j) : 0.0, j < b->size ? nb_tensor_get(b, j) : 0.0);
}

START_TEST(entry_tape_matches_no_tape)
{
    const nb_op_entry *e = nb_op_table_entry(_i);
    nb_tape *tape = nb_tape_new();
    for (int s = 0; s < e->n_samples; s++) {
        const nb_op_sample *sm = &e->samples[s];
        int n = sample_inputs(e, sm);
        for (nb_dtype dtype = NB_F32; dtype <= NB_F64; dtype++) {
            nb_tensor *in[NB_OPT_MAX_INPUTS] = {NULL};
            make_inputs(e, n, sm->shapes, &sm->args, dtype, false, true, sample_seed(_i, s), in);
            nb_tensor *on_tape = e->call(tape, n, in, &sm->args);
            ck_assert_msg(on_tape, "%s, sample \"%s\" on a tape: %s", e->name, sm->label,
                          nb_last_error());
            nb_tensor *alone = e->call(NULL, n, in, &sm->args);
            ck_assert_msg(alone, "%s, sample \"%s\" without a tape: %s", e->name, sm->label,
                          nb_last_error());
            assert_same_bits(e, sm->label, "values", on_tape, alone);
            free_result(alone, n, in);
            nb_tape_reset(tape);
            free_inputs(n, in);
        }
    }
    nb_tape_free(tape);
}
END_TEST

/* ---- thread counts -------------------------------------------------------- */

/* The values of the op and, for a differentiable op, its inputs' gradients
 * from the backward of a fixed random upstream gradient: copies the caller
 * frees. */
typedef struct run_result {
    nb_tensor *out;
    nb_tensor *grads[NB_OPT_MAX_INPUTS];
} run_result;

static run_result run_with_threads(const nb_op_entry *e, const nb_op_sample *sm, int threads,
                                   nb_dtype dtype, uint64_t seed)
{
    ck_assert_msg(nb_set_num_threads(threads) == NB_OK, "nb_set_num_threads(%d): %s", threads,
                  nb_last_error());
    int n = sample_inputs(e, sm);
    nb_tensor *in[NB_OPT_MAX_INPUTS] = {NULL};
    make_inputs(e, n, sm->shapes, &sm->args, dtype, false, true, seed, in);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = e->call(tape, n, in, &sm->args);
    ck_assert_msg(y, "%s, sample \"%s\" with %d threads: %s", e->name, sm->label, threads,
                  nb_last_error());
    run_result r = {nb_tensor_copy(y, y->dtype), {NULL}};
    if (y->requires_grad) {
        nb_tensor *upstream = nb_test_uniform(y->dtype, y->rank, y->shape, -1, 1, seed + 99);
        ck_assert_msg(nb_backward_from(y, upstream) == NB_OK, "%s, sample \"%s\": backward: %s",
                      e->name, sm->label, nb_last_error());
        nb_tensor_free(upstream);
        for (int k = 0; k < n; k++)
            if (in[k]->requires_grad && in[k]->grad) {
                r.grads[k] = nb_tensor_zeros(in[k]->dtype, in[k]->rank, in[k]->shape);
                memcpy(r.grads[k]->data, in[k]->grad, (size_t)in[k]->size * nb_dtype_size(dtype));
            }
    }
    nb_tape_free(tape);
    free_inputs(n, in);
    return r;
}

static void free_run(run_result *r)
{
    nb_tensor_free(r->out);
    for (int k = 0; k < NB_OPT_MAX_INPUTS; k++)
        nb_tensor_free(r->grads[k]);
}

/* With threads_ulps 0, bit for bit; else within threads_ulps epsilons of
 * the dtype, relative to max(1, |value|). */
static void assert_threads_close(const nb_op_entry *e, const char *label, const char *what,
                                 const nb_tensor *one, const nb_tensor *two)
{
    if (e->threads_ulps == 0) {
        assert_same_bits(e, label, what, one, two);
        return;
    }
    assert_same_shape(e, label, one, two);
    double eps = one->dtype == NB_F32 ? 0x1p-23 : 0x1p-52;
    int64_t j = first_apart(one, two, e->threads_ulps * eps);
    ck_assert_msg(j < 0, "%s, sample \"%s\" (%s): %s: element %lld is %.17g and %.17g "
                  "(threads_ulps %g)", e->name, label, nb_dtype_name(one->dtype), what,
                  (long long)j, j < 0 ? 0.0 : nb_tensor_get(one, j),
                  j < 0 ? 0.0 : nb_tensor_get(two, j), e->threads_ulps);
}

static void assert_threads_agree(const nb_op_entry *e, const nb_op_sample *sm, uint64_t seed)
{
    for (nb_dtype dtype = NB_F32; dtype <= NB_F64; dtype++) {
        run_result one = run_with_threads(e, sm, 1, dtype, seed);
        run_result two = run_with_threads(e, sm, 2, dtype, seed);
        nb_set_num_threads(1);
        assert_threads_close(e, sm->label, "values with 1 and 2 threads", one.out, two.out);
        for (int k = 0; k < NB_OPT_MAX_INPUTS; k++) {
            ck_assert_msg(!one.grads[k] == !two.grads[k], "%s, sample \"%s\": input %d has a "
                          "gradient with one thread count only", e->name, sm->label, k);
            if (one.grads[k])
                assert_threads_close(e, sm->label, "gradients with 1 and 2 threads",
                                     one.grads[k], two.grads[k]);
        }
        free_run(&one);
        free_run(&two);
    }
}

START_TEST(entry_threads_agree)
{
    const nb_op_entry *e = nb_op_table_entry(_i);
    if (e->flags & NB_OPT_NO_THREADS)
        return;
    for (int s = 0; s < e->n_samples; s++)
        assert_threads_agree(e, &e->samples[s], sample_seed(_i, s));
    if (e->threads_sample.n_inputs > 0)
        assert_threads_agree(e, &e->threads_sample, sample_seed(_i, NB_OPT_MAX_SAMPLES));
}
END_TEST

/* ---- NULL inputs ---------------------------------------------------------- */

START_TEST(entry_null_input_keeps_message)
{
    const nb_op_entry *e = nb_op_table_entry(_i);
    if (e->n_samples == 0)
        return;
    const nb_op_sample *sm = &e->samples[0];
    int n = sample_inputs(e, sm);
    nb_tape *tape = nb_tape_new();
    for (int k = 0; k < n; k++) {
        nb_tensor *in[NB_OPT_MAX_INPUTS] = {NULL};
        make_inputs(e, n, sm->shapes, &sm->args, NB_F64, false, false, sample_seed(_i, 0), in);
        nb_tensor *held = in[k];
        in[k] = NULL;
        for (int on_tape = 0; on_tape < 2; on_tape++) {
            nb_error(NB_ERR_ARG, "earlier error");
            nb_tensor *y = e->call(on_tape ? tape : NULL, n, in, &sm->args);
            ck_assert_msg(!y, "%s: input %d NULL%s: returned a result", e->name, k,
                          on_tape ? " (on a tape)" : "");
            ck_assert_msg(strcmp(nb_last_error(), "earlier error") == 0,
                          "%s: input %d NULL: the earlier message became \"%s\"", e->name, k,
                          nb_last_error());
        }
        in[k] = held;
        free_inputs(n, in);
    }
    nb_tape_free(tape);
}
END_TEST

static Suite *op_table_suite(void)
{
    Suite *s = suite_create("op_table");
    int n = nb_op_table_count();
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"gradcheck", entry_gradcheck},
        {"f32_vs_f64", entry_f32_matches_f64},
        {"rejects", entry_rejects},
        {"tape", entry_tape_matches_no_tape},
        {"threads", entry_threads_agree},
        {"gradgradcheck", entry_gradgradcheck},
        {"null_inputs", entry_null_input_keeps_message},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        TCase *tc = tcase_create(cases[c].name);
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, cases[c].test, 0, n);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < nb_op_table_count(); i++)
            printf("%s\n", nb_op_table_entry(i)->name);
        return 0;
    }
    SRunner *runner = srunner_create(op_table_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
