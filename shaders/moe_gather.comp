#version 450
#extension GL_GOOGLE_include_directive : require
/* Copies each assignment's x row into the expert-ordered slots that
 * moe_group.comp listed: out[i] = x[list[p] / x_div] for slot p =
 * first_slot + i, nothing for DSVK_MOE_NONE slots. The CPU-class grouped
 * expert products then read a tile's x rows as one contiguous range, which
 * fits their uniform binding. Workgroup (x, y) = (columns, i). */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_moe_gather_params params; };

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer List { uint list[]; };
layout(binding = 2) writeonly buffer Out { float out_rows[]; };

void main()
{
    uint i = gl_WorkGroupID.y;
    uint c = gl_GlobalInvocationID.x;
    uint a = list[params.list_base + params.first_slot + i];
    if (c >= params.cols || a == DSVK_MOE_NONE)
        return;
    out_rows[params.out_rows.base + i * params.out_rows.stride + c] =
        x[params.x.base + (a / params.x_div) * params.x.stride + c];
}
