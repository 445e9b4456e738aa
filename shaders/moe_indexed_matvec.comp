#version 450
#extension GL_GOOGLE_include_directive : require
/* Indexed matrix-vector products (model_op_params.h,
 * dsvk_indexed_product_params): each output row a uses its own matrix of a
 * stack, the head's (MLA's attn_k_b / attn_v_b) or the expert's chosen by
 * moe_route.comp, whose id is read here so the host never sees it. Only
 * the chosen experts' weights are read. Workgroup (x, y) = (ROWS weight
 * rows, output row a; head-indexed: y = t * n_matrices + m - first_matrix).
 * Same scheme as matvec.comp (product_rows.glsl, per device class);
 * weights decoded in registers (weights.glsl). */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_indexed_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; }; /* read too when gated */
layout(binding = 3) readonly buffer Ids { uint ids[]; };

#define WEIGHT_WORDS weight_words
#ifdef WIDE_ROWS
layout(binding = 0) readonly buffer WeightQuads { uvec4 weight_quads[]; };
#define WEIGHT_QUADS weight_quads
#endif
#include "weights.glsl"

#ifdef CPU_KERNELS
#define PRODUCT_ROWS DSVK_CPU_PRODUCT_ROWS
#else
#define PRODUCT_ROWS DSVK_INDEXED_MATVEC_ROWS
#endif
#include "product_rows.glsl"

void main()
{
    uint first_row = product_first_row(gl_WorkGroupID.x);
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
    if (first_row >= params.rows)
        return;
    uint x_row = params.x.base + (a / params.x_div) * params.x.stride;
    uint matrix_byte = params.weight_base + (m - params.first_matrix) *
                                                 params.rows * params.row_bytes;

    uint row_byte[PRODUCT_ROWS];
    bool present[PRODUCT_ROWS];
    for (uint i = 0u; i < PRODUCT_ROWS; i++) {
        present[i] = first_row + i < params.rows;
        row_byte[i] = matrix_byte + (first_row + i) * params.row_bytes;
    }
    float acc[PRODUCT_ROWS];
    product_dot(row_byte, present, x_row, params.cols, acc);

    uint y_row = params.y.base + a * params.y.stride;
    for (uint i = 0u; i < PRODUCT_ROWS; i++) {
        float sum = acc[i];
        if (product_writer() && present[i]) {
            uint o = y_row + first_row + i;
            if (params.gated != 0u) {
                float g = y[o];
                sum *= g / (1.0 + exp(-g)); /* silu(gate) */
            }
            y[o] = sum;
        }
    }
}
