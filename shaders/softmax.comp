#version 450
#extension GL_GOOGLE_include_directive : require
/* Softmax over each row of x * scale, one workgroup per row, subtracting the
 * row maximum before exp. result may be x (in place): each element is read
 * and written by the same invocation, after every read for the maximum and
 * the sum. */
#include "common.glsl"
#include "reduce.glsl"

layout(push_constant) uniform Push { dsvk_softmax_params params; };

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) writeonly buffer Result { float result[]; };

void main()
{
    uint row = group_index();
    if (row >= params.rows)
        return;
    uint tid = gl_LocalInvocationIndex;
    uint x_row = params.x.base + row * params.x.stride;
    uint result_row = params.result.base + row * params.result.stride;
    float scale = params.scale;

    float largest = -1.0 / 0.0;
    for (uint c = tid; c < params.cols; c += WORKGROUP_SIZE)
        largest = max(largest, x[x_row + c] * scale);
    largest = reduce_max(largest);

    float sum = 0.0;
    for (uint c = tid; c < params.cols; c += WORKGROUP_SIZE)
        sum += exp(x[x_row + c] * scale - largest);
    float inv_sum = 1.0 / reduce_add(sum);

    for (uint c = tid; c < params.cols; c += WORKGROUP_SIZE)
        result[result_row + c] = exp(x[x_row + c] * scale - largest) * inv_sum;
}
