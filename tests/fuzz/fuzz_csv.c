/* libFuzzer target: the CSV reader, then every column as a tensor. */
#include <stdlib.h>

#include "fuzz_common.h"
#include "nabla/nabla.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("csv", data, size);
    if (!path)
        return 0;
    nb_csv *csv = nb_csv_read(path);
    if (csv && csv->n_cols > 0) {
        int *columns = malloc((size_t)csv->n_cols * sizeof *columns);
        for (int i = 0; columns && i < csv->n_cols; i++)
            columns[i] = i;
        if (columns)
            nb_tensor_free(nb_csv_columns_at(csv, NB_F32, csv->n_cols, columns));
        free(columns);
        /* look columns up by name, duplicates and all */
        const char *first = csv->names[0];
        nb_tensor_free(nb_csv_columns(csv, NB_F64, 1, &first));
        (void)nb_csv_column_index(csv, csv->names[csv->n_cols - 1]);
    }
    nb_csv_free(csv);
    nb_clear_error();
    return 0;
}
