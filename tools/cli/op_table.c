#include "op_table.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

typedef struct op_row {
    const char *op;
    uint32_t calls;
    double microseconds;
} op_row;

static int by_time_desc(const void *a, const void *b)
{
    const op_row *x = a, *y = b;
    if (x->microseconds != y->microseconds)
        return x->microseconds < y->microseconds ? 1 : -1;
    return strcmp(x->op, y->op);
}

bool op_table_print(FILE *out, const char *title, const dsvk_op_timing *t,
                    uint32_t count)
{
    /* At most one row per dispatch; few distinct ops in practice. */
    op_row *rows = calloc(count ? count : 1, sizeof *rows);
    if (!rows) {
        cli_error("out of memory");
        return false;
    }
    uint32_t n_rows = 0;
    double total = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t r = 0;
        while (r < n_rows && strcmp(rows[r].op, t[i].op) != 0)
            r++;
        if (r == n_rows)
            rows[n_rows++] = (op_row){.op = t[i].op};
        rows[r].calls++;
        rows[r].microseconds += t[i].microseconds;
        total += t[i].microseconds;
    }
    qsort(rows, n_rows, sizeof *rows, by_time_desc);
    fprintf(out, "%s: %.3f ms\n", title, total / 1000);
    fprintf(out, "  %-24s %6s %10s %10s\n", "op", "calls", "total ms",
            "% of step");
    for (uint32_t r = 0; r < n_rows; r++)
        fprintf(out, "  %-24s %6u %10.3f %10.1f\n", rows[r].op, rows[r].calls,
                rows[r].microseconds / 1000,
                total > 0 ? 100 * rows[r].microseconds / total : 0);
    free(rows);
    return true;
}
