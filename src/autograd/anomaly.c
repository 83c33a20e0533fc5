/* Anomaly detection: name the op that first produced a NaN or infinity.
 *
 * Off by default; when off, op.c and backward.c test one bool per op and do
 * nothing else. When on, every forward result and every gradient a backward
 * wrote is scanned, and the first non-finite element stops the forward (the
 * op returns NULL) or the backward (nb_backward returns NB_ERR_NUMERIC). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "internal.h"

bool nb__anomaly_enabled = false;

bool nb_set_detect_anomaly(bool enabled)
{
    bool previous = nb__anomaly_enabled;
    nb__anomaly_enabled = enabled;
    return previous;
}

bool nb_detect_anomaly_enabled(void) { return nb__anomaly_enabled; }

/* Index of the first non-finite element of `values` (size elements of
 * dtype), or -1 when every element is finite. */
static int64_t first_non_finite(nb_dtype dtype, const void *values, int64_t size)
{
    if (dtype == NB_F32) {
        const float *v = values;
        for (int64_t i = 0; i < size; i++)
            if (!isfinite(v[i]))
                return i;
    } else {
        const double *v = values;
        for (int64_t i = 0; i < size; i++)
            if (!isfinite(v[i]))
                return i;
    }
    return -1;
}

static const char *value_name(double v)
{
    return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

/* "(node #5 on the tape; inputs [2, 3] and [3])" */
static void describe_node(const nb_node *node, size_t index, char *buf, size_t len)
{
    size_t used;
    if (index == NB_ANOMALY_NOT_RECORDED)
        used = (size_t)snprintf(buf, len, "(not recorded on a tape; input%s ",
                                node->n_inputs > 1 ? "s" : "");
    else
        used = (size_t)snprintf(buf, len, "(node #%zu on the tape; input%s ", index,
                                node->n_inputs > 1 ? "s" : "");
    for (int i = 0; i < node->n_inputs && used < len; i++) {
        char shape[NB_SHAPE_BUF];
        nb_shape_str(node->inputs[i], shape, sizeof shape);
        const char *sep = i == 0 ? "" : i == node->n_inputs - 1 ? " and " : ", ";
        used += (size_t)snprintf(buf + used, len - used, "%s%s", sep, shape);
    }
    if (used < len)
        snprintf(buf + used, len - used, ")");
}

nb_status nb__anomaly_check_forward(const nb_node *node, size_t index)
{
    const nb_tensor *out = node->output;
    int64_t at = first_non_finite(out->dtype, out->data, out->size);
    if (at < 0)
        return NB_OK;
    char where[256];
    describe_node(node, index, where, sizeof where);
    return nb_error(NB_ERR_NUMERIC, "nb_%s: forward produced %s at element %" PRId64 " %s",
                    node->op->name, value_name(nb_tensor_get(out, at)), at, where);
}

nb_status nb__anomaly_check_backward(const nb_node *node)
{
    for (int i = 0; i < node->n_inputs; i++) {
        const nb_tensor *in = node->inputs[i];
        if (!in->requires_grad || !in->grad)
            continue;
        int64_t at = first_non_finite(in->dtype, in->grad, in->size);
        if (at < 0)
            continue;
        double g = in->dtype == NB_F32 ? ((const float *)in->grad)[at]
                                       : ((const double *)in->grad)[at];
        char where[256];
        describe_node(node, node->index, where, sizeof where);
        return nb_error(NB_ERR_NUMERIC,
                        "nb_%s: backward produced %s in the gradient of input %d at element "
                        "%" PRId64 " %s",
                        node->op->name, value_name(g), i, at, where);
    }
    return NB_OK;
}
