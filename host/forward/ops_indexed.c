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
    uint64_t fit = op_binding_room(ops) / matrix_bytes;
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

/* Weights bound together with a stack in one binding, and the params
 * field that gets each one's byte offset there. */
typedef struct bound_weights {
    const rt_weight *up;        /* pair_weight_base */
    const rt_weight *shared;    /* shared_weight_base: gate or down */
    const rt_weight *shared_up; /* shared_pair_weight_base */
} bound_weights;

static bool wide_weight(const rt_ops *ops, const op_weight_type *type,
                        const rt_weight *w, dsvk_view x, uint32_t x_rows)
{
    return !w || op_wide_rows(ops, type, w, w->offset, x, x_rows);
}

/* The byte range [*start, *end) of w's matrices [first, first + n) and
 * every weight bound with them. */
static void bound_range(const rt_weight *w, uint32_t first, uint32_t n,
                        const bound_weights *with, uint64_t *start,
                        uint64_t *end)
{
    uint64_t matrix_bytes = (uint64_t)w->rows * w->row_bytes;
    *start = w->offset + first * matrix_bytes;
    *end = *start + n * matrix_bytes;
    const rt_weight *extra[3] = {with->up, with->shared, with->shared_up};
    for (int i = 0; i < 3; i++) {
        if (!extra[i])
            continue;
        if (extra[i]->offset < *start)
            *start = extra[i]->offset;
        if (extra[i]->offset + stack_bytes(extra[i]) > *end)
            *end = extra[i]->offset + stack_bytes(extra[i]);
    }
}

/* Records the product over chunks of the stack, each binding the matrices
 * it covers at spans[0]; spans[1..n_spans-1] and the rest of params are
 * filled by the caller. Grid y is `slots` (head-indexed: per tile of
 * `tokens` tokens and head), grid x covers `rows` (at least w->rows);
 * `tokens` (per invocation) is 1 but for prompts on CPU-class kernels
 * (head-indexed products and expert tiles). Weights bound with w
 * (the caller checked that one binding covers them all) allow no chunks.
 * When combining, the chunks after the first add to what the first
 * stored. */
static dsvk_status record_chunks(const rt_ops *ops, const char *op,
                                 const rt_weight *w, const bound_weights *with,
                                 bool tiled, uint32_t tokens, rt_span *spans,
                                 uint32_t n_spans,
                                 dsvk_indexed_product_params params,
                                 uint32_t slots, uint32_t rows)
{
    const op_weight_type *type;
    dsvk_status status = op_check_weight(ops, op, w, &type);
    if (status != DSVK_OK)
        return status;
    char name[48];
    snprintf(name, sizeof name, "moe_indexed_%s_%s",
             tiled ? "matmul" : "matvec", type->name);
    const dsvk_view shared_x = params.combine ? params.shared_view : params.x;
    /* The x rows read, for the alignment of the rows after the first. */
    const uint32_t x_rows = params.n_head ? params.tokens * params.n_head
                            : params.tiles != DSVK_TILES_NONE ? slots * tokens
                                                              : slots;
    bool wide = wide_weight(ops, type, w, params.x, x_rows) &&
                wide_weight(ops, type, with->up, params.x, x_rows) &&
                wide_weight(ops, type, with->shared, shared_x, x_rows) &&
                wide_weight(ops, type, with->shared_up, shared_x, x_rows);
    op_matvec_shape shape = {0};
    status =
        tiled ? op_pipeline(ops, name, false, DSVK_INDEXED_MATMUL_WORKGROUP,
                            &shape.pipeline)
              : op_matvec_shape_for(ops, name, DSVK_INDEXED_MATVEC_ROWS,
                                    w->cols, wide, tokens, &spans[1], &shape);
    const bool joined = with->up || with->shared || with->shared_up;
    uint32_t per_binding = w->count;
    if (status == DSVK_OK && !joined)
        status = matrices_per_binding(ops, op, w, &per_binding);
    if (status != DSVK_OK)
        return status;

    uint64_t matrix_bytes = (uint64_t)w->rows * w->row_bytes;
    params.rows = w->rows;
    params.cols = w->cols;
    params.row_bytes = (uint32_t)w->row_bytes;
    params.pair_swiglu = with->up != NULL;
    const uint32_t epilogue = params.epilogue;
    for (uint32_t first = 0; first < w->count; first += per_binding) {
        uint32_t n =
            w->count - first < per_binding ? w->count - first : per_binding;
        params.first_matrix = first;
        params.n_matrices = n;
        params.epilogue =
            params.combine && first > 0 ? DSVK_EPILOGUE_ADD : epilogue;
        uint64_t start, end;
        bound_range(w, first, n, with, &start, &end);
        uint32_t base = 0;
        status = op_bind_bytes(ops, op, "weight", w->buffer, start, end - start,
                               false, &spans[0], &base);
        if (status != DSVK_OK)
            return status;
#define BOUND_AT(weight) (base + (uint32_t)((weight)->offset - start))
        params.weight_base =
            base + (uint32_t)(w->offset + first * matrix_bytes - start);
        if (with->up)
            params.pair_weight_base = BOUND_AT(with->up);
        if (with->shared)
            params.shared_weight_base = BOUND_AT(with->shared);
        if (with->shared_up)
            params.shared_pair_weight_base = BOUND_AT(with->shared_up);
#undef BOUND_AT
        uint32_t grid[3];
        if (tiled) {
            grid[0] = (w->rows + DSVK_INDEXED_MATMUL_TILE_ROWS - 1) /
                      DSVK_INDEXED_MATMUL_TILE_ROWS;
            grid[1] = (slots + DSVK_INDEXED_MATMUL_TILE_TOKENS - 1) /
                      DSVK_INDEXED_MATMUL_TILE_TOKENS;
            grid[2] = n;
        } else {
            grid[0] = (rows + shape.group_rows - 1) / shape.group_rows;
            /* Head-indexed: one row per (token, bound head); expert-indexed:
             * every row (or token, combining), each finding out whether its
             * expert is bound. */
            grid[1] = params.n_head ? (params.tokens + shape.tokens - 1) /
                                          shape.tokens * n
                                    : slots;
            grid[2] = 1;
        }
        op_record_matvec(ops, &shape, spans, n_spans, &params, sizeof params,
                         grid, op);
    }
    return DSVK_OK;
}

/* One dispatch (per chunk of the stack) of a head-indexed product. */
static dsvk_status record_heads(const rt_ops *ops, const char *op,
                                const rt_weight *w, rt_view x, rt_view y,
                                bool tiled, uint32_t tokens)
{
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
    return record_chunks(ops, op, w, &(bound_weights){0}, tiled, tokens, spans,
                         5, params, params.tokens, w->rows);
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
    if (!tiled || !op_cpu_product(ops, w->cols))
        return record_heads(ops, op, w, x, y, tiled, 1);
    /* A prompt on the CPU-class kernels: tiles of tokens per invocation,
     * in dispatches of as many tokens (n_head rows each) as the uniform x
     * holds. */
    const uint32_t H = w->count, tokens = x.rows / H;
    const uint32_t chunk = op_uniform_x_tokens(
        ops, ((uint64_t)(H - 1) * x.stride + x.cols) * 4,
        (uint64_t)H * x.stride * 4, tokens, DSVK_CPU_PRODUCT_TOKENS);
    dsvk_status status = DSVK_OK;
    for (uint32_t first = 0; first < tokens && status == DSVK_OK;
         first += chunk) {
        uint32_t n = tokens - first < chunk ? tokens - first : chunk;
        status = record_heads(ops, op, w, op_view_rows(x, first * H, n * H),
                              op_view_rows(y, first * H, n * H), false,
                              DSVK_CPU_PRODUCT_TOKENS);
    }
    return status;
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
    return record_chunks(ops, op, w, &(bound_weights){0}, tiled, 1, spans, 5,
                         params, tiled ? rows->n_tokens : rows->n_assign,
                         w->rows);
}

/* One tile chunk of indexed_expert_tiles: tiles [first, first + n). */
static dsvk_status record_tiles(const rt_ops *ops, const char *op,
                                const rt_weight *w, const rt_weight *up,
                                rt_view x, const expert_rows *rows,
                                const expert_tiles *tiles, uint32_t mode,
                                rt_epilogue epilogue, rt_view y, uint32_t first,
                                uint32_t n)
{
    const uint32_t tile = DSVK_CPU_PRODUCT_TOKENS;
    rt_span spans[5];
    dsvk_indexed_product_params params = {.x_div = 1,
                                          .epilogue = (uint32_t)epilogue,
                                          .tiles = mode,
                                          .first_tile = first};
    dsvk_status status =
        op_bind_view(ops, op, "x", op_view_rows(x, first * tile, n * tile),
                     false, &spans[1], &params.x);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "y",
                              mode == DSVK_TILES_TO_SLOTS
                                  ? op_view_rows(y, first * tile, n * tile)
                                  : y,
                              true, &spans[2], &params.y);
    if (status == DSVK_OK)
        status =
            bind_elements(ops, op, "expert tiles", tiles->table,
                          tiles->table_offset, (uint64_t)tiles->max_tiles * 4,
                          4, false, &spans[3], &params.ids_base);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert rows", rows->list,
                               rows->list_offset, (uint64_t)rows->n_slots * 4,
                               4, false, &spans[4], &params.list_base);
    if (status != DSVK_OK)
        return status;
    return record_chunks(ops, op, w, &(bound_weights){.up = up}, false, tile,
                         spans, 5, params, n, w->rows);
}

dsvk_status indexed_expert_tiles(const rt_ops *ops, const char *op,
                                 const rt_weight *w, const rt_weight *up,
                                 rt_view x_slots, const expert_rows *rows,
                                 const expert_tiles *tiles, uint32_t mode,
                                 rt_epilogue epilogue, rt_view y)
{
    const uint32_t tile = DSVK_CPU_PRODUCT_TOKENS;
    const uint32_t out_rows =
        mode == DSVK_TILES_TO_SLOTS ? rows->n_slots : rows->n_assign;
    if (!w || !tiles || x_slots.cols != w->cols || y.cols != w->rows ||
        x_slots.rows != tiles->max_tiles * tile ||
        rows->n_slots != x_slots.rows || y.rows != out_rows ||
        (mode != DSVK_TILES_TO_SLOTS && mode != DSVK_TILES_TO_ASSIGNMENTS))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: expert stack [%u][%u][%u] cannot take x %u x %u "
                       "in %u tiles of %u to y %u x %u",
                       op, w ? w->count : 0, w ? w->rows : 0, w ? w->cols : 0,
                       x_slots.rows, x_slots.cols, tiles ? tiles->max_tiles : 0,
                       tile, y.rows, y.cols);
    const rt_weight *const pair[2] = {w, up};
    if (up && !(indexed_same_shape(w, up) && indexed_one_binding(ops, pair, 2)))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: gate and up must share a shape and one binding",
                       op);
    /* Dispatches of as many tiles as the uniform x holds. */
    const uint32_t per_dispatch = op_uniform_x_tokens(
        ops, ((uint64_t)(tile - 1) * x_slots.stride + x_slots.cols) * 4,
        (uint64_t)x_slots.stride * 4 * tile, tiles->max_tiles, 1);
    dsvk_status status = DSVK_OK;
    for (uint32_t first = 0; first < tiles->max_tiles && status == DSVK_OK;
         first += per_dispatch) {
        uint32_t n = tiles->max_tiles - first < per_dispatch
                         ? tiles->max_tiles - first
                         : per_dispatch;
        status = record_tiles(ops, op, w, up, x_slots, rows, tiles, mode,
                              epilogue, y, first, n);
    }
    return status;
}

bool indexed_same_shape(const rt_weight *a, const rt_weight *b)
{
    return a->cols == b->cols && a->rows == b->rows && a->count == b->count;
}

bool indexed_one_binding(const rt_ops *ops, const rt_weight *const *w,
                         uint32_t n)
{
    uint64_t start = w[0]->offset, end = w[0]->offset + stack_bytes(w[0]);
    for (uint32_t i = 1; i < n; i++) {
        if (w[i]->buffer != w[0]->buffer || w[i]->type != w[0]->type)
            return false;
        if (w[i]->offset < start)
            start = w[i]->offset;
        if (w[i]->offset + stack_bytes(w[i]) > end)
            end = w[i]->offset + stack_bytes(w[i]);
    }
    return end - start <= op_binding_room(ops);
}

dsvk_status indexed_experts_swiglu(const rt_ops *ops, const rt_weight *gate,
                                   const rt_weight *up, rt_view x,
                                   uint32_t x_div, const expert_rows *rows,
                                   const indexed_shared *shared, rt_view y)
{
    const char *op = "moe_gate_up";
    dsvk_status status =
        check_experts(ops, op, gate, x, x_div, rows->n_assign, rows, y);
    if (status != DSVK_OK)
        return status;
    const rt_weight *const pair[2] = {gate, up};
    bool fused = !rows->span && indexed_same_shape(gate, up) &&
                 indexed_one_binding(ops, pair, 2);
    if (!fused && shared)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: shared experts need gate and up fused", op);
    if (!fused) {
        status = indexed_experts(ops, "moe_gate", gate, x, x_div, rows,
                                 RT_EPILOGUE_STORE, y);
        return status == DSVK_OK ? indexed_experts(ops, "moe_up", up, x, x_div,
                                                   rows, RT_EPILOGUE_GATE, y)
                                 : status;
    }
    rt_span spans[5];
    dsvk_indexed_product_params params = {.x_div = x_div,
                                          .tokens = rows->n_tokens};
    bound_weights with = {.up = up};
    uint32_t slots = rows->n_assign, grid_rows = gate->rows;
    status = bind_experts(ops, op, gate, x, rows, y, spans, &params);
    if (status == DSVK_OK && shared) {
        /* The shared outputs go through y's binding (the shaders' y[]),
         * which then covers both. */
        status = op_bind_views(ops, op, "y", y, shared->view, true, &spans[2],
                               &params.y, &params.shared_view);
        params.shared_len = shared->w->rows;
        params.shared_row_bytes = (uint32_t)shared->w->row_bytes;
        with.shared = shared->w;
        with.shared_up = shared->up;
        slots += rows->n_tokens;
        if (shared->w->rows > grid_rows)
            grid_rows = shared->w->rows;
    }
    if (status != DSVK_OK)
        return status;
    return record_chunks(ops, op, gate, &with, false, 1, spans, 5, params,
                         slots, grid_rows);
}

dsvk_status indexed_experts_combine(const rt_ops *ops, const rt_weight *down,
                                    rt_view hidden, const expert_rows *rows,
                                    const rt_buffer *weights,
                                    uint64_t weights_offset,
                                    const indexed_shared *shared,
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
    bound_weights with = {0};
    if (status == DSVK_OK)
        status = bind_experts(ops, op, down, hidden, rows, y, spans, &params);
    if (status == DSVK_OK && shared) {
        /* The shared input goes through x's binding (product_dot reads
         * x[]), which then covers both. */
        status = op_bind_views(ops, op, "x", hidden, shared->view, false,
                               &spans[1], &params.x, &params.shared_view);
        params.shared_len = shared->w->cols;
        params.shared_row_bytes = (uint32_t)shared->w->row_bytes;
        with.shared = shared->w;
    }
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert weights", weights,
                               weights_offset, (uint64_t)rows->n_assign * 4, 4,
                               false, &spans[4], &params.weights_base);
    if (status != DSVK_OK)
        return status;
    return record_chunks(ops, op, down, &with, false, 1, spans, 5, params,
                         rows->n_tokens, down->rows);
}
