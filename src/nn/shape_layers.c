/* Layers that only move values: Reshape and Permute, each one op. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "nabla/layer.h"
#include "nabla/ops.h"
#include "nn/layers_internal.h"

/* A sample's axes: rank entries, as given to the constructor. */
typedef struct axes_state {
    int rank;
    int64_t dims[NB_MAX_RANK];
} axes_state;

static axes_state *new_axes_state(const char *fn, int rank, const int64_t *dims)
{
    if (!dims) {
        nb_error(NB_ERR_NULL, "%s: the shape is NULL", fn);
        return NULL;
    }
    if (rank < 1 || rank > NB_MAX_RANK - 1) {
        nb_error(NB_ERR_ARG, "%s: rank %d per sample: expected 1 to %d (the batch axis takes "
                 "one more)", fn, rank, NB_MAX_RANK - 1);
        return NULL;
    }
    axes_state *s = nb_alloc_zeroed(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    s->rank = rank;
    memcpy(s->dims, dims, (size_t)rank * sizeof *dims);
    return s;
}

static void release_state(nb_layer *self) { nb_release(self->state); }

/* config: {key: [d0, d1, ...]} */
static nb_status dims_config(const nb_layer *self, cJSON *json, const char *key)
{
    const axes_state *s = self->state;
    cJSON *list = cJSON_AddArrayToObject(json, key);
    for (int d = 0; list && d < s->rank; d++) {
        cJSON *item = cJSON_CreateNumber((double)s->dims[d]);
        if (!item || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            list = NULL;
        }
    }
    return list ? NB_OK : nb_error(NB_ERR_NOMEM, "%s layer '%s': out of memory for its config",
                                   self->cls->type, self->name);
}

/* Read {key: [integers]} into dims; the number read, or -1 with an error. */
static int dims_from_config(const cJSON *json, const char *type, const char *key,
                            int64_t dims[NB_MAX_RANK])
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, key);
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    bool ok = n >= 1 && n <= NB_MAX_RANK - 1;
    for (int d = 0; ok && d < n; d++) {
        const cJSON *v = cJSON_GetArrayItem(list, d);
        ok = cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble &&
             fabs(v->valuedouble) < 1e15;
        if (ok)
            dims[d] = (int64_t)v->valuedouble;
    }
    if (!ok) {
        nb_error(NB_ERR_FORMAT, "%s config: \"%s\" is missing or not a list of 1 to %d integers",
                 type, key, NB_MAX_RANK - 1);
        return -1;
    }
    return n;
}

/* ---- Reshape ------------------------------------------------------------- */

static nb_status reshape_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    (void)rng;
    const axes_state *s = self->state;
    int64_t in_size = 1, known = 1;
    int unknown = -1;
    for (int d = 0; d < in_rank; d++)
        in_size *= in_shape[d];
    for (int d = 0; d < s->rank; d++) {
        if (s->dims[d] == -1)
            unknown = d;
        else
            known *= s->dims[d];
    }
    memcpy(self->out_shape, s->dims, sizeof s->dims);
    self->out_rank = s->rank;
    bool fits = unknown >= 0 ? in_size % known == 0 : known == in_size;
    if (!fits) {
        char in_buf[NB_SHAPE_BUF], target[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "Reshape layer '%s': a sample of shape %s (%" PRId64
                        " values) cannot take the shape %s", self->name,
                        nb__dims_str(in_rank, in_shape, in_buf, sizeof in_buf), in_size,
                        nb__dims_str(s->rank, s->dims, target, sizeof target));
    }
    if (unknown >= 0)
        self->out_shape[unknown] = in_size / known;
    return NB_OK;
}

static nb_tensor *reshape_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                  nb_rng *rng)
{
    (void)training;
    (void)rng;
    int64_t shape[NB_MAX_RANK] = {x->shape[0]};
    memcpy(shape + 1, self->out_shape, (size_t)self->out_rank * sizeof *shape);
    return nb_reshape(tape, x, self->out_rank + 1, shape);
}

static nb_status reshape_config(const nb_layer *self, cJSON *json)
{
    return dims_config(self, json, "target_shape");
}

static nb_layer *reshape_from_config(const cJSON *json)
{
    int64_t dims[NB_MAX_RANK];
    int n = dims_from_config(json, "Reshape", "target_shape", dims);
    return n < 0 ? NULL : nb_reshape_layer(n, dims);
}

const nb_layer_class nb__reshape_class = {
    .type = "Reshape",
    .build = reshape_build,
    .forward = reshape_forward,
    .config = reshape_config,
    .destroy = release_state,
    .from_config = reshape_from_config,
};

nb_layer *nb_reshape_layer(int rank, const int64_t *target_shape)
{
    axes_state *s = new_axes_state("nb_reshape_layer", rank, target_shape);
    int unknowns = 0;
    for (int d = 0; s && d < rank; d++) {
        unknowns += target_shape[d] == -1;
        if ((target_shape[d] < 1 && target_shape[d] != -1) || unknowns > 1) {
            char buf[NB_SHAPE_BUF];
            nb_error(NB_ERR_ARG, "nb_reshape_layer: target shape %s: expected positive sizes "
                     "and at most one -1", nb__dims_str(rank, target_shape, buf, sizeof buf));
            nb_release(s);
            return NULL;
        }
    }
    nb_layer *layer = s ? nb_layer_new(&nb__reshape_class, NULL, s) : NULL;
    if (!layer)
        nb_release(s);
    return layer;
}

/* ---- Permute ------------------------------------------------------------- */

static nb_status permute_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    (void)rng;
    const axes_state *s = self->state;
    if (s->rank != in_rank) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "Permute layer '%s': dims has %d entries but a sample has "
                        "shape %s (rank %d): expected one entry per axis", self->name, s->rank,
                        nb__dims_str(in_rank, in_shape, buf, sizeof buf), in_rank);
    }
    for (int d = 0; d < in_rank; d++)
        self->out_shape[d] = in_shape[s->dims[d] - 1];
    return NB_OK;
}

static nb_tensor *permute_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                  nb_rng *rng)
{
    (void)training;
    (void)rng;
    const axes_state *s = self->state;
    int perm[NB_MAX_RANK] = {0}; /* the batch axis stays first */
    for (int d = 0; d < s->rank; d++)
        perm[d + 1] = (int)s->dims[d];
    return nb_transpose(tape, x, perm);
}

static nb_status permute_config(const nb_layer *self, cJSON *json)
{
    return dims_config(self, json, "dims");
}

static nb_layer *permute_from_config(const cJSON *json)
{
    int64_t dims[NB_MAX_RANK];
    int n = dims_from_config(json, "Permute", "dims", dims);
    int as_int[NB_MAX_RANK];
    for (int d = 0; d < n; d++)
        as_int[d] = dims[d] < 0 || dims[d] > NB_MAX_RANK ? 0 : (int)dims[d];
    return n < 0 ? NULL : nb_permute_layer(n, as_int);
}

const nb_layer_class nb__permute_class = {
    .type = "Permute",
    .build = permute_build,
    .forward = permute_forward,
    .config = permute_config,
    .destroy = release_state,
    .from_config = permute_from_config,
};

/* dims must hold each of 1..rank once */
static bool is_permutation(int rank, const int *dims)
{
    bool seen[NB_MAX_RANK + 1] = {false};
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 1 || dims[d] > rank || seen[dims[d]])
            return false;
        seen[dims[d]] = true;
    }
    return true;
}

nb_layer *nb_permute_layer(int rank, const int *dims)
{
    const char *fn = "nb_permute_layer";
    int64_t wide[NB_MAX_RANK] = {0};
    for (int d = 0; dims && d < rank && d < NB_MAX_RANK; d++)
        wide[d] = dims[d];
    axes_state *s = new_axes_state(fn, rank, dims ? wide : NULL);
    if (s && !is_permutation(rank, dims)) {
        char buf[NB_SHAPE_BUF];
        nb_error(NB_ERR_ARG, "%s: dims %s: expected each of 1 to %d once (axis 0, the batch, "
                 "stays in place)", fn, nb__dims_str(rank, wide, buf, sizeof buf), rank);
        nb_release(s);
        return NULL;
    }
    nb_layer *layer = s ? nb_layer_new(&nb__permute_class, NULL, s) : NULL;
    if (!layer)
        nb_release(s);
    return layer;
}
