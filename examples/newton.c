/* newton: Newton's method without ever forming the Hessian, next to
 * gradient descent, on a small logistic regression.
 *
 * The model is p(y = 1 | x) = sigmoid(x . w) with x = (x1, x2, 1), fitted by
 * minimising
 *
 *     L(w) = mean(softplus(-y (X w))) + lambda/2 |w|^2,   y in {-1, +1}.
 *
 * Each Newton step solves H p = grad L by conjugate gradients, where every
 * product H v is nb_hvp: a double backward through the recorded backward
 * pass (nabla/grad.h), never the 3 x 3 matrix H itself. Then w -= p. Newton
 * converges quadratically near the minimum: the loss stops changing in a
 * handful of steps, while gradient descent is still on its way. Exits 1
 * unless Newton's final gradient norm is below 1e-8.
 *
 *     newton [--steps N] [--lr LR] [--points N] [--seed S]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

#define DIM 3 /* w1, w2 and the bias */

typedef struct problem {
    nb_tensor *x;      /* [n, 3], the last column ones */
    nb_tensor *labels; /* [n, 1] of -1 and +1 */
    double lambda;
} problem;

/* Points around the line 2 x1 - x2 + 0.5 = 0, labelled by its side with
 * some noise, so that the classes overlap. */
static problem make_problem(int64_t n, uint64_t seed)
{
    problem p = {nb_tensor_zeros(NB_F64, NB_SHAPE(n, DIM)), nb_tensor_zeros(NB_F64, NB_SHAPE(n, 1)),
                 1e-2};
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; i++) {
        double x1 = nb_rng_normal(&rng), x2 = nb_rng_normal(&rng);
        double side = 2 * x1 - x2 + 0.5 + nb_rng_normal(&rng);
        nb_tensor_set(p.x, i * DIM, x1);
        nb_tensor_set(p.x, i * DIM + 1, x2);
        nb_tensor_set(p.x, i * DIM + 2, 1);
        nb_tensor_set(p.labels, i, side > 0 ? 1 : -1);
    }
    return p;
}

static nb_tensor *loss_of(nb_tape *tape, const problem *p, nb_tensor *w)
{
    nb_tensor *margin = nb_mul(tape, nb_matmul(tape, p->x, w), p->labels);
    nb_tensor *data = nb_mean(tape, nb_softplus(tape, nb_neg(tape, margin)));
    return nb_add(tape, data, nb_scale(tape, nb_sum(tape, nb_square(tape, w)), p->lambda / 2));
}

/* L(w), and its gradient into grad (when not NULL) */
static double loss_and_grad(const problem *p, nb_tensor *w, double grad[DIM])
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = loss_of(tape, p, w), *g = NULL;
    if (grad && nb_grad(tape, loss, 1, &w, &g, false) == NB_OK)
        for (int k = 0; k < DIM; k++)
            grad[k] = nb_tensor_get(g, k);
    double value = nb_tensor_item(loss);
    nb_tape_free(tape);
    return value;
}

/* out = H v, by double backward */
static void hessian_times(const problem *p, nb_tensor *w, const double v[DIM], double out[DIM])
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *direction = nb_tape_tensor(tape, NB_F64, NB_SHAPE(DIM, 1)), *hv = NULL;
    for (int k = 0; k < DIM; k++)
        nb_tensor_set(direction, k, v[k]);
    if (nb_hvp(tape, loss_of(tape, p, w), 1, &w, &direction, &hv) != NB_OK) {
        fprintf(stderr, "newton: %s\n", nb_last_error());
        exit(1);
    }
    for (int k = 0; k < DIM; k++)
        out[k] = nb_tensor_get(hv, k);
    nb_tape_free(tape);
}

static double dot(const double a[DIM], const double b[DIM])
{
    double s = 0;
    for (int k = 0; k < DIM; k++)
        s += a[k] * b[k];
    return s;
}

/* Solve H step = grad by conjugate gradients (exact after DIM iterations,
 * H being symmetric positive definite), from step = 0. */
static void newton_step(const problem *p, nb_tensor *w, const double grad[DIM], double step[DIM])
{
    double r[DIM], d[DIM], hd[DIM];
    memset(step, 0, DIM * sizeof *step);
    memcpy(r, grad, sizeof r);
    memcpy(d, grad, sizeof d);
    for (int it = 0; it < DIM && dot(r, r) > 1e-30; it++) {
        hessian_times(p, w, d, hd);
        double rr = dot(r, r), alpha = rr / dot(d, hd);
        for (int k = 0; k < DIM; k++) {
            step[k] += alpha * d[k];
            r[k] -= alpha * hd[k];
        }
        double beta = dot(r, r) / rr;
        for (int k = 0; k < DIM; k++)
            d[k] = r[k] + beta * d[k];
    }
}

static long flag(int argc, char **argv, const char *name, long fallback)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return strtol(argv[i + 1], NULL, 10);
    return fallback;
}

int main(int argc, char **argv)
{
    long steps = flag(argc, argv, "--steps", 8), points = flag(argc, argv, "--points", 200);
    double lr = 0.5;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--lr") == 0)
            lr = strtod(argv[i + 1], NULL);
    problem p = make_problem(points, (uint64_t)flag(argc, argv, "--seed", 1));
    nb_tensor *w_newton = nb_tensor_zeros(NB_F64, NB_SHAPE(DIM, 1));
    nb_tensor *w_gd = nb_tensor_zeros(NB_F64, NB_SHAPE(DIM, 1));
    nb_tensor_set_requires_grad(w_newton, true);
    nb_tensor_set_requires_grad(w_gd, true);
    printf("step  newton loss         |grad|     gradient descent (lr %g)\n", lr);
    double grad[DIM], step[DIM], gnorm = 0;
    for (long s = 0; s <= steps; s++) {
        double newton = loss_and_grad(&p, w_newton, grad);
        gnorm = sqrt(dot(grad, grad));
        double gd_grad[DIM], gd = loss_and_grad(&p, w_gd, gd_grad);
        printf("%4ld  %.15f  %9.2e  %.15f\n", s, newton, gnorm, gd);
        if (s == steps)
            break;
        newton_step(&p, w_newton, grad, step);
        for (int k = 0; k < DIM; k++) {
            nb_tensor_set(w_newton, k, nb_tensor_get(w_newton, k) - step[k]);
            nb_tensor_set(w_gd, k, nb_tensor_get(w_gd, k) - lr * gd_grad[k]);
        }
    }
    printf("newton w = (%.6f, %.6f, %.6f)\n", nb_tensor_get(w_newton, 0),
           nb_tensor_get(w_newton, 1), nb_tensor_get(w_newton, 2));
    nb_tensor_free(w_newton);
    nb_tensor_free(w_gd);
    nb_tensor_free(p.x);
    nb_tensor_free(p.labels);
    return gnorm < 1e-8 ? 0 : 1;
}
