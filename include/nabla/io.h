/* nabla/io.h: writing training results to files.
 *
 * Every writer here is atomic: it writes a temporary file next to the target
 * ("path.XXXXXX"), flushes it to disk and renames it over `path`, so a reader
 * (or a crash) never sees a half-written file. On failure the temporary file
 * is removed, an existing file at `path` is left as it was, and the message
 * names the path: NB_ERR_IO with the system's reason (missing directory, no
 * permission, disk full), NB_ERR_NULL or NB_ERR_ARG for bad arguments.
 */
#ifndef NABLA_IO_H
#define NABLA_IO_H

#include "nabla/error.h"
#include "nabla/model.h"

/* Write a training history as CSV, one row per epoch (numbered from 1):
 *
 *     epoch,loss,accuracy,val_loss,val_accuracy
 *     1,0.69314718,0.5,0.6802,0.55
 *
 * Columns: epoch, loss, each metric in the order of the logs, val_loss, then
 * val_<metric> for each metric, then any other names the logs hold. Values
 * are written with the fewest digits that read back as the same double; a
 * value missing from an epoch's logs leaves its field empty. A history with
 * no epochs is an error (NB_ERR_ARG): there is nothing to write. */
nb_status nb_history_write_csv(const nb_history *history, const char *path);

#endif
