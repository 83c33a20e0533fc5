/* Shared by the libFuzzer targets: nabla's readers take file names, so each
 * input is written to a file of this process first. */
#ifndef NB_FUZZ_COMMON_H
#define NB_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Write data to this process's scratch file ($TMPDIR or /tmp) and return its
 * path, or NULL when it cannot be written (the input is then skipped). */
static const char *fuzz_write_input(const char *tag, const uint8_t *data, size_t size)
{
    static char path[512];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/nabla_fuzz_%s_%ld", dir && *dir ? dir : "/tmp", tag,
                 (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    size_t written = size ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || written != size)
        return NULL;
    return path;
}

#endif
