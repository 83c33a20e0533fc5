/* nabla/model_io.h: saving and loading whole models, and checkpoints.
 *
 *     nb_model_save(model, "mnist.safetensors", true);
 *     ...
 *     nb_model *again = nb_model_load("mnist.safetensors");
 *
 * A model file is a safetensors file (docs/formats.md): the weights as
 * tensors named "<layer>/<param>" ("dense/kernel"), the architecture and the
 * training configuration as JSON in the header's __metadata__, and
 * optionally the optimizer's state as tensors "optimizer/0", "optimizer/1"...
 * Other tools that read safetensors (Python's `safetensors`, or json plus
 * numpy) read the weights directly.
 */
#ifndef NABLA_MODEL_IO_H
#define NABLA_MODEL_IO_H

#include <stdbool.h>

#include "nabla/error.h"
#include "nabla/model.h"

/* Save a built model to `path`: its input shape, dtype, seed and layers
 * (type, name and configuration), its loss, metrics and optimizer with its
 * hyper-parameters and step count when compiled, and the weights in the
 * model's dtype (F32 or F64). With include_optimizer the optimizer's state
 * (momenta) is saved too, so that training can go on exactly where it
 * stopped; a model without an optimizer saves none.
 *
 * The file is written to a temporary file next to `path` and renamed over it
 * (io.h), so a crash or an error never leaves a half-written model: `path`
 * holds the old file or the whole new one. Errors: NB_ERR_NULL, NB_ERR_STATE
 * (the model is not built), NB_ERR_ARG (two layers with one name), NB_ERR_IO
 * naming the path and the system's reason, NB_ERR_NOMEM. */
nb_status nb_model_save(const nb_model *model, const char *path, bool include_optimizer);

/* Load a model saved by nb_model_save: a new caller-owned model (free it with
 * nb_model_free) that predicts bit-identically to the saved one, compiled
 * with the saved loss, metrics and optimizer (and its state, when saved) so
 * that fit goes on where it stopped.
 *
 * Layers are made by their class's from_config: custom layer classes must be
 * registered with nb_layer_register_class before loading. A model compiled
 * with a custom loss (one nb_loss_get does not know) loads built but not
 * compiled: compile it again with that loss (the saved optimizer state is
 * not restored then).
 *
 * Every offset, length, dtype and shape in the file is checked against the
 * file and against the architecture before anything is allocated from it;
 * a damaged, truncated or hostile file gives NULL with an error (NB_ERR_IO,
 * NB_ERR_FORMAT) naming the path and what is wrong. */
nb_model *nb_model_load(const char *path);

/* Put the training state saved in `path` (by nb_model_save) into `model`:
 * its weights, the optimizer's state and step count, the training RNG
 * (shuffling, dropout) and the epoch count (nb_model_epoch), so that a fit
 * with initial_epoch = nb_model_epoch(model) goes on exactly as the saved
 * run would have: bit for bit with one thread. The model must be built with
 * the same layers (names, types and weight shapes) and dtype; when it is
 * compiled, the file must hold the state of an optimizer of the same kind
 * (saved with include_optimizer). The model's own optimizer settings
 * (learning rate...) are kept. Everything is checked before anything is
 * copied: on error the model is unchanged. Errors: NB_ERR_NULL,
 * NB_ERR_STATE (not built), NB_ERR_ARG (the file does not match, with what
 * differs), and nb_model_load's. */
nb_status nb_model_restore(nb_model *model, const char *path);

/* A callback for nb_model_fit that makes training survive a crash, Keras's
 * BackupAndRestore. Every `every_epochs` epochs (and after the last) it
 * saves the whole training state to `path` (nb_model_save with the
 * optimizer; the file is replaced atomically, so a crash at any moment
 * leaves the previous backup or the new one). When fit starts and `path`
 * exists, it restores it (nb_model_restore) and fit goes on from the epoch
 * after the saved one, reaching the same weights as a run that was never
 * interrupted (bit for bit with one thread, for the same data and options).
 * With delete_at_end the file is removed when fit ends without an error,
 * as in Keras; keep it to resume a finished run with more epochs.
 *
 *     nb_callback *backup = nb_backup_and_restore("run.backup", 1, false);
 *     fit.callbacks[0] = backup;
 *     nb_model_fit(model, x, y, &fit);   // run it again after a crash
 *
 * State outside the model is not kept: other callbacks' (early stopping's
 * patience count) starts afresh on resume, and the history returned holds
 * only the epochs run since. Free with nb_callback_free. NULL with an error
 * for a NULL or empty path or every_epochs < 1. */
nb_callback *nb_backup_and_restore(const char *path, int every_epochs, bool delete_at_end);

/* A callback for nb_model_fit that saves the model after epochs, Keras's
 * ModelCheckpoint. Every occurrence of "{epoch}" in `path` is replaced by the
 * epoch's number, counted from 1 and written with at least two digits
 * ("model-{epoch}.safetensors" gives model-01.safetensors, model-02...).
 *
 * With save_best_only false it saves after every epoch. With save_best_only
 * true it saves only when `monitor` (NULL means "val_loss") is better than
 * at every earlier save: higher for names containing "acc", lower for the
 * others; a NaN value is never better. Then a monitor missing from the logs
 * is an error that stops fit (like nb_early_stopping). The best value is
 * kept across fits, as in Keras. include_optimizer is nb_model_save's.
 *
 * Free with nb_callback_free (fit does not take ownership). NULL with an
 * error for a NULL or empty path or a monitor of more than 31 characters. */
nb_callback *nb_model_checkpoint(const char *path, const char *monitor, bool save_best_only,
                                 bool include_optimizer);

#endif
