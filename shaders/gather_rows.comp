#version 450
#extension GL_GOOGLE_include_directive : require
/* Row gather (token embedding lookup): result[t] = decode(table[ids[t]]),
 * one invocation per output element. A table larger than one binding may
 * cover is gathered by several dispatches, each binding table rows
 * [first_row, first_row + table_rows) and writing only the tokens whose id
 * falls there; the ids live on the GPU, so every dispatch reads them all. */
#include "common.glsl"

layout(push_constant) uniform Push { dsvk_gather_params params; };

layout(binding = 0) readonly buffer Table { uint table_words[]; };
layout(binding = 1) readonly buffer Ids { uint ids[]; };
layout(binding = 2) writeonly buffer Result { float result[]; };

#define WEIGHT_WORDS table_words
#include "weights.glsl"

void main()
{
    uint index = group_index() * WORKGROUP_SIZE + gl_LocalInvocationIndex;
    if (index >= params.rows * params.cols)
        return;
    uint token = index / params.cols;
    uint col = index % params.cols;
    /* Unsigned: ids below first_row wrap to large values and fail too. */
    uint table_row = ids[params.ids_base + token] - params.first_row;
    if (table_row >= params.table_rows)
        return;
    float v = weight_get(params.weight_base + table_row * params.row_bytes,
                         col);
    result[params.result.base + token * params.result.stride + col] = v;
}
