#version 450
#extension GL_GOOGLE_include_directive : require
/* Matrix-vector products for decode: y[t][r] = sum_c W[r][c] * x[t][c],
 * then the epilogue (epilogue.glsl: store, residual add or SwiGLU gate).
 * Each workgroup computes PRODUCT_GROUP_ROWS rows of y for WEIGHT_TOKENS
 * tokens from y index * WEIGHT_TOKENS (a prompt's CPU-class kernels take
 * several, everything else one), in the shape of the device class
 * (product_rows.glsl: a workgroup per row pair on GPUs, rows per
 * invocation on CPU drivers).
 * Weights are decoded in registers (weights.glsl, WEIGHT_TYPE set by the
 * shader table).
 *
 * A second weight of the same type may share the dispatch (params.pair),
 * read through the same binding from the same x, which saves a dispatch:
 *   DSVK_PAIR_CONCAT: the workgroups from pair_first_group on compute its
 *     rows into pair_y, with its own epilogue (attn_q beside
 *     attn_kv_a_mqa);
 *   DSVK_PAIR_SWIGLU: every invocation computes a row of both, and the
 *     result is silu(W x) * (W2 x) (gate and up).
 *
 * With params.norm_after (unpaired, every row in this dispatch) the last
 * workgroup also writes RMSNorm(y) (norm_after.glsl): a residual add and
 * the norm after it in one dispatch. */
#include "common.glsl"

layout(push_constant) uniform Push { dsvk_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
/* Read by the epilogues; coherent for norm_after's last workgroup. */
layout(binding = 2) coherent buffer Y { float y[]; };
/* norm_after's: without it the launcher binds y at each, never used. */
layout(binding = 3) readonly buffer NormWeight { float norm_weight[]; };
layout(binding = 4) writeonly buffer NormResult { float norm_result[]; };
layout(binding = 5) coherent buffer NormCounter { uint norm_counter[]; };

#define WEIGHT_WORDS weight_words
#ifdef WIDE_ROWS
/* The weights again as 16-byte words of two 64-bit halves (weights.glsl's
 * weight_quad says why). */
#extension GL_ARB_gpu_shader_int64 : require
layout(binding = 0) readonly buffer WeightQuads { u64vec2 weight_quads[]; };
#define WEIGHT_QUADS weight_quads
#endif
#include "weights.glsl"
#include "epilogue.glsl"

#ifdef CPU_KERNELS
#define PRODUCT_ROWS DSVK_CPU_PRODUCT_ROWS
#else
/* Two rows per workgroup halve the reductions' share of the work while
 * keeping enough workgroups for small matrices. */
#define PRODUCT_ROWS DSVK_MATVEC_ROWS
#endif
#include "product_rows.glsl"
#include "norm_after.glsl"

/* This workgroup's rows of y (none where it has none: norm_after needs
 * every invocation afterwards). */
void product(uint group)
{
    uint rows = params.rows, weight_base = params.weight_base;
    uint epilogue = params.epilogue;
    dsvk_view out_view = params.y;
    /* Uniform per workgroup: which weight this workgroup's rows are of. */
    if (params.pair == DSVK_PAIR_CONCAT && group >= params.pair_first_group) {
        group -= params.pair_first_group;
        rows = params.pair_rows;
        weight_base = params.pair_weight_base;
        epilogue = params.pair_epilogue;
        out_view = params.pair_y;
    }
    uint first_row = product_first_row(group);
    /* Uniform on GPUs (one workgroup, one row pair); on CPU drivers the
     * invocations past the end simply have no rows. */
    if (first_row >= rows)
        return;
    /* Past the last token, the tile repeats it: reads stay inside x and
     * only real tokens are stored. */
    uint first_token = gl_WorkGroupID.y * WEIGHT_TOKENS;
    uint x_row[WEIGHT_TOKENS];
    for (uint t = 0u; t < WEIGHT_TOKENS; t++)
        x_row[t] = params.x.base +
                   min(first_token + t, params.tokens - 1u) * params.x.stride;

    /* SwiGLU: the gate's rows, then the up's; one product_dot call site,
     * because each inlined copy costs lavapipe seconds of compilation. */
    uint n_terms = params.pair == DSVK_PAIR_SWIGLU ? 2u : 1u;
    float acc[PRODUCT_ROWS][WEIGHT_TOKENS], gate[PRODUCT_ROWS][WEIGHT_TOKENS];
    for (uint i = 0u; i < PRODUCT_ROWS; i++)
        for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            acc[i][t] = 0.0;
    [[dont_unroll]] for (uint j = 0u; j < n_terms; j++) {
        uint base = j == 0u ? weight_base : params.pair_weight_base;
        uint row_byte[PRODUCT_ROWS];
        bool present[PRODUCT_ROWS];
        for (uint i = 0u; i < PRODUCT_ROWS; i++) {
            present[i] = first_row + i < rows;
            row_byte[i] = base + (first_row + i) * params.row_bytes;
        }
        gate = acc;
        product_dot(row_byte, present, x_row, params.cols, acc);
    }
    if (n_terms == 2u)
        for (uint i = 0u; i < PRODUCT_ROWS; i++)
            for (uint t = 0u; t < WEIGHT_TOKENS; t++)
                acc[i][t] = silu(gate[i][t]) * acc[i][t];

    for (uint t = 0u; t < WEIGHT_TOKENS; t++) {
        if (first_token + t >= params.tokens)
            break;
        uint y_row = out_view.base + (first_token + t) * out_view.stride;
        for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (product_writer() && first_row + i < rows)
                epilogue_store(epilogue, y_row + first_row + i, acc[i][t]);
    }
}

void main()
{
    product(group_index());
    if (params.norm_after != 0u)
        norm_after(params.norm, params.tokens, params.rows, params.y);
}
