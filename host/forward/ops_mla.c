#include "ops_mla.h"

#include "model_op_params.h"
#include "ops_bind.h"
#include "ops_indexed.h"

/* mla_attention.comp's workgroup size, and the positions each invocation
 * scores per pass: a CPU driver's lanes reuse each query value loaded
 * from shared memory for two positions; a GPU keeps one, for more
 * workgroups' worth of passes. */
#define MLA_WORKGROUP 64u
#define MLA_POSITIONS_CPU 2u
#define MLA_POSITIONS_GPU 1u
/* Values the attention reads from a cache row at once (its "group"). */
#define MLA_GROUP 8u
/* Batches up to this many tokens run the per-head products as matvecs;
 * longer ones as tiled matmuls that read each head's matrix once per tile
 * of 32 tokens. */
#define MLA_MATVEC_MAX_TOKENS 4u
/* Context splits aim for this many workgroups: enough to fill a desktop
 * GPU when a batch alone gives only a few. A CPU driver runs a workgroup
 * per thread at a time, and each split pays for staging the queries and
 * writing and merging a partial: a few per thread are enough. */
#define MLA_TARGET_WORKGROUPS 256u
#define MLA_TARGET_WORKGROUPS_CPU 16u
/* Loop iterations one invocation of the attention may run: half of
 * lavapipe's 65,535, past which its loops stop silently (PERFORMANCE.md).
 * The margin covers a loop the compiler adds or fails to unroll: measured
 * with r 512, one split went wrong between 154 and 156 passes, where
 * loop_iterations counts 64,300 to 65,100. */
#define MLA_LOOP_BUDGET 32768u
/* Latent accumulators (floats) one invocation may hold for its head
 * group: heads per group x groups per invocation x 8, a register budget.
 * Measured on lavapipe with r 256: 32 (4 heads) ran 64 tokens at 4032 as
 * fast as 64 (8 heads, reading the cache half as often) and one token at
 * 4096 15 percent faster; 16 was 20 percent slower. */
#define MLA_MAX_ACCUMULATORS 32u
/* Scratch regions start on this boundary (the largest
 * minStorageBufferOffsetAlignment Vulkan allows). */
#define MLA_SCRATCH_ALIGN 256u

static uint64_t align_up(uint64_t n, uint64_t a)
{
    return (n + a - 1) / a * a;
}

uint64_t mla_latent_bytes(const mla_shape *shape, dsvk_cache_type type,
                          uint32_t n_ctx)
{
    return n_ctx * latent_row_bytes(type, shape->kv_lora_rank);
}

uint64_t mla_rope_key_bytes(const mla_shape *shape, dsvk_cache_type type,
                            uint32_t n_ctx)
{
    return n_ctx * latent_row_bytes(type, shape->qk_rope_head_dim);
}

static dsvk_status check_shape(const rt_ops *ops, const char *op,
                               const mla_shape *s)
{
    if (!s || !s->n_head || !s->qk_nope_head_dim || !s->qk_rope_head_dim ||
        !s->v_head_dim || !s->kv_lora_rank || s->kv_lora_rank % 2 ||
        s->qk_rope_head_dim % 2)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: MLA shape needs non-zero dimensions and an even "
                       "kv_lora_rank and rope dimension (f16 pairs)",
                       op);
    return DSVK_OK;
}

static dsvk_status check_cache(const rt_ops *ops, const char *op,
                               const mla_shape *s,
                               const mla_latent_cache *cache, uint32_t end)
{
    if (!cache || !cache->buffer || cache->latent_offset % 4 ||
        cache->rope_key_offset % 4)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: the latent cache needs a buffer and 4-byte "
                       "aligned offsets",
                       op);
    if (!dsvk_cache_type_name(cache->type) ||
        !latent_row_supported(cache->type, s->kv_lora_rank) ||
        !latent_row_supported(cache->type, s->qk_rope_head_dim))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: cache type %d cannot hold rows of r %u and dr %u",
                       op, (int)cache->type, s->kv_lora_rank,
                       s->qk_rope_head_dim);
    if (end > cache->n_ctx)
        return rt_fail(ops->dev, DSVK_ERROR_CONTEXT_FULL,
                       "%s: positions up to %u do not fit a latent cache of "
                       "%u positions",
                       op, end, cache->n_ctx);
    return DSVK_OK;
}

dsvk_status mla_prepare(const rt_ops *ops, const mla_shape *shape,
                        const mla_prepare_desc *d)
{
    const char *op = "mla_prepare";
    dsvk_status status = check_shape(ops, op, shape);
    if (status != DSVK_OK)
        return status;
    const uint32_t r = shape->kv_lora_rank, dr = shape->qk_rope_head_dim;
    const uint32_t H = shape->n_head, T = d->kv.rows;
    const rt_view kv = d->kv;
    const bool has_q = d->q.rows > 0;
    if (kv.cols != r + dr)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: kv rows have %u values, expected r + dr = %u", op,
                       kv.cols, r + dr);
    if (has_q && (!d->rope || d->q.rows != T * H ||
                  d->q.cols != shape->qk_nope_head_dim + dr))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: q must be T * H = %u rows of dn + dr = %u, with "
                       "a RoPE",
                       op, T * H, shape->qk_nope_head_dim + dr);
    const rt_weight *norm = d->norm;
    if (norm && (norm->type != DSVK_TYPE_F32 || norm->cols != r ||
                 norm->rows != 1 || norm->count != 1 || norm->offset % 4))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: the latent norm must be an F32 vector of r = %u, "
                       "4-byte aligned",
                       op, r);
    status = check_cache(ops, op, shape, d->cache, d->pos0 + T);
    if (status != DSVK_OK)
        return status;

    dsvk_mla_prepare_params params = {
        .kv_lora_rank = r,
        .rope_dim = dr,
        .nope_dim = shape->qk_nope_head_dim,
        .n_head = has_q ? H : 0,
        .pos0 = d->pos0,
        .has_norm = norm != NULL,
        .has_rope = d->rope != NULL,
        .eps = d->eps,
        .cache_q8 = d->cache->type == DSVK_CACHE_Q8_0,
    };
    if (d->rope)
        status = op_rope_freq(ops, op, d->rope, dr, d->pos0, T, &params.freq);
    rt_span spans[5];
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "kv", kv, false, &spans[0], &params.kv);
    if (status == DSVK_OK && has_q)
        status = op_bind_view(ops, op, "q", d->q, true, &spans[1], &params.q);
    if (status == DSVK_OK && norm)
        status = bind_elements(ops, op, "latent norm", norm->buffer,
                               norm->offset, (uint64_t)r * 4, 4, false,
                               &spans[2], &params.norm_base);
    /* Only the rows written are bound, so the hazard tracking orders this
     * write before the attention that reads them. */
    const mla_latent_cache *cache = d->cache;
    const dsvk_cache_type type = cache->type;
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "latent cache", cache->buffer,
                               cache->latent_offset +
                                   mla_latent_bytes(shape, type, d->pos0),
                               mla_latent_bytes(shape, type, T), 4, true,
                               &spans[3], &params.latent_base);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "rope key cache", cache->buffer,
                               cache->rope_key_offset +
                                   mla_rope_key_bytes(shape, type, d->pos0),
                               mla_rope_key_bytes(shape, type, T), 4, true,
                               &spans[4], &params.rope_key_base);
    /* Bindings the shader does not read still need a buffer. */
    if (!has_q)
        spans[1] = spans[3];
    if (!norm)
        spans[2] = spans[0];
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status =
            op_pipeline(ops, op, true, DSVK_MLA_PREPARE_WORKGROUP, &pipeline);
    if (status != DSVK_OK)
        return status;
    uint32_t query_pairs = has_q ? H * dr / 2 : 0;
    uint32_t grid[3] = {1 + (query_pairs + DSVK_MLA_PREPARE_WORKGROUP - 1) /
                                DSVK_MLA_PREPARE_WORKGROUP,
                        T, 1};
    op_record(ops, pipeline, spans, 5, &params, sizeof params, grid, op);
    return DSVK_OK;
}

/* Scratch layout: the merge counters [MLA_MAX_SPLIT_ROWS * H] (a split
 * batch has at most that many tokens, and at most H head groups), ql
 * [T * H][r], lat [T * H][r], then the split partials
 * [MLA_MAX_SPLIT_ROWS * H][r] and their (max, sum) pairs. */
typedef struct scratch_layout {
    uint64_t ql, lat, part, stat, counter, end;
} scratch_layout;

static scratch_layout layout_scratch(const mla_shape *s, uint32_t n_tokens)
{
    uint64_t head_rows = (uint64_t)n_tokens * s->n_head;
    uint64_t split_rows = (uint64_t)MLA_MAX_SPLIT_ROWS * s->n_head;
    scratch_layout l;
    /* The counters first: their place must not depend on the batch, or a
     * longer batch's intermediates would overwrite their zeros. */
    l.counter = 0;
    l.ql = align_up(split_rows * 4, MLA_SCRATCH_ALIGN);
    l.lat = l.ql + align_up(head_rows * s->kv_lora_rank * 4, MLA_SCRATCH_ALIGN);
    l.part =
        l.lat + align_up(head_rows * s->kv_lora_rank * 4, MLA_SCRATCH_ALIGN);
    l.stat =
        l.part + align_up(split_rows * s->kv_lora_rank * 4, MLA_SCRATCH_ALIGN);
    l.end = l.stat + align_up(split_rows * 8, MLA_SCRATCH_ALIGN);
    return l;
}

uint64_t mla_attention_scratch_bytes(const mla_shape *shape, uint32_t n_tokens)
{
    return layout_scratch(shape, n_tokens).end;
}

static uint64_t ceil_div(uint64_t n, uint64_t d)
{
    return (n + d - 1) / d;
}

/* Positions the attention scores per invocation and pass. */
static uint32_t positions_per_lane(const rt_ops *ops)
{
    return rt_device_caps(ops->dev)->cpu_kernels ? MLA_POSITIONS_CPU
                                                 : MLA_POSITIONS_GPU;
}

/* The shader's value lanes (mla_attention.comp): GROUP_LANES invocations
 * across the latent groups, each with groups_per_lane of them, and
 * pos_lanes such sets over a pass's positions. */
static uint32_t group_lanes(const mla_shape *s)
{
    uint32_t groups = (uint32_t)ceil_div(s->kv_lora_rank, MLA_GROUP);
    return groups < MLA_WORKGROUP ? groups : MLA_WORKGROUP;
}

static uint32_t groups_per_lane(const mla_shape *s)
{
    return (uint32_t)ceil_div(ceil_div(s->kv_lora_rank, MLA_GROUP),
                              group_lanes(s));
}

static uint32_t pos_lanes(const mla_shape *s)
{
    return MLA_WORKGROUP / group_lanes(s);
}

/* Heads per workgroup: as many as shared memory (queries and rope queries
 * padded to whole groups and one pass of scores per head, beside the final
 * sums and a max and a factor per head) and the accumulator budget allow,
 * then evened out over the groups so the last is not nearly empty. */
static dsvk_status heads_per_group(const rt_ops *ops, const mla_shape *s,
                                   uint32_t *out)
{
    uint32_t per_lane = groups_per_lane(s);
    uint32_t shared_per_head =
        (uint32_t)(ceil_div(s->kv_lora_rank, MLA_GROUP) * MLA_GROUP +
                   ceil_div(s->qk_rope_head_dim, MLA_GROUP) * MLA_GROUP +
                   MLA_WORKGROUP * positions_per_lane(ops) + 2) *
        4;
    uint32_t fixed = MLA_WORKGROUP * MLA_GROUP * 4 + 4;
    uint32_t room = rt_device_caps(ops->dev)->max_shared_memory;
    uint32_t max = room > fixed ? (room - fixed) / shared_per_head : 0;
    if (max > MLA_MAX_ACCUMULATORS / (per_lane * MLA_GROUP))
        max = MLA_MAX_ACCUMULATORS / (per_lane * MLA_GROUP);
    if (max > s->n_head)
        max = s->n_head;
    if (max == 0)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "mla_attention: kv_lora_rank %u is too large for "
                       "this device's shared memory",
                       s->kv_lora_rank);
    uint32_t groups = (s->n_head + max - 1) / max;
    *out = (s->n_head + groups - 1) / groups;
    return DSVK_OK;
}

/* Context splits: more when the batch gives few workgroups and the context
 * has several passes; at most MLA_MAX_SPLIT_ROWS (token, split) pairs. */
static uint32_t choose_splits(uint32_t target, uint32_t pass, uint32_t n_tokens,
                              uint32_t n_groups, uint32_t n_kv)
{
    uint32_t passes = (n_kv + pass - 1) / pass;
    uint32_t wanted =
        (target + n_groups * n_tokens - 1) / (n_groups * n_tokens);
    uint32_t n = MLA_MAX_SPLIT_ROWS / n_tokens;
    if (n > wanted)
        n = wanted;
    if (n > passes)
        n = passes;
    return n ? n : 1;
}

/* Loop iterations one invocation of mla_attention.comp runs for a split of
 * split_len positions, counted from its loops (the head, position and
 * group-per-lane loops are unrolled and do not count): staging the
 * queries; per pass of `pass` positions the pass loop, a score step per
 * group of the latent and rope-key rows, two loops over the pass's quads
 * (the head invocations) and the value loop over every pos_lanes-th quad;
 * the output with its sums over the value lanes; and the merge of n_split
 * partials. */
static uint64_t loop_iterations(const mla_shape *s, uint32_t heads,
                                uint32_t pass, uint32_t split_len,
                                uint32_t n_split)
{
    const uint32_t r = s->kv_lora_rank, dr = s->qk_rope_head_dim;
    const uint64_t r_groups = ceil_div(r, MLA_GROUP);
    const uint64_t dr_groups = ceil_div(dr, MLA_GROUP);
    uint64_t staging = ceil_div(heads * r_groups * MLA_GROUP, MLA_WORKGROUP) +
                       ceil_div(heads * dr_groups * MLA_GROUP, MLA_WORKGROUP);
    uint64_t quads = ceil_div(pass, 4);
    uint64_t per_pass =
        1 + r_groups + dr_groups + 2 * quads + ceil_div(quads, pos_lanes(s));
    uint64_t passes = ceil_div(split_len, pass);
    uint64_t output = heads * (1ull + pos_lanes(s));
    uint64_t merge =
        n_split > 1 ? heads * (2ull * n_split +
                               ceil_div(r, MLA_WORKGROUP) * (1ull + n_split))
                    : 0;
    return staging + passes * per_pass + output + merge;
}

/* How the attention core runs: head groups, splits, and the tokens of
 * each dispatch. */
typedef struct core_plan {
    uint32_t heads, positions, n_groups, n_split, split_len, group_tokens;
} core_plan;

/* Sets the fewest splits, at least `wanted`, whose invocations all stay
 * within MLA_LOOP_BUDGET, and their length; false when even
 * MLA_MAX_SPLIT_ROWS splits do not. */
static bool bound_splits(const mla_shape *s, uint32_t n_kv, uint32_t wanted,
                         core_plan *plan)
{
    const uint32_t pass = MLA_WORKGROUP * plan->positions;
    for (uint32_t n = wanted; n <= MLA_MAX_SPLIT_ROWS; n++) {
        uint32_t split_len = (uint32_t)align_up(ceil_div(n_kv, n), pass);
        if (loop_iterations(s, plan->heads, pass, split_len, n) <=
            MLA_LOOP_BUDGET) {
            plan->n_split = n;
            plan->split_len = split_len;
            return true;
        }
    }
    return false;
}

static dsvk_status check_attention(const rt_ops *ops, const mla_shape *s,
                                   const mla_attention_desc *d, rt_view out)
{
    const char *op = "mla_attention";
    dsvk_status status = check_shape(ops, op, s);
    if (status != DSVK_OK)
        return status;
    const rt_weight *kb = d->k_b, *vb = d->v_b;
    if (!kb || kb->cols != s->qk_nope_head_dim || kb->rows != s->kv_lora_rank ||
        kb->count != s->n_head || !vb || vb->cols != s->kv_lora_rank ||
        vb->rows != s->v_head_dim || vb->count != s->n_head)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: attn_k_b must be [H][r][dn] and attn_v_b "
                       "[H][dv][r] for H %u, r %u, dn %u, dv %u",
                       op, s->n_head, s->kv_lora_rank, s->qk_nope_head_dim,
                       s->v_head_dim);
    if (d->q.rows == 0 || d->q.rows % s->n_head ||
        d->q.cols != s->qk_nope_head_dim + s->qk_rope_head_dim ||
        out.rows != d->q.rows || out.cols != s->v_head_dim)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: q must be T * %u rows of %u and out T * %u rows "
                       "of %u (got q %u x %u, out %u x %u)",
                       op, s->n_head, s->qk_nope_head_dim + s->qk_rope_head_dim,
                       s->n_head, s->v_head_dim, d->q.rows, d->q.cols, out.rows,
                       out.cols);
    uint32_t n_tokens = d->q.rows / s->n_head;
    if (d->n_split > MLA_MAX_SPLIT_ROWS)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: %u splits exceed %u (token, split) pairs", op,
                       d->n_split, MLA_MAX_SPLIT_ROWS);
    if (!d->scratch || d->scratch_offset % 16)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: scratch needs a buffer and a 16-byte aligned "
                       "offset",
                       op);
    return check_cache(ops, op, s, d->cache, d->pos0 + n_tokens);
}

/* One dispatch of the attention core for tokens t0 .. t0 + T - 1 of the
 * step: ql, q and lat are viewed from token t0 on, so the shader sees a
 * batch of T tokens at pos0 + t0. */
static dsvk_status record_core(const rt_ops *ops, const mla_shape *shape,
                               const mla_attention_desc *desc,
                               const scratch_layout *l, const core_plan *plan,
                               uint32_t t0, uint32_t T)
{
    const char *op = "mla_attention";
    const mla_latent_cache *cache = desc->cache;
    const uint32_t H = shape->n_head, r = shape->kv_lora_rank;
    const uint32_t dn = shape->qk_nope_head_dim, dr = shape->qk_rope_head_dim;
    const uint32_t n_kv = desc->pos0 + t0 + T, n_split = plan->n_split;
    const uint64_t base = desc->scratch_offset;
    const uint64_t row0 = (uint64_t)t0 * H;
    rt_view ql = {desc->scratch, base + l->ql + row0 * r * 4, T * H, r, r};
    rt_view lat = {desc->scratch, base + l->lat + row0 * r * 4, T * H, r, r};
    rt_view part = {desc->scratch, base + l->part, T * H * n_split, r, r};
    rt_view qp = {desc->q.buffer,
                  desc->q.offset + 4ull * (dn + row0 * desc->q.stride), T * H,
                  dr, desc->q.stride};

    rt_span spans[8];
    dsvk_mla_attention_params params = {
        .n_head = H,
        .pos0 = desc->pos0 + t0,
        .split_len = plan->split_len,
        .n_split = n_split,
        .scale = desc->scale,
    };
    dsvk_status status =
        op_bind_view(ops, op, "ql", ql, false, &spans[0], &params.ql);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "q", qp, false, &spans[1], &params.qp);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "latent cache", cache->buffer,
                               cache->latent_offset,
                               mla_latent_bytes(shape, cache->type, n_kv), 4,
                               false, &spans[2], &params.latent_base);
    if (status == DSVK_OK)
        status = bind_elements(ops, op, "rope key cache", cache->buffer,
                               cache->rope_key_offset,
                               mla_rope_key_bytes(shape, cache->type, n_kv), 4,
                               false, &spans[3], &params.rope_key_base);
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "lat", n_split > 1 ? part : lat, true,
                              &spans[4], &params.lat);
    if (status == DSVK_OK && n_split > 1)
        status = bind_elements(ops, op, "split statistics", desc->scratch,
                               base + l->stat, (uint64_t)part.rows * 8, 8, true,
                               &spans[5], &params.stat_base);
    if (status == DSVK_OK && n_split > 1)
        status =
            bind_elements(ops, op, "merge counters", desc->scratch,
                          base + l->counter, (uint64_t)T * plan->n_groups * 4,
                          4, true, &spans[6], &params.counter_base);
    if (status == DSVK_OK && n_split > 1)
        status =
            op_bind_view(ops, op, "lat", lat, true, &spans[7], &params.merged);
    /* Without splits only lat is written; the other bindings still need a
     * buffer. */
    if (n_split == 1)
        for (int i = 5; i < 8; i++)
            spans[i] = (rt_span){spans[4].buffer, spans[4].offset,
                                 spans[4].size, false};
    /* 16-byte reads of f16 rows of whole groups on 16-byte boundaries. */
    const bool wide = cache->type == DSVK_CACHE_F16 && r % MLA_GROUP == 0 &&
                      dr % MLA_GROUP == 0 && params.latent_base % 4 == 0 &&
                      params.rope_key_base % 4 == 0;
    const rt_caps *caps = rt_device_caps(ops->dev);
    const uint32_t spec[8] = {MLA_WORKGROUP,
                              caps->subgroup_size ? caps->subgroup_size : 1,
                              plan->heads,
                              r,
                              dr,
                              cache->type == DSVK_CACHE_Q8_0,
                              plan->positions,
                              wide};
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = rt_pipeline_get(ops->dev, "mla_attention", spec, 8, &pipeline);
    if (status != DSVK_OK)
        return status;
    uint32_t grid[3] = {plan->n_groups, T, n_split};
    op_record(ops, pipeline, spans, 8, &params, sizeof params, grid, op);
    return DSVK_OK;
}

dsvk_status mla_attention(const rt_ops *ops, const mla_shape *shape,
                          const mla_attention_desc *desc, rt_view out)
{
    const char *op = "mla_attention";
    dsvk_status status = check_attention(ops, shape, desc, out);
    if (status != DSVK_OK)
        return status;
    const uint32_t H = shape->n_head, r = shape->kv_lora_rank;
    const uint32_t n_tokens = desc->q.rows / H;
    const uint32_t n_kv = desc->pos0 + n_tokens;
    const bool tiled = n_tokens > MLA_MATVEC_MAX_TOKENS;
    const scratch_layout l = layout_scratch(shape, n_tokens);
    const uint64_t base = desc->scratch_offset;
    rt_view ql = {desc->scratch, base + l.ql, n_tokens * H, r, r};
    rt_view lat = {desc->scratch, base + l.lat, n_tokens * H, r, r};

    core_plan plan = {0};
    status = heads_per_group(ops, shape, &plan.heads);
    if (status != DSVK_OK)
        return status;
    plan.positions = positions_per_lane(ops);
    plan.n_groups = (H + plan.heads - 1) / plan.heads;
    /* The last token sees the whole context, so its splits bound every
     * token's. */
    const uint32_t target = rt_device_caps(ops->dev)->cpu_kernels
                                ? MLA_TARGET_WORKGROUPS_CPU
                                : MLA_TARGET_WORKGROUPS;
    uint32_t wanted =
        desc->n_split ? desc->n_split
                      : choose_splits(target, MLA_WORKGROUP * plan.positions,
                                      n_tokens, plan.n_groups, n_kv);
    if (!bound_splits(shape, n_kv, wanted, &plan))
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: a context of %u positions needs more than %u "
                       "splits to stay within the loop bound",
                       op, n_kv, MLA_MAX_SPLIT_ROWS);
    plan.group_tokens =
        plan.n_split > 1 ? MLA_MAX_SPLIT_ROWS / plan.n_split : n_tokens;

    /* ql_h = W_UK_h^T qn_h: attn_k_b holds W_UK_h^T as r rows of dn. */
    rt_view qn = desc->q;
    qn.cols = shape->qk_nope_head_dim;
    status = indexed_heads(ops, "mla_ql", desc->k_b, qn, ql, tiled);
    for (uint32_t t0 = 0; t0 < n_tokens && status == DSVK_OK;
         t0 += plan.group_tokens) {
        uint32_t T = n_tokens - t0 < plan.group_tokens ? n_tokens - t0
                                                       : plan.group_tokens;
        status = record_core(ops, shape, desc, &l, &plan, t0, T);
    }
    if (status != DSVK_OK)
        return status;
    /* o_h = W_UV_h lat_h: attn_v_b holds W_UV_h as dv rows of r. */
    return indexed_heads(ops, "mla_o", desc->v_b, lat, out, tiled);
}
