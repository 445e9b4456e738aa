#version 450
#extension GL_GOOGLE_include_directive : require
/* Indexed matrix-matrix products (model_op_params.h,
 * dsvk_indexed_product_params) for batches: each matrix of the stack
 * multiplies the rows that chose it as one tiled matmul. Head-indexed, a
 * head's rows are a = t * n_head + m for every token t; expert-indexed,
 * they are the expert's assignments as moe_group.comp listed them
 * (span[m] = (first, count) into list). Workgroup (x, y, z) = (row tile,
 * tile of the matrix's rows a, matrix m - first_matrix). Expert-indexed
 * dispatches are sized for the worst case (every token on one expert) and
 * tiles past an expert's count exit at once, so the host never reads the
 * routing; only the chosen experts' weights are read.
 * Same tiling as matmul.comp: a TILE_ROWS x TILE_K block of decoded weights
 * and a TILE_TOKENS x TILE_K block of x in shared memory, 4 x 4 outputs
 * per invocation in f32 registers. */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_indexed_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; }; /* read by the epilogues */
layout(binding = 3) readonly buffer Span { uvec2 span[]; };
layout(binding = 4) readonly buffer List { uint list[]; };

#define WEIGHT_WORDS weight_words
#include "weights.glsl"
#include "epilogue.glsl"

/* The launcher runs DSVK_INDEXED_MATMUL_WORKGROUP = ROW_THREADS *
 * TOKEN_THREADS invocations. */
const uint TILE_ROWS = DSVK_INDEXED_MATMUL_TILE_ROWS;
const uint TILE_TOKENS = DSVK_INDEXED_MATMUL_TILE_TOKENS;
const uint ROW_THREADS = TILE_ROWS / 4u;
const uint TOKEN_THREADS = TILE_TOKENS / 4u;
const uint TILE_K = 16u;
const uint NO_ROW = 0xffffffffu;

shared float tile_w[TILE_K][TILE_ROWS];
shared float tile_x[TILE_K][TILE_TOKENS];
shared uint tile_a[TILE_TOKENS]; /* output row a of each token slot */

/* Decodes weight columns c .. c+3 of one row, zero past the row's end. */
vec4 weight_quad(uint row_byte, uint c, uint cols)
{
    if (c + 4u <= cols)
        return weight_get4(row_byte, c);
    vec4 w = vec4(0.0);
    for (uint e = 0u; e < 4u; e++)
        if (c + e < cols)
            w[e] = weight_get(row_byte, c + e);
    return w;
}

void main()
{
    uint tid = gl_LocalInvocationIndex;
    uint first_row = gl_WorkGroupID.x * TILE_ROWS;
    uint first_slot = gl_WorkGroupID.y * TILE_TOKENS;
    uint m = params.first_matrix + gl_WorkGroupID.z;

    uint n_slots, list_first = 0u;
    if (params.n_head != 0u) {
        n_slots = params.tokens;
    } else {
        uvec2 s = span[params.span_base + m];
        list_first = s.x;
        n_slots = s.y;
    }
    if (first_slot >= n_slots)
        return; /* uniform: fewer rows chose this matrix */
    if (tid < TILE_TOKENS) {
        uint slot = first_slot + tid;
        uint a = NO_ROW;
        if (slot < n_slots)
            a = params.n_head != 0u
                    ? slot * params.n_head + m
                    : list[params.list_base + list_first + slot];
        tile_a[tid] = a;
    }
    barrier(); /* rows of this tile known */

    uint row_thread = tid % ROW_THREADS;
    uint token_thread = tid / ROW_THREADS;
    uint cols = params.cols;
    uint matrix_byte =
        params.weight_base + gl_WorkGroupID.z * params.rows * params.row_bytes;

    float acc[4][4];
    for (uint i = 0u; i < 4u; i++)
        for (uint j = 0u; j < 4u; j++)
            acc[i][j] = 0.0;

    for (uint k0 = 0u; k0 < cols; k0 += TILE_K) {
        for (uint q = tid; q < TILE_ROWS * TILE_K / 4u; q += WORKGROUP_SIZE) {
            uint r = q / (TILE_K / 4u);
            uint k = (q % (TILE_K / 4u)) * 4u;
            vec4 w = vec4(0.0);
            if (first_row + r < params.rows)
                w = weight_quad(matrix_byte +
                                    (first_row + r) * params.row_bytes,
                                k0 + k, cols);
            for (uint e = 0u; e < 4u; e++)
                tile_w[k + e][r] = w[e];
        }
        for (uint q = tid; q < TILE_TOKENS * TILE_K; q += WORKGROUP_SIZE) {
            uint t = q / TILE_K;
            uint k = q % TILE_K;
            uint a = tile_a[t];
            float v = 0.0;
            if (a != NO_ROW && k0 + k < cols)
                v = x[params.x.base + (a / params.x_div) * params.x.stride +
                      k0 + k];
            tile_x[k][t] = v;
        }
        barrier(); /* tiles loaded */
        for (uint k = 0u; k < TILE_K; k++) {
            vec4 w, xv;
            for (uint i = 0u; i < 4u; i++) {
                w[i] = tile_w[k][row_thread + ROW_THREADS * i];
                xv[i] = tile_x[k][token_thread + TOKEN_THREADS * i];
            }
            for (uint i = 0u; i < 4u; i++)
                for (uint j = 0u; j < 4u; j++)
                    acc[i][j] += w[i] * xv[j];
        }
        barrier(); /* the next step overwrites the tiles */
    }

    for (uint j = 0u; j < 4u; j++) {
        uint a = tile_a[token_thread + TOKEN_THREADS * j];
        if (a == NO_ROW)
            continue;
        for (uint i = 0u; i < 4u; i++) {
            uint r = first_row + row_thread + ROW_THREADS * i;
            if (r >= params.rows)
                continue;
            uint o = params.y.base + a * params.y.stride + r;
            epilogue_store(params.epilogue, o, acc[i][j]);
        }
    }
}
