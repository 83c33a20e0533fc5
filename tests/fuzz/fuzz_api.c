/* libFuzzer target: the public op API, through the op table (tests/op_table.h).
 *
 * The input is read as a little program. Each step takes one byte for what
 * to do, then the bytes that step needs:
 *   - make a tensor: f32 or f64, rank 0-4, dims 1-4, values from the bytes
 *     (with NaN, infinities, huge and tiny numbers among them), caller-owned
 *     or on a tape, requiring a gradient or not;
 *   - call a table entry, on one of two tapes or with no tape, with inputs
 *     from the pool (any shape, any dtype, any tape, or NULL) and args from
 *     the bytes;
 *   - nb_backward or nb_backward_from on a pool tensor (one that is not a
 *     scalar must be refused), nb_grad of a pool tensor w.r.t. others;
 *   - nb_tape_reset of a tape, after which the next step may use tensors
 *     from before the reset (nabla must refuse them: nb_tape_reset's
 *     contract);
 *   - nb_detach, recording off and on, anomaly detection on and off, and
 *     freeing a caller-owned tensor.
 * Invariants (a failure aborts, so libFuzzer reports it): every NULL result
 * and every failed status leaves a non-empty nb_last_error(); an op's own
 * error (no NULL input) names a public function ("nb_..."); a result has a
 * valid shape; a non-scalar backward fails; a tensor from before a reset is
 * refused by ops, backward and nb_grad. The sanitizers add: no crash, no
 * leak, no undefined behaviour.
 *
 * What the fuzzer does not do, because the headers make it the caller's
 * fault: use a freed tensor (so a caller-owned tensor is freed only while
 * no tape holds a node that may read it), or use a reset tensor after its
 * tape has allocated again (nabla detects such use only until then). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../op_table.h"
#include "nabla/nabla.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough for thousands of runs a second. */
#define MAX_STEPS 48
#define POOL_SIZE 16
#define MAX_ELEMENTS 64

/* ---- reading the input ------------------------------------------------------ */

typedef struct reader {
    const uint8_t *data;
    size_t size, pos;
} reader;

static uint8_t next_byte(reader *r) { return r->pos < r->size ? r->data[r->pos++] : 0; }
static bool at_end(const reader *r) { return r->pos >= r->size; }

/* A value for a tensor or a real arg: mostly small, sometimes extreme. */
static double next_real(reader *r)
{
    static const double special[] = {NAN, INFINITY, -INFINITY, 1e300, -1e300, 3e38, -3e38,
                                     1e-310, -0.0, 0.0, 1.0, -1.0, 0.5, 1e-8, 2.0, 100.0};
    uint8_t b = next_byte(r);
    if (b >= 240)
        return special[b - 240];
    return ((double)b - 120.0) / 16.0;
}

/* An integer arg: an axis, a size, a flag; sometimes far out of range. */
static int64_t next_int(reader *r)
{
    static const int64_t special[] = {INT64_MIN, INT64_MAX, INT32_MIN, INT32_MAX,
                                      -1000000, 1000000, (int64_t)1 << 40, -5};
    uint8_t b = next_byte(r);
    if (b >= 248)
        return special[b - 248];
    return (int64_t)(int8_t)b % 8;
}

/* ---- the pool of tensors ---------------------------------------------------- */

typedef struct slot {
    nb_tensor *t;
    bool caller_owned; /* else tape-owned */
    bool reset;        /* tape-owned from before the last nb_tape_reset */
} slot;

typedef struct state {
    reader in;
    nb_tape *tapes[2]; /* two, so that inputs from another tape are tried too */
    slot pool[POOL_SIZE];
} state;

/* FUZZ_API_TRACE=1 in the environment prints each step (to read a crash). */
static bool tracing;

static void trace_tensor(const char *what, const nb_tensor *t)
{
    if (!tracing)
        return;
    char buf[64] = "NULL";
    if (t)
        nb_shape_str(t, buf, sizeof buf);
    fprintf(stderr, "  %s %p %s %s%s\n", what, (const void *)t, buf,
            t ? nb_dtype_name(t->dtype) : "", t && t->tape ? " (tape)" : "");
}

/* Abort (libFuzzer then keeps the input) unless cond holds. */
static void require(bool cond, const char *what, const char *detail)
{
    if (cond)
        return;
    fprintf(stderr, "fuzz_api: invariant broken: %s (%s); last error: \"%s\"\n", what,
            detail ? detail : "", nb_last_error());
    abort();
}

/* A result of an op or a constructor: NULL with a message, or a valid tensor. */
static void check_result(const nb_tensor *t, const char *fn)
{
    if (!t) {
        require(nb_last_error()[0] != '\0', "NULL result without a message", fn);
        return;
    }
    require(t->rank >= 0 && t->rank <= NB_MAX_RANK, "result rank out of range", fn);
    int64_t size = 1;
    for (int d = 0; d < t->rank; d++) {
        require(t->shape[d] >= 1, "result has a dimension below 1", fn);
        size *= t->shape[d];
    }
    require(size == t->size, "result size is not the product of its shape", fn);
    require(t->data != NULL, "result without data", fn);
    require(t->dtype == NB_F32 || t->dtype == NB_F64, "result dtype unknown", fn);
}

static void check_status(nb_status status, const char *fn)
{
    if (status != NB_OK)
        require(nb_last_error()[0] != '\0', "failed status without a message", fn);
}

/* Keep t in the first free slot; a caller-owned t that finds none is freed.
 * A result may be one of its inputs (nb_activate with NB_LINEAR returns x),
 * which is kept once. */
static void keep(state *s, nb_tensor *t)
{
    if (!t)
        return;
    for (int i = 0; i < POOL_SIZE; i++)
        if (s->pool[i].t == t)
            return;
    bool caller_owned = t->tape == NULL;
    for (int i = 0; i < POOL_SIZE; i++)
        if (!s->pool[i].t) {
            s->pool[i] = (slot){t, caller_owned, false};
            return;
        }
    if (caller_owned)
        nb_tensor_free(t);
}

/* A pool tensor chosen by the next byte, or NULL (empty slots, and 1 in 17). */
static nb_tensor *pick(state *s)
{
    uint8_t b = next_byte(&s->in);
    return b % 17 == 16 ? NULL : s->pool[b % 17 % POOL_SIZE].t;
}

/* One of the tapes, or NULL (no tape), chosen by b. */
static nb_tape *tape_of(const state *s, uint8_t b) { return b % 3 == 2 ? NULL : s->tapes[b % 3]; }

static bool tapes_have_nodes(const state *s)
{
    return nb_tape_size(s->tapes[0]) > 0 || nb_tape_size(s->tapes[1]) > 0;
}

/* ---- steps ------------------------------------------------------------------ */

static void make_tensor(state *s)
{
    uint8_t how = next_byte(&s->in);
    nb_dtype dtype = how & 1 ? NB_F64 : NB_F32;
    int rank = (how >> 1) % (NB_MAX_RANK + 1);
    int64_t shape[NB_MAX_RANK];
    int64_t size = 1;
    for (int d = 0; d < rank; d++) {
        shape[d] = 1 + next_byte(&s->in) % 4;
        if (size * shape[d] > MAX_ELEMENTS)
            shape[d] = 1;
        size *= shape[d];
    }
    nb_tensor *t;
    if (how & 0x40) {
        t = nb_tape_tensor(s->tapes[how >> 5 & 1], dtype, rank, shape);
    } else {
        double values[MAX_ELEMENTS];
        for (int64_t k = 0; k < size; k++)
            values[k] = next_real(&s->in);
        t = nb_tensor_from_doubles(dtype, rank, shape, values);
        if (t && how & 0x80)
            check_status(nb_tensor_set_requires_grad(t, true), "nb_tensor_set_requires_grad");
    }
    check_result(t, "make_tensor");
    require(t != NULL, "a valid constructor call failed", nb_last_error());
    keep(s, t);
}

/* Where the inputs may be NULL, an earlier failure is what made them NULL
 * (error.h), so there is a message already; nabla keeps it. Returns whether
 * there was a NULL. */
static bool note_null_inputs(int n, nb_tensor *const inputs[])
{
    for (int k = 0; k < n; k++)
        if (!inputs[k]) {
            nb_error(NB_ERR_NULL, "fuzz_api: an earlier call failed");
            return true;
        }
    return false;
}

/* An error of nabla's own names the public function it comes from. */
static void check_error_names_a_function(const nb_tensor *out, const char *fn)
{
    if (!out)
        require(strncmp(nb_last_error(), "nb_", 3) == 0, "a message that names no function", fn);
}

static bool is_reset(const state *s, const nb_tensor *t)
{
    for (int i = 0; i < POOL_SIZE; i++)
        if (t && s->pool[i].t == t)
            return s->pool[i].reset;
    return false;
}

static bool any_reset(const state *s, int n, nb_tensor *const ts[])
{
    for (int k = 0; k < n; k++)
        if (is_reset(s, ts[k]))
            return true;
    return false;
}

static void call_entry(state *s)
{
    int count = nb_op_table_count();
    if (count == 0)
        return;
    uint8_t lo = next_byte(&s->in), hi = next_byte(&s->in);
    const nb_op_entry *e = nb_op_table_entry((lo | hi << 8) % count);
    uint8_t how = next_byte(&s->in);
    nb_tape *tape = tape_of(s, how);
    int n = e->arity;
    if (e->flags & NB_OPT_VARIADIC)
        n += how / 3 % (NB_OPT_MAX_INPUTS - e->arity + 1);
    nb_tensor *inputs[NB_OPT_MAX_INPUTS] = {NULL};
    for (int k = 0; k < n; k++)
        inputs[k] = pick(s);
    nb_op_args args;
    for (int k = 0; k < 8; k++)
        args.i[k] = next_int(&s->in);
    for (int k = 0; k < 4; k++)
        args.d[k] = next_real(&s->in);
    nb_clear_error();
    bool null_input = note_null_inputs(n, inputs);
    if (tracing) {
        fprintf(stderr, "%s%s args %lld %lld %lld %lld %g %g\n", e->name, tape ? "" : " (no tape)",
                (long long)args.i[0], (long long)args.i[1], (long long)args.i[2],
                (long long)args.i[3], args.d[0], args.d[1]);
        for (int k = 0; k < n; k++)
            trace_tensor("input", inputs[k]);
    }
    nb_tensor *out = e->call(tape, n, inputs, &args);
    trace_tensor("->", out);
    check_result(out, e->name);
    if (!null_input)
        check_error_names_a_function(out, e->name);
    require(!out || !any_reset(s, n, inputs), "an op accepted a tensor from before a reset",
            e->name);
    keep(s, out);
}

/* A backward from any pool tensor: one that is not a scalar, or is from
 * before a reset, must be refused, and so must a seed of another shape. */
static void backward(state *s)
{
    nb_tensor *t = pick(s);
    if (!t)
        return;
    nb_clear_error();
    nb_status status;
    if (next_byte(&s->in) & 1) {
        nb_tensor *seed = pick(s);
        trace_tensor("backward_from", t);
        trace_tensor("seed", seed);
        status = nb_backward_from(t, seed);
        require(status != NB_OK || (seed && nb_same_shape(t, seed) && !is_reset(s, seed)),
                "a NULL, reset or misshapen seed accepted", "nb_backward_from");
    } else {
        trace_tensor("backward", t);
        status = nb_backward(t);
        require(status != NB_OK || t->size == 1, "backward from a non-scalar succeeded",
                "nb_backward");
    }
    require(status != NB_OK || !is_reset(s, t), "backward from a reset tensor succeeded",
            "nb_backward");
    check_status(status, "nb_backward");
}

static void grad(state *s)
{
    nb_tensor *y = pick(s);
    int n = 1 + next_byte(&s->in) % 2;
    nb_tensor *xs[2] = {pick(s), pick(s)};
    bool create_graph = next_byte(&s->in) & 1;
    nb_tensor *grads[2] = {NULL, NULL};
    nb_clear_error();
    nb_status status = nb_grad(tape_of(s, next_byte(&s->in)), y, n, xs, grads, create_graph);
    check_status(status, "nb_grad");
    require(status != NB_OK || !(is_reset(s, y) || any_reset(s, n, xs)),
            "nb_grad accepted a reset tensor", NULL);
    for (int k = 0; k < n; k++) {
        require(status == NB_OK ? grads[k] != NULL : grads[k] == NULL,
                "nb_grad's results do not match its status", NULL);
        if (grads[k]) {
            require(nb_same_shape(grads[k], xs[k]), "a gradient of another shape", "nb_grad");
            check_result(grads[k], "nb_grad");
            keep(s, grads[k]);
        }
    }
}

static void detach(state *s)
{
    nb_tensor *t = pick(s);
    nb_tape *tape = tape_of(s, next_byte(&s->in));
    nb_clear_error();
    note_null_inputs(1, &t);
    nb_tensor *copy = nb_detach(tape, t);
    check_result(copy, "nb_detach");
    keep(s, copy);
}

/* Tape-owned tensors are marked as reset; the next step may use them. */
static void reset_tape(state *s)
{
    nb_tape *tape = s->tapes[next_byte(&s->in) & 1];
    nb_tape_reset(tape);
    for (int i = 0; i < POOL_SIZE; i++)
        if (s->pool[i].t && s->pool[i].t->tape == tape)
            s->pool[i].reset = true;
}

/* After the one step that may use reset tensors, forget them: their memory
 * may be reused from now on. */
static void forget_reset(state *s)
{
    for (int i = 0; i < POOL_SIZE; i++)
        if (s->pool[i].reset)
            s->pool[i] = (slot){0};
}

static void free_tensor(state *s)
{
    int i = next_byte(&s->in) % POOL_SIZE;
    if (!s->pool[i].t || !s->pool[i].caller_owned || tapes_have_nodes(s))
        return;
    nb_tensor_free(s->pool[i].t);
    s->pool[i] = (slot){0};
}

static void toggle(state *s)
{
    uint8_t b = next_byte(&s->in);
    if (b & 1)
        nb_tape_set_grad_enabled(s->tapes[b >> 2 & 1], b & 2);
    else
        nb_set_detect_anomaly(b & 2);
}

static void run_step(state *s)
{
    uint8_t what = next_byte(&s->in) % 16;
    if (tracing)
        fprintf(stderr, "step %d\n", what);
    bool was_reset = false;
    switch (what) {
    case 0: case 1: case 2:
        make_tensor(s);
        break;
    case 3: case 4: case 5: case 6: case 7: case 8:
        call_entry(s);
        break;
    case 9: case 10:
        backward(s);
        break;
    case 11:
        grad(s);
        break;
    case 12:
        reset_tape(s);
        was_reset = true;
        break;
    case 13:
        detach(s);
        break;
    case 14:
        free_tensor(s);
        break;
    default:
        toggle(s);
        break;
    }
    if (!was_reset)
        forget_reset(s);
}

/* Sizes from the bytes may ask for terabytes (one_hot with 2^40 classes).
 * nabla must report that as NB_ERR_NOMEM, so an allocation of more than
 * 64 MB fails here the way it would on a smaller machine, instead of
 * stopping the run; the cap also keeps every input fast (a broadcast_to of
 * 10^8 elements and its backward took 11 s under ASan with a 1 GB cap).
 * CI's ASAN_OPTIONS add to these. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=64";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    nb_set_num_threads(1);
    tracing = getenv("FUZZ_API_TRACE") != NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    state s = {.in = {data, size, 0}};
    s.tapes[0] = nb_tape_new();
    s.tapes[1] = nb_tape_new();
    if (!s.tapes[0] || !s.tapes[1]) {
        nb_tape_free(s.tapes[0]);
        nb_tape_free(s.tapes[1]);
        return 0;
    }
    for (int step = 0; step < MAX_STEPS && !at_end(&s.in); step++)
        run_step(&s);
    nb_tape_free(s.tapes[0]);
    nb_tape_free(s.tapes[1]);
    for (int i = 0; i < POOL_SIZE; i++)
        if (s.pool[i].caller_owned)
            nb_tensor_free(s.pool[i].t);
    nb_set_detect_anomaly(false);
    nb_clear_error();
    return 0;
}
