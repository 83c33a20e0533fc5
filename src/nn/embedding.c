/* Embedding: the rows of a trainable table picked by integer indices, one
 * nb_take; its backward (scatter-add) gives the table's gradient. */
#include <cjson/cJSON.h>
#include <inttypes.h>

#include "internal.h"
#include "nabla/indexing.h"
#include "nabla/layer.h"
#include "nn/layers_internal.h"

typedef struct embedding_state {
    int64_t input_dim, output_dim;
} embedding_state;

/* Keras's default initializer for embeddings: uniform in [-0.05, 0.05]. */
#define EMBEDDING_INIT_LIMIT 0.05

static nb_status embedding_build(nb_layer *self, int in_rank, const int64_t *in_shape,
                                 nb_rng *rng)
{
    const embedding_state *s = self->state;
    if (in_rank > NB_MAX_RANK - 2) {
        char buf[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "Embedding layer '%s': samples of shape %s (rank %d) "
                        "would give outputs of rank %d with the batch: expected samples of "
                        "rank 1 to %d", self->name, nb__dims_str(in_rank, in_shape, buf, sizeof buf),
                        in_rank, in_rank + 2, NB_MAX_RANK - 2);
    }
    nb_tensor *table = nb_tensor_rand_uniform(self->dtype, NB_SHAPE(s->input_dim, s->output_dim),
                                              -EMBEDDING_INIT_LIMIT, EMBEDDING_INIT_LIMIT, rng);
    if (!table || nb_layer_add_param(self, "embeddings", table) != NB_OK) {
        nb_tensor_free(table);
        return nb_last_status();
    }
    self->out_rank = in_rank + 1;
    self->out_shape[in_rank] = s->output_dim;
    return NB_OK;
}

static nb_tensor *embedding_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                    nb_rng *rng)
{
    (void)training;
    (void)rng;
    return nb_take(tape, self->params[0], x, 0);
}

static nb_status embedding_config(const nb_layer *self, cJSON *json)
{
    const embedding_state *s = self->state;
    bool ok = cJSON_AddNumberToObject(json, "input_dim", (double)s->input_dim) &&
              cJSON_AddNumberToObject(json, "output_dim", (double)s->output_dim);
    return ok ? NB_OK : nb_error(NB_ERR_NOMEM, "Embedding layer '%s': out of memory for its "
                                 "config", self->name);
}

static void embedding_destroy(nb_layer *self) { nb_release(self->state); }

/* a positive integer of a config, or 0 */
static int64_t positive_integer(const cJSON *json, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e12 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return 0;
    return (int64_t)v->valuedouble;
}

static nb_layer *embedding_from_config(const cJSON *json)
{
    int64_t input_dim = positive_integer(json, "input_dim");
    int64_t output_dim = positive_integer(json, "output_dim");
    if (!input_dim || !output_dim) {
        nb_error(NB_ERR_FORMAT, "Embedding config: \"%s\" is missing or not a positive integer",
                 input_dim ? "output_dim" : "input_dim");
        return NULL;
    }
    return nb_embedding(input_dim, output_dim);
}

const nb_layer_class nb__embedding_class = {
    .type = "Embedding",
    .build = embedding_build,
    .forward = embedding_forward,
    .config = embedding_config,
    .destroy = embedding_destroy,
    .from_config = embedding_from_config,
};

nb_layer *nb_embedding(int64_t input_dim, int64_t output_dim)
{
    if (input_dim < 1 || output_dim < 1) {
        nb_error(NB_ERR_ARG, "nb_embedding: input_dim is %" PRId64 " and output_dim %" PRId64
                 ": expected both at least 1", input_dim, output_dim);
        return NULL;
    }
    embedding_state *s = nb_alloc(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "nb_embedding: out of memory");
        return NULL;
    }
    *s = (embedding_state){input_dim, output_dim};
    nb_layer *layer = nb_layer_new(&nb__embedding_class, NULL, s);
    if (!layer)
        nb_release(s);
    return layer;
}
