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
 * The cache is read eight values at a time (a "group": one 16-byte load of
 * an f16 row where the rows allow it, WIDE), and every value read serves
 * all heads of the workgroup: on a CPU driver the per-lane cost of a
 * storage load and of a shared load dominates, so loads per multiply-add
 * decide the speed. A pass covers WORKGROUP_SIZE * POSITIONS positions:
 * - scores: invocation i scores positions i + WORKGROUP_SIZE * p of the
 *   pass, so each query value loaded from shared memory serves POSITIONS
 *   positions;
 * - softmax: invocation h keeps head h's running max and sum, and the
 *   others read the pass's max and rescale factor from shared memory (one
 *   invocation per head reads the scores, not all of them);
 * - values: invocation i owns latent groups i % GROUP_LANES (+ multiples
 *   of GROUP_LANES) for the positions of every POS_LANES-th quad of the
 *   pass, i / GROUP_LANES; the POS_LANES partial sums are added at the end.
 *
 * Shared memory: HEADS * (r + dr rounded up to groups + pass positions)
 * floats plus WORKGROUP_SIZE * 8 for the final sums, chosen by the launcher
 * to fit.
 *
 * Loop bound: lavapipe stops an invocation's loops silently after 65,535
 * iterations in all. Head, position and group-per-lane loops are
 * unrolled; a pass runs ceil(r/8) + ceil(dr/8) score steps, two loops of
 * PASS / 4 over the scores (the head invocations) and PASS / 4 / POS_LANES
 * value steps, plus a fixed part for the staging, the output and the
 * merge; host/forward/ops_mla.c counts them (loop_iterations) and splits
 * the context so that no workgroup comes near the limit. Keep that count
 * in step with the loops here. */
#include "common.glsl"
#include "latent_q8.glsl"
#include "model_op_params.h"

/* Heads per workgroup, kv_lora_rank r and rope dimension dr (both even). */
layout(constant_id = DSVK_SPEC_FIRST_OP + 0) const uint HEADS = 4;
layout(constant_id = DSVK_SPEC_FIRST_OP + 1) const uint RANK = 512;
layout(constant_id = DSVK_SPEC_FIRST_OP + 2) const uint ROPE = 64;
/* 1: the cache holds q8_0 rows (r and dr multiples of 4), 0: f16. */
layout(constant_id = DSVK_SPEC_FIRST_OP + 3) const uint CACHE_Q8 = 0;
/* Positions each invocation scores per pass. */
layout(constant_id = DSVK_SPEC_FIRST_OP + 4) const uint POSITIONS = 1;
/* 1: f16 rows of whole groups on 16-byte boundaries (r and dr multiples of
 * 8, both bases multiples of 4 words; the launcher checks), read as uvec4. */
layout(constant_id = DSVK_SPEC_FIRST_OP + 5) const uint WIDE = 0;

const uint GROUP = 8u; /* values of a group */
const uint LATENT_GROUPS = (RANK + GROUP - 1u) / GROUP;
const uint ROPE_GROUPS = (ROPE + GROUP - 1u) / GROUP;
/* uints per cached position (latent_q8.glsl's q8_row_words for q8_0). */
const uint LATENT_QUANTS = RANK / 4u;
const uint ROPE_QUANTS = ROPE / 4u;
const uint LATENT_BLOCKS = (RANK + Q8_BLOCK - 1u) / Q8_BLOCK;
const uint ROPE_BLOCKS = (ROPE + Q8_BLOCK - 1u) / Q8_BLOCK;
const uint LATENT_ROW =
    CACHE_Q8 != 0u ? LATENT_QUANTS + (LATENT_BLOCKS + 1u) / 2u : RANK / 2u;
const uint ROPE_ROW =
    CACHE_Q8 != 0u ? ROPE_QUANTS + (ROPE_BLOCKS + 1u) / 2u : ROPE / 2u;
const uint PASS = WORKGROUP_SIZE * POSITIONS;
const uint PASS_QUADS = PASS / 4u; /* WORKGROUP_SIZE is a power of two >= 4 */
/* The value phase's lanes: GROUP_LANES across the latent groups, POS_LANES
 * across the pass's quads of positions. */
const uint GROUP_LANES =
    LATENT_GROUPS < WORKGROUP_SIZE ? LATENT_GROUPS : WORKGROUP_SIZE;
const uint GROUPS_PER_LANE = (LATENT_GROUPS + GROUP_LANES - 1u) / GROUP_LANES;
const uint POS_LANES = WORKGROUP_SIZE / GROUP_LANES;

layout(push_constant) uniform Push { dsvk_mla_attention_params params; };

layout(binding = 0) readonly buffer Ql { float ql[]; };
layout(binding = 1) readonly buffer Q { float q[]; };
/* The cache: rows of LATENT_ROW and ROPE_ROW uints per position, and the
 * same bindings as 16-byte words for WIDE. */
layout(binding = 2) readonly buffer Latent { uint latent[]; };
layout(binding = 3) readonly buffer RopeKey { uint rope_key[]; };
layout(binding = 2) readonly buffer LatentWide { uvec4 latent_wide[]; };
layout(binding = 3) readonly buffer RopeKeyWide { uvec4 rope_key_wide[]; };
/* Partials and their statistics are read back by the merging workgroup:
 * coherent, so its reads see the other workgroups' writes. */
layout(binding = 4) coherent buffer Lat { float lat[]; };
layout(binding = 5) coherent buffer Stat { vec2 stat[]; };
layout(binding = 6) coherent buffer Counter { uint counter[]; };
layout(binding = 7) writeonly buffer Out { float out_lat[]; };

/* The group's queries, zero-padded to whole groups: group g of head h is
 * ql_sh[(h * LATENT_GROUPS + g) * 2] and the vec4 after it. */
shared vec4 ql_sh[HEADS * LATENT_GROUPS * 2u];
shared vec4 qp_sh[HEADS * ROPE_GROUPS * 2u];
/* Scores, then probabilities, of a pass: head h's position i is component
 * i % 4 of prob_sh[h * PASS_QUADS + i / 4]. Positions past the pass's end
 * hold -1e30 as a score and 0 as a probability. */
shared vec4 prob_sh[HEADS * PASS_QUADS];
/* Head h's max and rescale factor of the pass (after the passes: its max
 * and sum). */
shared float top_sh[HEADS];
shared float rescale_sh[HEADS];
/* The value lanes' partial sums of one head and group, added at the end. */
shared vec4 partial_sh[WORKGROUP_SIZE * 2u];
shared bool last_sh; /* this workgroup merges the splits */

/* Values 8g .. 8g+7 of the cached row of n values at uint `row` (of the
 * rope key cache, else the latent cache), zero past its end. The callers'
 * rope_key_part is a constant, so each call reads one buffer. */
void row_group(bool rope_key_part, uint n, uint row, uint g, out vec4 lo,
               out vec4 hi)
{
    if (CACHE_Q8 != 0u) {
        uint w0 = 2u * g, w1 = 2u * g + 1u; /* four quants a word */
        uint quants = n / 4u, b = g / (Q8_BLOCK / GROUP);
        uint q0 = rope_key_part ? rope_key[row + w0] : latent[row + w0];
        uint q1 = w1 < quants ? (rope_key_part ? rope_key[row + w1]
                                               : latent[row + w1])
                              : 0u;
        uint s = row + quants + b / 2u;
        float d = q8_scale(rope_key_part ? rope_key[s] : latent[s], b);
        lo = q8_unpack(q0) * d;
        hi = q8_unpack(q1) * d;
        return;
    }
    uvec4 w = uvec4(0u);
    if (WIDE != 0u) {
        w = rope_key_part ? rope_key_wide[row / 4u + g]
                          : latent_wide[row / 4u + g];
    } else {
        /* An f16 word holds two values; the last group may be short. */
        [[unroll]] for (uint k = 0u; k < 4u; k++) {
            uint word = 4u * g + k;
            if (2u * word < n)
                w[k] = rope_key_part ? rope_key[row + word] : latent[row + word];
        }
    }
    lo = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
    hi = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
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

    /* The group's queries; the missing heads of a partial last group score
     * zero and are not written. The scale is applied to the scores. */
    for (uint i = tid; i < HEADS * LATENT_GROUPS * GROUP; i += WORKGROUP_SIZE) {
        uint h = i / (LATENT_GROUPS * GROUP), d = i % (LATENT_GROUPS * GROUP);
        uint src = params.ql.base + (row0 + h) * params.ql.stride + d;
        ql_sh[i / 4u][i % 4u] = h < n_heads && d < RANK ? ql[src] : 0.0;
    }
    for (uint i = tid; i < HEADS * ROPE_GROUPS * GROUP; i += WORKGROUP_SIZE) {
        uint h = i / (ROPE_GROUPS * GROUP), d = i % (ROPE_GROUPS * GROUP);
        uint src = params.qp.base + (row0 + h) * params.qp.stride + d;
        qp_sh[i / 4u][i % 4u] = h < n_heads && d < ROPE ? q[src] : 0.0;
    }
    barrier(); /* queries staged */

    /* Online softmax state of head tid (invocations below HEADS); -1e30
     * rather than -inf keeps exp(run_max - m) free of inf - inf. */
    float run_max = -1e30, run_sum = 0.0;
    uint lane_g = tid % GROUP_LANES, lane_p = tid / GROUP_LANES;
    vec4 acc[HEADS * GROUPS_PER_LANE * 2u];
    [[unroll]] for (uint i = 0u; i < HEADS * GROUPS_PER_LANE * 2u; i++)
        acc[i] = vec4(0.0);

    for (uint base = begin; base < end; base += PASS) {
        uint n = min(PASS, end - base);
        uint n_quads = (n + 3u) / 4u;

        /* Scores. Positions past the end score a valid row (the last) and
         * are then set to -1e30, so the loads need no guard. */
        float score[HEADS * POSITIONS];
        uint latent_row[POSITIONS], rope_row[POSITIONS];
        [[unroll]] for (uint p = 0u; p < POSITIONS; p++) {
            uint s = base + min(tid + WORKGROUP_SIZE * p, n - 1u);
            latent_row[p] = params.latent_base + s * LATENT_ROW;
            rope_row[p] = params.rope_key_base + s * ROPE_ROW;
        }
        [[unroll]] for (uint i = 0u; i < HEADS * POSITIONS; i++)
            score[i] = 0.0;
        for (uint g = 0u; g < LATENT_GROUPS; g++) {
            vec4 lo[POSITIONS], hi[POSITIONS];
            [[unroll]] for (uint p = 0u; p < POSITIONS; p++)
                row_group(false, RANK, latent_row[p], g, lo[p], hi[p]);
            [[unroll]] for (uint h = 0u; h < HEADS; h++) {
                vec4 qa = ql_sh[(h * LATENT_GROUPS + g) * 2u];
                vec4 qb = ql_sh[(h * LATENT_GROUPS + g) * 2u + 1u];
                [[unroll]] for (uint p = 0u; p < POSITIONS; p++)
                    score[h * POSITIONS + p] +=
                        dot(qa, lo[p]) + dot(qb, hi[p]);
            }
        }
        for (uint g = 0u; g < ROPE_GROUPS; g++) {
            vec4 lo[POSITIONS], hi[POSITIONS];
            [[unroll]] for (uint p = 0u; p < POSITIONS; p++)
                row_group(true, ROPE, rope_row[p], g, lo[p], hi[p]);
            [[unroll]] for (uint h = 0u; h < HEADS; h++) {
                vec4 qa = qp_sh[(h * ROPE_GROUPS + g) * 2u];
                vec4 qb = qp_sh[(h * ROPE_GROUPS + g) * 2u + 1u];
                [[unroll]] for (uint p = 0u; p < POSITIONS; p++)
                    score[h * POSITIONS + p] +=
                        dot(qa, lo[p]) + dot(qb, hi[p]);
            }
        }
        [[unroll]] for (uint p = 0u; p < POSITIONS; p++) {
            uint i = tid + WORKGROUP_SIZE * p;
            [[unroll]] for (uint h = 0u; h < HEADS; h++) {
                float v = score[h * POSITIONS + p] * params.scale;
                score[h * POSITIONS + p] = i < n ? v : -1e30;
                prob_sh[h * PASS_QUADS + i / 4u][i % 4u] =
                    score[h * POSITIONS + p];
            }
        }
        barrier(); /* scores of this pass complete */

        if (tid < HEADS) {
            float top = run_max;
            for (uint i = 0u; i < n_quads; i++) {
                vec4 v = prob_sh[tid * PASS_QUADS + i];
                top = max(top, max(max(v.x, v.y), max(v.z, v.w)));
            }
            float sum = 0.0;
            for (uint i = 0u; i < n_quads; i++)
                sum += dot(exp(prob_sh[tid * PASS_QUADS + i] - top), vec4(1.0));
            float rescale = exp(run_max - top);
            run_sum = run_sum * rescale + sum;
            run_max = top;
            top_sh[tid] = top;
            rescale_sh[tid] = rescale;
        }
        barrier(); /* the pass's max and rescale factors are out */

        [[unroll]] for (uint p = 0u; p < POSITIONS; p++) {
            uint i = tid + WORKGROUP_SIZE * p;
            [[unroll]] for (uint h = 0u; h < HEADS; h++)
                prob_sh[h * PASS_QUADS + i / 4u][i % 4u] =
                    exp(score[h * POSITIONS + p] - top_sh[h]);
        }
        [[unroll]] for (uint h = 0u; h < HEADS; h++) {
            float f = rescale_sh[h];
            [[unroll]] for (uint i = 0u; i < GROUPS_PER_LANE * 2u; i++)
                acc[h * GROUPS_PER_LANE * 2u + i] *= f;
        }
        barrier(); /* probabilities complete */

        /* Quads past the pass's end give probability 0 on a valid row. */
        uint first_quad = lane_p < POS_LANES ? lane_p : n_quads;
        for (uint qi = first_quad; qi < n_quads; qi += POS_LANES) {
            vec4 prob[HEADS];
            [[unroll]] for (uint h = 0u; h < HEADS; h++)
                prob[h] = prob_sh[h * PASS_QUADS + qi];
            [[unroll]] for (uint e = 0u; e < 4u; e++) {
                uint row = params.latent_base +
                           (base + min(4u * qi + e, n - 1u)) * LATENT_ROW;
                [[unroll]] for (uint k = 0u; k < GROUPS_PER_LANE; k++) {
                    uint g = min(lane_g + k * GROUP_LANES, LATENT_GROUPS - 1u);
                    vec4 lo, hi;
                    row_group(false, RANK, row, g, lo, hi);
                    [[unroll]] for (uint h = 0u; h < HEADS; h++) {
                        uint a = (h * GROUPS_PER_LANE + k) * 2u;
                        acc[a] += prob[h][e] * lo;
                        acc[a + 1u] += prob[h][e] * hi;
                    }
                }
            }
        }
        barrier(); /* the next pass overwrites prob_sh */
    }

    if (tid < HEADS) {
        top_sh[tid] = run_max;
        rescale_sh[tid] = run_sum;
    }
    barrier(); /* every head's max and sum are out */

    for (uint h = 0u; h < n_heads; h++) {
        uint part = (row0 + h) * params.n_split + split;
        float norm = params.n_split == 1u ? 1.0 / rescale_sh[h] : 1.0;
        uint out_row = params.lat.base + part * params.lat.stride;
        [[unroll]] for (uint k = 0u; k < GROUPS_PER_LANE; k++) {
            uint g = lane_g + k * GROUP_LANES;
            vec4 lo = acc[(h * GROUPS_PER_LANE + k) * 2u];
            vec4 hi = acc[(h * GROUPS_PER_LANE + k) * 2u + 1u];
            if (POS_LANES > 1u) {
                /* Uniform: GROUPS_PER_LANE is 1 whenever POS_LANES > 1. */
                barrier(); /* the previous head's sums were read */
                if (lane_p > 0u && lane_p < POS_LANES) {
                    partial_sh[tid * 2u] = lo;
                    partial_sh[tid * 2u + 1u] = hi;
                }
                barrier(); /* partial sums out */
                if (lane_p == 0u)
                    for (uint j = 1u; j < POS_LANES; j++) {
                        lo += partial_sh[(j * GROUP_LANES + tid) * 2u];
                        hi += partial_sh[(j * GROUP_LANES + tid) * 2u + 1u];
                    }
            }
            if (lane_p == 0u && g < LATENT_GROUPS) {
                [[unroll]] for (uint e = 0u; e < GROUP; e++) {
                    uint d = g * GROUP + e;
                    vec4 half_group = e < 4u ? lo : hi;
                    if (d < RANK)
                        lat[out_row + d] = half_group[e % 4u] * norm;
                }
            }
        }
        if (params.n_split > 1u && tid == 0u)
            stat[params.stat_base + part] =
                vec2(top_sh[h], rescale_sh[h]);
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
