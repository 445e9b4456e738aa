/* Internals of the forward pass shared by forward.c (sessions and steps),
 * forward_plan.c (memory layout) and forward_layer.c (one block's
 * dispatches). */
#ifndef DSVK_HOST_FORWARD_PRIVATE_H
#define DSVK_HOST_FORWARD_PRIVATE_H

#include "forward.h"
#include "ops_mla.h"
#include "ops_moe.h"

/* Batches up to this many tokens run their products as matvecs, longer
 * ones as tiled matmuls. The matvec reads every weight row once per token;
 * the matmul reads it once per tile of 32 tokens, so it costs the same for
 * 1 to 32 tokens. Measured on lavapipe (DeepSeek-V2-Lite attention
 * geometry, 27 layers, Q8_0), one step's products took 5-7 times longer
 * as matmuls than as matvecs for one token and about the same at 8, so
 * the matvec wins up to about 8 tokens. (The MLA and MoE launchers choose
 * their own kernels, switching at 4 tokens.) */
#define FORWARD_MATVEC_MAX_TOKENS 8u

/* Byte offsets of one step's activations in the activation buffer, for
 * max_batch tokens (B). Every region starts on a 256-byte boundary, the
 * largest minStorageBufferOffsetAlignment Vulkan allows. Shapes are f32
 * [rows][cols]. */
typedef struct forward_plan {
    uint32_t max_batch; /* B */
    uint32_t ffn_width; /* W: the dense layers' SwiGLU width n_ff */
    uint64_t hidden;    /* [B][d] residual stream h */
    uint64_t normed;    /* [B][d] RMSNorm(h) * weight */
    uint64_t q_a;       /* [B][rq] compressed query (rq > 0) */
    uint64_t q;         /* [B][H][dn + dr] */
    uint64_t kv;        /* [B][r + dr] latent and rope key before caching */
    uint64_t heads;     /* [B][H][dv] concat_h o_h */
    uint64_t ffn;       /* [B][W] SwiGLU gate, then silu(gate) * up */
    uint64_t router;    /* [B][E] router logits */
    uint64_t logits;    /* [B][n_vocab] */
    uint64_t mla_scratch;
    uint64_t moe_scratch;
    /* Routes of each MoE layer (kept per layer for on_routing): layer
     * index i (counting MoE layers) has ids [B][k] uint32 at routes + i *
     * route_layer_bytes and weights [B][k] f32 route_weights_offset
     * further. */
    uint64_t routes;
    uint64_t route_layer_bytes;
    uint64_t route_weights_offset;
    /* One uint32, zero between dispatches: the workgroup counter of the
     * norms that products do after themselves (rt_norm_after). */
    uint64_t norm_counter;
    uint64_t end; /* activation buffer size */
    /* Readback buffer: logits [B][n_vocab] f32, then greedy ids [B]. */
    uint64_t readback_greedy;
    uint64_t readback_end;
    /* Latent cache buffer: per layer c [n_ctx][r] f16 at latent + il *
     * latent_layer_bytes, kpe [n_ctx][dr] f16 at rope_key + il *
     * rope_key_layer_bytes. */
    uint64_t latent, latent_layer_bytes;
    uint64_t rope_key, rope_key_layer_bytes;
    uint64_t cache_end;
} forward_plan;

struct forward {
    const gpu_weights *w;
    const model *m;
    rt_device *dev;
    forward_desc desc;
    uint32_t n_ctx;
    uint32_t pos;
    forward_plan plan;
    rt_recorder *rec;
    rt_ops ops;
    rt_buffer activations; /* device-local, forward_plan layout */
    rt_buffer latent_cache;
    rt_buffer token_ids; /* host-visible [B] uint32, written before submit */
    rt_buffer readback;  /* host-visible logits and greedy ids */
    mla_shape mla;
    mla_latent_cache *caches; /* [n_layer] */
    moe_router router;
    rt_rope rope;
    char err[512];
};

/* Lays out the activations, readback and latent cache for desc's batch
 * (lowered until every activation fits one binding) and n_ctx. */
dsvk_status forward_plan_make(forward *f, uint32_t max_batch);

/* An activation region as a view: rows of cols f32, contiguous. */
rt_view forward_rows(const forward *f, uint64_t offset, uint32_t rows,
                     uint32_t cols);

/* y = epilogue(W x) with the kernel FORWARD_MATVEC_MAX_TOKENS picks for
 * x.rows, then `norm` (NULL: none). */
dsvk_status forward_product(const forward *f, const rt_weight *w, rt_view x,
                            rt_view y, rt_epilogue epilogue,
                            const rt_norm_after *norm);

/* Records block `layer` for T tokens at positions pos0 .. pos0 + T - 1:
 * reads and updates the residual stream in plan.hidden. *normed says
 * whether plan.normed already holds RMSNorm(h) with the layer's attn_norm
 * (else the layer records that norm); on return, whether it holds
 * RMSNorm(h) with next_norm, which the layer's last product leaves there
 * where it does the norm in its own dispatch (decode, dense layers). */
dsvk_status forward_record_layer(forward *f, uint32_t layer, uint32_t T,
                                 uint32_t pos0, const rt_weight *next_norm,
                                 bool *normed);

/* The routes of MoE layer `layer` for T tokens, in the activation buffer. */
moe_routes forward_layer_routes(const forward *f, uint32_t layer, uint32_t T);

#endif
