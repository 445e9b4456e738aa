#version 450
#extension GL_GOOGLE_include_directive : require
/* RMSNorm, one workgroup per row:
 *   result[r][c] = x[r][c] / sqrt(mean_c(x[r][c]^2) + eps) * weight[c]
 * (without the weight multiply when has_weight is 0). result may be x
 * (in place): each element is read and written by the same invocation, and
 * every read for the mean happens before the reduction's barriers. */
#include "common.glsl"
#include "reduce.glsl"

layout(push_constant) uniform Push { dsvk_rms_norm_params params; };

layout(binding = 0) readonly buffer X { float x[]; };
/* Norm weights are f32 in GGUF files; without a weight the launcher binds x
 * here, never read, because a statically used binding must be bound. */
layout(binding = 1) readonly buffer Weight { float weight[]; };
layout(binding = 2) writeonly buffer Result { float result[]; };

void main()
{
    uint row = group_index();
    if (row >= params.rows)
        return;
    uint tid = gl_LocalInvocationIndex;
    uint x_row = params.x.base + row * params.x.stride;
    uint result_row = params.result.base + row * params.result.stride;

    float squares = 0.0;
    for (uint c = tid; c < params.cols; c += WORKGROUP_SIZE) {
        float v = x[x_row + c];
        squares += v * v;
    }
    float mean = reduce_add(squares) / float(params.cols);
    float inv_rms = 1.0 / sqrt(mean + params.eps);

    for (uint c = tid; c < params.cols; c += WORKGROUP_SIZE) {
        float v = x[x_row + c] * inv_rms;
        if (params.has_weight != 0u)
            v *= weight[params.weight_base + c];
        result[result_row + c] = v;
    }
}
