/* Softmax over rows, with a scale applied first. */
#include "op_launch.h"

dsvk_status rt_op_softmax(const rt_ops *ops, rt_view x, float scale,
                          rt_view result)
{
    const char *op = "softmax";
    dsvk_status status = op_check_same_shape(ops, op, x, result);
    rt_span spans[2];
    dsvk_softmax_params params = {
        .rows = x.rows, .cols = x.cols, .scale = scale};
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "x", x, false, &spans[0], &params.x);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "result", result, true, &spans[1],
                              &params.result);
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = op_pipeline(ops, op, true, OP_WORKGROUP, &pipeline);
    uint32_t grid[3];
    if (status == DSVK_OK)
        status = op_grid(ops, op, x.rows, 1, grid);
    if (status != DSVK_OK)
        return status;
    op_record(ops, pipeline, spans, 2, &params, sizeof params, grid, op);
    return DSVK_OK;
}
