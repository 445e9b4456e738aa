#version 450
#extension GL_GOOGLE_include_directive : require
/* Absorbed MLA attention core (DESIGN.md §2) for one token and a group of
 * heads: score(h,s) = (ql_h·c_s + qp_h·kpe_s) * scale over the cached
 * positions s <= pos0 + t, online softmax, lat_h = sum_s p_s c_s.
 *
 * Absorbed MLA is multi-query attention with one key [c, kpe] and one value
 * c shared by every head, so a workgroup streams the latent cache once for
 * all of its heads. Workgroup (x, y, z) = (head group, token, context
 * split). With n_split > 1 each split writes an unnormalised partial
 * (acc, max, sum), and the last split of a (token, head group) to finish
 * (an atomic counter) merges them: splits give short batches (decode)
 * enough workgroups to fill a GPU, and the merge costs no dispatch of its
 * own.
 *
 * Each pass scores WORKGROUP_SIZE positions, one per invocation, reading
 * its cache row once for all heads; then every invocation accumulates its
 * own latent pairs over those positions. Shared memory:
 * HEADS * (r + dr + WORKGROUP_SIZE) floats (r and dr rounded up to
 * multiples of 4), chosen by the launcher to fit.
 *
 * Loop bound: lavapipe stops an invocation's loops silently after 65,535
 * iterations in all. The head and pair loops are unrolled, so a pass runs
 * ceil(r/4) + ceil(dr/4) (f16) or ceil(r/32) + ceil(dr/32) (q8_0) row
 * steps and two loops of WORKGROUP_SIZE / 4 over its positions (four at a
 * time), plus a fixed part for the staging, the output and the merge;
 * host/forward/ops_mla.c counts them (loop_iterations) and splits the context so
 * that no workgroup comes near the limit. Keep that count in step with the
 * loops here. */
#include "common.glsl"
#include "latent_q8.glsl"
#include "model_op_params.h"

/* Heads per workgroup, kv_lora_rank r and rope dimension dr (both even). */
layout(constant_id = DSVK_SPEC_FIRST_OP + 0) const uint HEADS = 4;
layout(constant_id = DSVK_SPEC_FIRST_OP + 1) const uint RANK = 512;
layout(constant_id = DSVK_SPEC_FIRST_OP + 2) const uint ROPE = 64;
/* 1: the cache holds q8_0 rows (r and dr multiples of 4), 0: f16. */
layout(constant_id = DSVK_SPEC_FIRST_OP + 3) const uint CACHE_Q8 = 0;

const uint LATENT_PAIRS = RANK / 2u;
const uint ROPE_PAIRS = ROPE / 2u;
/* uints per cached position (latent_q8.glsl's q8_row_words for q8_0). */
const uint LATENT_QUANTS = RANK / 4u;
const uint ROPE_QUANTS = ROPE / 4u;
const uint LATENT_BLOCKS = (RANK + Q8_BLOCK - 1u) / Q8_BLOCK;
const uint ROPE_BLOCKS = (ROPE + Q8_BLOCK - 1u) / Q8_BLOCK;
const uint LATENT_ROW =
    CACHE_Q8 != 0u ? LATENT_QUANTS + (LATENT_BLOCKS + 1u) / 2u : LATENT_PAIRS;
const uint ROPE_ROW =
    CACHE_Q8 != 0u ? ROPE_QUANTS + (ROPE_BLOCKS + 1u) / 2u : ROPE_PAIRS;
/* The staged queries are vec4s (zero-padded to whole vec4s): a score then
 * reads four query values per shared load, a quarter of the loads, which
 * dominate the score loop on lavapipe. */
const uint RANK_QUADS = (RANK + 3u) / 4u;
const uint ROPE_QUADS = (ROPE + 3u) / 4u;
/* Invocation tid accumulates latent pairs tid + i * WORKGROUP_SIZE. */
const uint PAIRS_PER_THREAD =
    (LATENT_PAIRS + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;

layout(push_constant) uniform Push { dsvk_mla_attention_params params; };

layout(binding = 0) readonly buffer Ql { float ql[]; };
layout(binding = 1) readonly buffer Q { float q[]; };
/* The cache: rows of LATENT_ROW and ROPE_ROW uints per position. */
layout(binding = 2) readonly buffer Latent { uint latent[]; };
layout(binding = 3) readonly buffer RopeKey { uint rope_key[]; };
/* Partials and their statistics are read back by the merging workgroup:
 * coherent, so its reads see the other workgroups' writes. */
layout(binding = 4) coherent buffer Lat { float lat[]; };
layout(binding = 5) coherent buffer Stat { vec2 stat[]; };
layout(binding = 6) coherent buffer Counter { uint counter[]; };
layout(binding = 7) writeonly buffer Out { float out_lat[]; };

shared vec4 ql_sh[HEADS * RANK_QUADS];
shared vec4 qp_sh[HEADS * ROPE_QUADS];
/* Scores, then probabilities, of a pass: head h's position i is component
 * i % 4 of prob_sh[h * PASS_QUADS + i / 4], so that the loops over a pass
 * read four positions per shared load. Positions past the pass's end hold
 * -1e30 as a score and 0 as a probability. */
const uint PASS_QUADS = WORKGROUP_SIZE / 4u; /* a power of two >= 4 */
shared vec4 prob_sh[HEADS * PASS_QUADS];
shared bool last_sh; /* this workgroup merges the splits */

/* Word i of the latent cache (rope_key: of the rope key cache); the
 * callers' rope_key is a constant, so each call reads one buffer. */
uint cache_word(bool rope_key_part, uint i)
{
    return rope_key_part ? rope_key[i] : latent[i];
}

/* Values 4i..4i+3 of head h's staged query against the latent or the
 * rope key. */
vec4 query4(bool rope_key_part, uint h, uint i)
{
    return rope_key_part ? qp_sh[h * ROPE_QUADS + i]
                         : ql_sh[h * RANK_QUADS + i];
}

/* Adds query_h · row to dot_h for the cached row of n values at uint
 * `row`: f16 four values (two words) at a time, the second word left out
 * where n is not a multiple of 4; q8_0 a block at a time, its quants four
 * to a word and its scale applied once. */
void add_scores(bool rope_key_part, uint n, uint row, inout float dot_h[HEADS])
{
    if (CACHE_Q8 == 0u) {
        for (uint j = 0u; j < (n + 3u) / 4u; j++) {
            vec2 lo = unpackHalf2x16(cache_word(rope_key_part, row + 2u * j));
            vec2 hi = 4u * j + 2u < n ? unpackHalf2x16(cache_word(
                                            rope_key_part, row + 2u * j + 1u))
                                      : vec2(0.0);
            vec4 c = vec4(lo, hi);
            [[unroll]] for (uint h = 0u; h < HEADS; h++)
                dot_h[h] += dot(query4(rope_key_part, h, j), c);
        }
        return;
    }
    uint quants = n / 4u;
    for (uint b = 0u; b < (n + Q8_BLOCK - 1u) / Q8_BLOCK; b++) {
        float part[HEADS];
        [[unroll]] for (uint h = 0u; h < HEADS; h++)
            part[h] = 0.0;
        [[unroll]] for (uint w = 0u; w < Q8_BLOCK_WORDS; w++) {
            uint word = b * Q8_BLOCK_WORDS + w;
            if (word < quants) { /* the last block may be short */
                vec4 c = q8_unpack(cache_word(rope_key_part, row + word));
                [[unroll]] for (uint h = 0u; h < HEADS; h++)
                    part[h] += dot(query4(rope_key_part, h, word), c);
            }
        }
        float d = q8_scale(cache_word(rope_key_part, row + quants + b / 2u), b);
        [[unroll]] for (uint h = 0u; h < HEADS; h++)
            dot_h[h] += d * part[h];
    }
}

/* Latent pair j of the cached row at uint `row`. */
vec2 latent_pair(uint row, uint j)
{
    if (CACHE_Q8 == 0u)
        return unpackHalf2x16(latent[row + j]);
    vec4 quad = q8_unpack(latent[row + j / 2u]);
    uint b = j / (Q8_BLOCK / 2u);
    float d = q8_scale(latent[row + LATENT_QUANTS + b / 2u], b);
    return ((j & 1u) == 0u ? quad.xy : quad.zw) * d;
}

/* lat_h = sum_j acc_j e^(m_j - M) / sum_j l_j e^(m_j - M) over the
 * splits that start at or before token t's position, M = max_j m_j. */
void merge_splits(uint t, uint row0, uint n_heads)
{
    uint n_valid = min(params.n_split, (params.pos0 + t + params.split_len) /
                                           params.split_len);
    for (uint h = 0u; h < n_heads; h++) {
        uint first = (row0 + h) * params.n_split;
        float top = -1e30;
        for (uint j = 0u; j < n_valid; j++)
            top = max(top, stat[params.stat_base + first + j].x);
        float total = 0.0;
        for (uint j = 0u; j < n_valid; j++) {
            vec2 st = stat[params.stat_base + first + j];
            total += st.y * exp(st.x - top);
        }
        uint out_row = params.merged.base + (row0 + h) * params.merged.stride;
        for (uint d = gl_LocalInvocationIndex; d < RANK; d += WORKGROUP_SIZE) {
            float sum = 0.0;
            for (uint j = 0u; j < n_valid; j++) {
                uint src = params.lat.base + (first + j) * params.lat.stride;
                sum += lat[src + d] *
                       exp(stat[params.stat_base + first + j].x - top);
            }
            out_lat[out_row + d] = sum / total;
        }
    }
}

void main()
{
    uint tid = gl_LocalInvocationIndex;
    uint h0 = gl_WorkGroupID.x * HEADS;
    uint t = gl_WorkGroupID.y;
    uint split = gl_WorkGroupID.z;
    uint begin = split * params.split_len;
    uint end = min(params.pos0 + t + 1u, begin + params.split_len); /* causal */
    if (begin >= end)
        return; /* uniform: the split lies after this token's position */
    uint n_heads = min(HEADS, params.n_head - h0);
    uint row0 = t * params.n_head + h0;

    /* The group's queries with the scale folded in; the missing heads of a
     * partial last group score zero and are not written. */
    for (uint i = tid; i < HEADS * RANK_QUADS * 4u; i += WORKGROUP_SIZE) {
        uint h = i / (RANK_QUADS * 4u), d = i % (RANK_QUADS * 4u);
        uint src = params.ql.base + (row0 + h) * params.ql.stride + d;
        ql_sh[i / 4u][i % 4u] =
            h < n_heads && d < RANK ? ql[src] * params.scale : 0.0;
    }
    for (uint i = tid; i < HEADS * ROPE_QUADS * 4u; i += WORKGROUP_SIZE) {
        uint h = i / (ROPE_QUADS * 4u), d = i % (ROPE_QUADS * 4u);
        uint src = params.qp.base + (row0 + h) * params.qp.stride + d;
        qp_sh[i / 4u][i % 4u] =
            h < n_heads && d < ROPE ? q[src] * params.scale : 0.0;
    }
    barrier(); /* queries staged */

    /* Online softmax state. Every invocation computes the same run_max and
     * run_sum (same shared inputs, same order), so none is broadcast; -1e30
     * rather than -inf keeps exp(run_max - m) free of inf - inf. */
    float run_max[HEADS];
    float run_sum[HEADS];
    float rescale[HEADS];
    vec2 acc[HEADS * PAIRS_PER_THREAD];
    [[unroll]] for (uint h = 0u; h < HEADS; h++) {
        run_max[h] = -1e30;
        run_sum[h] = 0.0;
        [[unroll]] for (uint k = 0u; k < PAIRS_PER_THREAD; k++)
            acc[h * PAIRS_PER_THREAD + k] = vec2(0.0);
    }

    for (uint base = begin; base < end; base += WORKGROUP_SIZE) {
        uint n = min(WORKGROUP_SIZE, end - base);
        uint n_quads = (n + 3u) / 4u;
        uint at = tid / 4u, lane = tid % 4u;
        float dot_h[HEADS];
        [[unroll]] for (uint h = 0u; h < HEADS; h++)
            dot_h[h] = -1e30;
        if (tid < n) {
            [[unroll]] for (uint h = 0u; h < HEADS; h++)
                dot_h[h] = 0.0;
            add_scores(false, RANK,
                       params.latent_base + (base + tid) * LATENT_ROW, dot_h);
            add_scores(true, ROPE,
                       params.rope_key_base + (base + tid) * ROPE_ROW, dot_h);
        }
        [[unroll]] for (uint h = 0u; h < HEADS; h++)
            prob_sh[h * PASS_QUADS + at][lane] = dot_h[h];
        barrier(); /* scores of this pass complete */

        float top[HEADS];
        [[unroll]] for (uint h = 0u; h < HEADS; h++)
            top[h] = run_max[h];
        for (uint i = 0u; i < n_quads; i++)
            [[unroll]] for (uint h = 0u; h < HEADS; h++) {
                vec4 v = prob_sh[h * PASS_QUADS + i];
                top[h] = max(top[h], max(max(v.x, v.y), max(v.z, v.w)));
            }
        [[unroll]] for (uint h = 0u; h < HEADS; h++) {
            rescale[h] = exp(run_max[h] - top[h]);
            run_max[h] = top[h];
        }
        barrier(); /* every invocation read the scores before they change */

        [[unroll]] for (uint h = 0u; h < HEADS; h++)
            prob_sh[h * PASS_QUADS + at][lane] =
                tid < n ? exp(dot_h[h] - run_max[h]) : 0.0;
        barrier(); /* probabilities complete */

        [[unroll]] for (uint h = 0u; h < HEADS; h++) {
            run_sum[h] *= rescale[h];
            [[unroll]] for (uint k = 0u; k < PAIRS_PER_THREAD; k++)
                acc[h * PAIRS_PER_THREAD + k] *= rescale[h];
        }
        for (uint i = 0u; i < n_quads; i++) {
            vec4 p[HEADS];
            [[unroll]] for (uint h = 0u; h < HEADS; h++) {
                p[h] = prob_sh[h * PASS_QUADS + i];
                run_sum[h] += p[h].x + p[h].y + p[h].z + p[h].w;
            }
            /* A guard, not a break: the loop stays unrolled, outside the
             * loop count. Past the end the cache holds anything, even inf
             * or NaN, which a zero probability would not cancel. */
            [[unroll]] for (uint e = 0u; e < 4u; e++) {
                if (4u * i + e < n) {
                    uint row =
                        params.latent_base + (base + 4u * i + e) * LATENT_ROW;
                    [[unroll]] for (uint k = 0u; k < PAIRS_PER_THREAD; k++) {
                        uint j = tid + k * WORKGROUP_SIZE;
                        if (j < LATENT_PAIRS) {
                            vec2 c = latent_pair(row, j);
                            [[unroll]] for (uint h = 0u; h < HEADS; h++)
                                acc[h * PAIRS_PER_THREAD + k] += p[h][e] * c;
                        }
                    }
                }
            }
        }
        barrier(); /* the next pass overwrites prob_sh */
    }

    for (uint h = 0u; h < n_heads; h++) {
        uint part = (row0 + h) * params.n_split + split;
        float norm = params.n_split == 1u ? 1.0 / run_sum[h] : 1.0;
        uint out_row = params.lat.base + part * params.lat.stride;
        [[unroll]] for (uint k = 0u; k < PAIRS_PER_THREAD; k++) {
            uint j = tid + k * WORKGROUP_SIZE;
            if (j < LATENT_PAIRS) {
                vec2 v = acc[h * PAIRS_PER_THREAD + k] * norm;
                lat[out_row + 2u * j] = v.x;
                lat[out_row + 2u * j + 1u] = v.y;
            }
        }
        if (params.n_split > 1u && tid == 0u)
            stat[params.stat_base + part] = vec2(run_max[h], run_sum[h]);
    }
    if (params.n_split == 1u)
        return;

    /* Publish this split, count it; the last one merges and resets the
     * counter for the next dispatch. */
    memoryBarrierBuffer();
    barrier();
    if (tid == 0u) {
        uint n_valid = min(params.n_split,
                           (params.pos0 + t + params.split_len) /
                               params.split_len);
        uint at = params.counter_base + t * gl_NumWorkGroups.x +
                  gl_WorkGroupID.x;
        last_sh = atomicAdd(counter[at], 1u) + 1u == n_valid;
        if (last_sh)
            counter[at] = 0u;
    }
    barrier();
    if (!last_sh)
        return;
    memoryBarrierBuffer();
    merge_splits(t, row0, n_heads);
}
