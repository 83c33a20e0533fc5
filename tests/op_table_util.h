/* Shorthands for writing op-table entries (tests/op_table.h): shapes,
 * inputs, and the conversion of an args slot to an int argument. Header
 * only, so the API fuzzer can use the family files without Check. */
#ifndef NB_OP_TABLE_UTIL_H
#define NB_OP_TABLE_UTIL_H

#include <limits.h>
#include <stdint.h>

#include "op_table.h"

/* Shapes by rank: R0 a scalar, R2(2, 3) the shape [2, 3]. */
#define R0 {0, {0}}
#define R1(a) {1, {a}}
#define R2(a, b) {2, {a, b}}
#define R3(a, b, c) {3, {a, b, c}}
#define R4(a, b, c, d) {4, {a, b, c, d}}

/* The tensor inputs of a sample or a reject: .n_inputs and .shapes. */
#define IN1(a) .n_inputs = 1, .shapes = {a}
#define IN2(a, b) .n_inputs = 2, .shapes = {a, b}
#define IN3(a, b, c) .n_inputs = 3, .shapes = {a, b, c}

/* An int argument (an axis, a rank, a perm entry) from an args slot, which
 * the fuzzer fills with any int64: saturated, so that a value past int's
 * range stays out of range and the op must reject it, instead of wrapping
 * to a valid one. */
static inline int nb_opt_int(int64_t v)
{
    return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

#endif
