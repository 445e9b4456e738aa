#version 450
#extension GL_GOOGLE_include_directive : require
/* Matrix-vector products for decode: y[t][r] = sum_c W[r][c] * x[t][c].
 * Each workgroup computes ROWS rows of y for one token (workgroup y index):
 * every invocation accumulates a strided part of each row in f32, then the
 * workgroup reduces (reduce.glsl). Weights are decoded in registers
 * (weights.glsl, WEIGHT_TYPE set by the shader table). */
#include "common.glsl"
#include "reduce.glsl"

layout(push_constant) uniform Push { dsvk_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) writeonly buffer Y { float y[]; };

#define WEIGHT_WORDS weight_words
#include "weights.glsl"

/* Two rows per workgroup halve the reductions' share of the work while
 * keeping enough workgroups for small matrices. */
const uint ROWS = DSVK_MATVEC_ROWS;

void main()
{
    uint first_row = group_index() * ROWS;
    if (first_row >= params.rows)
        return;
    uint tid = gl_LocalInvocationIndex;
    uint x_row = params.x.base + gl_WorkGroupID.y * params.x.stride;
    uint cols = params.cols;
    uint full = cols & ~3u; /* columns read four at a time */

    uint row_byte[ROWS];
    bool present[ROWS];
    float acc[ROWS];
    for (uint i = 0u; i < ROWS; i++) {
        present[i] = first_row + i < params.rows;
        row_byte[i] = params.weight_base + (first_row + i) * params.row_bytes;
        acc[i] = 0.0;
    }

    for (uint c = tid * 4u; c < full; c += WORKGROUP_SIZE * 4u) {
        uint xc = x_row + c;
        vec4 xv = vec4(x[xc], x[xc + 1u], x[xc + 2u], x[xc + 3u]);
        for (uint i = 0u; i < ROWS; i++)
            if (present[i])
                acc[i] += dot(weight_get4(row_byte[i], c), xv);
    }
    /* Odd lengths (F32/F16/BF16 only; block types are multiples of 32). */
    for (uint c = full + tid; c < cols; c += WORKGROUP_SIZE)
        for (uint i = 0u; i < ROWS; i++)
            if (present[i])
                acc[i] += weight_get(row_byte[i], c) * x[x_row + c];

    uint y_row = params.y.base + gl_WorkGroupID.y * params.y.stride;
    for (uint i = 0u; i < ROWS; i++) {
        float sum = reduce_add(acc[i]);
        if (tid == 0u && present[i])
            y[y_row + first_row + i] = sum;
    }
}
