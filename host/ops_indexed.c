#include "ops_indexed.h"

#include "model_op_params.h"
#include "ops_bind.h"

#include <stdio.h>

/* How many matrices of w one dispatch may bind: a binding starts up to
 * alignment - 1 bytes early and ends on a word, so that much is held back
 * (as op_rows_per_binding does for rows). */
static dsvk_status matrices_per_binding(const rt_ops *ops, const char *op,
                                        const rt_weight *w, uint32_t *out)
{
    uint64_t matrix_bytes = (uint64_t)w->rows * w->row_bytes;
    uint64_t limit = op_binding_limit(ops);
    uint64_t held_back = op_binding_alignment(ops) - 1 + 3;
    uint64_t fit = limit > held_back ? (limit - held_back) / matrix_bytes : 0;
    if (fit == 0)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: one matrix of %llu bytes does not fit one "
                       "binding of at most %llu bytes",
                       op, (unsigned long long)matrix_bytes,
                       (unsigned long long)limit);
    *out = fit < w->count ? (uint32_t)fit : w->count;
    return DSVK_OK;
}

/* The byte range of a stack of matrices in its buffer. */
static uint64_t stack_bytes(const rt_weight *w)
{
    return (uint64_t)w->count * w->rows * w->row_bytes;
}

/* Records the product over chunks of the stack, each binding the matrices
 * it covers at spans[0]; spans[1..n_spans-1] and the rest of params are
 * filled by the caller. `slots` is the most rows one matrix can have (the
 * tokens, when combining). With `up` (SwiGLU, the caller checked that one
 * binding covers both stacks) one dispatch binds w and up together. When
 * combining, the chunks after the first add to what the first stored. */
static dsvk_status record_chunks(const rt_ops *ops, const char *op,
                                 const rt_weight *w, const rt_weight *up,
                                 bool tiled, rt_span *spans, uint32_t n_spans,
                                 dsvk_indexed_product_params params,
                                 uint32_t slots)
{
    const op_weight_type *type;
    dsvk_status status = op_check_weight(ops, op, w, &type);
    if (status != DSVK_OK)
        return status;
    char name[48];
    snprintf(name, sizeof name, "moe_indexed_%s_%s",
             tiled ? "matmul" : "matvec", type->name);
    bool wide =
        op_wide_rows(ops, type, w, w->offset, params.x, slots) &&
        (!up || op_wide_rows(ops, type, up, up->offset, params.x, slots));
    op_matvec_shape shape = {NULL, 0};
    status = tiled ? op_pipeline(ops, name, false,
                                 DSVK_INDEXED_MATMUL_WORKGROUP, &shape.pipeline)
                   : op_matvec_shape_for(ops, name, DSVK_INDEXED_MATVEC_ROWS,
                                         w->cols, wide, &shape);
    uint32_t per_binding = w->count;
    if (status == DSVK_OK && !up)
        status = matrices_per_binding(ops, op, w, &per_binding);
    if (status != DSVK_OK)
        return status;

    uint64_t matrix_bytes = (uint64_t)w->rows * w->row_bytes;
    params.rows = w->rows;
    params.cols = w->cols;
    params.row_bytes = (uint32_t)w->row_bytes;
    params.pair_swiglu = up != NULL;
    const uint32_t epilogue = params.epilogue;
    for (uint32_t first = 0; first < w->count; first += per_binding) {
        uint32_t n =
            w->count - first < per_binding ? w->count - first : per_binding;
        params.first_matrix = first;
        params.n_matrices = n;
        if (params.combine && first > 0)
            params.epilogue = DSVK_EPILOGUE_ADD;
        else
            params.epilogue = epilogue;
        uint64_t start = w->offset + first * matrix_bytes;
        uint64_t end = start + n * matrix_bytes;
        if (up) {
            start = up->offset < w->offset ? up->offset : w->offset;
            uint64_t up_end = up->offset + stack_bytes(up);
            end = end > up_end ? end : up_end;
        }
        uint32_t base = 0;
        status = op_bind_bytes(ops, op, "weight", w->buffer, start, end - start,
                               false, &spans[0], &base);
        if (status != DSVK_OK)
            return status;
        params.weight_base =
            base + (uint32_t)(w->offset + first * matrix_bytes - start);
        if (up)
            params.pair_weight_base = base + (uint32_t)(up->offset - start);
        uint32_t grid[3];
        if (tiled) {
            grid[0] = (w->rows + DSVK_INDEXED_MATMUL_TILE_ROWS - 1) /
                      DSVK_INDEXED_MATMUL_TILE_ROWS;
            grid[1] = (slots + DSVK_INDEXED_MATMUL_TILE_TOKENS - 1) /
                      DSVK_INDEXED_MATMUL_TILE_TOKENS;
            grid[2] = n;
        } else {
            grid[0] = (w->rows + shape.group_rows - 1) / shape.group_rows;
            /* Head-indexed: one row per (token, bound head); expert-indexed:
             * every row (or token, combining), each finding out whether its
             * expert is bound. */
            grid[1] = params.n_head ? params.tokens * n : slots;
            grid[2] = 1;
        }
        op_record(ops, shape.pipeline, spans, n_spans, &params, sizeof params,
                  grid, op);
    }
    return DSVK_OK;
}

dsvk_status indexed_heads(const rt_ops *ops, const char *op, const rt_weight *w,
                          rt_view x, rt_view y, bool tiled)
{
    if (!w || x.cols != w->cols || y.cols != w->rows || x.rows != y.rows ||
        x.rows % w->count)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: head stack [%u][%u][%u] cannot take x %u x %u to "
                       "y %u x %u",
                       op, w ? w->count : 0, w ? w->rows : 0, w ? w->cols : 0,
                       x.rows, x.cols, y.rows, y.cols);
    rt_span spans[5];
    dsvk_indexed_product_params params = {
        .n_head = w->count,
        .tokens = x.rows / w->count,
        .x_div = 1,
    };
    dsvk_status status =
        op_bind_view(ops, op, "x", x, false, &spans[1], &params.x);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "y", y, true, &spans[2], &params.y);
    if (status != DSVK_OK)
        return status;
    /* The expert bindings are unused here but must hold a buffer. */
    spans[3] = spans[1];
    spans[4] = spans[1];
    return record_chunks(ops, op, w, NULL, tiled, spans, 5, params,
                         params.tokens);
}

/* Binds x, y and the expert ids (matvec) or span and list (matmul) of an
 * expert-indexed product; spans[4] is the list, or for the matvec the ids
 * again as a placeholder for the route weights. */
static dsvk_status bind_experts(const rt_ops *ops, const char *op,
                                const rt_weight *w, rt_view x,
                                const expert_rows *rows, rt_view y,
                                rt_span spans[5],
                                dsvk_indexed_product_params *params)
{
    const bool tiled = rows->span != NULL;
    dsvk_status status =
        op_bind_view(ops, op, "x", x, false, &spans[1], &params->x);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "y", y, true, &spans[2], &params->y);
    if (status == DSVK_OK && tiled)
        status = bind_elements(ops, op, "expert spans", rows->span,
                               rows->span_offset, (uint64_t)w->count * 8, 8,
                               false, &spans[3], &params->span_base);
    if (status == DSVK_OK && tiled)
        status = bind_elements(ops, op, "expert rows", rows->list,
                               rows->list_offset, (uint64_t)rows->n_assign * 4,
                               4, false, &spans[4], &params->list_base);
    if (status == DSVK_OK && !tiled) {
        status = bind_elements(ops, op, "expert ids", rows->ids,
                               rows->ids_offset, (uint64_t)rows->n_assign * 4,
                               4, false, &spans[3], &params->ids_base);
        spans[4] = spans[3];
    }
    return status;
}

static dsvk_status check_experts(const rt_ops *ops, const char *op,
                                 const rt_weight *w, rt_view x, uint32_t x_div,
                                 uint32_t y_rows, const expert_rows *rows,
                                 rt_view y)
{
    if (!w || x.cols != w->cols || y.cols != w->rows || y.rows != y_rows ||
        (uint64_t)x.rows * x_div != rows->n_assign)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: expert stack [%u][%u][%u] cannot take x %u x %u "
                       "(%u rows each) to y %u x %u",
                       op, w ? w->count : 0, w ? w->rows : 0, w ? w->cols : 0,
                       x.rows, x.cols, x_div, y.rows, y.cols);
    return DSVK_OK;
}

dsvk_status indexed_experts(const rt_ops *ops, const char *op,
                            const rt_weight *w, rt_view x, uint32_t x_div,
                            const expert_rows *rows, rt_epilogue epilogue,
                            rt_view y)
{
    dsvk_status status =
        check_experts(ops, op, w, x, x_div, rows->n_assign, rows, y);
    rt_span spans[5];
    dsvk_indexed_product_params params = {.x_div = x_div,
                                          .epilogue = (uint32_t)epilogue};
    if (status == DSVK_OK)
        status = bind_experts(ops, op, w, x, rows, y, spans, &params);
    if (status != DSVK_OK)
        return status;
    const bool tiled = rows->span != NULL;
    return record_chunks(ops, op, w, NULL, tiled, spans, 5, params,
                         tiled ? rows->n_tokens : rows->n_assign);
}

dsvk_status indexed_experts_swiglu(const rt_ops *ops, const rt_weight *gate,
                                   const rt_weight *up, rt_view x,
                                   uint32_t x_div, const expert_rows *rows,
                                   rt_view y)
{
    const char *op = "moe_gate_up";
    dsvk_status status =
        check_experts(ops, op, gate, x, x_div, rows->n_assign, rows, y);
    if (status != DSVK_OK)
        return status;
    uint64_t start = gate->offset < up->offset ? gate->offset : up->offset;
    uint64_t end = gate->offset + stack_bytes(gate);
    if (up->offset + stack_bytes(up) > end)
        end = up->offset + stack_bytes(up);
    bool fused = !rows->span && up->buffer == gate->buffer &&
                 up->type == gate->type && up->rows == gate->rows &&
                 up->cols == gate->cols && up->count == gate->count &&
                 end - start + op_binding_alignment(ops) - 1 + 3 <=
                     op_binding_limit(ops);
    if (!fused) {
        status = indexed_experts(ops, "moe_gate", gate, x, x_div, rows,
                                 RT_EPILOGUE_STORE, y);
        return status == DSVK_OK ? indexed_experts(ops, "moe_up", up, x, x_div,
                                                   rows, RT_EPILOGUE_GATE, y)
                                 : status;
    }
    rt_span spans[5];
    dsvk_indexed_product_params params = {.x_div = x_div};
    status = bind_experts(ops, op, gate, x, rows, y, spans, &params);
    if (status != DSVK_OK)
        return status;
    return record_chunks(ops, op, gate, up, false, spans, 5, params,
                         rows->n_assign);
}

dsvk_status indexed_experts_combine(const rt_ops *ops, const rt_weight *down,
                                    rt_view hidden, const expert_rows *rows,
                                    const rt_buffer *weights,
                                    uint64_t weights_offset,
                                    rt_epilogue epilogue, rt_view y)
{
    const char *op = "moe_down";
    uint32_t k = rows->n_tokens ? rows->n_assign / rows->n_tokens : 0;
    dsvk_status status =
        check_experts(ops, op, down, hidden, 1, rows->n_tokens, rows, y);
    if (status == DSVK_OK &&
        (rows->span || k * rows->n_tokens != rows->n_assign))
        status = rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                         "%s: combining takes the per-token matvec over k "
                         "rows per token",
                         op);
    rt_span spans[5];
    dsvk_indexed_product_params params = {
        .x_div = 1, .epilogue = (uint32_t)epilogue, .combine = k};
    if (status == DSVK_OK)
        status = bind_experts(ops, op, down, hidden, rows, y, spans, &params);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert weights", weights,
                               weights_offset, (uint64_t)rows->n_assign * 4, 4,
                               false, &spans[4], &params.weights_base);
    if (status != DSVK_OK)
        return status;
    return record_chunks(ops, op, down, NULL, false, spans, 5, params,
                         rows->n_tokens);
}
