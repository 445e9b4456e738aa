/* Weight x activation products: matvec (decode) and matmul (prefill). A
 * weight matrix larger than one binding may cover is split by rows into
 * several dispatches; each binds only its rows and writes only its part of
 * y. */
#include "op_launch.h"

#include <stdio.h>

static dsvk_status record_product(const rt_ops *ops, const char *op,
                                  const rt_weight *w, uint32_t matrix,
                                  rt_view x, rt_view y, bool tiled)
{
    const op_weight_type *type;
    dsvk_status status = op_check_weight(ops, op, w, &type);
    if (status != DSVK_OK)
        return status;
    if (matrix >= w->count)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: matrix %u of a stack of %u", op, matrix, w->count);
    if (x.cols != w->cols || y.cols != w->rows || x.rows != y.rows)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: weight [%u][%u] cannot take x %u x %u to y "
                       "%u x %u",
                       op, w->rows, w->cols, x.rows, x.cols, y.rows, y.cols);

    rt_span spans[3];
    dsvk_view x_view, y_view;
    status = op_bind_view(ops, op, "x", x, false, &spans[1], &x_view);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "y", y, true, &spans[2], &y_view);
    uint32_t rows_per_dispatch = 0;
    if (status == DSVK_OK)
        status = op_rows_per_binding(ops, op, w, &rows_per_dispatch);
    char name[32];
    snprintf(name, sizeof name, "%s_%s", tiled ? "matmul" : "matvec",
             type->name);
    uint64_t matrix_offset =
        w->offset + (uint64_t)matrix * w->rows * w->row_bytes;
    op_matvec_shape shape = {NULL, 0};
    if (status == DSVK_OK && tiled)
        status = op_pipeline(ops, name, false, DSVK_MATMUL_WORKGROUP,
                             &shape.pipeline);
    else if (status == DSVK_OK)
        status = op_matvec_shape_for(
            ops, name, DSVK_MATVEC_ROWS, w->cols,
            op_wide_rows(ops, type, w, matrix_offset, x_view, x.rows), &shape);
    if (status != DSVK_OK)
        return status;
    for (uint32_t first = 0; first < w->rows; first += rows_per_dispatch) {
        uint32_t rows = w->rows - first < rows_per_dispatch ? w->rows - first
                                                            : rows_per_dispatch;
        dsvk_product_params params = {
            .rows = rows,
            .cols = w->cols,
            .tokens = x.rows,
            .row_bytes = (uint32_t)w->row_bytes,
            .x = x_view,
            .y = {y_view.base + first, y_view.stride},
        };
        status = op_bind_bytes(
            ops, op, "weight", w->buffer, matrix_offset + first * w->row_bytes,
            rows * w->row_bytes, false, &spans[0], &params.weight_base);
        uint32_t grid[3];
        if (status == DSVK_OK && tiled)
            status = op_grid(ops, op,
                             (rows + DSVK_MATMUL_TILE_ROWS - 1) /
                                 DSVK_MATMUL_TILE_ROWS,
                             (x.rows + DSVK_MATMUL_TILE_TOKENS - 1) /
                                 DSVK_MATMUL_TILE_TOKENS,
                             grid);
        else if (status == DSVK_OK)
            status = op_grid(ops, op,
                             (rows + shape.group_rows - 1) / shape.group_rows,
                             x.rows, grid);
        if (status != DSVK_OK)
            return status;
        op_record(ops, shape.pipeline, spans, 3, &params, sizeof params, grid,
                  op);
    }
    return DSVK_OK;
}

dsvk_status rt_op_matvec(const rt_ops *ops, const rt_weight *w, uint32_t matrix,
                         rt_view x, rt_view y)
{
    return record_product(ops, "matvec", w, matrix, x, y, false);
}

dsvk_status rt_op_matmul(const rt_ops *ops, const rt_weight *w, uint32_t matrix,
                         rt_view x, rt_view y)
{
    return record_product(ops, "matmul", w, matrix, x, y, true);
}
