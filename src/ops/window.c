/* Sliding-window geometry for convolution and pooling (window.h). */
#include <inttypes.h>
#include <stdio.h>

#include "ops/window.h"

/* "stride is 2" when both axes agree (or a sequence), else
 * "strides are (2, 1)" */
static nb_status require_positive(const nb_window_attrs *a, const int v[2], const char *name)
{
    if (v[0] >= 1 && v[1] >= 1)
        return NB_OK;
    if (a->spatial == 1 || v[0] == v[1])
        return nb_error(NB_ERR_ARG, "%s: %s is %d: expected 1 or more", a->fn, name, v[1]);
    return nb_error(NB_ERR_ARG, "%s: %ss are (%d, %d): expected 1 or more", a->fn, name, v[0],
                    v[1]);
}

nb_status nb__window_check_attrs(const nb_window_attrs *a)
{
    if (a->padding != NB_PADDING_VALID && a->padding != NB_PADDING_SAME)
        return nb_error(NB_ERR_ARG, "%s: padding is %d: expected NB_PADDING_VALID or "
                        "NB_PADDING_SAME", a->fn, (int)a->padding);
    nb_status s = require_positive(a, a->window, "pool");
    if (s == NB_OK)
        s = require_positive(a, a->strides, "stride");
    if (s == NB_OK)
        s = require_positive(a, a->dilation, "dilation");
    return s;
}

bool nb__window_axis(nb_padding padding, int64_t in, int64_t k_eff, int64_t stride,
                        int64_t *out, int64_t *pad_before)
{
    if (padding == NB_PADDING_SAME) {
        *out = (in + stride - 1) / stride;
        int64_t total = (*out - 1) * stride + k_eff - in;
        *pad_before = total > 0 ? total / 2 : 0;
        return true;
    }
    *pad_before = 0;
    *out = in >= k_eff ? (in - k_eff) / stride + 1 : 0;
    return in >= k_eff;
}

nb_status nb__window_of(const nb_window_attrs *a, const nb_tensor *x, int64_t kh, int64_t kw,
                        const char *what, nb_window *g)
{
    bool image = a->spatial == 2;
    *g = (nb_window){.n = x->shape[0], .h = image ? x->shape[1] : 1,
                     .w = x->shape[image ? 2 : 1], .c = x->shape[image ? 3 : 2],
                     .kh = kh, .kw = kw, .sh = a->strides[0], .sw = a->strides[1],
                     .dh = a->dilation[0], .dw = a->dilation[1]};
    int64_t eh = g->dh * (kh - 1) + 1, ew = g->dw * (kw - 1) + 1;
    bool fits = nb__window_axis(a->padding, g->h, eh, g->sh, &g->oh, &g->pad_top);
    fits = nb__window_axis(a->padding, g->w, ew, g->sw, &g->ow, &g->pad_left) && fits;
    if (fits)
        return NB_OK;
    if (image)
        return nb_error(NB_ERR_SHAPE, "%s: %s: the window (%" PRId64 "x%" PRId64 "%s) is larger "
                        "than the input (%" PRId64 "x%" PRId64 ") with padding VALID",
                        a->fn, what, eh, ew, g->dh > 1 || g->dw > 1 ? " dilated" : "", g->h, g->w);
    return nb_error(NB_ERR_SHAPE, "%s: %s: the window (%" PRId64 "%s) is longer than the "
                    "sequence (%" PRId64 ") with padding VALID",
                    a->fn, what, ew, g->dw > 1 ? " dilated" : "", g->w);
}

void nb__window_out_shape(const nb_window_attrs *a, const nb_window *g, int64_t channels,
                          int *rank, int64_t shape[NB_MAX_RANK])
{
    int r = 0;
    shape[r++] = g->n;
    if (a->spatial == 2)
        shape[r++] = g->oh;
    shape[r++] = g->ow;
    shape[r++] = channels;
    *rank = r;
}
