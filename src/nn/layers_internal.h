/* The built-in layer classes, known to the model loader by type name. */
#ifndef NABLA_NN_LAYERS_INTERNAL_H
#define NABLA_NN_LAYERS_INTERNAL_H

#include "nabla/layer.h"

extern const nb_layer_class nb__dense_class;
extern const nb_layer_class nb__activation_class;
extern const nb_layer_class nb__flatten_class;
extern const nb_layer_class nb__dropout_class;
extern const nb_layer_class nb__reshape_class;
extern const nb_layer_class nb__permute_class;
extern const nb_layer_class nb__embedding_class;
extern const nb_layer_class nb__layer_norm_class;
extern const nb_layer_class nb__batch_norm_class;
extern const nb_layer_class nb__simple_rnn_class;
extern const nb_layer_class nb__lstm_class;
extern const nb_layer_class nb__gru_class;
extern const nb_layer_class nb__repeat_vector_class;
extern const nb_layer_class nb__bidirectional_class;
extern const nb_layer_class nb__conv2d_class;
extern const nb_layer_class nb__conv1d_class;
extern const nb_layer_class nb__max_pooling2d_class;
extern const nb_layer_class nb__average_pooling2d_class;
extern const nb_layer_class nb__global_average_pooling2d_class;
extern const nb_layer_class nb__max_pooling1d_class;
extern const nb_layer_class nb__average_pooling1d_class;
extern const nb_layer_class nb__global_average_pooling1d_class;

/* Config helpers of the convolution and pooling layers (conv_layers.c):
 * "valid" or "same", and lists of n positive integers, with errors naming
 * the layer type and key. */
struct cJSON;
const char *nb__padding_name(nb_padding padding);
nb_status nb__add_int_list(struct cJSON *json, const char *key, int n, const int *values);
nb_status nb__int_list_from_config(const struct cJSON *json, const char *type, const char *key,
                                   int n, int *values);
nb_status nb__padding_from_config(const struct cJSON *json, const char *type,
                                  nb_padding *padding);

#endif
