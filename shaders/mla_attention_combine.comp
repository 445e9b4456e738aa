#version 450
#extension GL_GOOGLE_include_directive : require
/* Merges the context splits of mla_attention.comp for one head row
 * (workgroup x = t * n_head + h): with M = max_j m_j,
 * lat = sum_j acc_j e^(m_j - M) / sum_j l_j e^(m_j - M) over the splits
 * that start at or before the token's position. */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_mla_combine_params params; };

layout(binding = 0) readonly buffer Part { float part[]; };
layout(binding = 1) readonly buffer Stat { vec2 stat[]; };
layout(binding = 2) writeonly buffer Lat { float lat[]; };

void main()
{
    uint row = gl_WorkGroupID.x;
    uint t = row / params.n_head;
    uint n_valid = min(params.n_split, (params.pos0 + t + params.split_len) /
                                           params.split_len);
    uint first = row * params.n_split;

    float top = -1e30;
    for (uint j = 0u; j < n_valid; j++)
        top = max(top, stat[params.stat_base + first + j].x);
    float total = 0.0;
    for (uint j = 0u; j < n_valid; j++) {
        vec2 s = stat[params.stat_base + first + j];
        total += s.y * exp(s.x - top);
    }

    for (uint d = gl_LocalInvocationIndex; d < params.kv_lora_rank;
         d += WORKGROUP_SIZE) {
        float sum = 0.0;
        for (uint j = 0u; j < n_valid; j++) {
            uint src = params.part.base + (first + j) * params.part.stride;
            float split_max = stat[params.stat_base + first + j].x;
            sum += part[src + d] * exp(split_max - top);
        }
        lat[params.lat.base + row * params.lat.stride + d] = sum / total;
    }
}
