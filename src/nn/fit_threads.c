/* A training step split across nabla's threads (nb_set_num_threads).
 *
 * The products of a small model are too small to gain much from being cut
 * in two (kernels/parallel.c), so fit cuts the batch instead: part i of a
 * step's rows runs forward, loss and backward on a model of its own, with
 * its own tape and its own parameter tensors (so no two threads write the
 * same gradient). Part 0 runs on the model itself, part i > 0 on replica
 * i - 1. The parts' gradients are then summed into the model's, each
 * weighted by its share of the rows, as the MPI path weights ranks
 * (distributed.c), the sum itself cut across the threads and checked for
 * NaN and infinity as it is made; fit takes one optimizer step as usual.
 *
 * The parts depend only on the number of rows and of threads, and their
 * gradients are summed in part order, so a run is repeatable for a given
 * seed and thread count. With one thread nothing here runs.
 *
 * Replicas are made from each layer's class config and from_config, as the
 * model loader does, once per thread count; before each step they get the
 * model's weights (a copy, made by the part's own thread). A model with a
 * layer that cannot be copied that way, or with f64 parameters, is not
 * split. */
#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "kernels/parallel.h"
#include "nn/model_internal.h"

/* Fewer rows than this per part and the step is not split. Each part packs
 * the whole weight matrices for its products and writes a whole gradient,
 * costs that do not shrink with its rows: with 16 rows a part (batch 32 on
 * two threads) the split still beats cutting the products, below that it
 * would not pay (docs/performance.md, "Splitting the batch"). */
#define MIN_ROWS_PER_PART 16
/* ... unless the parameters outgrow a core's cache: then a part's products
 * with few rows are bound by reading the weights and writing their
 * gradients, which each part does in full, while cut products read and
 * write half each. Measured (docs/performance.md, "2026-12-07"): at batch
 * 32 on two threads, hidden widths 1024 and 2048 (0.9 and 1.7 million
 * parameters) ran 7 to 10% and 19 to 31% faster with their products cut,
 * 512 (435,000) about the same, 256 (218,000) and 128 slower; at batch 128
 * (64 rows a part) the two were even for every width. */
#define LARGE_MODEL_PARAMS (1 << 18)
#define MIN_ROWS_PER_PART_LARGE 64

/* Gradient elements per part when summing the parts' gradients. */
#define SUM_GRAIN 16384

typedef struct part {
    int64_t first, n;    /* rows [first, first + n) of the step */
    nb__batch_sums sums; /* this part's loss and metric sums */
    nb_status status;
    char message[512];   /* the part's error: nb_last_error is per thread */
} part;

struct nb__replicas {
    int threads;      /* the thread count they were made for */
    int n_layers;     /* the model's layer count then */
    bool unsupported; /* a layer could not be copied: do not split */
    nb_model *models[NB_MAX_THREADS - 1]; /* replica i runs part i + 1 */
    part parts[NB_MAX_THREADS];
};

void nb__replicas_free(struct nb__replicas *replicas)
{
    if (!replicas)
        return;
    for (int i = 0; i + 1 < replicas->threads; i++)
        nb_model_free(replicas->models[i]);
    nb_release(replicas);
}

/* ---- replicas ------------------------------------------------------------ */

/* An unbuilt copy of a layer through its class's config and from_config;
 * NULL when the class has no from_config or the copy fails. */
static nb_layer *copy_layer(const nb_layer *layer)
{
    const nb_layer_class *cls = layer->cls;
    if (!cls->from_config)
        return NULL;
    cJSON *json = cJSON_CreateObject();
    nb_layer *copy = NULL;
    if (json && (!cls->config || cls->config(layer, json) == NB_OK))
        copy = cls->from_config(json);
    cJSON_Delete(json);
    if (copy)
        snprintf(copy->name, sizeof copy->name, "%s", layer->name);
    return copy;
}

static bool same_weight_shapes(const nb_model *a, const nb_model *b)
{
    if (a->n_weights != b->n_weights)
        return false;
    for (int w = 0; w < a->n_weights; w++)
        if (!nb_same_shape(a->weights[w], b->weights[w]) ||
            a->weights[w]->dtype != b->weights[w]->dtype)
            return false;
    return true;
}

/* A built model with the same layers, loss and metrics as `model` (its
 * weights are copied in before each step); NULL when it cannot be made. */
static nb_model *replica_of(const nb_model *model)
{
    nb_model *r = nb_sequential();
    bool ok = r && nb_model_set_dtype(r, model->dtype) == NB_OK &&
              nb_model_set_input_shape(r, model->in_rank, model->in_shape) == NB_OK;
    for (int i = 0; ok && i < model->n_layers; i++) {
        nb_layer *copy = copy_layer(model->layers[i]);
        ok = copy && nb_model_add(r, copy) == NB_OK;
    }
    ok = ok && nb_model_build(r) == NB_OK && same_weight_shapes(r, model);
    if (!ok) {
        nb_model_free(r);
        return NULL;
    }
    return r; /* loss and metrics are copied in each step (run_part) */
}

static bool has_state(const nb_model *model)
{
    for (int i = 0; i < model->n_layers; i++)
        for (int k = 0; k < model->layers[i]->n_params; k++)
            if (model->layers[i]->param_is_state[k])
                return true;
    return false;
}

/* Replicas for `threads` threads, or ones marked unsupported. Failing to
 * make them is not an error of fit's (the step runs unsplit), so the
 * caller's last error is put back. */
static struct nb__replicas *make_replicas(const nb_model *model, int threads)
{
    struct nb__replicas *r = nb_alloc_zeroed(sizeof *r);
    if (!r)
        return NULL;
    nb_status saved = nb_last_status();
    char message[512];
    snprintf(message, sizeof message, "%s", nb_last_error());
    r->threads = threads;
    r->n_layers = model->n_layers;
    /* A layer with state that training updates (BatchNormalization's moving
     * statistics) must see the whole batch, and its updates would stay in a
     * replica: such a model trains unsplit. */
    r->unsupported = has_state(model);
    for (int i = 0; i + 1 < threads && !r->unsupported; i++) {
        r->models[i] = replica_of(model);
        r->unsupported = !r->models[i];
    }
    if (saved == NB_OK)
        nb_clear_error();
    else
        nb_error(saved, "%s", message);
    return r;
}

/* Below this many multiply-adds in a step's forward pass (rows times
 * parameters), for a model of at most LARGE_MODEL_PARAMS, moving the
 * step's data between CPUs costs more than a second CPU saves: with two
 * threads (products and the update cut, the batch too small to split) the
 * reference model took 2.1 to 2.2 times as long as with one at batch 1 and
 * 1.4 to 1.6 times at batch 8 (docs/performance.md, "2026-12-07"). Larger
 * models gain from cut products and a cut update even at batch 1 (hidden
 * 2048: 1.4 to 1.9 times faster). */
#define SMALL_STEP_MACS (1 << 20)

bool nb__step_is_small(const nb_model *model, int64_t n)
{
    int64_t params = nb_model_param_count(model);
    return params <= LARGE_MODEL_PARAMS && n * params < SMALL_STEP_MACS;
}

int nb__thread_parts(nb_model *model, int64_t n)
{
    int threads = nb__num_threads();
    if (threads < 2 || model->dtype != NB_F32)
        return 1;
    bool large = nb_model_param_count(model) > LARGE_MODEL_PARAMS;
    int64_t min_rows = large ? MIN_ROWS_PER_PART_LARGE : MIN_ROWS_PER_PART;
    if (n < 2 * min_rows)
        return 1;
    struct nb__replicas *r = model->replicas;
    if (!r || r->threads != threads || r->n_layers != model->n_layers) {
        nb__replicas_free(r);
        model->replicas = r = make_replicas(model, threads);
    }
    if (!r || r->unsupported)
        return 1;
    int64_t most = n / min_rows;
    return most < threads ? (int)most : threads;
}

/* ---- one step ------------------------------------------------------------ */

typedef struct split_step {
    nb_model *model;
    const nb_tensor *x, *y;
    const int64_t *rows;
    struct nb__replicas *r;
} split_step;

/* The model's weights as they are now: after the last step, or whatever a
 * callback or nb_model_set_weights put there since. */
static void copy_weights(nb_model *to, const nb_model *from)
{
    for (int w = 0; w < from->n_weights; w++)
        nb_tensor_copy_data(to->weights[w], from->weights[w]); /* same shapes: cannot fail */
}

/* Part i's forward and backward, on whichever thread claimed it; it writes
 * only its own model (part 0: the model itself) and its own part entry. */
static void run_part(split_step *st, int i)
{
    part *p = &st->r->parts[i];
    nb_model *m = i == 0 ? st->model : st->r->models[i - 1];
    if (i > 0) { /* and the loss and metrics: the model may have been compiled again */
        copy_weights(m, st->model);
        m->loss = st->model->loss;
        memcpy(m->metrics, st->model->metrics, sizeof m->metrics);
        m->n_metrics = st->model->n_metrics;
    }
    nb_tape_reset(m->tape);
    nb_tensor *xb = nb__gather_rows(m->tape, st->x, st->rows + p->first, 0, p->n, m->dtype);
    nb_tensor *yb = nb__gather_rows(m->tape, st->y, st->rows + p->first, 0, p->n, m->dtype);
    p->sums = (nb__batch_sums){0};
    p->status = xb && yb ? nb__run_batch(m, xb, yb, true, &p->sums) : nb_last_status();
    if (p->status != NB_OK)
        snprintf(p->message, sizeof p->message, "%s", nb_last_error());
}

/* nb__parallel_for's work: parts [begin, end), usually one. */
static void run_parts(void *ctx, int64_t begin, int64_t end)
{
    for (int64_t i = begin; i < end; i++)
        run_part(ctx, (int)i);
}

/* Each replica's dropout stream for this step, derived from the model's
 * training RNG without drawing from it (part 0 draws from it as an unsplit
 * step would), spread apart by the golden-ratio constant as ranks are. */
static void seed_replicas(nb_model *model, struct nb__replicas *r, int parts)
{
    nb_rng peek = model->train_rng;
    uint64_t base = nb_rng_next(&peek);
    for (int i = 1; i < parts; i++)
        nb_rng_seed(&r->models[i - 1]->train_rng, base ^ (0x9E3779B97F4A7C15ULL * (uint64_t)i));
}

typedef struct grad_sum {
    nb_tensor *into;             /* the model's weight */
    const float *from[NB_MAX_THREADS]; /* the parts' gradients; [0] is into's */
    float scale[NB_MAX_THREADS]; /* each part's share of the rows */
    int parts;                   /* 2 or more */
    atomic_int non_finite;       /* set when a sum held a NaN or infinity */
} grad_sum;

/* into->grad = sum over parts of scale * gradient, in part order: loops
 * the compiler vectorises (part 0's gradient is into's own). The last one
 * also checks the sums, which spares fit a pass over every gradient on the
 * calling thread alone (fit_step.c, check_gradients). */
static void sum_range(void *ctx, int64_t begin, int64_t end)
{
    grad_sum *g = ctx;
    float *restrict out = (float *)g->into->grad + begin;
    int64_t len = end - begin;
    float s0 = g->scale[0];
    for (int64_t k = 0; k < len; k++)
        out[k] *= s0;
    for (int i = 1; i + 1 < g->parts; i++) {
        const float *restrict from = g->from[i] + begin;
        float s = g->scale[i];
        for (int64_t k = 0; k < len; k++)
            out[k] += s * from[k];
    }
    const float *restrict from = g->from[g->parts - 1] + begin;
    float s = g->scale[g->parts - 1];
    int bad = 0;
    for (int64_t k = 0; k < len; k++) {
        float v = out[k] + s * from[k];
        out[k] = v;
        bad |= v - v != 0; /* NaN for inf and NaN, else 0 */
    }
    if (bad)
        atomic_store_explicit(&g->non_finite, 1, memory_order_relaxed);
}

/* Each part left the gradient of the mean over its rows; weighted by its
 * share, their sum is the gradient of the mean over all n rows. True when
 * every gradient was summed and all of them are finite. */
static bool sum_gradients(nb_model *model, const struct nb__replicas *r, int parts, int64_t n)
{
    grad_sum g = {.parts = parts};
    atomic_init(&g.non_finite, 0);
    for (int i = 0; i < parts; i++)
        g.scale[i] = (float)((double)r->parts[i].n / (double)n);
    bool checked = true;
    for (int w = 0; w < model->n_weights; w++) {
        g.into = model->weights[w];
        if (!g.into->grad)
            continue;
        g.from[0] = g.into->grad;
        bool all = true;
        for (int i = 1; i < parts; i++)
            all &= (g.from[i] = r->models[i - 1]->weights[w]->grad) != NULL;
        if (all) /* the same graph on every part: all or none have one */
            nb__parallel_for(g.into->size, SUM_GRAIN, 1, sum_range, &g);
        checked &= all;
    }
    return checked && !atomic_load_explicit(&g.non_finite, memory_order_relaxed);
}

nb_status nb__run_batch_split(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                              const int64_t *rows, int64_t n, int parts, nb__batch_sums *batch,
                              bool *finite)
{
    *finite = false;
    struct nb__replicas *r = model->replicas;
    for (int i = 0; i < parts; i++) {
        r->parts[i].first = n * i / parts;
        r->parts[i].n = n * (i + 1) / parts - r->parts[i].first;
    }
    seed_replicas(model, r, parts);
    split_step st = {.model = model, .x = x, .y = y, .rows = rows, .r = r};
    /* one item per part; a GEMM inside a part then runs serially */
    nb__parallel_for(parts, 1, 1, run_parts, &st);
    for (int i = 0; i < parts; i++) {
        const part *p = &r->parts[i];
        if (p->status != NB_OK) /* the first failing part, in order */
            return nb_error(p->status, "%s", p->message);
        batch->loss += p->sums.loss;
        for (int k = 0; k < model->n_metrics; k++)
            batch->metrics[k] += p->sums.metrics[k];
        batch->samples += p->sums.samples;
    }
    *finite = sum_gradients(model, r, parts, n);
    return NB_OK;
}
