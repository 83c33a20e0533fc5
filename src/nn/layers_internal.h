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

#endif
