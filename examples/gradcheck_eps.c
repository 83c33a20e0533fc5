/* gradcheck_eps: how the finite-difference step eps decides what a gradient
 * check can see.
 *
 * nb_gradcheck compares backward's gradient with the central difference
 * (f(x + eps) - f(x - eps)) / 2 eps. Two errors pull in opposite directions:
 *   - truncation: the difference is exact only for parabolas; its error
 *     grows like eps^2 (large eps, the right of the picture);
 *   - round-off: f is computed with a relative precision u (about 6e-8 in
 *     f32, 1e-16 in f64), and dividing that noise by 2 eps makes it grow
 *     like u / eps (small eps, the left).
 * On log-log axes the relative error draws a V; its bottom, where the two
 * meet (eps near u^(1/3): about 4e-3 in f32, 5e-6 in f64), is the best eps.
 *
 * The program checks a small network, y = tanh(x W1 + b1) W2, in f32 and
 * f64 with eps from 1e-1 to 1e-12, half a decade apart, and writes the
 * largest relative error of each run as CSV and as a log-log PNG.
 *
 *     gradcheck_eps [--csv FILE] [--png FILE]
 *     defaults: --csv gradcheck_eps.csv --png gradcheck_eps.png ('' for none)
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nabla/nabla.h"

#define N_EPS 23 /* 1e-1, 10^-1.5, ..., 1e-12 */

/* f(W1, b1, W2) = tanh(x W1 + b1) W2; x is fixed data passed as `user`. */
static nb_tensor *network(nb_tape *tape, nb_tensor *const in[], void *user)
{
    nb_tensor *x = user;
    nb_tensor *h = nb_tanh(tape, nb_add_bias(tape, nb_matmul(tape, x, in[0]), in[1]));
    return nb_matmul(tape, h, in[2]);
}

/* The largest relative error over all checked inputs at each eps. */
static int sweep(nb_dtype dtype, const double *eps, double *errors)
{
    nb_rng rng;
    nb_rng_seed(&rng, 42);
    nb_tensor *x = nb_tensor_rand_uniform(dtype, NB_SHAPE(3, 4), -1, 1, &rng);
    nb_tensor *params[3] = {
        nb_tensor_rand_uniform(dtype, NB_SHAPE(4, 5), -1, 1, &rng),
        nb_tensor_rand_uniform(dtype, NB_SHAPE(5), -0.5, 0.5, &rng),
        nb_tensor_rand_uniform(dtype, NB_SHAPE(5, 2), -1, 1, &rng),
    };
    int status = x && params[0] && params[1] && params[2] ? 0 : 1;
    for (int p = 0; p < 3 && status == 0; p++)
        nb_tensor_set_requires_grad(params[p], true);
    for (int k = 0; k < N_EPS && status == 0; k++) {
        nb_gradcheck_options options = {.eps = eps[k], .atol = 1e-5, .rtol = 1e-3, .seed = 0};
        nb_gradcheck_report report;
        if (nb_gradcheck(network, 3, params, x, &options, &report) != NB_OK) {
            status = 1;
            break;
        }
        errors[k] = 0;
        for (int p = 0; p < 3; p++)
            errors[k] = fmax(errors[k], report.inputs[p].max_rel_error);
    }
    if (status != 0)
        fprintf(stderr, "gradcheck_eps: %s\n", nb_last_error());
    nb_tensor_free(x);
    for (int p = 0; p < 3; p++)
        nb_tensor_free(params[p]);
    return status;
}

static int write_csv(const char *path, const double *eps, const double *f32, const double *f64)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        perror(path);
        return 1;
    }
    fprintf(out, "eps,rel_error_f32,rel_error_f64\n");
    for (int k = 0; k < N_EPS; k++)
        fprintf(out, "%.3g,%.6g,%.6g\n", eps[k], f32[k], f64[k]);
    return fclose(out) == 0 ? 0 : 1;
}

static int best(const double *errors)
{
    int b = 0;
    for (int k = 1; k < N_EPS; k++)
        if (errors[k] < errors[b])
            b = k;
    return b;
}

int main(int argc, char **argv)
{
    const char *csv = "gradcheck_eps.csv", *png = "gradcheck_eps.png";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (strcmp(argv[i], "--png") == 0 && i + 1 < argc) {
            png = argv[++i];
        } else {
            fprintf(stderr, "usage: gradcheck_eps [--csv FILE] [--png FILE]\n");
            return 2;
        }
    }
    double eps[N_EPS], f32[N_EPS], f64[N_EPS];
    for (int k = 0; k < N_EPS; k++)
        eps[k] = pow(10.0, -1.0 - 0.5 * k);
    if (sweep(NB_F32, eps, f32) != 0 || sweep(NB_F64, eps, f64) != 0)
        return 1;

    printf("largest relative error of nb_gradcheck on tanh(x W1 + b1) W2\n");
    printf("%10s %14s %14s\n", "eps", "f32", "f64");
    for (int k = 0; k < N_EPS; k++)
        printf("%10.3g %14.3g %14.3g\n", eps[k], f32[k], f64[k]);
    printf("best eps: f32 %.3g (error %.3g), f64 %.3g (error %.3g)\n", eps[best(f32)],
           f32[best(f32)], eps[best(f64)], f64[best(f64)]);

    if (csv[0] && write_csv(csv, eps, f32, f64) != 0)
        return 1;
    if (png[0]) {
        nb_plot_series series[2] = {{"f32", eps, f32, N_EPS}, {"f64", eps, f64, N_EPS}};
        nb_status s = nb_plot_loglog_png(png, series, 2,
                                         "gradient check error against the step eps",
                                         "eps (finite-difference step)",
                                         "largest relative error");
        if (s == NB_ERR_STATE) {
            printf("no picture: %s\n", nb_last_error()); /* built without PLplot */
        } else if (s != NB_OK) {
            fprintf(stderr, "gradcheck_eps: %s\n", nb_last_error());
            return 1;
        } else {
            printf("picture written to %s\n", png);
        }
    }
    return 0;
}
