#version 450
#extension GL_GOOGLE_include_directive : require
/* Expert routing, one token per workgroup (DESIGN.md §2): gating softmax
 * (V2) or sigmoid (V3) gives s; choice scores are s (+ exp_probs_b);
 * group-limited choice keeps the best n_group_used groups; the top k
 * experts among them are chosen (ties: lower index) with weights s[chosen],
 * optionally normalised, times the scale. Ids and weights stay on the
 * device for the expert shaders.
 *
 * Choice is by rank: an expert is chosen when fewer than k allowed experts
 * beat it, and its rank is its output slot (so slots are in order of
 * decreasing score). That needs no sort and no reduction tree, is
 * deterministic, and costs E reads per expert, cheap for E <= 256. The
 * maxima and sums are likewise computed by every invocation over shared
 * memory, which gives them identical values without a broadcast.
 *
 * With params.product the workgroup first computes its token's logits,
 * the router's product (ffn_gate_inp times x), which saves the product's
 * own dispatch in decode: WORKGROUP_SIZE / E invocations (at least one)
 * share each expert's row, summing every n-th 4 columns, and their partial
 * sums meet in shared memory. Loop bound: with E * cols <=
 * DSVK_MOE_ROUTE_PRODUCT_MAX_MACS (the launcher checks) each invocation
 * makes at most 2 * MAX_MACS / (4 * WORKGROUP_SIZE) + 2 product
 * iterations (130 at 128), far below lavapipe's 65,535. */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_moe_route_params params; };

/* logits [T][E], bias [E] (exp_probs_b), ids and weights [T][k] */
layout(binding = 0) readonly buffer Logits { float logits[]; };
layout(binding = 1) readonly buffer Bias { float bias[]; };
layout(binding = 2) writeonly buffer Ids { uint ids[]; };
layout(binding = 3) writeonly buffer Weights { float weights[]; };
/* The router's product: its F32 weight [E][cols] and x [T][cols], read
 * 16 bytes at a time (cols, bases and x's stride are multiples of 4). */
layout(binding = 4) readonly buffer RouterWeight { vec4 router_weight[]; };
layout(binding = 5) readonly buffer X { vec4 x[]; };

shared float prob_sh[DSVK_MOE_MAX_EXPERTS];   /* s */
shared float choice_sh[DSVK_MOE_MAX_EXPERTS]; /* s + bias */
shared float group_sh[DSVK_MOE_MAX_EXPERTS];  /* group scores */
shared bool kept_sh[DSVK_MOE_MAX_EXPERTS];    /* the group may be chosen */
shared uint chosen_sh[DSVK_MOE_MAX_EXPERTS_USED];
/* The product's partial sums: entry chunk * E + e (fewer than
 * max(E, WORKGROUP_SIZE) <= DSVK_MOE_MAX_EXPERTS entries). */
shared float partial_sh[DSVK_MOE_MAX_EXPERTS];

/* prob_sh[e] = row e of the router weight . token t's x. */
void router_product(uint t, uint E)
{
    uint tid = gl_LocalInvocationIndex;
    uint chunks = max(1u, WORKGROUP_SIZE / E), quads = params.cols / 4u;
    uint x_row = (params.x.base + t * params.x.stride) / 4u;
    for (uint i = tid; i < E * chunks; i += WORKGROUP_SIZE) {
        uint e = i % E, w_row = params.weight_base / 4u + e * quads;
        float sum = 0.0;
        for (uint q = i / E; q < quads; q += chunks)
            sum += dot(router_weight[w_row + q], x[x_row + q]);
        partial_sh[i] = sum;
    }
    barrier(); /* partial sums complete */
    for (uint e = tid; e < E; e += WORKGROUP_SIZE) {
        float sum = 0.0;
        for (uint chunk = 0u; chunk < chunks; chunk++)
            sum += partial_sh[chunk * E + e];
        prob_sh[e] = sum;
    }
}

void main()
{
    uint tid = gl_LocalInvocationIndex;
    uint t = gl_WorkGroupID.x;
    uint E = params.n_expert;

    if (params.product != 0u)
        router_product(t, E);
    else
        for (uint e = tid; e < E; e += WORKGROUP_SIZE)
            prob_sh[e] =
                logits[params.logits.base + t * params.logits.stride + e];
    /* Slots hold valid expert ids even if NaN logits leave a rank unfilled,
     * so the expert shaders never index outside the stack. */
    if (tid < DSVK_MOE_MAX_EXPERTS_USED)
        chosen_sh[tid] = 0u;
    barrier(); /* logits staged */

    if (params.sigmoid != 0u) {
        for (uint e = tid; e < E; e += WORKGROUP_SIZE)
            prob_sh[e] = 1.0 / (1.0 + exp(-prob_sh[e]));
    } else {
        float top = prob_sh[0];
        for (uint e = 1u; e < E; e++)
            top = max(top, prob_sh[e]);
        barrier(); /* every invocation has the max before entries change */
        for (uint e = tid; e < E; e += WORKGROUP_SIZE)
            prob_sh[e] = exp(prob_sh[e] - top);
        barrier(); /* exponentials complete */
        float total = 0.0;
        for (uint e = 0u; e < E; e++)
            total += prob_sh[e];
        barrier(); /* every invocation has the sum before entries change */
        for (uint e = tid; e < E; e += WORKGROUP_SIZE)
            prob_sh[e] /= total;
    }
    for (uint e = tid; e < E; e += WORKGROUP_SIZE)
        choice_sh[e] = prob_sh[e] + (params.has_bias != 0u
                                         ? bias[params.bias_base + e]
                                         : 0.0);
    barrier(); /* choice scores complete */

    /* Group score: the sum of its two best choice scores (sigmoid, V3
     * noaux_tc) or its best one (softmax, V2 group_limited_greedy). */
    uint group_size = E / params.n_group;
    for (uint g = tid; g < params.n_group; g += WORKGROUP_SIZE) {
        float best = -1e30, second = -1e30;
        for (uint i = 0u; i < group_size; i++) {
            float c = choice_sh[g * group_size + i];
            if (c > best) {
                second = best;
                best = c;
            } else if (c > second) {
                second = c;
            }
        }
        bool top2 = params.sigmoid != 0u && group_size > 1u;
        group_sh[g] = top2 ? best + second : best;
    }
    barrier(); /* group scores complete */
    for (uint g = tid; g < params.n_group; g += WORKGROUP_SIZE) {
        uint better = 0u;
        for (uint o = 0u; o < params.n_group; o++)
            better += uint(group_sh[o] > group_sh[g] ||
                           (group_sh[o] == group_sh[g] && o < g));
        kept_sh[g] = params.n_group == 1u || better < params.n_group_used;
    }
    barrier(); /* kept groups known */

    for (uint e = tid; e < E; e += WORKGROUP_SIZE) {
        if (!kept_sh[e / group_size])
            continue;
        float c = choice_sh[e];
        uint rank = 0u;
        for (uint o = 0u; o < E; o++)
            rank += uint(kept_sh[o / group_size] &&
                         (choice_sh[o] > c || (choice_sh[o] == c && o < e)));
        if (rank < params.n_expert_used)
            chosen_sh[rank] = e;
    }
    barrier(); /* chosen experts known */

    uint k = params.n_expert_used;
    if (tid < k) {
        float sum = 0.0;
        for (uint j = 0u; j < k; j++)
            sum += prob_sh[chosen_sh[j]];
        /* llama.cpp clamps the sum at the smallest normal f16. */
        float norm = params.weights_norm != 0u
                         ? 1.0 / max(sum, 6.103515625e-5)
                         : 1.0;
        uint e = chosen_sh[tid];
        ids[params.ids_base + t * k + tid] = e;
        weights[params.weights_base + t * k + tid] =
            prob_sh[e] * norm * params.weights_scale;
    }
}
