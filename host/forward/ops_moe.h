/* GPU launchers for DeepSeekMoE (DESIGN.md §2, §3): routing on the GPU and
 * the routed experts' SwiGLU products reading the chosen ids from device
 * memory, so the host never waits for them. Like the generic ops
 * (runtime/ops.h) they append dispatches to ops->rec and return a
 * dsvk_status with the detail in rt_device_error. Views, weights and
 * buffers must stay alive until the recorder's submit returns. */
#ifndef DSVK_HOST_OPS_MOE_H
#define DSVK_HOST_OPS_MOE_H

#include "ops.h"

#include <stdbool.h>

/* Limits of the routing shaders. */
#define MOE_MAX_EXPERTS 256u
#define MOE_MAX_EXPERTS_USED 8u
/* Most assignments (tokens x experts used) one step may group: the
 * grouping shader scans them in one invocation, which must stay well
 * within lavapipe's loop limit (moe_group.comp states its bound). */
#define MOE_MAX_ASSIGNMENTS 8192u

typedef enum moe_gating {
    MOE_GATING_SOFTMAX = 1, /* V2; GGUF expert_gating_func 1 */
    MOE_GATING_SIGMOID = 2, /* V3; GGUF expert_gating_func 2 */
} moe_gating;

/* One MoE layer's router, from the GGUF metadata. */
typedef struct moe_router {
    uint32_t n_expert;      /* E <= MOE_MAX_EXPERTS */
    uint32_t n_expert_used; /* k <= MOE_MAX_EXPERTS_USED */
    moe_gating gating;
    uint32_t n_group;      /* expert_group_count; 0 or 1: no group choice */
    uint32_t n_group_used; /* expert_group_used_count */
    bool weights_norm;     /* expert_weights_norm */
    float weights_scale;   /* expert_weights_scale (1 when absent) */
} moe_router;

/* The routing of T tokens in device memory: ids [T][k] uint32 (expert
 * indices, in order of decreasing choice score) and weights [T][k] f32. */
typedef struct moe_routes {
    const rt_buffer *buffer;
    uint64_t ids_offset;     /* 4-byte aligned */
    uint64_t weights_offset; /* 4-byte aligned */
    uint32_t n_tokens;
    uint32_t n_expert_used;
} moe_routes;

/* Routes logits (T rows of E, from ffn_gate_inp) into `routes`: gating
 * softmax or sigmoid; choice scores s (+ bias: exp_probs_b, an F32 vector of
 * E, or NULL); the best n_group_used groups when n_group > 1 (group score:
 * sigmoid, sum of its top-2 choice scores; softmax, its max); the top k
 * experts of those groups (ties: lower index); weights s[chosen],
 * normalised to sum 1 if weights_norm, times weights_scale. */
dsvk_status moe_route(const rt_ops *ops, const moe_router *router,
                      rt_view logits, const rt_weight *bias,
                      const moe_routes *routes);

/* The router's product (ffn_gate_inp, `weight`, times x: T rows of
 * n_embd) and moe_route in one dispatch, each token's workgroup computing
 * its logits itself: for decode, where the product's own dispatch costs
 * more than the product. moe_route_product_fits says where it runs: an
 * F32 weight of E rows, E * n_embd at most MOE_ROUTE_PRODUCT_MAX_MACS, rows
 * of whole 16-byte words from 16-byte aligned starts (weight and x), and T
 * at most MOE_ROUTE_PRODUCT_MAX_TOKENS; elsewhere it fails, and the caller
 * runs the product, then moe_route. */
#define MOE_ROUTE_PRODUCT_MAX_TOKENS 8u
#define MOE_ROUTE_PRODUCT_MAX_MACS 65536u
bool moe_route_product_fits(const moe_router *router, const rt_weight *weight,
                            rt_view x);
dsvk_status moe_route_product(const rt_ops *ops, const moe_router *router,
                              const rt_weight *weight, rt_view x,
                              const rt_weight *bias, const moe_routes *routes);

/* One layer's routed experts (ffn_*_exps), stacked over experts. */
typedef struct moe_experts {
    const rt_weight *gate; /* cols n_embd, rows n_ff, count E */
    const rt_weight *up;   /* cols n_embd, rows n_ff, count E */
    const rt_weight *down; /* cols n_ff, rows n_embd, count E */
} moe_experts;

typedef enum moe_path {
    MOE_PATH_AUTO = 0,  /* per token for short batches, else grouped */
    MOE_PATH_PER_TOKEN, /* k matrix-vector products per token */
    MOE_PATH_GROUPED,   /* tokens grouped by expert, one matmul each */
} moe_path;

typedef struct moe_experts_desc {
    const moe_experts *experts;
    const moe_routes *routes;
    rt_view x; /* T rows of n_embd */
    /* Device memory for intermediates, moe_experts_scratch_bytes() long, at
     * a multiple of 16 bytes (bindings are aligned internally). */
    const rt_buffer *scratch;
    uint64_t scratch_offset;
    moe_path path;
    bool accumulate; /* add to y (the residual stream) instead of
                        overwriting it */
    /* The always-on shared experts or NULL: gate and up [n_ff_shared]
     * [n_embd], down [n_embd][n_ff_shared], one matrix each. Per token
     * they run inside the routed experts' dispatches where their weights
     * share the routed ones' binding (one type, one buffer: model loading
     * places them so), else as products of their own. */
    const moe_experts *shared;
} moe_experts_desc;

uint64_t moe_experts_scratch_bytes(uint32_t n_tokens, uint32_t n_expert_used,
                                   uint32_t n_embd, uint32_t n_ff,
                                   uint32_t n_ff_shared, uint32_t n_expert);

/* y[t] (+)= sum_j w[t][j] * down_e(silu(gate_e x[t]) * up_e x[t]) (+ the
 * shared experts' SwiGLU of x[t]), e = ids[t][j]: only the chosen experts'
 * weights are read, summed in slot order (deterministic). y: T rows of n_embd,
 * not overlapping x. Weights F32, F16, BF16 or Q8_0; a stack larger than one
 * binding is split by experts over several dispatches. */
dsvk_status moe_experts_forward(const rt_ops *ops, const moe_experts_desc *desc,
                                rt_view y);

#endif
