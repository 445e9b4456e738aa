#version 450
#extension GL_GOOGLE_include_directive : require
/* Weighted sum of the routed experts' outputs of each token,
 * y[t] (+)= sum_j weights[t][j] * part[t * k + j], summed in slot order so
 * the result is deterministic (no float atomics). Workgroup (x, y) =
 * (columns, token). */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_moe_combine_params params; };

/* part [T * k][d], weights [T][k], y [T][d] */
layout(binding = 0) readonly buffer Part { float part[]; };
layout(binding = 1) readonly buffer Weights { float weights[]; };
layout(binding = 2) buffer Y { float y[]; };

void main()
{
    uint t = gl_WorkGroupID.y;
    uint c = gl_GlobalInvocationID.x;
    if (c >= params.n_embd)
        return;
    uint k = params.n_expert_used;
    float sum = 0.0;
    for (uint j = 0u; j < k; j++)
        sum += weights[params.weights_base + t * k + j] *
               part[params.part.base + (t * k + j) * params.part.stride + c];
    uint o = params.y.base + t * params.y.stride + c;
    y[o] = params.accumulate != 0u ? y[o] + sum : sum;
}
