#version 450
#extension GL_GOOGLE_include_directive : require
/* Indexed matrix-vector products (model_op_params.h,
 * dsvk_indexed_product_params): each output row a uses its own matrix of a
 * stack, the head's (MLA's attn_k_b / attn_v_b) or the expert's chosen by
 * moe_route.comp, whose id is read here so the host never sees it. Only
 * the chosen experts' weights are read. Workgroup (x, y) = (ROWS weight
 * rows, output row a; head-indexed: y = t * n_matrices + m - first_matrix).
 * Same scheme as matvec.comp: strided f32 partial sums, then a workgroup
 * reduction; weights decoded in registers (weights.glsl). */
#include "common.glsl"
#include "reduce.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_indexed_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; }; /* read too when gated */
layout(binding = 3) readonly buffer Ids { uint ids[]; };

#define WEIGHT_WORDS weight_words
#include "weights.glsl"

const uint ROWS = DSVK_INDEXED_MATVEC_ROWS;

void main()
{
    uint first_row = gl_WorkGroupID.x * ROWS;
    uint a, m;
    if (params.n_head != 0u) {
        uint t = gl_WorkGroupID.y / params.n_matrices;
        m = params.first_matrix + gl_WorkGroupID.y % params.n_matrices;
        a = t * params.n_head + m;
    } else {
        a = gl_WorkGroupID.y;
        m = ids[params.ids_base + a];
        /* Uniform: experts outside this dispatch's binding are another
         * dispatch's (unsigned wrap-around covers m < first_matrix). */
        if (m - params.first_matrix >= params.n_matrices)
            return;
    }
    uint tid = gl_LocalInvocationIndex;
    uint x_row = params.x.base + (a / params.x_div) * params.x.stride;
    uint matrix_byte = params.weight_base + (m - params.first_matrix) *
                                                 params.rows * params.row_bytes;
    uint cols = params.cols;
    uint full = cols & ~3u; /* columns read four at a time */

    uint row_byte[ROWS];
    bool present[ROWS];
    float acc[ROWS];
    for (uint i = 0u; i < ROWS; i++) {
        present[i] = first_row + i < params.rows;
        row_byte[i] = matrix_byte + (first_row + i) * params.row_bytes;
        acc[i] = 0.0;
    }

    for (uint c = tid * 4u; c < full; c += WORKGROUP_SIZE * 4u) {
        uint xc = x_row + c;
        vec4 xv = vec4(x[xc], x[xc + 1u], x[xc + 2u], x[xc + 3u]);
        for (uint i = 0u; i < ROWS; i++)
            if (present[i])
                acc[i] += dot(weight_get4(row_byte[i], c), xv);
    }
    /* Lengths that are not a multiple of 4 (F32/F16/BF16 only). */
    for (uint c = full + tid; c < cols; c += WORKGROUP_SIZE)
        for (uint i = 0u; i < ROWS; i++)
            if (present[i])
                acc[i] += weight_get(row_byte[i], c) * x[x_row + c];

    uint y_row = params.y.base + a * params.y.stride;
    for (uint i = 0u; i < ROWS; i++) {
        float sum = reduce_add(acc[i]);
        if (tid == 0u && present[i]) {
            uint o = y_row + first_row + i;
            if (params.gated != 0u) {
                float g = y[o];
                sum *= g / (1.0 + exp(-g)); /* silu(gate) */
            }
            y[o] = sum;
        }
    }
}
