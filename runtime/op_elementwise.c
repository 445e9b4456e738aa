/* Element-wise ops over rows: add, scale and SwiGLU (elementwise.comp). */
#include "op_launch.h"

/* One invocation per element: result = f(a, b) with the variant's f. */
static dsvk_status record_elementwise(const rt_ops *ops, const char *op,
                                      rt_view a, rt_view b, float scale,
                                      rt_view result)
{
    dsvk_status status = op_check_same_shape(ops, op, a, b);
    if (status == DSVK_OK)
        status = op_check_same_shape(ops, op, a, result);
    if (status == DSVK_OK &&
        (uint64_t)a.rows * a.cols > UINT32_MAX - OP_WORKGROUP)
        status = rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                         "%s: %u x %u elements are too many for one "
                         "dispatch",
                         op, a.rows, a.cols);
    rt_span spans[3];
    dsvk_elementwise_params params = {
        .rows = a.rows, .cols = a.cols, .scale = scale};
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "a", a, false, &spans[0], &params.a);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "b", b, false, &spans[1], &params.b);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "result", result, true, &spans[2],
                              &params.result);
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = op_pipeline(ops, op, false, OP_WORKGROUP, &pipeline);
    uint32_t grid[3];
    uint64_t elements = (uint64_t)a.rows * a.cols;
    if (status == DSVK_OK)
        status = op_grid(ops, op, (elements + OP_WORKGROUP - 1) / OP_WORKGROUP,
                         1, grid);
    if (status != DSVK_OK)
        return status;
    op_record(ops, pipeline, spans, 3, &params, sizeof params, grid, op);
    return DSVK_OK;
}

dsvk_status rt_op_add(const rt_ops *ops, rt_view a, rt_view b, rt_view result)
{
    return record_elementwise(ops, "add", a, b, 0, result);
}

dsvk_status rt_op_scale(const rt_ops *ops, rt_view x, float scale,
                        rt_view result)
{
    /* The shader declares b for every variant; x stands in, unread. */
    return record_elementwise(ops, "scale", x, x, scale, result);
}

dsvk_status rt_op_swiglu(const rt_ops *ops, rt_view gate, rt_view up,
                         rt_view result)
{
    return record_elementwise(ops, "swiglu", gate, up, 0, result);
}
