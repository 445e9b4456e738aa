#version 450
#extension GL_GOOGLE_include_directive : require
/* Matrix-matrix products for prefill: y[t][r] = sum_c W[r][c] * x[t][c],
 * then the epilogue (epilogue.glsl).
 * Each workgroup computes a TILE_ROWS x TILE_TOKENS tile of y, stepping
 * through the columns TILE_K at a time: the workgroup decodes a
 * TILE_ROWS x TILE_K block of weights and loads a TILE_TOKENS x TILE_K block
 * of x into shared memory, then each invocation accumulates a 4 x 4 block
 * of outputs in registers (f32). Workgroup y is the token tile; x and z the
 * row tile (group_index).
 * Shared memory: (64 + 32) * 16 * 4 bytes = 6 KiB, inside the
 * 16 KiB baseline. */
#include "common.glsl"

layout(push_constant) uniform Push { dsvk_product_params params; };

layout(binding = 0) readonly buffer Weights { uint weight_words[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; }; /* read by the epilogues */

#define WEIGHT_WORDS weight_words
#include "weights.glsl"
#include "epilogue.glsl"

/* Invocations form a ROW_THREADS x TOKEN_THREADS grid (the launcher runs
 * DSVK_MATMUL_WORKGROUP = their product); each owns rows row_thread +
 * ROW_THREADS * i and tokens token_thread + TOKEN_THREADS * j, so neighbours
 * read neighbouring shared words. */
const uint TILE_ROWS = DSVK_MATMUL_TILE_ROWS;
const uint TILE_TOKENS = DSVK_MATMUL_TILE_TOKENS;
const uint ROW_THREADS = TILE_ROWS / 4u;
const uint TOKEN_THREADS = TILE_TOKENS / 4u;
const uint TILE_K = 16u;

shared float tile_w[TILE_K][TILE_ROWS];
shared float tile_x[TILE_K][TILE_TOKENS];

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
    uint first_row = group_index() * TILE_ROWS;
    if (first_row >= params.rows)
        return;
    uint first_token = gl_WorkGroupID.y * TILE_TOKENS;
    uint row_thread = tid % ROW_THREADS;
    uint token_thread = tid / ROW_THREADS;
    uint cols = params.cols;

    float acc[4][4];
    for (uint i = 0u; i < 4u; i++)
        for (uint j = 0u; j < 4u; j++)
            acc[i][j] = 0.0;

    for (uint k0 = 0u; k0 < cols; k0 += TILE_K) {
        /* TILE_ROWS rows x TILE_K / 4 quads of weights. */
        for (uint q = tid; q < TILE_ROWS * TILE_K / 4u; q += WORKGROUP_SIZE) {
            uint r = q / (TILE_K / 4u);
            uint k = (q % (TILE_K / 4u)) * 4u;
            vec4 w = vec4(0.0);
            if (first_row + r < params.rows)
                w = weight_quad(params.weight_base +
                                    (first_row + r) * params.row_bytes,
                                k0 + k, cols);
            for (uint e = 0u; e < 4u; e++)
                tile_w[k + e][r] = w[e];
        }
        for (uint q = tid; q < TILE_TOKENS * TILE_K; q += WORKGROUP_SIZE) {
            uint t = q / TILE_K;
            uint k = q % TILE_K;
            float v = 0.0;
            if (first_token + t < params.tokens && k0 + k < cols)
                v = x[params.x.base + (first_token + t) * params.x.stride +
                      k0 + k];
            tile_x[k][t] = v;
        }
        barrier();
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
        barrier();
    }

    for (uint j = 0u; j < 4u; j++) {
        uint t = first_token + token_thread + TOKEN_THREADS * j;
        if (t >= params.tokens)
            continue;
        for (uint i = 0u; i < 4u; i++) {
            uint r = first_row + row_thread + ROW_THREADS * i;
            if (r < params.rows)
                epilogue_store(params.epilogue,
                               params.y.base + t * params.y.stride + r,
                               acc[i][j]);
        }
    }
}
