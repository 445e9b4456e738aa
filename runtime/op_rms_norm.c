/* RMSNorm over rows, with an optional f32 weight vector. */
#include "op_launch.h"

dsvk_status rt_op_rms_norm(const rt_ops *ops, rt_view x,
                           const rt_weight *weight, float eps, rt_view result)
{
    const char *op = "rms_norm";
    dsvk_status status = op_check_same_shape(ops, op, x, result);
    if (status == DSVK_OK)
        status = op_check_norm_weight(ops, op, weight, x.cols);
    if (status != DSVK_OK)
        return status;

    rt_span spans[3];
    dsvk_rms_norm_params params = {.rows = x.rows,
                                   .cols = x.cols,
                                   .has_weight = weight != NULL,
                                   .eps = eps};
    status = op_bind_view(ops, op, "x", x, false, &spans[0], &params.x);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "result", result, true, &spans[2],
                              &params.result);
    if (status == DSVK_OK && weight) {
        uint32_t base_bytes = 0;
        status =
            op_bind_bytes(ops, op, "weight", weight->buffer, weight->offset,
                          4ull * x.cols, false, &spans[1], &base_bytes);
        params.weight_base = base_bytes / 4;
    } else if (!weight) {
        spans[1] = spans[0]; /* bound because the shader declares it; unread */
    }
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = op_pipeline(ops, op, true, OP_WORKGROUP, &pipeline);
    uint32_t grid[3];
    if (status == DSVK_OK)
        status = op_grid(ops, op, x.rows, 1, grid);
    if (status != DSVK_OK)
        return status;
    op_record(ops, pipeline, spans, 3, &params, sizeof params, grid, op);
    return DSVK_OK;
}
