/* Plain C references for the DeepSeek-specific GPU ops (host/forward/ops_mla.h,
 * host/forward/ops_moe.h): obviously-correct loops over f32 arrays, written
 * from DESIGN.md §2 rather than from the shaders. Weights are already
 * dequantized to f32, in their GGUF row order. */
#ifndef DSVK_TESTS_REF_MODEL_OPS_H
#define DSVK_TESTS_REF_MODEL_OPS_H

#include <stdbool.h>
#include <stdint.h>

/* Rounds to the nearest f16 value, as the latent cache stores it. */
float ref_round_f16(float x);

typedef struct ref_mla_shape {
    uint32_t n_head;           /* H */
    uint32_t qk_nope_head_dim; /* dn */
    uint32_t qk_rope_head_dim; /* dr */
    uint32_t v_head_dim;       /* dv */
    uint32_t kv_lora_rank;     /* r */
} ref_mla_shape;

/* MLA attention of T new tokens at positions pos0..pos0+T-1, computed in
 * the decompressed form (per-head keys and values materialised from the
 * latent), so that it also checks the GPU's absorbed form:
 *   q        [T][H][dn+dr]  (rope already applied to the last dr)
 *   latent   [pos0+T][r]    cache contents c
 *   rope_key [pos0+T][dr]   cache contents kpe
 *   k_b      [H][r][dn]     attn_k_b (W_UK_h transposed, per head)
 *   v_b      [H][dv][r]     attn_v_b (W_UV_h, per head)
 *   out      [T][H][dv] */
void ref_mla_attention(const ref_mla_shape *shape, uint32_t n_tokens,
                       uint32_t pos0, float scale, const float *q,
                       const float *latent, const float *rope_key,
                       const float *k_b, const float *v_b, float *out);

typedef struct ref_moe_router {
    uint32_t n_expert;      /* E */
    uint32_t n_expert_used; /* k */
    bool sigmoid;           /* sigmoid gating (V3), else softmax (V2) */
    const float *bias;      /* [E] exp_probs_b, or NULL */
    uint32_t n_group;       /* <= 1: no group-limited choice */
    uint32_t n_group_used;
    bool weights_norm;
    float weights_scale;
} ref_moe_router;

/* Routing of T tokens: logits [T][E] -> ids [T][k] in order of decreasing
 * choice score (ties: lower expert index first) and weights [T][k]. */
void ref_moe_route(const ref_moe_router *router, uint32_t n_tokens,
                   const float *logits, uint32_t *ids, float *weights);

/* Routed experts of T tokens: y[t] = sum_j weights[t][j] *
 * down_e (silu(gate_e x[t]) * up_e x[t]) with e = ids[t][j].
 *   x [T][d], gate/up [E][n_ff][d], down [E][d][n_ff], y [T][d] */
void ref_moe_experts(uint32_t n_tokens, uint32_t n_embd, uint32_t n_ff,
                     uint32_t n_expert_used, const uint32_t *ids,
                     const float *weights, const float *gate, const float *up,
                     const float *down, const float *x, float *y);

#endif
