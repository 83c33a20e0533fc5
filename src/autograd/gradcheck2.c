/* nb_gradgradcheck: second derivatives against finite differences of the
 * first, by running nb_gradcheck on a function whose value is a gradient. */
#include <string.h>

#include "internal.h"
#include "nabla/grad.h"
#include "nabla/gradcheck.h"
#include "nabla/ops.h"

typedef struct second_order {
    nb_gradcheck_fn f;
    void *user;
    int n_inputs;
    uint64_t seed;
    nb_tensor *projection;                   /* R, f's output reduced as sum(f R) */
    nb_tensor *v[NB_GRADCHECK_MAX_INPUTS];   /* the fixed directions, per input */
} second_order;

/* sum(f(inputs) * R) with recording on, whatever the checker's setting. */
static nb_tensor *projected_f(second_order *s, nb_tape *tape, nb_tensor *const inputs[])
{
    bool was = nb_tape_set_grad_enabled(tape, true);
    nb_tensor *out = s->f(tape, inputs, s->user);
    if (out && !s->projection) {
        nb_rng rng;
        nb_rng_seed(&rng, s->seed);
        s->projection = nb_tensor_rand_uniform(out->dtype, out->rank, out->shape, 0.5, 1.5, &rng);
    }
    nb_tensor *loss = out && s->projection ? nb_sum(tape, nb_mul(tape, out, s->projection)) : NULL;
    nb_tape_set_grad_enabled(tape, was);
    if (!out && nb_last_status() == NB_OK)
        nb_error(NB_ERR_NULL, "nb_gradgradcheck: the checked function returned NULL");
    return loss;
}

/* S(x) = sum_i sum(grad_i(x) * v_i), with grad the gradient of sum(f R).
 * Recording on (the analytic pass): grad by vjps, so S has history and
 * nb_gradcheck's backward differentiates it a second time. Recording off
 * (the finite differences): grad by the fast first-order backward. */
static nb_tensor *gradient_dot_v(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    second_order *s = user;
    nb_tensor *loss = projected_f(s, tape, inputs);
    if (!loss)
        return NULL;
    nb_tensor *xs[NB_GRADCHECK_MAX_INPUTS], *grads[NB_GRADCHECK_MAX_INPUTS], *vs[NB_GRADCHECK_MAX_INPUTS];
    int k = 0;
    for (int i = 0; i < s->n_inputs; i++)
        if (inputs[i]->requires_grad)
            xs[k] = inputs[i], vs[k++] = s->v[i];
    if (k == 0)
        return nb_tape_tensor(tape, loss->dtype, 0, NULL);
    if (nb_grad(tape, loss, k, xs, grads, nb_tape_grad_enabled(tape)) != NB_OK)
        return NULL;
    nb_tensor *total = NULL;
    for (int j = 0; j < k; j++) {
        nb_tensor *term = nb_sum(tape, nb_mul(tape, grads[j], vs[j]));
        total = total ? nb_add(tape, total, term) : term;
    }
    return total;
}

static nb_status make_directions(second_order *s, nb_tensor *const inputs[])
{
    nb_rng rng;
    nb_rng_seed(&rng, s->seed + 1);
    for (int i = 0; i < s->n_inputs; i++) {
        const nb_tensor *x = inputs[i];
        if (x->requires_grad &&
            !(s->v[i] = nb_tensor_rand_uniform(x->dtype, x->rank, x->shape, -1, 1, &rng)))
            return nb_last_status();
    }
    return NB_OK;
}

nb_status nb_gradgradcheck(nb_gradcheck_fn f, int n_inputs, nb_tensor *const inputs[], void *user,
                           const nb_gradcheck_options *options, nb_gradcheck_report *report)
{
    nb_status st = nb__gradcheck_validate("nb_gradgradcheck", f, n_inputs, inputs, report);
    if (st != NB_OK)
        return st;
    second_order s = {f, user, n_inputs, options ? options->seed : 0, NULL, {NULL}};
    st = make_directions(&s, inputs);
    if (st == NB_OK)
        st = nb__gradcheck_run("nb_gradgradcheck", gradient_dot_v, n_inputs, inputs, &s, options,
                               report, true);
    nb_tensor_free(s.projection);
    for (int i = 0; i < n_inputs; i++)
        nb_tensor_free(s.v[i]);
    return st;
}
