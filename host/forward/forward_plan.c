/* Memory layout of a forward session, planned once for the largest step:
 * a few buffers with fixed offsets, so recording a step allocates nothing. */
#include "forward_private.h"

#include "op_launch.h"

#include <stdarg.h>
#include <stdio.h>

/* Regions start on this boundary: the largest minStorageBufferOffsetAlignment
 * Vulkan allows. */
#define PLAN_ALIGN 256u

static uint64_t align_up(uint64_t n)
{
    return (n + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Bytes per token of the widest activation one binding covers: a step of
 * T tokens binds T times this at most. */
static uint64_t widest_token_bytes(const model_hparams *hp, uint32_t ffn_width)
{
    const uint64_t H = hp->n_head, r = hp->kv_lora_rank;
    const uint64_t dr = hp->qk_rope_head_dim, k = hp->n_expert_used;
    uint64_t n = max_u64(hp->n_embd, hp->n_vocab);
    n = max_u64(n, hp->q_lora_rank);
    n = max_u64(n, H * (hp->qk_nope_head_dim + dr));
    n = max_u64(n, r + dr);
    n = max_u64(n, H * hp->v_head_dim);
    n = max_u64(n, ffn_width);
    n = max_u64(n, hp->n_expert);
    n = max_u64(n, H * r); /* mla_attention's per-head latents */
    /* moe_experts' per-slot and shared hidden, bound together */
    n = max_u64(n, (k + hp->n_expert_shared) * hp->n_ff_exp);
    n = max_u64(n, k * hp->n_embd); /* and outputs */
    return n * 4;
}

static dsvk_status fail(forward *f, dsvk_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static dsvk_status fail(forward *f, dsvk_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
    return status;
}

/* What one binding may cover, less the alignment a binding may start
 * early by. */
static uint64_t binding_room(const forward *f)
{
    return op_binding_limit(&f->ops) - op_binding_alignment(&f->ops);
}

static dsvk_status choose_batch(forward *f, uint32_t wanted)
{
    const model_hparams *hp = &f->m->hp;
    forward_plan *p = &f->plan;
    const uint64_t room = binding_room(f);
    const uint64_t per_token = widest_token_bytes(hp, p->ffn_width);
    uint64_t fits = room / per_token;
    if (fits == 0)
        return fail(f, DSVK_ERROR_UNSUPPORTED,
                    "one token's activations (%llu bytes) exceed a storage "
                    "buffer binding (%llu bytes)",
                    (unsigned long long)per_token, (unsigned long long)room);
    p->max_batch = fits < wanted ? (uint32_t)fits : wanted;
    /* The expert grouping's loop bound caps a step's assignments. */
    const uint32_t k = hp->n_expert_used ? hp->n_expert_used : 1;
    if (p->max_batch > MOE_MAX_ASSIGNMENTS / k)
        p->max_batch = MOE_MAX_ASSIGNMENTS / k;
    /* mla_attention's split partials do not grow with the batch. */
    uint64_t partials =
        (uint64_t)MLA_MAX_SPLIT_ROWS * hp->n_head * hp->kv_lora_rank * 4;
    if (partials > room)
        return fail(f, DSVK_ERROR_UNSUPPORTED,
                    "the attention's split partials (%llu bytes) exceed a "
                    "storage buffer binding (%llu bytes)",
                    (unsigned long long)partials, (unsigned long long)room);
    return DSVK_OK;
}

static void plan_activations(forward *f)
{
    const model_hparams *hp = &f->m->hp;
    forward_plan *p = &f->plan;
    const uint64_t B = p->max_batch, d = hp->n_embd, H = hp->n_head;
    const uint64_t r = hp->kv_lora_rank, dr = hp->qk_rope_head_dim;
    uint64_t at = 0;
#define REGION(field, bytes)                                                   \
    do {                                                                       \
        p->field = at;                                                         \
        at += align_up(bytes);                                                 \
    } while (0)
    REGION(hidden, B * d * 4);
    REGION(normed, B * d * 4);
    REGION(q_a, B * hp->q_lora_rank * 4);
    REGION(q, B * H * (hp->qk_nope_head_dim + dr) * 4);
    REGION(kv, B * (r + dr) * 4);
    REGION(heads, B * H * hp->v_head_dim * 4);
    REGION(ffn, B * p->ffn_width * 4);
    REGION(router, B * hp->n_expert * 4);
    REGION(logits, B * hp->n_vocab * 4);
    REGION(mla_scratch, mla_attention_scratch_bytes(&f->mla, p->max_batch));
    bool has_moe = hp->n_layer_dense_lead < hp->n_layer;
    REGION(moe_scratch,
           has_moe
               ? moe_experts_scratch_bytes(
                     p->max_batch, hp->n_expert_used, hp->n_embd, hp->n_ff_exp,
                     hp->n_ff_exp * hp->n_expert_shared, hp->n_expert)
               : 0);
    const uint64_t route_bytes = align_up(B * hp->n_expert_used * 4);
    p->route_weights_offset = route_bytes;
    p->route_layer_bytes = 2 * route_bytes;
    REGION(routes,
           p->route_layer_bytes * (hp->n_layer - hp->n_layer_dense_lead));
    REGION(norm_counter, 4);
#undef REGION
    p->end = at;

    p->readback_greedy = align_up(B * hp->n_vocab * 4);
    p->readback_end = p->readback_greedy + align_up(B * 4);
}

static dsvk_status plan_cache(forward *f)
{
    forward_plan *p = &f->plan;
    const uint32_t L = f->m->hp.n_layer;
    const dsvk_cache_type type = f->desc.cache_type;
    if (!latent_row_supported(type, f->mla.kv_lora_rank) ||
        !latent_row_supported(type, f->mla.qk_rope_head_dim))
        return fail(f, DSVK_ERROR_UNSUPPORTED,
                    "a %s latent cache cannot hold rows of kv_lora_rank %u "
                    "and rope dimension %u (q8_0 needs multiples of 4)",
                    dsvk_cache_type_name(type), f->mla.kv_lora_rank,
                    f->mla.qk_rope_head_dim);
    const uint64_t latent = mla_latent_bytes(&f->mla, type, f->n_ctx);
    /* mla_attention binds a layer's whole latent cache. */
    if (latent > binding_room(f))
        return fail(f, DSVK_ERROR_UNSUPPORTED,
                    "a context of %u positions needs %llu bytes of latent "
                    "cache per layer, more than one storage buffer binding "
                    "(%llu bytes): use a shorter context",
                    f->n_ctx, (unsigned long long)latent,
                    (unsigned long long)binding_room(f));
    p->latent = 0;
    p->latent_layer_bytes = align_up(latent);
    p->rope_key = p->latent_layer_bytes * L;
    p->rope_key_layer_bytes =
        align_up(mla_rope_key_bytes(&f->mla, type, f->n_ctx));
    p->cache_end = p->rope_key + p->rope_key_layer_bytes * L;
    return DSVK_OK;
}

dsvk_status forward_plan_make(forward *f, uint32_t max_batch)
{
    const model_hparams *hp = &f->m->hp;
    forward_plan *p = &f->plan;
    *p = (forward_plan){0};
    bool has_dense = hp->n_layer_dense_lead > 0;
    p->ffn_width = has_dense ? hp->n_ff : 0;
    dsvk_status status = choose_batch(f, max_batch);
    if (status != DSVK_OK)
        return status;
    plan_activations(f);
    return plan_cache(f);
}
