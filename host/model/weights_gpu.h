/* A model's weights in device-local memory, ready for the GPU forward pass
 * (forward.h). Every bound tensor of the model (model.h) is uploaded once,
 * each into its own sub-allocation (or beside the tensor it is read
 * with: the query and the latent, gate and up), in the form the ops read:
 *
 * - matrices keep their GGUF type (the shaders decode in registers);
 * - vectors the ops read as F32 (RMSNorm weights, the V3 choice bias
 *   exp_probs_b) are dequantized to F32 when the file stores them otherwise;
 * - legacy files (one attn_kv_b per layer) are converted into the split
 *   attn_k_b / attn_v_b layout mla_attention reads. attn_v_b (per head
 *   W_UV_h: dv rows of r) is a row slice of attn_kv_b and keeps its type
 *   bit for bit. attn_k_b (per head W_UK_h^T: r rows of dn) is a transpose:
 *   F32, F16 and BF16 elements are moved as they are; quantized blocks
 *   cannot be transposed, so they are dequantized and stored as F32. Both
 *   are exact, so the GPU computes with the very weights the CPU reference
 *   does. (F16 would halve this tensor but its rounding, 2^-12 relative,
 *   measurably moved logits — ~2e-4 of their scale on the test models —
 *   while F32 costs under 1% of a quantized model's memory: H*r*dn*4
 *   bytes per layer, 4 MiB for DeepSeek-V2-Lite.)
 *
 * What the GPU cannot run is refused before anything is uploaded, with one
 * line naming the cause: a weight type without a GPU decoder
 * (DSVK_ERROR_UNSUPPORTED, naming tensor and type), latent or rope widths
 * the f16-pair cache cannot hold, more experts than the routing shaders
 * handle, or more weights than the device's memory (needed vs available).
 *
 * The weights are immutable once created; any number of forward sessions
 * may use them, one thread at a time (the device is single-threaded). */
#ifndef DSVK_HOST_WEIGHTS_GPU_H
#define DSVK_HOST_WEIGHTS_GPU_H

#include "model.h"
#include "ops.h"

/* One block's weights; `buffer` is NULL where the block has no such
 * tensor. Shapes as rt_weight: cols = ggml ne[0], rows = ne[1], count =
 * ne[2]. attn_k_b / attn_v_b are always in the split layout. */
typedef struct gpu_layer {
    rt_weight attn_norm;      /* F32 [d] */
    rt_weight attn_q;         /* [H*(dn+dr)] x [d]     rq == 0 */
    rt_weight attn_q_a;       /* [rq] x [d]            rq > 0 */
    rt_weight attn_q_a_norm;  /* F32 [rq] */
    rt_weight attn_q_b;       /* [H*(dn+dr)] x [rq] */
    rt_weight attn_kv_a_mqa;  /* [r+dr] x [d] */
    rt_weight attn_kv_a_norm; /* F32 [r] */
    rt_weight attn_k_b;       /* H x [r] x [dn]: W_UK_h^T */
    rt_weight attn_v_b;       /* H x [dv] x [r]: W_UV_h */
    rt_weight attn_output;    /* [d] x [H*dv] */
    rt_weight ffn_norm;       /* F32 [d] */
    rt_weight ffn_gate;       /* [n_ff] x [d]          dense layers */
    rt_weight ffn_up;         /* [n_ff] x [d] */
    rt_weight ffn_down;       /* [d] x [n_ff] */
    rt_weight ffn_gate_inp;   /* [E] x [d]             MoE layers */
    rt_weight exp_probs_b;    /* F32 [E], optional */
    rt_weight ffn_gate_exps;  /* E x [n_ff_exp] x [d] */
    rt_weight ffn_up_exps;    /* E x [n_ff_exp] x [d] */
    rt_weight ffn_down_exps;  /* E x [d] x [n_ff_exp] */
    rt_weight ffn_gate_shexp; /* [n_ff_exp*n_shared] x [d], optional */
    rt_weight ffn_up_shexp;
    rt_weight ffn_down_shexp; /* [d] x [n_ff_exp*n_shared] */
} gpu_layer;

typedef struct gpu_weights {
    const model *m;        /* borrowed */
    rt_device *dev;        /* borrowed */
    rt_weight token_embd;  /* [n_vocab] x [d] */
    rt_weight output_norm; /* F32 [d] */
    rt_weight output;      /* [n_vocab] x [d]; token_embd's buffer if tied */
    gpu_layer *layers;     /* [n_layer] */
    rt_buffer *buffers;    /* [upload]: a tensor's or a pair's; unused
                              where a tensor joined its pair's */
    uint32_t n_buffers;
    uint64_t bytes; /* device memory the weights occupy */
} gpu_weights;

/* Checks that the device can run the model, then uploads its weights.
 * `m` (and its gguf_file) and `dev` must outlive the result. On failure
 * *out is NULL and err holds one line. */
dsvk_status gpu_weights_create(rt_device *dev, const model *m,
                               gpu_weights **out, char *err, size_t err_size);

/* Reports the bytes of weights uploaded so far, of `total`: before the
 * first tensor and after each one. Returning false cancels the upload. */
typedef bool (*gpu_weights_progress_fn)(void *user, uint64_t done,
                                        uint64_t total);

/* gpu_weights_create with progress reports (dsvk_model_load's progress
 * callback). When `progress` returns false, everything uploaded so far is
 * freed and the call returns DSVK_ERROR_CANCELLED. */
dsvk_status gpu_weights_create_with_progress(rt_device *dev, const model *m,
                                             gpu_weights_progress_fn progress,
                                             void *user, gpu_weights **out,
                                             char *err, size_t err_size);
void gpu_weights_destroy(gpu_weights *w); /* accepts NULL */

#endif
