/* nabla/error.h: status codes and the last error message.
 *
 * Every nabla function that can fail returns either NULL or an nb_status.
 * The message describing the most recent failure on the calling thread is
 * available from nb_last_error(); it names the function, the values involved
 * and what was expected, for example
 *     nb_matmul: inner dimensions differ: a is [32, 784], b is [128, 64]
 * Functions that receive a NULL tensor from an earlier failed call return NULL
 * (or NB_ERR_NULL) without overwriting the earlier, more useful message, so a
 * chain of calls can be checked once at its end.
 */
#ifndef NABLA_ERROR_H
#define NABLA_ERROR_H

typedef enum nb_status {
    NB_OK = 0,
    NB_ERR_NULL,    /* a required pointer argument was NULL */
    NB_ERR_ARG,     /* an argument is out of its valid range */
    NB_ERR_SHAPE,   /* tensor shapes do not fit together */
    NB_ERR_DTYPE,   /* tensor dtypes do not fit together */
    NB_ERR_NOMEM,   /* an allocation failed */
    NB_ERR_STATE,   /* the object is not in a state that allows the call */
    NB_ERR_IO,      /* a file could not be opened, read or written */
    NB_ERR_FORMAT,  /* a file's contents are malformed */
    NB_ERR_NUMERIC  /* a NaN or infinity appeared where it must not */
} nb_status;

/* The message of the last error on this thread ("" when there was none). */
const char *nb_last_error(void);

/* The status of the last error on this thread (NB_OK when there was none). */
nb_status nb_last_status(void);

/* Forget the last error. */
void nb_clear_error(void);

/* A short constant name for a status, e.g. "NB_ERR_SHAPE". */
const char *nb_status_name(nb_status status);

/* Record an error (printf-style message) and return `status`.
 * Custom ops and layers use this to report their own errors; start the
 * message with the function's name. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
nb_status nb_error(nb_status status, const char *fmt, ...);

#endif
