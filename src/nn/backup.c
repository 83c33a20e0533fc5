/* BackupAndRestore, as Keras's: save the whole training state every few
 * epochs, and when fit starts with a backup on disk, restore it and go on
 * from the epoch after it (nabla/model_io.h).
 *
 * The backup is one model file written by nb_model_save, which replaces the
 * file atomically: a process killed at any moment leaves either the
 * previous backup or the new one, never a mixture. Resuming is exact because
 * the file holds everything a step depends on: weights, optimizer state and
 * step count, the training RNG (which alone decides each epoch's shuffle and
 * dropout masks), and the epoch count. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "nabla/distributed.h"
#include "nabla/model_io.h"
#include "nn/model_internal.h"

typedef struct backup {
    char *path;
    int every_epochs;
    bool delete_at_end;
    int saved_epoch; /* nb_model_epoch of the last save; -1 before any */
} backup;

static nb_status save_backup(backup *b, const nb_model *model)
{
    /* across MPI ranks (nabla/distributed.h) only rank 0 writes: the ranks'
     * weights are the same, and rank 0's training RNG is the one they share */
    nb_status s = nb_comm_rank(nb_model_comm(model)) == 0 ? nb_model_save(model, b->path, true)
                                                          : NB_OK;
    if (s != NB_OK)
        return nb__error_context(s, "nb_backup_and_restore: saving the backup");
    b->saved_epoch = model->epoch;
    return NB_OK;
}

static nb_status on_train_begin(nb_callback *self, nb_model *model)
{
    backup *b = self->state;
    if (!model)
        return nb_error(NB_ERR_NULL, "nb_backup_and_restore: model is NULL");
    b->saved_epoch = -1;
    FILE *probe = fopen(b->path, "rb");
    if (!probe && errno == ENOENT)
        return NB_OK; /* a fresh run: nothing to restore */
    if (probe)
        fclose(probe);
    nb_status s = nb_model_restore(model, b->path); /* reports an unreadable file too */
    if (s != NB_OK)
        return nb__error_context(s, "nb_backup_and_restore: restoring the backup (delete '%s' "
                                 "to start afresh)", b->path);
    b->saved_epoch = model->epoch;
    model->resume_epoch = model->epoch;
    return NB_OK;
}

static nb_status on_epoch_end(nb_callback *self, nb_model *model, int epoch, const nb_logs *logs)
{
    backup *b = self->state;
    (void)logs;
    if (!model)
        return nb_error(NB_ERR_NULL, "nb_backup_and_restore: model is NULL");
    return (epoch + 1) % b->every_epochs == 0 ? save_backup(b, model) : NB_OK;
}

/* The last epochs may not have reached a multiple of every_epochs: save
 * them too, so that a finished run can be resumed with more epochs. */
static nb_status on_train_end(nb_callback *self, nb_model *model)
{
    backup *b = self->state;
    if (!model)
        return nb_error(NB_ERR_NULL, "nb_backup_and_restore: model is NULL");
    if (b->delete_at_end) {
        if (remove(b->path) != 0 && errno != ENOENT)
            return nb_error(NB_ERR_IO, "nb_backup_and_restore: cannot delete '%s' at the end "
                            "of training: %s", b->path, strerror(errno));
        return NB_OK;
    }
    return model->epoch != b->saved_epoch ? save_backup(b, model) : NB_OK;
}

static void destroy_backup(nb_callback *self)
{
    backup *b = self->state;
    nb_release(b->path);
    nb_release(b);
    nb_release(self);
}

nb_callback *nb_backup_and_restore(const char *path, int every_epochs, bool delete_at_end)
{
    const char *fn = "nb_backup_and_restore";
    char *copy = nb__callback_path(fn, path);
    if (!copy)
        return NULL;
    if (every_epochs < 1) {
        nb_release(copy);
        nb_error(NB_ERR_ARG, "%s: every_epochs is %d: expected at least 1", fn, every_epochs);
        return NULL;
    }
    nb_callback *cb = nb_alloc_zeroed(sizeof *cb);
    backup *b = nb_alloc_zeroed(sizeof *b);
    if (!cb || !b) {
        nb_release(cb);
        nb_release(b);
        nb_release(copy);
        nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *b = (backup){.path = copy, .every_epochs = every_epochs, .delete_at_end = delete_at_end,
                  .saved_epoch = -1};
    *cb = (nb_callback){.name = "BackupAndRestore", .state = b,
                        .on_train_begin = on_train_begin, .on_epoch_end = on_epoch_end,
                        .on_train_end = on_train_end, .destroy = destroy_backup};
    return cb;
}
