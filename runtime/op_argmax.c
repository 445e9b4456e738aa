/* Index of the largest element of every row (greedy sampling on the GPU). */
#include "op_launch.h"

dsvk_status rt_op_argmax(const rt_ops *ops, rt_view x, const rt_buffer *result,
                         uint64_t result_offset)
{
    const char *op = "argmax";
    rt_span spans[2];
    dsvk_argmax_params params = {.rows = x.rows, .cols = x.cols};
    dsvk_status status =
        op_bind_view(ops, op, "x", x, false, &spans[0], &params.x);
    if (status == DSVK_OK && result_offset % 4)
        status = rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                         "%s: result offset %llu is not 4-byte aligned", op,
                         (unsigned long long)result_offset);
    uint32_t base_bytes = 0;
    if (status == DSVK_OK)
        status = op_bind_bytes(ops, op, "result", result, result_offset,
                               4ull * x.rows, true, &spans[1], &base_bytes);
    params.result_base = base_bytes / 4;
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
