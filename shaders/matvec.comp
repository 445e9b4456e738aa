#version 450
#extension GL_GOOGLE_include_directive : require
/* Matrix-vector products for decode: y[t][r] = sum_c W[r][c] * x[t][c].
 * Each workgroup computes PRODUCT_GROUP_ROWS rows of y for one token
 * (workgroup y index), in the shape of the device class (product_rows.glsl:
 * a workgroup per row pair on GPUs, rows per invocation on CPU drivers).
 * Weights are decoded in registers (weights.glsl, WEIGHT_TYPE set by the
 * shader table). */
#include "common.glsl"

layout(push_constant) uniform Push { dsvk_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) writeonly buffer Y { float y[]; };

#define WEIGHT_WORDS weight_words
#ifdef WIDE_ROWS
layout(binding = 0) readonly buffer WeightQuads { uvec4 weight_quads[]; };
#define WEIGHT_QUADS weight_quads
#endif
#include "weights.glsl"

#ifdef CPU_KERNELS
#define PRODUCT_ROWS DSVK_CPU_PRODUCT_ROWS
#else
/* Two rows per workgroup halve the reductions' share of the work while
 * keeping enough workgroups for small matrices. */
#define PRODUCT_ROWS DSVK_MATVEC_ROWS
#endif
#include "product_rows.glsl"

void main()
{
    uint first_row = product_first_row(group_index());
    /* Uniform on GPUs (one workgroup, one row pair); on CPU drivers the
     * invocations past the end simply have no rows. */
    if (first_row >= params.rows)
        return;
    uint x_row = params.x.base + gl_WorkGroupID.y * params.x.stride;

    uint row_byte[PRODUCT_ROWS];
    bool present[PRODUCT_ROWS];
    for (uint i = 0u; i < PRODUCT_ROWS; i++) {
        present[i] = first_row + i < params.rows;
        row_byte[i] = params.weight_base + (first_row + i) * params.row_bytes;
    }
    float acc[PRODUCT_ROWS];
    product_dot(row_byte, present, x_row, params.cols, acc);

    uint y_row = params.y.base + gl_WorkGroupID.y * params.y.stride;
    for (uint i = 0u; i < PRODUCT_ROWS; i++)
        if (product_writer() && present[i])
            y[y_row + first_row + i] = acc[i];
}
