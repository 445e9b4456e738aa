#include "op_launch.h"

#include <assert.h>
#include <stdio.h>

dsvk_status op_check_weight(const rt_ops *ops, const char *op,
                            const rt_weight *w, const op_weight_type **type)
{
    if (!w || !w->buffer)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: no weight buffer", op);
    *type = op_weight_type_find(w->type);
    if (!*type)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: weight type %u has no GPU decoder", op, w->type);
    const op_weight_type *t = *type;
    if (w->cols == 0 || w->rows == 0 || w->count == 0 || w->cols % t->block)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: weight shape [%u][%u][%u] is empty or its rows "
                       "are not whole %s blocks of %u",
                       op, w->count, w->rows, w->cols, t->name, t->block);
    if (w->row_bytes != (uint64_t)w->cols / t->block * t->block_bytes)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: row_bytes %llu does not match %u %s elements", op,
                       (unsigned long long)w->row_bytes, w->cols, t->name);
    /* weights.glsl reads F32 and the types whose device blocks are whole
     * words (Q4_1, Q5_1, Q4_K, Q5_K, Q6_K) as aligned words, every other
     * type from 2-byte aligned rows. */
    uint64_t align =
        w->type == DSVK_TYPE_F32 || t->block_bytes % 4 == 0 ? 4 : 2;
    if (w->offset % align)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: %s weight offset %llu is not a multiple of %llu",
                       op, t->name, (unsigned long long)w->offset,
                       (unsigned long long)align);
    return DSVK_OK;
}

uint64_t op_binding_limit(const rt_ops *ops)
{
    uint64_t device = rt_device_caps(ops->dev)->max_storage_buffer_range;
    if (ops->max_binding_range && ops->max_binding_range < device)
        return ops->max_binding_range;
    return device;
}

uint64_t op_binding_alignment(const rt_ops *ops)
{
    /* Vulkan makes the alignment a power of two, so the larger of it and 4
     * is a multiple of both. */
    uint64_t align =
        rt_device_caps(ops->dev)->min_storage_buffer_offset_alignment;
    return align > 4 ? align : 4;
}

uint64_t op_binding_room(const rt_ops *ops)
{
    uint64_t limit = op_binding_limit(ops);
    uint64_t held_back = op_binding_alignment(ops) - 1 + 3;
    return limit > held_back ? limit - held_back : 0;
}

dsvk_status op_rows_per_binding(const rt_ops *ops, const char *op,
                                const rt_weight *w, uint32_t *rows)
{
    uint64_t limit = op_binding_limit(ops);
    uint64_t fit = op_binding_room(ops) / w->row_bytes;
    if (fit == 0)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: a weight row of %llu bytes does not fit one "
                       "binding of at most %llu bytes",
                       op, (unsigned long long)w->row_bytes,
                       (unsigned long long)limit);
    *rows = fit < w->rows ? (uint32_t)fit : w->rows;
    return DSVK_OK;
}

dsvk_status op_bind_bytes(const rt_ops *ops, const char *op, const char *what,
                          const rt_buffer *buf, uint64_t offset, uint64_t size,
                          bool written, rt_span *span, uint32_t *base)
{
    if (!buf)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: %s has no buffer", op, what);
    uint64_t start = offset - offset % op_binding_alignment(ops);
    uint64_t end = (offset + size + 3) & ~(uint64_t)3;
    if (end > buf->size)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: %s bytes [%llu, %llu) run past its buffer of %llu "
                       "bytes (buffers must extend to the 32-bit word holding "
                       "their last byte)",
                       op, what, (unsigned long long)offset,
                       (unsigned long long)(offset + size),
                       (unsigned long long)buf->size);
    uint64_t limit = op_binding_limit(ops);
    if (end - start > limit)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: %s spans %llu bytes, more than one binding may "
                       "cover (%llu)",
                       op, what, (unsigned long long)(end - start),
                       (unsigned long long)limit);
    *span = (rt_span){buf, start, end - start, written};
    *base = (uint32_t)(offset - start);
    return DSVK_OK;
}

dsvk_status op_bind_view(const rt_ops *ops, const char *op, const char *what,
                         rt_view view, bool written, rt_span *span,
                         dsvk_view *shader_view)
{
    if (view.rows == 0 || view.cols == 0 || view.stride < view.cols ||
        view.offset % 4)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: %s view (%u rows of %u, stride %u, offset %llu) "
                       "is empty, overlaps itself or is not 4-byte aligned",
                       op, what, view.rows, view.cols, view.stride,
                       (unsigned long long)view.offset);
    uint32_t base;
    dsvk_status status =
        op_bind_bytes(ops, op, what, view.buffer, view.offset,
                      op_view_bytes(view), written, span, &base);
    if (status != DSVK_OK)
        return status;
    *shader_view = (dsvk_view){base / 4, view.stride};
    return DSVK_OK;
}

dsvk_status op_bind_views(const rt_ops *ops, const char *op, const char *what,
                          rt_view a, rt_view b, bool written, rt_span *span,
                          dsvk_view *a_view, dsvk_view *b_view)
{
    if (a.buffer != b.buffer)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: the two %s views must share a buffer", op, what);
    dsvk_view unused;
    rt_span check;
    dsvk_status status =
        op_bind_view(ops, op, what, a, written, &check, &unused);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, what, b, written, &check, &unused);
    if (status != DSVK_OK)
        return status;
    uint64_t a_end = a.offset + op_view_bytes(a);
    uint64_t b_end = b.offset + op_view_bytes(b);
    uint64_t start = a.offset < b.offset ? a.offset : b.offset;
    uint64_t end = a_end > b_end ? a_end : b_end;
    uint32_t base;
    status = op_bind_bytes(ops, op, what, a.buffer, start, end - start, written,
                           span, &base);
    if (status != DSVK_OK)
        return status;
    *a_view = (dsvk_view){(base + (uint32_t)(a.offset - start)) / 4, a.stride};
    *b_view = (dsvk_view){(base + (uint32_t)(b.offset - start)) / 4, b.stride};
    return DSVK_OK;
}

rt_view op_view_rows(rt_view v, uint32_t first, uint32_t n)
{
    v.offset += (uint64_t)first * v.stride * 4;
    v.rows = n;
    return v;
}

uint64_t op_view_bytes(rt_view v)
{
    return ((uint64_t)(v.rows - 1) * v.stride + v.cols) * 4;
}

dsvk_status op_check_same_shape(const rt_ops *ops, const char *op, rt_view a,
                                rt_view b)
{
    if (a.rows == b.rows && a.cols == b.cols)
        return DSVK_OK;
    return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                   "%s: shapes differ: %u x %u vs %u x %u", op, a.rows, a.cols,
                   b.rows, b.cols);
}

dsvk_status op_check_norm_weight(const rt_ops *ops, const char *op,
                                 const rt_weight *weight, uint32_t cols)
{
    if (!weight ||
        (weight->type == DSVK_TYPE_F32 && weight->cols == cols &&
         weight->rows == 1 && weight->count == 1 && weight->offset % 4 == 0))
        return DSVK_OK;
    return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                   "%s: the norm weight must be one 4-byte aligned F32 row of "
                   "%u (got type %u, [%u][%u][%u])",
                   op, cols, weight->type, weight->count, weight->rows,
                   weight->cols);
}

/* The most op constants a launcher passes. */
#define OP_MAX_CONSTANTS 2

/* The pipeline of shader `full` with the shared constants (workgroup and
 * subgroup size), then the n_op op constants from DSVK_SPEC_FIRST_OP on. */
static dsvk_status pipeline_with(const rt_ops *ops, const char *full,
                                 uint32_t workgroup_size,
                                 const uint32_t *op_constants, uint32_t n_op,
                                 rt_pipeline **out)
{
    const rt_caps *caps = rt_device_caps(ops->dev);
    uint32_t spec[2 + OP_MAX_CONSTANTS] = {
        workgroup_size, caps->subgroup_size ? caps->subgroup_size : 1};
    assert(n_op <= OP_MAX_CONSTANTS);
    for (uint32_t i = 0; i < n_op; i++)
        spec[2 + i] = op_constants[i];
    return rt_pipeline_get(ops->dev, full, spec, 2 + n_op, out);
}

dsvk_status op_pipeline(const rt_ops *ops, const char *name, bool reducing,
                        uint32_t workgroup_size, rt_pipeline **out)
{
    const rt_caps *caps = rt_device_caps(ops->dev);
    char full[64];
    snprintf(full, sizeof full, "%s%s", name,
             reducing && caps->subgroup_arithmetic ? "_subgroup" : "");
    return pipeline_with(ops, full, workgroup_size, NULL, 0, out);
}

bool op_wide_rows(const rt_ops *ops, const op_weight_type *type,
                  const rt_weight *w, uint64_t weight_offset, dsvk_view x,
                  uint32_t x_rows)
{
    return rt_device_caps(ops->dev)->shader_int64 && type->wide_cols &&
           w->cols % type->wide_cols == 0 && w->row_bytes % 16 == 0 &&
           weight_offset % 16 == 0 && op_binding_alignment(ops) % 16 == 0 &&
           x.base % 4 == 0 && (x_rows == 1 || x.stride % 4 == 0);
}

/* The vec4s of x a _ubo shader's uniform block holds (its specialization
 * constant): the device's uniform range, up to 64 KiB, the most any x of a
 * decode step needs. */
static uint32_t uniform_x_quads(const rt_ops *ops)
{
    uint64_t range = rt_device_caps(ops->dev)->max_uniform_buffer_range;
    return (uint32_t)((range < 65536 ? range : 65536) / 16);
}

static bool fits_uniform(const rt_ops *ops, const rt_span *span)
{
    const rt_caps *caps = rt_device_caps(ops->dev);
    return span && span->size > 0 &&
           span->size <= (uint64_t)uniform_x_quads(ops) * 16 &&
           (span->buffer->offset + span->offset) %
                   caps->min_uniform_buffer_offset_alignment ==
               0;
}

bool op_cpu_product(const rt_ops *ops, uint32_t cols)
{
    return rt_device_caps(ops->dev)->cpu_kernels &&
           cols <= DSVK_CPU_PRODUCT_MAX_COLS;
}

uint32_t op_uniform_x_tokens(const rt_ops *ops, uint64_t first, uint64_t next,
                             uint32_t tokens, uint32_t multiple)
{
    /* x is bound as a storage buffer too. */
    uint64_t room = (uint64_t)uniform_x_quads(ops) * 16;
    if (op_binding_room(ops) < room)
        room = op_binding_room(ops);
    if (tokens <= 1 || first > room)
        return 1;
    uint64_t fit = 1 + (room - first) / next;
    if (fit >= tokens)
        return tokens;
    if (fit > multiple)
        fit -= fit % multiple;
    return (uint32_t)fit;
}

dsvk_status op_matvec_shape_for(const rt_ops *ops, const char *name,
                                uint32_t gpu_rows, uint32_t cols, bool wide,
                                uint32_t tokens, const rt_span *x_span,
                                op_matvec_shape *out)
{
    const bool cpu = op_cpu_product(ops, cols);
    const bool uniform = cpu && fits_uniform(ops, x_span);
    char full[64];
    snprintf(full, sizeof full, "%s%s%s", name,
             !cpu   ? ""
             : wide ? "_cpu_wide"
                    : "_cpu",
             uniform ? "_ubo" : "");
    out->group_rows =
        cpu ? DSVK_CPU_PRODUCT_ROWS * DSVK_CPU_PRODUCT_WORKGROUP : gpu_rows;
    out->tokens = cpu ? tokens : 1;
    out->uniform_x = (rt_span){0};
    if (!cpu)
        return op_pipeline(ops, full, true, OP_MATVEC_WORKGROUP,
                           &out->pipeline);
    /* In DSVK_SPEC_X_UNIFORM_QUADS, DSVK_SPEC_PRODUCT_TOKENS order; the
     * first is unused (and given as 0) without the uniform binding. */
    const uint32_t constants[OP_MAX_CONSTANTS] = {
        uniform ? uniform_x_quads(ops) : 0, tokens};
    if (uniform) {
        out->uniform_x = *x_span;
        out->uniform_x.written = false;
    }
    return pipeline_with(ops, full, DSVK_CPU_PRODUCT_WORKGROUP, constants,
                         OP_MAX_CONSTANTS, &out->pipeline);
}

dsvk_status op_grid(const rt_ops *ops, const char *op, uint64_t groups,
                    uint32_t y, uint32_t grid[3])
{
    const uint32_t *max = rt_device_caps(ops->dev)->max_workgroup_count;
    assert(groups > 0); /* launchers reject empty views and weights */
    uint64_t x = groups < max[0] ? groups : max[0];
    uint64_t z = (groups + x - 1) / x;
    if (y > max[1] || z > max[2])
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: %llu x %u workgroups exceed the device's "
                       "maxComputeWorkGroupCount",
                       op, (unsigned long long)groups, y);
    grid[0] = (uint32_t)x;
    grid[1] = y;
    grid[2] = (uint32_t)z;
    return DSVK_OK;
}

static void record(const rt_ops *ops, rt_pipeline *pipeline,
                   const rt_span *spans, uint32_t n_spans, rt_span uniform,
                   const void *push, uint32_t push_size, const uint32_t grid[3],
                   const char *label)
{
    rt_dispatch dispatch = {.pipeline = pipeline,
                            .n_bindings = n_spans,
                            .uniform = uniform,
                            .push = push,
                            .push_size = push_size,
                            .groups = {grid[0], grid[1], grid[2]},
                            .label = label};
    for (uint32_t i = 0; i < n_spans; i++)
        dispatch.bindings[i] = spans[i];
    rt_record_dispatch(ops->rec, &dispatch);
}

void op_record(const rt_ops *ops, rt_pipeline *pipeline, const rt_span *spans,
               uint32_t n_spans, const void *push, uint32_t push_size,
               const uint32_t grid[3], const char *label)
{
    record(ops, pipeline, spans, n_spans, (rt_span){0}, push, push_size, grid,
           label);
}

void op_record_matvec(const rt_ops *ops, const op_matvec_shape *shape,
                      const rt_span *spans, uint32_t n_spans, const void *push,
                      uint32_t push_size, const uint32_t grid[3],
                      const char *label)
{
    record(ops, shape->pipeline, spans, n_spans, shape->uniform_x, push,
           push_size, grid, label);
}
