/* The families of the op table (tests/op_table.h), in one list. A family
 * file defines nb_op_table_<family>[] and nb_op_table_<family>_count. */
#include <string.h>

#include "op_table.h"

typedef struct family {
    const nb_op_entry *entries;
    const int *count;
} family;

/* Each family adds its two declarations here and one row to `families`. */
extern const nb_op_entry nb_op_table_unary[];
extern const int nb_op_table_unary_count;
extern const nb_op_entry nb_op_table_binary[];
extern const int nb_op_table_binary_count;
extern const nb_op_entry nb_op_table_movement[];
extern const int nb_op_table_movement_count;
extern const nb_op_entry nb_op_table_reduce[];
extern const int nb_op_table_reduce_count;
extern const nb_op_entry nb_op_table_conv[];
extern const int nb_op_table_conv_count;
extern const nb_op_entry nb_op_table_loss[];
extern const int nb_op_table_loss_count;
extern const nb_op_entry nb_op_table_index[];
extern const int nb_op_table_index_count;

static const family families[] = {
    {nb_op_table_unary, &nb_op_table_unary_count},
    {nb_op_table_binary, &nb_op_table_binary_count},
    {nb_op_table_movement, &nb_op_table_movement_count},
    {nb_op_table_reduce, &nb_op_table_reduce_count},
    {nb_op_table_conv, &nb_op_table_conv_count},
    {nb_op_table_loss, &nb_op_table_loss_count},
    {nb_op_table_index, &nb_op_table_index_count},
};

int nb_op_table_count(void)
{
    int n = 0;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        n += families[f].count ? *families[f].count : 0;
    return n;
}

const nb_op_entry *nb_op_table_entry(int i)
{
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        int n = families[f].count ? *families[f].count : 0;
        if (i < n)
            return &families[f].entries[i];
        i -= n;
    }
    return NULL;
}

const nb_op_entry *nb_op_table_find(const char *name)
{
    for (int i = 0; i < nb_op_table_count(); i++)
        if (strcmp(nb_op_table_entry(i)->name, name) == 0)
            return nb_op_table_entry(i);
    return NULL;
}

void nb_opt_distinct_values(int n, nb_tensor *const inputs[], const nb_op_args *args)
{
    (void)args;
    for (int k = 0; k < n; k++) {
        int64_t size = inputs[k]->size;
        for (int64_t i = 0; i < size; i++)
            nb_tensor_set(inputs[k], i, -1.0 + 2.0 * (double)((i * 7919) % size) / (double)size);
    }
}
