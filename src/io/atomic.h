/* Writing a file atomically: readers see the old file or the whole new one.
 *
 * The data go to a temporary file next to the target ("path.XXXXXX", made
 * with mkstemp so two writers never share it), which is flushed to disk and
 * then renamed over the target. rename() within one directory is atomic, so
 * a crash or a failed write never leaves a half-written file at `path`; on
 * any failure the temporary file is removed.
 *
 *     nb_atomic_file f;
 *     if (nb__atomic_begin(&f, "nb_foo_write", path) != NB_OK)
 *         return nb_last_status();
 *     fprintf(f.stream, ...);
 *     return nb__atomic_commit(&f);   // or nb__atomic_discard(&f) on error
 *
 * Not installed: library code only (history CSV/PNG, DOT, model files). */
#ifndef NABLA_IO_ATOMIC_H
#define NABLA_IO_ATOMIC_H

#include <stdio.h>

#include "nabla/error.h"

typedef struct nb_atomic_file {
    const char *fn;  /* public function name, for messages */
    char *path;      /* the target (a copy) */
    char *temp_path; /* path.XXXXXX, created by begin */
    FILE *stream;    /* open for writing; NULL after nb__atomic_detach */
} nb_atomic_file;

/* Create the temporary file and open it as f->stream. On failure nothing is
 * left behind and the NB_ERR_IO message names `fn`, the path and strerror. */
nb_status nb__atomic_begin(nb_atomic_file *f, const char *fn, const char *path);

/* Close f->stream but keep the temporary file, so that another library can
 * write it by name (PLplot opens its output file itself). */
nb_status nb__atomic_detach(nb_atomic_file *f);

/* Flush, fsync and close the temporary file, then rename it over the target.
 * Always releases f; on failure removes the temporary file. */
nb_status nb__atomic_commit(nb_atomic_file *f);

/* Give up: close and remove the temporary file, release f. Keeps the current
 * error message (the caller's reason for giving up). */
void nb__atomic_discard(nb_atomic_file *f);

#endif
