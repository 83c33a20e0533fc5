/* libFuzzer target: the IDX reader (plain and gzip) on arbitrary bytes. */
#include "fuzz_common.h"
#include "nabla/nabla.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("idx", data, size);
    if (!path)
        return 0;
    nb_idx_header header;
    (void)nb_idx_read_header(path, &header);
    nb_tensor *t = nb_idx_load(path, size % 2 ? NB_F64 : NB_F32);
    if (t) {
        volatile double sink = 0;
        for (int64_t i = 0; i < t->size; i++)
            sink += nb_tensor_get(t, i);
        (void)sink;
    }
    nb_tensor_free(t);
    nb_clear_error();
    return 0;
}
