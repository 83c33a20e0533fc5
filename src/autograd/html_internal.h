/* The backprop explorer page (html.c) and its data (html_data.c).
 * Not installed: library code only. */
#ifndef NABLA_AUTOGRAD_HTML_INTERNAL_H
#define NABLA_AUTOGRAD_HTML_INTERNAL_H

#include <cjson/cJSON.h>

#include "nabla/viz.h"

/* The page's data: the tape's tensors, the forward pass and (after
 * backward) every step of the sweep, as one JSON object (see the top of
 * explorer.js for its fields). max_values is already defaulted. NULL on
 * error, with the message set. */
cJSON *nb__explorer_data(const nb_tape *tape, int max_values, const nb_trace_options *trace,
                         const char *fn);

#endif
