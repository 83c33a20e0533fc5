/* Atomic file writes: temporary file, fsync, rename (see atomic.h). */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nabla/alloc.h"

static char *copy_string(const char *s, size_t extra)
{
    size_t n = strlen(s);
    char *copy = nb_alloc(n + extra + 1);
    if (copy)
        memcpy(copy, s, n + 1);
    return copy;
}

static void release(nb_atomic_file *f)
{
    nb_release(f->path);
    nb_release(f->temp_path);
    f->path = f->temp_path = NULL;
    f->stream = NULL;
}

static nb_status io_error(const nb_atomic_file *f, const char *what, int err)
{
    return nb_error(NB_ERR_IO, "%s: cannot write '%s': %s: %s", f->fn, f->path, what,
                    strerror(err));
}

/* mkstemp creates the file with mode 0600; give it the mode of the file it
 * replaces, or 0644 for a new file (the umask cannot be read without
 * changing it, which would race with other threads). */
static void set_mode(int fd, const char *path)
{
    struct stat st;
    mode_t mode = 0644;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        mode = st.st_mode & 07777;
    (void)fchmod(fd, mode);
}

nb_status nb__atomic_begin(nb_atomic_file *f, const char *fn, const char *path)
{
    if (!f || !path)
        return nb_error(NB_ERR_NULL, "%s: path is NULL", fn);
    *f = (nb_atomic_file){.fn = fn};
    if (path[0] == '\0')
        return nb_error(NB_ERR_ARG, "%s: path is empty", fn);
    f->path = copy_string(path, 0);
    f->temp_path = copy_string(path, 7);
    if (!f->path || !f->temp_path) {
        release(f);
        return nb_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    }
    strcat(f->temp_path, ".XXXXXX");
    int fd = mkstemp(f->temp_path);
    if (fd < 0) {
        nb_status status = io_error(f, "cannot create a temporary file there", errno);
        release(f);
        return status;
    }
    set_mode(fd, path);
    f->stream = fdopen(fd, "w");
    if (!f->stream) {
        int err = errno;
        close(fd);
        unlink(f->temp_path);
        nb_status status = io_error(f, "fdopen", err);
        release(f);
        return status;
    }
    return NB_OK;
}

nb_status nb__atomic_detach(nb_atomic_file *f)
{
    if (f->stream && fclose(f->stream) != 0) {
        f->stream = NULL;
        nb_status status = io_error(f, "closing the temporary file", errno);
        nb__atomic_discard(f);
        return status;
    }
    f->stream = NULL;
    return NB_OK;
}

/* Flush our stream, or (after detach) the file another library wrote, to
 * disk. Returns 0 or an errno value. */
static int sync_temp(nb_atomic_file *f)
{
    int err = 0;
    if (f->stream) {
        if (fflush(f->stream) != 0 || ferror(f->stream))
            err = errno ? errno : EIO;
        else if (fsync(fileno(f->stream)) != 0)
            err = errno;
        if (fclose(f->stream) != 0 && !err)
            err = errno;
        f->stream = NULL;
        return err;
    }
    int fd = open(f->temp_path, O_RDONLY);
    if (fd < 0)
        return errno;
    if (fsync(fd) != 0)
        err = errno;
    close(fd);
    return err;
}

/* Make the rename itself durable; best effort, since the data are already
 * safe and some file systems refuse to fsync a directory. */
static void sync_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? copy_string(path, 0) : copy_string(".", 0);
    if (!dir)
        return;
    if (slash)
        dir[slash == path ? 1 : slash - path] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    nb_release(dir);
}

nb_status nb__atomic_commit(nb_atomic_file *f)
{
    errno = 0;
    int err = sync_temp(f);
    if (err) {
        nb_status status = io_error(f, "writing the temporary file", err);
        nb__atomic_discard(f);
        return status;
    }
    if (rename(f->temp_path, f->path) != 0) {
        nb_status status = io_error(f, "renaming the temporary file over it", errno);
        nb__atomic_discard(f);
        return status;
    }
    sync_directory(f->path);
    release(f);
    return NB_OK;
}

void nb__atomic_discard(nb_atomic_file *f)
{
    if (!f || !f->temp_path)
        return;
    if (f->stream)
        fclose(f->stream);
    unlink(f->temp_path);
    release(f);
}
