/* A DeepSeek (llama.cpp `deepseek2`) model bound to an open GGUF file:
 * hyperparameters, every weight tensor checked for presence, shape and
 * type, and the sizes `dsvk info` reports. No weight bytes are copied: the
 * tensors point into the gguf_file, which must outlive the model.
 *
 * Shapes below are written as ggml's ne (ne[0] = row length first), the
 * order gguf_tensor uses; in row-major terms a tensor with ne [a, b] is a
 * matrix of b rows of a elements, so `y = W x` has len(x) = a, len(y) = b.
 * Notation as DESIGN.md §2: d = n_embd, H = heads, dn/dr/dv = nope/rope/
 * value head dims, r = kv_lora_rank, rq = q_lora_rank, E = routed experts.
 *
 * Safe on untrusted files: every key and tensor is validated before use.
 * A loaded model is immutable and may be shared between threads. */
#ifndef DSVK_HOST_MODEL_H
#define DSVK_HOST_MODEL_H

#include "dsvk.h"
#include "gguf/gguf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* deepseek2.expert_gating_func values (llama.cpp's numbering). */
typedef enum model_gating {
    MODEL_GATING_SOFTMAX = 1, /* V2: s = softmax(logits) */
    MODEL_GATING_SIGMOID = 2, /* V3: s = sigmoid(logits), choice uses s+bias */
} model_gating;

typedef enum model_rope_scaling {
    MODEL_ROPE_SCALING_NONE,
    MODEL_ROPE_SCALING_LINEAR,
    MODEL_ROPE_SCALING_YARN,
} model_rope_scaling;

typedef struct model_hparams {
    uint32_t n_vocab;
    uint32_t n_ctx_train; /* context_length */
    uint32_t n_embd;      /* d */
    uint32_t n_layer;
    uint32_t n_ff;               /* dense feed-forward width */
    uint32_t n_head;             /* H */
    uint32_t q_lora_rank;        /* rq; 0 = queries not compressed */
    uint32_t kv_lora_rank;       /* r */
    uint32_t qk_nope_head_dim;   /* dn */
    uint32_t qk_rope_head_dim;   /* dr (rope.dimension_count) */
    uint32_t v_head_dim;         /* dv */
    uint32_t n_layer_dense_lead; /* layers [0, this) are dense, others MoE */
    uint32_t n_expert;           /* E, routed experts per MoE layer */
    uint32_t n_expert_used;      /* k, routed experts chosen per token */
    uint32_t n_expert_shared;    /* shared experts, fused into one MLP */
    uint32_t n_ff_exp;           /* width of one expert */
    uint32_t n_expert_groups;    /* <= 1: no group-limited choice */
    uint32_t n_group_used;       /* groups kept per token */
    model_gating gating;
    bool expert_weights_norm;   /* normalise chosen weights to sum 1 */
    float expert_weights_scale; /* then multiply by this */
    float rms_eps;
    float rope_freq_base;
    model_rope_scaling rope_scaling;
    float rope_factor;         /* rope.scaling.factor, 1 when absent */
    uint32_t rope_orig_ctx;    /* rope.scaling.original_context_length */
    float yarn_log_multiplier; /* 0.1 * mscale_all_dim; 0 when absent */

    /* Derived, exactly as llama.cpp derives them. */
    float rope_freq_scale;   /* 1 / rope_factor (1 without scaling) */
    float rope_ext_factor;   /* 1 with YaRN (blend per pair), else 0 */
    float yarn_corr_dims[2]; /* YaRN ramp ends, in pair indices */
    float attn_scale;        /* mscale^2 / sqrt(dn + dr) */
} model_hparams;

/* Which tensors hold W_UK / W_UV (DESIGN.md §2). */
typedef enum model_kv_layout {
    MODEL_KV_SPLIT,  /* attn_k_b + attn_v_b (llama.cpp since its MLA work) */
    MODEL_KV_LEGACY, /* one attn_kv_b */
} model_kv_layout;

/* One block's weights; NULL where the block has no such tensor. */
typedef struct model_layer {
    const gguf_tensor *attn_norm;      /* [d] */
    const gguf_tensor *attn_q;         /* [d, H*(dn+dr)]       rq == 0 */
    const gguf_tensor *attn_q_a;       /* [d, rq]              rq > 0 */
    const gguf_tensor *attn_q_a_norm;  /* [rq]                 rq > 0 */
    const gguf_tensor *attn_q_b;       /* [rq, H*(dn+dr)]      rq > 0 */
    const gguf_tensor *attn_kv_a_mqa;  /* [d, r+dr]: latent then rope key */
    const gguf_tensor *attn_kv_a_norm; /* [r] */
    const gguf_tensor *attn_k_b;    /* [dn, r, H]: per head W_UK_h^T    split */
    const gguf_tensor *attn_v_b;    /* [r, dv, H]: per head W_UV_h      split */
    const gguf_tensor *attn_kv_b;   /* [r, H*(dn+dv)]: per head dn rows of
                                       W_UK_h then dv rows of W_UV_h  legacy */
    const gguf_tensor *attn_output; /* [H*dv, d] */
    const gguf_tensor *ffn_norm;    /* [d] */

    /* Dense layers (index < n_layer_dense_lead). */
    const gguf_tensor *ffn_gate; /* [d, n_ff] */
    const gguf_tensor *ffn_up;   /* [d, n_ff] */
    const gguf_tensor *ffn_down; /* [n_ff, d] */

    /* MoE layers. */
    const gguf_tensor *ffn_gate_inp;  /* [d, E] router */
    const gguf_tensor *exp_probs_b;   /* [E] choice bias (V3), optional */
    const gguf_tensor *ffn_gate_exps; /* [d, n_ff_exp, E] */
    const gguf_tensor *ffn_up_exps;   /* [d, n_ff_exp, E] */
    const gguf_tensor *ffn_down_exps; /* [n_ff_exp, d, E] */
    /* Shared experts, present when n_expert_shared > 0; their width is
     * n_ff_exp * n_expert_shared (llama.cpp fuses them into one MLP). */
    const gguf_tensor *ffn_gate_shexp; /* [d, n_ff_exp*n_expert_shared] */
    const gguf_tensor *ffn_up_shexp;   /* [d, n_ff_exp*n_expert_shared] */
    const gguf_tensor *ffn_down_shexp; /* [n_ff_exp*n_expert_shared, d] */
} model_layer;

/* What `dsvk info` prints about size. */
typedef struct model_stats {
    uint64_t n_params;        /* elements of every bound tensor */
    uint64_t n_params_active; /* per token: n_params minus the routed
                                 experts a token does not use */
    /* Bytes of f16 KV cache per token: the latent cache (r + dr values per
     * layer) and, for comparison, an ordinary multi-head cache holding
     * per-head keys and values (H*(dn+dr) + H*dv per layer). */
    uint64_t latent_cache_bytes_per_token;
    uint64_t mha_cache_bytes_per_token;
} model_stats;

typedef struct model {
    const gguf_file *file; /* borrowed; must outlive the model */
    model_hparams hp;
    model_kv_layout kv_layout;
    const gguf_tensor *token_embd;  /* [d, n_vocab] */
    const gguf_tensor *output_norm; /* [d] */
    const gguf_tensor *output;      /* [d, n_vocab]; token_embd when tied */
    bool output_tied;               /* the file has no output.weight */
    model_layer *layers;            /* [n_layer] */
    model_stats stats;
} model;

/* Reads the hyperparameters of a `deepseek2` GGUF and binds its tensors.
 * On failure *out is NULL and err holds one line, e.g. "missing tensor
 * 'blk.3.ffn_up_exps.weight'" or "tensor 'blk.0.attn_q.weight' has shape
 * [64, 96], expected [64, 72]". Returns DSVK_ERROR_BAD_MODEL for files
 * that are well-formed GGUF but not a model dsvk can run. */
dsvk_status model_load(const gguf_file *file, model **out, char *err,
                       size_t err_size);
void model_free(model *m); /* accepts NULL */

/* Only the hyperparameters (derived values included), checked as
 * model_load checks them, without binding tensors: enough for files that
 * hold metadata alone, such as vocab-only GGUFs. Errors as model_load. */
dsvk_status model_read_hparams(const gguf_file *file, model_hparams *hp,
                               char *err, size_t err_size);

/* True for layers that use routed experts. */
bool model_layer_is_moe(const model *m, uint32_t layer);

/* Bytes of latent cache per position, all layers, as `type` stores it
 * (host/forward/latent_cache.h); 0 when the shape cannot be stored so. */
uint64_t model_latent_bytes_per_token(const model_hparams *hp,
                                      dsvk_cache_type type);

#endif
