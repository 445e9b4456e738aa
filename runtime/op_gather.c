/* Row gather (token embedding lookup). The ids are on the GPU, so a table
 * larger than one binding is gathered by one dispatch per part of the
 * table, each writing the tokens whose id falls in its part. */
#include "op_launch.h"

#include <stdio.h>

dsvk_status rt_op_gather_rows(const rt_ops *ops, const rt_weight *table,
                              const rt_buffer *ids, uint64_t ids_offset,
                              rt_view result)
{
    const char *op = "gather_rows";
    const op_weight_type *type;
    dsvk_status status = op_check_weight(ops, op, table, &type);
    if (status != DSVK_OK)
        return status;
    if (table->count != 1 || result.cols != table->cols || ids_offset % 4 ||
        (uint64_t)result.rows * result.cols > UINT32_MAX - OP_WORKGROUP)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: needs one table of rows of %u (got %u of %u), "
                       "4-byte aligned ids and fewer than 2^32 elements",
                       op, result.cols, table->count, table->cols);

    rt_span spans[3];
    dsvk_gather_params params = {.rows = result.rows,
                                 .cols = result.cols,
                                 .row_bytes = (uint32_t)table->row_bytes};
    status = op_bind_bytes(ops, op, "ids", ids, ids_offset, 4ull * result.rows,
                           false, &spans[1], &params.ids_base);
    params.ids_base /= 4;
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "result", result, true, &spans[2],
                              &params.result);
    uint32_t rows_per_dispatch = 0;
    if (status == DSVK_OK)
        status = op_rows_per_binding(ops, op, table, &rows_per_dispatch);
    char name[32];
    snprintf(name, sizeof name, "gather_rows_%s", type->name);
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = op_pipeline(ops, name, false, OP_WORKGROUP, &pipeline);
    uint32_t grid[3];
    uint64_t elements = (uint64_t)result.rows * result.cols;
    if (status == DSVK_OK)
        status = op_grid(ops, op, (elements + OP_WORKGROUP - 1) / OP_WORKGROUP,
                         1, grid);
    if (status != DSVK_OK)
        return status;

    for (uint32_t first = 0; first < table->rows; first += rows_per_dispatch) {
        params.first_row = first;
        params.table_rows = table->rows - first < rows_per_dispatch
                                ? table->rows - first
                                : rows_per_dispatch;
        status = op_bind_bytes(ops, op, "table", table->buffer,
                               table->offset + first * table->row_bytes,
                               params.table_rows * table->row_bytes, false,
                               &spans[0], &params.weight_base);
        if (status != DSVK_OK)
            return status;
        op_record(ops, pipeline, spans, 3, &params, sizeof params, grid, op);
    }
    return DSVK_OK;
}
