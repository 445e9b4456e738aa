#version 450
#extension GL_GOOGLE_include_directive : require
/* Index of the largest element of each row (greedy sampling), one workgroup
 * per row. Ties go to the first index. NaN never wins (every comparison with
 * it is false); a row of only NaN gives 0. */
#include "common.glsl"
#include "reduce.glsl"

layout(push_constant) uniform Push { dsvk_argmax_params params; };

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) writeonly buffer Result { uint result[]; };

const uint NO_INDEX = 0xffffffffu;

void main()
{
    uint row = group_index();
    if (row >= params.rows)
        return;
    uint tid = gl_LocalInvocationIndex;
    uint x_row = params.x.base + row * params.x.stride;

    /* Each invocation visits its columns in increasing order, so keeping the
     * first strict maximum keeps its first index; -inf still wins over the
     * empty start so that a row of -inf returns its first index. */
    float best = -1.0 / 0.0;
    uint best_index = NO_INDEX;
    for (uint c = tid; c < params.cols; c += WORKGROUP_SIZE) {
        float v = x[x_row + c];
        if (v > best || (v == best && best_index == NO_INDEX)) {
            best = v;
            best_index = c;
        }
    }
    float largest = reduce_max(best);
    uint index = reduce_min(best == largest ? best_index : NO_INDEX);
    if (tid == 0u)
        result[params.result_base + row] = index == NO_INDEX ? 0u : index;
}
