/* Weight x activation products: matvec (decode) and matmul (prefill), each
 * with an epilogue, and pairs of matvecs over one x fused into one
 * dispatch. A weight matrix larger than one binding may cover is split by
 * rows into several dispatches; each binds only its rows and writes only
 * its part of y. */
#include "op_launch.h"

#include <stdio.h>

_Static_assert(RT_EPILOGUE_STORE == DSVK_EPILOGUE_STORE &&
                   RT_EPILOGUE_ADD == DSVK_EPILOGUE_ADD &&
                   RT_EPILOGUE_GATE == DSVK_EPILOGUE_GATE,
               "epilogues as the shaders number them");

/* Byte offset of the product's matrix in its weight's buffer, and the
 * bytes of that matrix. */
static uint64_t matrix_offset(const rt_product *p)
{
    return p->w->offset + (uint64_t)p->matrix * p->w->rows * p->w->row_bytes;
}

static uint64_t matrix_bytes(const rt_product *p)
{
    return (uint64_t)p->w->rows * p->w->row_bytes;
}

static dsvk_status check_product(const rt_ops *ops, const char *op,
                                 const rt_product *p,
                                 const op_weight_type **type)
{
    const rt_weight *w = p->w;
    dsvk_status status = op_check_weight(ops, op, w, type);
    if (status != DSVK_OK)
        return status;
    if (p->matrix >= w->count)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: matrix %u of a stack of %u", op, p->matrix,
                       w->count);
    if (p->x.cols != w->cols || p->y.cols != w->rows || p->x.rows != p->y.rows)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: weight [%u][%u] cannot take x %u x %u to y "
                       "%u x %u",
                       op, w->rows, w->cols, p->x.rows, p->x.cols, p->y.rows,
                       p->y.cols);
    if (p->epilogue != RT_EPILOGUE_STORE && p->epilogue != RT_EPILOGUE_ADD &&
        p->epilogue != RT_EPILOGUE_GATE)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: unknown epilogue %d", op, (int)p->epilogue);
    return DSVK_OK;
}

static dsvk_status check_norm(const rt_ops *ops, const char *op,
                              const rt_product *p)
{
    const rt_norm_after *norm = p->norm;
    if (!norm)
        return DSVK_OK;
    dsvk_status status = op_check_same_shape(ops, op, p->y, norm->result);
    if (status == DSVK_OK)
        status = op_check_norm_weight(ops, op, norm->weight, p->y.cols);
    if (status == DSVK_OK && !norm->weight)
        status = rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                         "%s: a norm after the product needs its weight", op);
    if (status == DSVK_OK && (!norm->counter || norm->counter_offset % 4 ||
                              norm->counter_offset >= norm->counter->size))
        status = rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                         "%s: the norm's counter must be an aligned word of "
                         "a buffer",
                         op);
    return status;
}

/* Binds what matvec.comp's norm_after reads and writes at bindings 3-5
 * (spans[3..5]), or y at each where the dispatch has no norm. */
static dsvk_status bind_norm(const rt_ops *ops, const char *op,
                             const rt_norm_after *norm, rt_span *spans,
                             dsvk_product_params *params)
{
    if (!norm) {
        for (int i = 3; i < 6; i++)
            spans[i] = (rt_span){spans[2].buffer, spans[2].offset,
                                 spans[2].size, false};
        return DSVK_OK;
    }
    uint32_t weight_base = 0, counter_base = 0;
    params->norm_after = 1;
    params->norm.eps = norm->eps;
    dsvk_status status = op_bind_bytes(
        ops, op, "norm weight", norm->weight->buffer, norm->weight->offset,
        4ull * norm->weight->cols, false, &spans[3], &weight_base);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "norm result", norm->result, true,
                              &spans[4], &params->norm.result);
    if (status == DSVK_OK)
        status = op_bind_bytes(ops, op, "norm counter", norm->counter,
                               norm->counter_offset, 4, true, &spans[5],
                               &counter_base);
    params->norm.weight_base = weight_base / 4;
    params->norm.counter = counter_base / 4;
    return status;
}

/* Records a checked product: tiled (matmul.comp) or as matrix-vector
 * products taking `tokens` tokens per invocation. A matvec of one
 * dispatch does p's norm too, and says so in *normed. */
static dsvk_status record_rows(const rt_ops *ops, const char *op,
                               const rt_product *p, const op_weight_type *type,
                               bool tiled, uint32_t tokens, bool *normed)
{
    dsvk_status status = DSVK_OK;
    const rt_weight *w = p->w;
    rt_span spans[6];
    dsvk_view x_view, y_view;
    *normed = false;
    status = op_bind_view(ops, op, "x", p->x, false, &spans[1], &x_view);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "y", p->y, true, &spans[2], &y_view);
    uint32_t rows_per_dispatch = 0;
    if (status == DSVK_OK)
        status = op_rows_per_binding(ops, op, w, &rows_per_dispatch);
    const bool fuse_norm = p->norm && !tiled && rows_per_dispatch >= w->rows;
    char name[32];
    snprintf(name, sizeof name, "%s_%s", tiled ? "matmul" : "matvec",
             type->name);
    op_matvec_shape shape = {0};
    if (status == DSVK_OK && tiled)
        status = op_pipeline(ops, name, false, DSVK_MATMUL_WORKGROUP,
                             &shape.pipeline);
    else if (status == DSVK_OK)
        status = op_matvec_shape_for(
            ops, name, DSVK_MATVEC_ROWS, w->cols,
            op_wide_rows(ops, type, w, matrix_offset(p), x_view, p->x.rows),
            tokens, &spans[1], &shape);
    if (status != DSVK_OK)
        return status;
    for (uint32_t first = 0; first < w->rows; first += rows_per_dispatch) {
        uint32_t rows = w->rows - first < rows_per_dispatch ? w->rows - first
                                                            : rows_per_dispatch;
        dsvk_product_params params = {
            .rows = rows,
            .cols = w->cols,
            .tokens = p->x.rows,
            .row_bytes = (uint32_t)w->row_bytes,
            .x = x_view,
            .y = {y_view.base + first, y_view.stride},
            .epilogue = (uint32_t)p->epilogue,
        };
        status = op_bind_bytes(ops, op, "weight", w->buffer,
                               matrix_offset(p) + first * w->row_bytes,
                               rows * w->row_bytes, false, &spans[0],
                               &params.weight_base);
        if (status == DSVK_OK && !tiled)
            status =
                bind_norm(ops, op, fuse_norm ? p->norm : NULL, spans, &params);
        uint32_t grid[3];
        if (status == DSVK_OK && tiled)
            status = op_grid(ops, op,
                             (rows + DSVK_MATMUL_TILE_ROWS - 1) /
                                 DSVK_MATMUL_TILE_ROWS,
                             (p->x.rows + DSVK_MATMUL_TILE_TOKENS - 1) /
                                 DSVK_MATMUL_TILE_TOKENS,
                             grid);
        else if (status == DSVK_OK)
            status = op_grid(
                ops, op, (rows + shape.group_rows - 1) / shape.group_rows,
                (p->x.rows + shape.tokens - 1) / shape.tokens, grid);
        if (status != DSVK_OK)
            return status;
        op_record_matvec(ops, &shape, spans, tiled ? 3 : 6, &params,
                         sizeof params, grid, op);
    }
    *normed = fuse_norm;
    return DSVK_OK;
}

static dsvk_status record_product(const rt_ops *ops, const char *op,
                                  const rt_product *p, bool tiled)
{
    const op_weight_type *type;
    dsvk_status status = check_product(ops, op, p, &type);
    if (status == DSVK_OK)
        status = check_norm(ops, op, p);
    if (status != DSVK_OK)
        return status;
    bool normed = false;
    if (!tiled || !op_cpu_product(ops, p->w->cols)) {
        status = record_rows(ops, op, p, type, tiled, 1, &normed);
    } else {
        /* A prompt on the CPU-class kernels: tiles of tokens per
         * invocation, in dispatches of as many tokens as the uniform x
         * holds; the norm after all of them. */
        const uint32_t chunk = op_uniform_x_tokens(
            ops, (uint64_t)p->w->cols * 4, (uint64_t)p->x.stride * 4, p->x.rows,
            DSVK_CPU_PRODUCT_TOKENS);
        for (uint32_t first = 0; first < p->x.rows && status == DSVK_OK;
             first += chunk) {
            uint32_t n = p->x.rows - first < chunk ? p->x.rows - first : chunk;
            rt_product part = *p;
            part.x = op_view_rows(p->x, first, n);
            part.y = op_view_rows(p->y, first, n);
            part.norm = NULL;
            status = record_rows(ops, op, &part, type, false,
                                 DSVK_CPU_PRODUCT_TOKENS, &normed);
        }
    }
    if (status == DSVK_OK && p->norm && !normed)
        status = rt_op_rms_norm(ops, p->y, p->norm->weight, p->norm->eps,
                                p->norm->result);
    return status;
}

dsvk_status rt_op_matvec(const rt_ops *ops, const rt_product *p)
{
    return record_product(ops, "matvec", p, false);
}

dsvk_status rt_op_matmul(const rt_ops *ops, const rt_product *p)
{
    return record_product(ops, "matmul", p, true);
}

static bool same_view(rt_view a, rt_view b)
{
    return a.buffer == b.buffer && a.offset == b.offset && a.rows == b.rows &&
           a.cols == b.cols && a.stride == b.stride;
}

/* The smallest range holding [a, a + a_size) and [b, b + b_size). */
typedef struct byte_range {
    uint64_t start, end;
} byte_range;

static byte_range range_union(uint64_t a, uint64_t a_size, uint64_t b,
                              uint64_t b_size)
{
    byte_range r = {a < b ? a : b, a + a_size};
    if (b + b_size > r.end)
        r.end = b + b_size;
    return r;
}

static bool fits_binding(const rt_ops *ops, byte_range r)
{
    return r.end - r.start <= op_binding_room(ops);
}

/* How a and b can share one dispatch, DSVK_PAIR_NONE where they cannot:
 * both weights of one type in one buffer, both within one binding, the
 * same x, and either SwiGLU (b gates a's y in place) or disjoint outputs
 * in one buffer, within one binding too. */
static uint32_t pair_mode(const rt_ops *ops, const rt_product *a,
                          const rt_product *b)
{
    if (a->norm || b->norm || a->w->buffer != b->w->buffer ||
        a->w->type != b->w->type || a->w->cols != b->w->cols ||
        a->w->row_bytes != b->w->row_bytes || !same_view(a->x, b->x) ||
        !fits_binding(ops, range_union(matrix_offset(a), matrix_bytes(a),
                                       matrix_offset(b), matrix_bytes(b))))
        return DSVK_PAIR_NONE;
    if (same_view(a->y, b->y))
        return a->epilogue == RT_EPILOGUE_STORE &&
                       b->epilogue == RT_EPILOGUE_GATE &&
                       a->w->rows == b->w->rows
                   ? DSVK_PAIR_SWIGLU
                   : DSVK_PAIR_NONE;
    uint64_t a_bytes = op_view_bytes(a->y), b_bytes = op_view_bytes(b->y);
    bool disjoint = a->y.offset + a_bytes <= b->y.offset ||
                    b->y.offset + b_bytes <= a->y.offset;
    if (a->y.buffer != b->y.buffer || !disjoint ||
        !fits_binding(ops,
                      range_union(a->y.offset, a_bytes, b->y.offset, b_bytes)))
        return DSVK_PAIR_NONE;
    return DSVK_PAIR_CONCAT;
}

static dsvk_status record_pair(const rt_ops *ops, const rt_product *a,
                               const rt_product *b, uint32_t mode,
                               const op_weight_type *type)
{
    const char *op = "matvec";
    rt_span spans[6];
    dsvk_product_params params = {
        .rows = a->w->rows,
        .cols = a->w->cols,
        .tokens = a->x.rows,
        .row_bytes = (uint32_t)a->w->row_bytes,
        .epilogue = mode == DSVK_PAIR_SWIGLU ? (uint32_t)RT_EPILOGUE_STORE
                                             : (uint32_t)a->epilogue,
        .pair = mode,
        .pair_rows = b->w->rows,
        .pair_epilogue = (uint32_t)b->epilogue,
    };
    const byte_range w = range_union(matrix_offset(a), matrix_bytes(a),
                                     matrix_offset(b), matrix_bytes(b));
    uint32_t w_base = 0;
    dsvk_status status =
        op_bind_bytes(ops, op, "weights", a->w->buffer, w.start,
                      w.end - w.start, false, &spans[0], &w_base);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "x", a->x, false, &spans[1], &params.x);
    if (status == DSVK_OK)
        status = op_bind_views(ops, op, "y", a->y, b->y, true, &spans[2],
                               &params.y, &params.pair_y);
    if (status == DSVK_OK)
        status = bind_norm(ops, op, NULL, spans, &params);
    if (status != DSVK_OK)
        return status;
    params.weight_base = w_base + (uint32_t)(matrix_offset(a) - w.start);
    params.pair_weight_base = w_base + (uint32_t)(matrix_offset(b) - w.start);

    char name[32];
    snprintf(name, sizeof name, "matvec_%s", type->name);
    bool wide =
        op_wide_rows(ops, type, a->w, matrix_offset(a), params.x, a->x.rows) &&
        op_wide_rows(ops, type, b->w, matrix_offset(b), params.x, a->x.rows);
    op_matvec_shape shape;
    status = op_matvec_shape_for(ops, name, DSVK_MATVEC_ROWS, a->w->cols, wide,
                                 1, &spans[1], &shape);
    if (status != DSVK_OK)
        return status;
    uint64_t groups = (a->w->rows + shape.group_rows - 1) / shape.group_rows;
    if (mode == DSVK_PAIR_CONCAT) {
        params.pair_first_group = (uint32_t)groups;
        groups += (b->w->rows + shape.group_rows - 1) / shape.group_rows;
    }
    uint32_t grid[3];
    status = op_grid(ops, op, groups, a->x.rows, grid);
    if (status != DSVK_OK)
        return status;
    op_record_matvec(ops, &shape, spans, 6, &params, sizeof params, grid, op);
    return DSVK_OK;
}

dsvk_status rt_op_matvec_pair(const rt_ops *ops, const rt_product *a,
                              const rt_product *b)
{
    const op_weight_type *type;
    dsvk_status status = check_product(ops, "matvec", a, &type);
    if (status == DSVK_OK)
        status = check_product(ops, "matvec", b, &type);
    if (status != DSVK_OK)
        return status;
    uint32_t mode = pair_mode(ops, a, b);
    if (mode != DSVK_PAIR_NONE)
        return record_pair(ops, a, b, mode, type);
    status = rt_op_matvec(ops, a);
    return status == DSVK_OK ? rt_op_matvec(ops, b) : status;
}

dsvk_status rt_op_swiglu_ffn(const rt_ops *ops, const rt_swiglu_ffn *ffn,
                             rt_view x, rt_view hidden, bool matvec,
                             rt_epilogue epilogue, rt_view y,
                             const rt_norm_after *norm)
{
    const rt_product gate = {ffn->gate, 0, x, hidden, RT_EPILOGUE_STORE, NULL};
    const rt_product up = {ffn->up, 0, x, hidden, RT_EPILOGUE_GATE, NULL};
    const rt_product down = {ffn->down, 0, hidden, y, epilogue, norm};
    dsvk_status status =
        matvec ? rt_op_matvec_pair(ops, &gate, &up) : rt_op_matmul(ops, &gate);
    if (status == DSVK_OK && !matvec)
        status = rt_op_matmul(ops, &up);
    if (status != DSVK_OK)
        return status;
    return matvec ? rt_op_matvec(ops, &down) : rt_op_matmul(ops, &down);
}
