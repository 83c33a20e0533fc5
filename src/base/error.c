/* Thread-local last error: status plus a formatted message. */
#include "nabla/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local nb_status last_status = NB_OK;
static _Thread_local char last_message[512];

const char *nb_last_error(void) { return last_message; }

nb_status nb_last_status(void) { return last_status; }

void nb_clear_error(void)
{
    last_status = NB_OK;
    last_message[0] = '\0';
}

const char *nb_status_name(nb_status status)
{
    switch (status) {
    case NB_OK: return "NB_OK";
    case NB_ERR_NULL: return "NB_ERR_NULL";
    case NB_ERR_ARG: return "NB_ERR_ARG";
    case NB_ERR_SHAPE: return "NB_ERR_SHAPE";
    case NB_ERR_DTYPE: return "NB_ERR_DTYPE";
    case NB_ERR_NOMEM: return "NB_ERR_NOMEM";
    case NB_ERR_STATE: return "NB_ERR_STATE";
    case NB_ERR_IO: return "NB_ERR_IO";
    case NB_ERR_FORMAT: return "NB_ERR_FORMAT";
    case NB_ERR_NUMERIC: return "NB_ERR_NUMERIC";
    }
    return "NB_ERR_UNKNOWN";
}

nb_status nb_error(nb_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, args);
    va_end(args);
    last_status = status;
    return status;
}

nb_status nb__error_context(nb_status status, const char *fmt, ...)
{
    char cause[sizeof last_message]; /* copied first: it is overwritten below */
    snprintf(cause, sizeof cause, "%s", last_message);
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, args);
    va_end(args);
    if (cause[0]) { /* then ": " and the cause, cut to fit */
        strncat(last_message, ": ", sizeof last_message - 1 - strlen(last_message));
        strncat(last_message, cause, sizeof last_message - 1 - strlen(last_message));
    }
    last_status = status;
    return status;
}
