#version 450
#extension GL_GOOGLE_include_directive : require
/* Rotary position embedding with YaRN (rope.glsl), in place, on adjacent
 * pairs (x[2i], x[2i+1]) of each row, one invocation per pair; row r is at
 * position pos0 + r / rows_per_position (rows_per_position = heads for
 * q). */
#include "common.glsl"
#include "rope.glsl"

layout(push_constant) uniform Push { dsvk_rope_params params; };

layout(binding = 0) buffer X { float x[]; };

void main()
{
    uint pairs = params.cols / 2u;
    uint index = group_index() * WORKGROUP_SIZE + gl_LocalInvocationIndex;
    if (index >= params.rows * pairs)
        return;
    uint row = index / pairs;
    uint pair = index % pairs;
    float pos = float(params.pos0 + row / params.rows_per_position);
    uint at = params.x.base + row * params.x.stride + pair * 2u;
    vec2 v = rope_rotate(params.freq, pos, pair, vec2(x[at], x[at + 1u]));
    x[at] = v.x;
    x[at + 1u] = v.y;
}
