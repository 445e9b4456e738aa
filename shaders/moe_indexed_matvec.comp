#version 450
#extension GL_GOOGLE_include_directive : require
/* Indexed matrix-vector products (model_op_params.h,
 * dsvk_indexed_product_params): each output row a uses its own matrix of a
 * stack, the head's (MLA's attn_k_b / attn_v_b) or the expert's chosen by
 * moe_route.comp, whose id is read here so the host never sees it. Only
 * the chosen experts' weights are read. Workgroup (x, y) = (ROWS weight
 * rows, output row a; head-indexed: y = t * n_matrices + m - first_matrix;
 * combining: y = token t). Same scheme as matvec.comp (product_rows.glsl,
 * per device class); weights decoded in registers (weights.glsl).
 *
 * Two fusions save the MoE step dispatches: gate and up in one pass with
 * SwiGLU (pair_swiglu), and the down product with the routing weights'
 * sum over a token's experts (combine), whose epilogue adds the result to
 * the residual stream. */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_indexed_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; }; /* read by the epilogues */
layout(binding = 3) readonly buffer Ids { uint ids[]; };
layout(binding = 4) readonly buffer RouteWeights { float route_weights[]; };

#define WEIGHT_WORDS weight_words
#ifdef WIDE_ROWS
layout(binding = 0) readonly buffer WeightQuads { uvec4 weight_quads[]; };
#define WEIGHT_QUADS weight_quads
#endif
#include "weights.glsl"
#include "epilogue.glsl"

#ifdef CPU_KERNELS
#define PRODUCT_ROWS DSVK_CPU_PRODUCT_ROWS
#else
#define PRODUCT_ROWS DSVK_INDEXED_MATVEC_ROWS
#endif
#include "product_rows.glsl"

/* acc = rows [first_row, ...) of matrix m (bound) times x row x_row. */
void matrix_dot(uint weight_base, uint m, uint first_row, uint x_row,
                out float acc[PRODUCT_ROWS])
{
    uint matrix_byte = weight_base + (m - params.first_matrix) * params.rows *
                                         params.row_bytes;
    uint row_byte[PRODUCT_ROWS];
    bool present[PRODUCT_ROWS];
    for (uint i = 0u; i < PRODUCT_ROWS; i++) {
        present[i] = first_row + i < params.rows;
        row_byte[i] = matrix_byte + (first_row + i) * params.row_bytes;
    }
    product_dot(row_byte, present, x_row, params.cols, acc);
}

uint x_row_of(uint a)
{
    return params.x.base + (a / params.x_div) * params.x.stride;
}

void store(uint y_row, uint first_row, float acc[PRODUCT_ROWS])
{
    for (uint i = 0u; i < PRODUCT_ROWS; i++)
        if (product_writer() && first_row + i < params.rows)
            epilogue_store(params.epilogue, y_row + first_row + i, acc[i]);
}

void main()
{
    uint first_row = product_first_row(gl_WorkGroupID.x);
    if (first_row >= params.rows)
        return;
    float acc[PRODUCT_ROWS];
    if (params.combine != 0u) {
        uint t = gl_WorkGroupID.y;
        float sum[PRODUCT_ROWS];
        for (uint i = 0u; i < PRODUCT_ROWS; i++)
            sum[i] = 0.0;
        for (uint j = 0u; j < params.combine; j++) {
            uint a = t * params.combine + j;
            uint m = ids[params.ids_base + a];
            /* Uniform: another dispatch binds this expert. */
            if (m - params.first_matrix >= params.n_matrices)
                continue;
            matrix_dot(params.weight_base, m, first_row, x_row_of(a), acc);
            float weight = route_weights[params.weights_base + a];
            for (uint i = 0u; i < PRODUCT_ROWS; i++)
                sum[i] += weight * acc[i];
        }
        store(params.y.base + t * params.y.stride, first_row, sum);
        return;
    }
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
    matrix_dot(params.weight_base, m, first_row, x_row_of(a), acc);
    if (params.pair_swiglu != 0u) {
        float up[PRODUCT_ROWS];
        matrix_dot(params.pair_weight_base, m, first_row, x_row_of(a), up);
        for (uint i = 0u; i < PRODUCT_ROWS; i++)
            acc[i] = silu(acc[i]) * up[i];
    }
    store(params.y.base + a * params.y.stride, first_row, acc);
}
