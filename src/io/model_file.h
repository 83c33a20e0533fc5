/* What model_save.c and model_load.c share: the model file's conventions
 * (docs/formats.md). Not installed. */
#ifndef NABLA_IO_MODEL_FILE_H
#define NABLA_IO_MODEL_FILE_H

#include <stdio.h>

#include "nabla/layer.h"
#include "nabla/model.h"

/* __metadata__["format"] of every file nabla writes; bump the number when a
 * change would make older readers misread a file. */
#define NB_MODEL_FORMAT "nabla-1"

/* A weight's tensor name, "<layer>/<param>": a layer name (< 32 bytes) and a
 * parameter name (< 16 bytes). Unlike the tensor's own label, never cut. */
typedef char nb_weight_name[48];

static inline void nb__weight_name(nb_weight_name out, const nb_layer *layer, int k)
{
    snprintf(out, sizeof(nb_weight_name), "%s/%s", layer->name, layer->param_names[k]);
}

/* nb_model_load, also telling how many optimizer state tensors were read
 * into the model's optimizer: -1 when none were (the file has none, or the
 * model loaded uncompiled), 0 when the optimizer had not taken a step. */
nb_model *nb__model_load(const char *path, int *saved_state);

#endif
