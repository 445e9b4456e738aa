/* GPU launchers for Multi-head Latent Attention (DESIGN.md §2, §3): the
 * step's latent, rope key and query prepared and cached, and the absorbed
 * attention over the latent cache. Like the
 * generic ops (runtime/ops.h) they append dispatches to ops->rec and return
 * a dsvk_status with the detail in rt_device_error. Views, weights and
 * buffers must stay alive until the recorder's submit returns. */
#ifndef DSVK_HOST_OPS_MLA_H
#define DSVK_HOST_OPS_MLA_H

#include "latent_cache.h"
#include "ops.h"

/* One layer's attention shape. */
typedef struct mla_shape {
    uint32_t n_head;           /* H */
    uint32_t qk_nope_head_dim; /* dn */
    uint32_t qk_rope_head_dim; /* dr, even */
    uint32_t v_head_dim;       /* dv */
    uint32_t kv_lora_rank;     /* r, even */
} mla_shape;

/* One layer's latent cache in device memory: per position a row of c (r
 * values) and one of kpe (dr values), each laid out as
 * host/forward/latent_cache.h says for the type (f16 pairs or q8_0 quants and
 * scales in 32-bit words), the same bytes on every device. */
typedef struct mla_latent_cache {
    const rt_buffer *buffer;
    uint64_t latent_offset;   /* c   [n_ctx] rows, 4-byte aligned */
    uint64_t rope_key_offset; /* kpe [n_ctx] rows, 4-byte aligned */
    uint32_t n_ctx;
    dsvk_cache_type type;
} mla_latent_cache;

/* Bytes of one layer's c and kpe for n_ctx positions. */
uint64_t mla_latent_bytes(const mla_shape *shape, dsvk_cache_type type,
                          uint32_t n_ctx);
uint64_t mla_rope_key_bytes(const mla_shape *shape, dsvk_cache_type type,
                            uint32_t n_ctx);

/* What the attention needs of T = kv.rows new tokens at positions
 * pos0 .. pos0 + T - 1, as one dispatch (DESIGN.md §2):
 *   c_t = RMSNorm(kv[t][0:r]) * norm and kpe_t = RoPE(kv[t][r:r+dr]),
 *   stored in the cache as its type rounds them (latent_round), and RoPE
 *   on the last dr of every head's query, in place. */
typedef struct mla_prepare_desc {
    rt_view kv; /* T rows of r + dr: attn_kv_a_mqa's output */
    /* T * H rows (row t * H + h) of dn + dr; rows 0: no query. */
    rt_view q;
    const rt_weight *norm; /* attn_kv_a_norm, F32 [r]; NULL: c = kv as is */
    float eps;
    const rt_rope *rope; /* NULL: kpe as is (then there may be no query) */
    uint32_t pos0;
    const mla_latent_cache *cache;
} mla_prepare_desc;

dsvk_status mla_prepare(const rt_ops *ops, const mla_shape *shape,
                        const mla_prepare_desc *desc);

/* The most (token, split) pairs one attention dispatch uses, which bounds
 * the scratch; a batch with more runs as several dispatches of fewer
 * tokens. */
#define MLA_MAX_SPLIT_ROWS 32u

typedef struct mla_attention_desc {
    /* q of T tokens: T * H rows (row t * H + h) of dn + dr, RoPE already
     * applied to the last dr of each. */
    rt_view q;
    uint32_t pos0; /* position of the first token; the cache holds
                      positions 0 .. pos0 + T - 1 (this batch's written) */
    const mla_latent_cache *cache;
    const rt_weight *k_b; /* attn_k_b: cols dn, rows r, count H */
    const rt_weight *v_b; /* attn_v_b: cols r, rows dv, count H */
    float scale;          /* mscale^2 / sqrt(dn + dr) */
    /* Device memory for intermediates, mla_attention_scratch_bytes() long,
     * at a multiple of 16 bytes (bindings are aligned internally). It
     * must be zero before its first use: it holds the split merge
     * counters, which every dispatch leaves at zero again. */
    const rt_buffer *scratch;
    uint64_t scratch_offset;
    /* Context splits per token: 0 chooses (more for short batches and long
     * contexts); tests ask for 1 to MLA_MAX_SPLIT_ROWS. Either way the
     * launcher splits further where a workgroup would otherwise come near
     * lavapipe's loop limit: no invocation runs more than 32768 loop
     * iterations, at any context. */
    uint32_t n_split;
} mla_attention_desc;

/* Bytes of scratch mla_attention needs for n_tokens tokens. */
uint64_t mla_attention_scratch_bytes(const mla_shape *shape, uint32_t n_tokens);

/* Absorbed MLA attention of T = q.rows / H tokens over the latent cache,
 * causal (token t sees positions <= pos0 + t):
 *   ql_h = W_UK_h^T qn_h, score_s = (ql_h·c_s + qp_h·kpe_s) * scale,
 *   o_h = W_UV_h sum_s softmax(score)_s c_s.
 * out: T * H rows of dv (row t * H + h), i.e. concat_h(o_h) per token when
 * contiguous. Weights F32, F16, BF16 or Q8_0. */
dsvk_status mla_attention(const rt_ops *ops, const mla_shape *shape,
                          const mla_attention_desc *desc, rt_view out);

#endif
