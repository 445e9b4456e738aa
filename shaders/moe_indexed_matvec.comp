#version 450
#extension GL_GOOGLE_include_directive : require
/* Indexed matrix-vector products (model_op_params.h,
 * dsvk_indexed_product_params): each output row a uses its own matrix of a
 * stack, the head's (MLA's attn_k_b / attn_v_b) or the expert's chosen by
 * moe_route.comp, whose id is read here so the host never sees it. Only
 * the chosen experts' weights are read. Workgroup (x, y) = (ROWS weight
 * rows, output row a; head-indexed: y = tile * n_matrices + m -
 * first_matrix for the WEIGHT_TOKENS tokens from tile * WEIGHT_TOKENS, the
 * only mode that takes more than one; combining: y = token t; with shared
 * experts, y = T k + t is token t's). Same scheme as matvec.comp
 * (product_rows.glsl, per device class); weights decoded in registers
 * (weights.glsl).
 *
 * Fusions save the MoE step dispatches: gate and up in one pass with
 * SwiGLU (pair_swiglu), the down product with the routing weights' sum
 * over a token's experts (combine), whose epilogue adds the result to the
 * residual stream, and the shared experts inside both. */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_indexed_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; }; /* read by the epilogues */
layout(binding = 3) readonly buffer Ids { uint ids[]; };
layout(binding = 4) readonly buffer RouteWeights { float route_weights[]; };
/* Tiles: binding 3 holds the tile table, binding 4 the slots' list. */
layout(binding = 4) readonly buffer List { uint list[]; };

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
#define PRODUCT_ROWS DSVK_INDEXED_MATVEC_ROWS
#endif
#include "product_rows.glsl"

uint x_row_of(uint a)
{
    return params.x.base + (a / params.x_div) * params.x.stride;
}

/* One inner product a workgroup sums or combines: rows of the matrix at
 * matrix_byte times x row x_row. */
struct term {
    uint matrix_byte;
    uint rows;
    uint row_bytes;
    uint x_row;
    uint x_step; /* from one token's x row to the next token's */
    uint cols;
    float weight; /* combining: the route weight (1 for shared experts) */
    bool bound;   /* false: the expert is another dispatch's */
};

term stack_term(uint weight_base, uint m, uint x_row, float weight)
{
    term t;
    t.matrix_byte = weight_base + (m - params.first_matrix) * params.rows *
                                      params.row_bytes;
    t.rows = params.rows;
    t.row_bytes = params.row_bytes;
    t.x_row = x_row;
    t.x_step = (params.tiles != DSVK_TILES_NONE ? 1u : params.n_head) *
               params.x.stride;
    t.cols = params.cols;
    t.weight = weight;
    /* Uniform: unsigned wrap-around covers m < first_matrix. */
    t.bound = m - params.first_matrix < params.n_matrices;
    return t;
}

term shared_term(uint weight_base, uint rows, uint x_row, uint cols)
{
    term t;
    t.matrix_byte = weight_base;
    t.rows = rows;
    t.row_bytes = params.shared_row_bytes;
    t.x_row = x_row;
    t.x_step = 0u;
    t.cols = cols;
    t.weight = 1.0;
    t.bound = true;
    return t;
}

/* Term j of this workgroup (row a of the output, token t when combining):
 * combining, the token's k experts then its shared experts; SwiGLU, gate
 * then up (of the routed expert, or of the shared experts for rows past
 * the assignments); otherwise the one product. */
term term_of(uint j, uint a, uint m, bool shared_row)
{
    if (params.combine != 0u) {
        if (j == params.combine)
            return shared_term(params.shared_weight_base, params.rows,
                               params.shared_view.base +
                                   a * params.shared_view.stride,
                               params.shared_len);
        uint slot = a * params.combine + j;
        return stack_term(params.weight_base, ids[params.ids_base + slot],
                          x_row_of(slot),
                          route_weights[params.weights_base + slot]);
    }
    if (shared_row)
        return shared_term(j == 0u ? params.shared_weight_base
                                   : params.shared_pair_weight_base,
                           params.shared_len,
                           params.x.base + a * params.x.stride, params.cols);
    return stack_term(j == 0u ? params.weight_base : params.pair_weight_base,
                      m, x_row_of(a), 1.0);
}

void main()
{
    uint first_row = product_first_row(gl_WorkGroupID.x);
    uint a = gl_WorkGroupID.y, m = 0u, n_terms = 1u;
    bool shared_row = false;
    uint y_row = params.y.base + a * params.y.stride;
    uint rows = params.rows;
    uint n_tokens = 1u, y_step = 0u; /* the tile's tokens, and their rows */
    uint first_slot = 0u;               /* tiles */
    if (params.tiles != DSVK_TILES_NONE) {
        uint tile = params.first_tile + gl_WorkGroupID.y;
        m = ids[params.ids_base + tile];
        if (m == DSVK_MOE_NONE)
            return; /* uniform: past the last expert's run */
        first_slot = tile * WEIGHT_TOKENS;
        a = gl_WorkGroupID.y * WEIGHT_TOKENS; /* its first x row */
        n_tokens = WEIGHT_TOKENS;
    } else if (params.combine != 0u) {
        n_terms = params.combine + (params.shared_len != 0u ? 1u : 0u);
    } else if (params.n_head != 0u) {
        uint first_token = gl_WorkGroupID.y / params.n_matrices * WEIGHT_TOKENS;
        m = params.first_matrix + gl_WorkGroupID.y % params.n_matrices;
        a = first_token * params.n_head + m;
        y_row = params.y.base + a * params.y.stride;
        n_tokens = min(WEIGHT_TOKENS, params.tokens - first_token);
        y_step = params.n_head * params.y.stride;
    } else {
        /* With shared experts, tokens is T and x_div k: rows past the
         * T k assignments are token a - T k's shared experts. */
        uint n_assign = params.tokens * params.x_div;
        shared_row = params.shared_len != 0u && a >= n_assign;
        if (shared_row) {
            a -= n_assign;
            rows = params.shared_len;
            y_row = params.shared_view.base + a * params.shared_view.stride;
        } else {
            m = ids[params.ids_base + a];
        }
    }
    if (params.pair_swiglu != 0u)
        n_terms = 2u;
    if (first_row >= rows)
        return;

    /* One product_dot call site, in a loop: each inlined copy of the
     * unrolled product costs lavapipe seconds of compilation. */
    float sum[PRODUCT_ROWS][WEIGHT_TOKENS], gate[PRODUCT_ROWS][WEIGHT_TOKENS];
    for (uint i = 0u; i < PRODUCT_ROWS; i++)
        for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            sum[i][t] = 0.0;
    [[dont_unroll]] for (uint j = 0u; j < n_terms; j++) {
        term tm = term_of(j, a, m, shared_row);
        if (!tm.bound) {
            if (params.combine != 0u)
                continue;
            return; /* uniform: another dispatch binds this expert */
        }
        uint row_byte[PRODUCT_ROWS];
        bool present[PRODUCT_ROWS];
        for (uint i = 0u; i < PRODUCT_ROWS; i++) {
            present[i] = first_row + i < tm.rows;
            row_byte[i] = tm.matrix_byte + (first_row + i) * tm.row_bytes;
        }
        /* Past the tile's tokens, the last one again: reads stay inside
         * x and only real tokens are stored. */
        uint x_row[WEIGHT_TOKENS];
        for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            x_row[t] = tm.x_row + min(t, n_tokens - 1u) * tm.x_step;
        float acc[PRODUCT_ROWS][WEIGHT_TOKENS];
        product_dot(row_byte, present, x_row, tm.cols, acc);
        for (uint i = 0u; i < PRODUCT_ROWS; i++)
            for (uint t = 0u; t < WEIGHT_TOKENS; t++) {
                if (params.pair_swiglu != 0u && j == 0u)
                    gate[i][t] = acc[i][t];
                else if (params.pair_swiglu != 0u)
                    sum[i][t] = silu(gate[i][t]) * acc[i][t];
                else
                    sum[i][t] += tm.weight * acc[i][t];
            }
    }
    for (uint t = 0u; t < n_tokens; t++) {
        uint out_row = y_row + t * y_step;
        if (params.tiles != DSVK_TILES_NONE) {
            uint p = first_slot + t, assignment = list[params.list_base + p];
            if (assignment == DSVK_MOE_NONE)
                continue; /* a padding slot of the expert's last tile */
            out_row = params.y.base +
                      (params.tiles == DSVK_TILES_TO_SLOTS ? a + t : assignment) *
                          params.y.stride;
        }
        for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (product_writer() && first_row + i < rows)
                epilogue_store(params.epilogue, out_row + first_row + i,
                               sum[i][t]);
    }
}
