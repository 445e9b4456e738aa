#include "ops_moe.h"

#include "model_op_params.h"
#include "ops_bind.h"
#include "ops_indexed.h"

#include <math.h>

_Static_assert(MOE_MAX_EXPERTS == DSVK_MOE_MAX_EXPERTS, "shader limit");
_Static_assert(MOE_MAX_EXPERTS_USED == DSVK_MOE_MAX_EXPERTS_USED,
               "shader limit");
_Static_assert(MOE_ROUTE_PRODUCT_MAX_MACS == DSVK_MOE_ROUTE_PRODUCT_MAX_MACS,
               "shader limit");
/* moe_route.comp's partial sums hold max(E, WORKGROUP_SIZE) entries. */
_Static_assert(OP_WORKGROUP <= DSVK_MOE_MAX_EXPERTS, "shader limit");

/* MOE_PATH_AUTO runs batches up to this many tokens per token: grouping
 * costs two extra dispatches and pays off once several tokens share an
 * expert's weights. */
#define MOE_PER_TOKEN_MAX_TOKENS 4u
/* moe_group.comp is one workgroup; moe_route.comp one per token. */
#define MOE_GROUP_WORKGROUP 128u
/* Scratch regions start on this boundary (the largest
 * minStorageBufferOffsetAlignment Vulkan allows). */
#define MOE_SCRATCH_ALIGN 256u

static uint64_t align_up(uint64_t n, uint64_t a)
{
    return (n + a - 1) / a * a;
}

static dsvk_status check_router(const rt_ops *ops, const moe_router *r)
{
    const char *op = "moe_route";
    if (!r || r->n_expert == 0 || r->n_expert > MOE_MAX_EXPERTS ||
        r->n_expert_used == 0 || r->n_expert_used > MOE_MAX_EXPERTS_USED ||
        r->n_expert_used > r->n_expert)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: %u experts, %u used: supported are up to %u "
                       "experts and 1 to %u used",
                       op, r ? r->n_expert : 0, r ? r->n_expert_used : 0,
                       MOE_MAX_EXPERTS, MOE_MAX_EXPERTS_USED);
    if (r->gating != MOE_GATING_SOFTMAX && r->gating != MOE_GATING_SIGMOID)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: gating function %d is neither softmax nor "
                       "sigmoid",
                       op, (int)r->gating);
    if (r->n_group > 1) {
        uint32_t size = r->n_expert / r->n_group;
        if (r->n_expert % r->n_group || r->n_group_used == 0 ||
            r->n_group_used > r->n_group ||
            r->n_group_used * size < r->n_expert_used)
            return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                           "%s: %u experts in %u groups, %u groups used, "
                           "cannot choose %u experts",
                           op, r->n_expert, r->n_group, r->n_group_used,
                           r->n_expert_used);
    }
    if (!isfinite(r->weights_scale))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: expert weights scale is not finite", op);
    return DSVK_OK;
}

static dsvk_status check_routes(const rt_ops *ops, const char *op,
                                const moe_routes *routes, uint32_t n_tokens,
                                uint32_t n_expert_used)
{
    if (!routes || !routes->buffer || routes->ids_offset % 4 ||
        routes->weights_offset % 4 || routes->n_tokens != n_tokens ||
        routes->n_expert_used != n_expert_used)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: routes need a buffer, 4-byte aligned offsets and "
                       "%u tokens of %u experts",
                       op, n_tokens, n_expert_used);
    return DSVK_OK;
}

/* The logits moe_route.comp routes: a view of them, or the router's
 * product that it computes itself (weight non-NULL). */
typedef struct route_input {
    rt_view logits;
    const rt_weight *weight;
    rt_view x;
} route_input;

static dsvk_status record_route(const rt_ops *ops, const moe_router *router,
                                const route_input *in, const rt_weight *bias,
                                const moe_routes *routes)
{
    const char *op = "moe_route";
    dsvk_status status = check_router(ops, router);
    if (status != DSVK_OK)
        return status;
    uint32_t E = router->n_expert, k = router->n_expert_used;
    if (in->weight && !moe_route_product_fits(router, in->weight, in->x))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: the router's product runs inside only for an "
                       "F32 weight of %u rows and x's columns, whole 16-byte "
                       "words of both, at most %u multiply-adds per token "
                       "and %u tokens",
                       op, E, MOE_ROUTE_PRODUCT_MAX_MACS,
                       MOE_ROUTE_PRODUCT_MAX_TOKENS);
    const uint32_t T = in->weight ? in->x.rows : in->logits.rows;
    if (!in->weight && in->logits.cols != E)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: logits have %u columns for %u experts", op,
                       in->logits.cols, E);
    if (bias && (bias->type != DSVK_TYPE_F32 || bias->cols != E ||
                 bias->rows != 1 || bias->count != 1 || bias->offset % 4))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: exp_probs_b must be an F32 vector of %u, 4-byte "
                       "aligned",
                       op, E);
    status = check_routes(ops, op, routes, T, k);
    if (status != DSVK_OK)
        return status;

    rt_span spans[6];
    dsvk_moe_route_params params = {
        .n_expert = E,
        .n_expert_used = k,
        .sigmoid = router->gating == MOE_GATING_SIGMOID,
        .has_bias = bias != NULL,
        .n_group = router->n_group > 1 ? router->n_group : 1,
        .n_group_used = router->n_group_used,
        .weights_norm = router->weights_norm,
        .weights_scale = router->weights_scale,
        .product = in->weight != NULL,
    };
    uint64_t route_bytes = (uint64_t)T * k * 4;
    /* Unused bindings hold the first one's buffer, as Vulkan requires. */
    if (in->weight) {
        params.cols = in->weight->cols;
        status = op_bind_view(ops, op, "x", in->x, false, &spans[5], &params.x);
        if (status == DSVK_OK)
            status = bind_elements(ops, op, "router weight", in->weight->buffer,
                                   in->weight->offset,
                                   (uint64_t)E * in->weight->cols * 4, 4, false,
                                   &spans[4], &params.weight_base);
        if (status == DSVK_OK)
            spans[0] = spans[5];
    } else {
        status = op_bind_view(ops, op, "logits", in->logits, false, &spans[0],
                              &params.logits);
        if (status == DSVK_OK)
            spans[4] = spans[5] = spans[0];
    }
    if (status == DSVK_OK && bias)
        status = bind_elements(ops, op, "exp_probs_b", bias->buffer,
                               bias->offset, (uint64_t)E * 4, 4, false,
                               &spans[1], &params.bias_base);
    if (status == DSVK_OK && !bias)
        spans[1] = spans[0];
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert ids", routes->buffer,
                               routes->ids_offset, route_bytes, 4, true,
                               &spans[2], &params.ids_base);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert weights", routes->buffer,
                               routes->weights_offset, route_bytes, 4, true,
                               &spans[3], &params.weights_base);
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = op_pipeline(ops, "moe_route", false, OP_WORKGROUP, &pipeline);
    if (status != DSVK_OK)
        return status;
    uint32_t grid[3] = {T, 1, 1};
    op_record(ops, pipeline, spans, 6, &params, sizeof params, grid, op);
    return DSVK_OK;
}

dsvk_status moe_route(const rt_ops *ops, const moe_router *router,
                      rt_view logits, const rt_weight *bias,
                      const moe_routes *routes)
{
    const route_input in = {.logits = logits};
    return record_route(ops, router, &in, bias, routes);
}

bool moe_route_product_fits(const moe_router *router, const rt_weight *weight,
                            rt_view x)
{
    return weight && weight->type == DSVK_TYPE_F32 && weight->count == 1 &&
           weight->rows == router->n_expert && weight->cols == x.cols &&
           weight->cols % 4 == 0 && weight->offset % 16 == 0 &&
           x.offset % 16 == 0 && x.stride % 4 == 0 &&
           x.rows <= MOE_ROUTE_PRODUCT_MAX_TOKENS &&
           (uint64_t)weight->rows * weight->cols <= MOE_ROUTE_PRODUCT_MAX_MACS;
}

dsvk_status moe_route_product(const rt_ops *ops, const moe_router *router,
                              const rt_weight *weight, rt_view x,
                              const rt_weight *bias, const moe_routes *routes)
{
    const route_input in = {.weight = weight, .x = x};
    return record_route(ops, router, &in, bias, routes);
}

/* The most tiles of DSVK_CPU_PRODUCT_TOKENS slots moe_group.comp can
 * fill: each expert's run ends in at most one partial tile. */
static uint32_t max_tiles(uint32_t n_assign, uint32_t n_expert)
{
    const uint32_t tile = DSVK_CPU_PRODUCT_TOKENS;
    uint64_t runs = n_expert < n_assign ? n_expert : n_assign;
    return (uint32_t)((n_assign + (tile - 1) * runs + tile - 1) / tile);
}

/* Scratch layout: hidden [slots][n_ff] (a row per assignment, or per
 * grouped slot with the CPU-class tiles), the shared experts' hidden
 * [T][n_ff_shared] right after it (one binding covers both), part
 * [T * k][n_embd], then the grouping: span [E] (first, count), list
 * [slots], the tile table [tiles] and x in slot order [slots][n_embd].
 * Sized for the tiles, which take the most slots. */
typedef struct scratch_layout {
    uint32_t tiles, slots;
    uint64_t hidden, shared, part, span, list, tile_table, x_slots, end;
} scratch_layout;

static scratch_layout layout_scratch(uint32_t n_tokens, uint32_t n_expert_used,
                                     uint32_t n_embd, uint32_t n_ff,
                                     uint32_t n_ff_shared, uint32_t n_expert)
{
    uint64_t n_assign = (uint64_t)n_tokens * n_expert_used;
    scratch_layout l;
    l.tiles = max_tiles((uint32_t)n_assign, n_expert);
    l.slots = l.tiles * DSVK_CPU_PRODUCT_TOKENS;
    l.hidden = 0;
    l.shared = align_up((uint64_t)l.slots * n_ff * 4, MOE_SCRATCH_ALIGN);
    l.part = l.shared +
             align_up((uint64_t)n_tokens * n_ff_shared * 4, MOE_SCRATCH_ALIGN);
    l.span = l.part + align_up(n_assign * n_embd * 4, MOE_SCRATCH_ALIGN);
    l.list = l.span + align_up((uint64_t)n_expert * 8, MOE_SCRATCH_ALIGN);
    l.tile_table = l.list + align_up((uint64_t)l.slots * 4, MOE_SCRATCH_ALIGN);
    l.x_slots =
        l.tile_table + align_up((uint64_t)l.tiles * 4, MOE_SCRATCH_ALIGN);
    l.end =
        l.x_slots + align_up((uint64_t)l.slots * n_embd * 4, MOE_SCRATCH_ALIGN);
    return l;
}

uint64_t moe_experts_scratch_bytes(uint32_t n_tokens, uint32_t n_expert_used,
                                   uint32_t n_embd, uint32_t n_ff,
                                   uint32_t n_ff_shared, uint32_t n_expert)
{
    return layout_scratch(n_tokens, n_expert_used, n_embd, n_ff, n_ff_shared,
                          n_expert)
        .end;
}

static dsvk_status check_experts(const rt_ops *ops, const moe_experts_desc *d,
                                 rt_view y)
{
    const char *op = "moe_experts";
    const moe_experts *e = d->experts;
    if (!e || !e->gate || !e->up || !e->down ||
        !indexed_same_shape(e->gate, e->up) || e->down->cols != e->gate->rows ||
        e->down->rows != e->gate->cols || e->down->count != e->gate->count)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: gate and up must be [E][n_ff][n_embd] and down "
                       "[E][n_embd][n_ff]",
                       op);
    if (e->gate->count > MOE_MAX_EXPERTS)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: %u experts, at most %u supported", op,
                       e->gate->count, MOE_MAX_EXPERTS);
    if (d->x.cols != e->gate->cols || y.cols != e->gate->cols ||
        y.rows != d->x.rows)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: x %u x %u and y %u x %u must both be T x %u", op,
                       d->x.rows, d->x.cols, y.rows, y.cols, e->gate->cols);
    uint32_t k = d->routes ? d->routes->n_expert_used : 0;
    if (k == 0 || k > MOE_MAX_EXPERTS_USED)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: %u experts used per token, supported 1 to %u", op,
                       k, MOE_MAX_EXPERTS_USED);
    dsvk_status status = check_routes(ops, op, d->routes, d->x.rows, k);
    if (status != DSVK_OK)
        return status;
    if (!d->scratch || d->scratch_offset % 16)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: scratch needs a buffer and a 16-byte aligned "
                       "offset",
                       op);
    const moe_experts *sh = d->shared;
    if (sh &&
        (!sh->gate || !sh->up || !sh->down ||
         !indexed_same_shape(sh->gate, sh->up) || sh->gate->count != 1 ||
         sh->down->count != 1 || sh->gate->cols != e->gate->cols ||
         sh->down->rows != e->gate->cols || sh->down->cols != sh->gate->rows))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: shared gate and up must be [n_ff_shared][n_embd] "
                       "and down [n_embd][n_ff_shared]",
                       op);
    return DSVK_OK;
}

/* Whether the shared experts can join the routed ones' dispatches. */
static bool shared_joins(const rt_ops *ops, const moe_experts *e,
                         const moe_experts *sh)
{
    const rt_weight *const gate_up[4] = {e->gate, e->up, sh->gate, sh->up};
    const rt_weight *const down[2] = {e->down, sh->down};
    return indexed_one_binding(ops, gate_up, 4) &&
           indexed_one_binding(ops, down, 2);
}

/* Lists each expert's rows (moe_group.comp) into the scratch: runs of
 * whole tiles of `tile` slots, and the tile table where `tiles` has one. */
static dsvk_status record_grouping(const rt_ops *ops, const moe_routes *routes,
                                   uint32_t n_expert, const expert_rows *rows,
                                   uint32_t tile, const expert_tiles *tiles)
{
    const char *op = "moe_group";
    rt_span spans[4];
    dsvk_moe_group_params params = {.n_assign = rows->n_assign,
                                    .n_expert = n_expert,
                                    .tile = tile,
                                    .max_tiles = tiles ? tiles->max_tiles : 0};
    dsvk_status status = bind_elements(
        ops, op, "expert ids", routes->buffer, routes->ids_offset,
        (uint64_t)rows->n_assign * 4, 4, false, &spans[0], &params.ids_base);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert spans", rows->span,
                               rows->span_offset, (uint64_t)n_expert * 8, 8,
                               true, &spans[1], &params.span_base);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert rows", rows->list,
                               rows->list_offset, (uint64_t)rows->n_slots * 4,
                               4, true, &spans[2], &params.list_base);
    if (status == DSVK_OK && tiles)
        status =
            bind_elements(ops, op, "expert tiles", tiles->table,
                          tiles->table_offset, (uint64_t)tiles->max_tiles * 4,
                          4, true, &spans[3], &params.tiles_base);
    /* Without a tile table the binding is unused but must hold a buffer. */
    if (!tiles)
        spans[3] = spans[2];
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = op_pipeline(ops, "moe_group", false, MOE_GROUP_WORKGROUP,
                             &pipeline);
    if (status != DSVK_OK)
        return status;
    const uint32_t grid[3] = {1, 1, 1};
    op_record(ops, pipeline, spans, 4, &params, sizeof params, grid, op);
    return DSVK_OK;
}

/* x_slots[p] = x[list[p] / x_div] (moe_gather.comp), in dispatches of
 * as many slots as one binding covers. */
static dsvk_status record_gather(const rt_ops *ops, rt_view x, uint32_t x_div,
                                 const expert_rows *rows, rt_view x_slots)
{
    const char *op = "moe_gather";
    rt_span spans[3];
    dsvk_moe_gather_params params = {.cols = x.cols, .x_div = x_div};
    dsvk_status status =
        op_bind_view(ops, op, "x", x, false, &spans[0], &params.x);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert rows", rows->list,
                               rows->list_offset, (uint64_t)rows->n_slots * 4,
                               4, false, &spans[1], &params.list_base);
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = op_pipeline(ops, "moe_gather", false, OP_WORKGROUP, &pipeline);
    if (status != DSVK_OK)
        return status;
    uint64_t fit = op_binding_room(ops) / ((uint64_t)x_slots.stride * 4);
    uint32_t per_dispatch = fit == 0             ? 1
                            : fit < x_slots.rows ? (uint32_t)fit
                                                 : x_slots.rows;
    for (uint32_t first = 0; first < x_slots.rows; first += per_dispatch) {
        uint32_t n = x_slots.rows - first < per_dispatch ? x_slots.rows - first
                                                         : per_dispatch;
        params.first_slot = first;
        uint32_t grid[3];
        status = op_bind_view(ops, op, "x in slot order",
                              op_view_rows(x_slots, first, n), true, &spans[2],
                              &params.out_rows);
        if (status == DSVK_OK)
            status = op_grid(
                ops, op, (x.cols + OP_WORKGROUP - 1) / OP_WORKGROUP, n, grid);
        if (status != DSVK_OK)
            return status;
        op_record(ops, pipeline, spans, 3, &params, sizeof params, grid, op);
    }
    return DSVK_OK;
}

/* y[t] (+)= sum_j weights[t][j] * part[t * k + j] (moe_combine.comp). */
static dsvk_status record_combine(const rt_ops *ops, const moe_routes *routes,
                                  rt_view part, bool accumulate, rt_view y)
{
    const char *op = "moe_combine";
    rt_span spans[3];
    dsvk_moe_combine_params params = {.n_embd = y.cols,
                                      .n_expert_used = routes->n_expert_used,
                                      .accumulate = accumulate};
    dsvk_status status = op_bind_view(ops, op, "expert outputs", part, false,
                                      &spans[0], &params.part);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "expert weights", routes->buffer,
                               routes->weights_offset, (uint64_t)part.rows * 4,
                               4, false, &spans[1], &params.weights_base);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "y", y, true, &spans[2], &params.y);
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status =
            op_pipeline(ops, "moe_combine", false, OP_WORKGROUP, &pipeline);
    if (status != DSVK_OK)
        return status;
    uint32_t grid[3] = {(y.cols + OP_WORKGROUP - 1) / OP_WORKGROUP, y.rows, 1};
    op_record(ops, pipeline, spans, 3, &params, sizeof params, grid, op);
    return DSVK_OK;
}

/* The grouped routed experts on CPU-class kernels: x copied into slot
 * order, gate and up (one pass where one binding covers both) into hidden
 * rows per slot, then the down product into part rows per assignment, a
 * tile of DSVK_CPU_PRODUCT_TOKENS slots per invocation throughout. */
static dsvk_status record_expert_tiles(const rt_ops *ops, const moe_experts *e,
                                       rt_view x, uint32_t k,
                                       const expert_rows *rows,
                                       const expert_tiles *tiles,
                                       rt_view x_slots, rt_view hidden,
                                       rt_view part)
{
    const rt_weight *const pair[2] = {e->gate, e->up};
    const bool fused =
        indexed_same_shape(e->gate, e->up) && indexed_one_binding(ops, pair, 2);
    dsvk_status status = record_gather(ops, x, k, rows, x_slots);
    if (status == DSVK_OK)
        status = indexed_expert_tiles(ops, fused ? "moe_gate_up" : "moe_gate",
                                      e->gate, fused ? e->up : NULL, x_slots,
                                      rows, tiles, DSVK_TILES_TO_SLOTS,
                                      RT_EPILOGUE_STORE, hidden);
    if (status == DSVK_OK && !fused)
        status = indexed_expert_tiles(ops, "moe_up", e->up, NULL, x_slots, rows,
                                      tiles, DSVK_TILES_TO_SLOTS,
                                      RT_EPILOGUE_GATE, hidden);
    if (status == DSVK_OK)
        status = indexed_expert_tiles(ops, "moe_down", e->down, NULL, hidden,
                                      rows, tiles, DSVK_TILES_TO_ASSIGNMENTS,
                                      RT_EPILOGUE_STORE, part);
    return status;
}

dsvk_status moe_experts_forward(const rt_ops *ops, const moe_experts_desc *desc,
                                rt_view y)
{
    dsvk_status status = check_experts(ops, desc, y);
    if (status != DSVK_OK)
        return status;
    const moe_experts *e = desc->experts, *sh = desc->shared;
    const moe_routes *routes = desc->routes;
    uint32_t n_tokens = desc->x.rows, k = routes->n_expert_used;
    uint32_t n_embd = e->gate->cols, n_ff = e->gate->rows;
    uint32_t n_ff_shared = sh ? sh->gate->rows : 0;
    uint32_t n_expert = e->gate->count, n_assign = n_tokens * k;
    scratch_layout l =
        layout_scratch(n_tokens, k, n_embd, n_ff, n_ff_shared, n_expert);
    uint64_t base = desc->scratch_offset;
    rt_view hidden = {desc->scratch, base + l.hidden, n_assign, n_ff, n_ff};
    rt_view shared_hidden = {desc->scratch, base + l.shared, n_tokens,
                             n_ff_shared, n_ff_shared};
    rt_view part = {desc->scratch, base + l.part, n_assign, n_embd, n_embd};

    bool grouped =
        desc->path == MOE_PATH_GROUPED ||
        (desc->path == MOE_PATH_AUTO && n_tokens > MOE_PER_TOKEN_MAX_TOKENS);
    /* Grouped on CPU-class kernels: tiles of slots per invocation, where
     * lavapipe runs the tiled matmul's shared-memory tiles and barriers
     * lane by lane (measured on the bench model, a 16-token prefill's
     * expert products: 7.5 s in the matmul, 0.37 s per token). */
    const bool tiled =
        grouped && op_cpu_product(ops, n_embd) && op_cpu_product(ops, n_ff);
    rt_epilogue epilogue =
        desc->accumulate ? RT_EPILOGUE_ADD : RT_EPILOGUE_STORE;
    const bool joined = sh && !grouped && shared_joins(ops, e, sh);
    if (sh && !joined) {
        /* Products of their own, matvecs per token as the routed path. */
        const rt_swiglu_ffn ffn = {sh->gate, sh->up, sh->down};
        status = rt_op_swiglu_ffn(ops, &ffn, desc->x, shared_hidden, !grouped,
                                  epilogue, y, NULL);
        epilogue = RT_EPILOGUE_ADD;
    }
    expert_rows rows = {.n_assign = n_assign,
                        .n_tokens = n_tokens,
                        .n_slots = tiled ? l.slots : n_assign,
                        .ids = routes->buffer,
                        .ids_offset = routes->ids_offset};
    const expert_tiles tiles = {desc->scratch, base + l.tile_table, l.tiles};
    if (status == DSVK_OK && grouped) {
        rows.span = desc->scratch;
        rows.span_offset = base + l.span;
        rows.list = desc->scratch;
        rows.list_offset = base + l.list;
        status = tiled ? record_grouping(ops, routes, n_expert, &rows,
                                         DSVK_CPU_PRODUCT_TOKENS, &tiles)
                       : record_grouping(ops, routes, n_expert, &rows, 1, NULL);
    }
    if (status == DSVK_OK && tiled) {
        const rt_view x_slots = {desc->scratch, base + l.x_slots, l.slots,
                                 n_embd, n_embd};
        hidden.rows = l.slots;
        status = record_expert_tiles(ops, e, desc->x, k, &rows, &tiles, x_slots,
                                     hidden, part);
        return status == DSVK_OK
                   ? record_combine(ops, routes, part,
                                    epilogue == RT_EPILOGUE_ADD, y)
                   : status;
    }
    if (status != DSVK_OK)
        return status;
    if (!grouped) {
        /* Per token: gate and up in one pass (with the shared experts when
         * they join), then the down product sums the token's experts. */
        const indexed_shared shared_gate_up = {
            sh ? sh->gate : NULL, sh ? sh->up : NULL, shared_hidden};
        const indexed_shared shared_down = {sh ? sh->down : NULL, NULL,
                                            shared_hidden};
        status =
            indexed_experts_swiglu(ops, e->gate, e->up, desc->x, k, &rows,
                                   joined ? &shared_gate_up : NULL, hidden);
        if (status == DSVK_OK)
            status = indexed_experts_combine(
                ops, e->down, hidden, &rows, routes->buffer,
                routes->weights_offset, joined ? &shared_down : NULL, epilogue,
                y);
        return status;
    }
    /* hidden = silu(gate x) * (up x), x row a / k for assignment a. */
    status = indexed_experts(ops, "moe_gate", e->gate, desc->x, k, &rows,
                             RT_EPILOGUE_STORE, hidden);
    if (status == DSVK_OK)
        status = indexed_experts(ops, "moe_up", e->up, desc->x, k, &rows,
                                 RT_EPILOGUE_GATE, hidden);
    if (status == DSVK_OK)
        status = indexed_experts(ops, "moe_down", e->down, hidden, 1, &rows,
                                 RT_EPILOGUE_STORE, part);
    if (status != DSVK_OK)
        return status;
    return record_combine(ops, routes, part, epilogue == RT_EPILOGUE_ADD, y);
}
