#version 450
#extension GL_GOOGLE_include_directive : require
/* What the attention needs of a step's new tokens, as one dispatch
 * (model_op_params.h, dsvk_mla_prepare_params; DESIGN.md §2, §3): the
 * normalised latent and the rotated rope key, stored in the latent cache,
 * and the rotated rope part of every head's query, in place.
 * Workgroup (0, t) normalises token t's latent (a workgroup reduction) and
 * writes its cache row; workgroups (1.., t) rotate its query pairs, one
 * per invocation. The cache holds uints, whose byte layout
 * (host/forward/latent_cache.h) is the same on every device: f16 pairs
 * (packHalf2x16), which need no 16-bit storage feature, or q8_0 quants and
 * scales (latent_q8.glsl). */
#include "common.glsl"
#include "latent_q8.glsl"
#include "model_op_params.h"
#include "reduce.glsl"
#include "rope.glsl"

layout(push_constant) uniform Push { dsvk_mla_prepare_params params; };

layout(binding = 0) readonly buffer Kv { float kv[]; };
layout(binding = 1) buffer Q { float q[]; };
/* attn_kv_a_norm, f32; without a norm the launcher binds kv here. */
layout(binding = 2) readonly buffer Norm { float norm[]; };
/* The cache: f16 pairs, [ctx][r/2] and [ctx][dr/2]. */
layout(binding = 3) writeonly buffer Latent { uint latent[]; };
layout(binding = 4) writeonly buffer RopeKey { uint rope_key[]; };

/* Pair p of token t's latent, normalised; row is t's kv row. */
vec2 latent_pair(uint row, uint p, float inv_rms)
{
    vec2 v = vec2(kv[row + 2u * p], kv[row + 2u * p + 1u]);
    if (params.has_norm != 0u)
        v *= inv_rms * vec2(norm[params.norm_base + 2u * p],
                            norm[params.norm_base + 2u * p + 1u]);
    return v;
}

/* Pair p of token t's rope key, rotated. */
vec2 rope_key_pair(uint row, uint p, float pos)
{
    uint at = row + params.kv_lora_rank + 2u * p;
    vec2 v = vec2(kv[at], kv[at + 1u]);
    if (params.has_rope != 0u)
        v = rope_rotate(params.freq, pos, p, v);
    return v;
}

vec2 source_pair(bool rope_part, uint row, uint p, float inv_rms, float pos)
{
    return rope_part ? rope_key_pair(row, p, pos)
                     : latent_pair(row, p, inv_rms);
}

void store(bool rope_part, uint at, uint word)
{
    if (rope_part)
        rope_key[at] = word;
    else
        latent[at] = word;
}

/* One cache row of n values at uint dst as q8_0, each invocation two
 * blocks: the pair shares a scale word, which then has one writer. */
void write_q8_row(bool rope_part, uint n, uint row, uint dst, float inv_rms,
                  float pos)
{
    uint blocks = q8_blocks(n);
    for (uint bp = gl_LocalInvocationIndex; bp < (blocks + 1u) / 2u;
         bp += WORKGROUP_SIZE) {
        vec2 scales = vec2(0.0);
        for (uint k = 0u; k < 2u && 2u * bp + k < blocks; k++) {
            uint p0 = (2u * bp + k) * (Q8_BLOCK / 2u);
            uint p1 = min(p0 + Q8_BLOCK / 2u, n / 2u);
            float amax = 0.0;
            for (uint p = p0; p < p1; p++) {
                vec2 v = abs(source_pair(rope_part, row, p, inv_rms, pos));
                amax = max(amax, max(v.x, v.y));
            }
            /* ggml's q8_0: quantised with the exact scale, read back with
             * its f16 rounding. */
            float d = amax / 127.0;
            float id = d != 0.0 ? 1.0 / d : 0.0;
            for (uint p = p0; p < p1; p += 2u) {
                vec4 v = vec4(source_pair(rope_part, row, p, inv_rms, pos),
                              source_pair(rope_part, row, p + 1u, inv_rms,
                                          pos));
                store(rope_part, dst + p / 2u, q8_pack(v * id));
            }
            scales[k] = d;
        }
        store(rope_part, dst + n / 4u + bp, packHalf2x16(scales));
    }
}

void write_f16_row(bool rope_part, uint n, uint row, uint dst, float inv_rms,
                   float pos)
{
    for (uint p = gl_LocalInvocationIndex; p < n / 2u; p += WORKGROUP_SIZE)
        store(rope_part, dst + p,
              packHalf2x16(source_pair(rope_part, row, p, inv_rms, pos)));
}

void write_cache_row(uint t, float pos)
{
    uint tid = gl_LocalInvocationIndex;
    uint r = params.kv_lora_rank, dr = params.rope_dim;
    uint row = params.kv.base + t * params.kv.stride;
    float inv_rms = 1.0;
    if (params.has_norm != 0u) {
        float squares = 0.0;
        for (uint c = tid; c < r; c += WORKGROUP_SIZE)
            squares += kv[row + c] * kv[row + c];
        inv_rms = 1.0 / sqrt(reduce_add(squares) / float(r) + params.eps);
    }
    if (params.cache_q8 != 0u) {
        write_q8_row(false, r, row, params.latent_base + t * q8_row_words(r),
                     inv_rms, pos);
        write_q8_row(true, dr, row,
                     params.rope_key_base + t * q8_row_words(dr), inv_rms,
                     pos);
    } else {
        write_f16_row(false, r, row, params.latent_base + t * (r / 2u),
                      inv_rms, pos);
        write_f16_row(true, dr, row, params.rope_key_base + t * (dr / 2u),
                      inv_rms, pos);
    }
}

void main()
{
    uint t = gl_WorkGroupID.y;
    float pos = float(params.pos0 + t);
    if (gl_WorkGroupID.x == 0u) {
        write_cache_row(t, pos);
        return;
    }
    uint pairs = params.rope_dim / 2u;
    uint index = (gl_WorkGroupID.x - 1u) * WORKGROUP_SIZE +
                 gl_LocalInvocationIndex;
    if (index >= params.n_head * pairs)
        return;
    uint h = index / pairs, p = index % pairs;
    uint at = params.q.base + (t * params.n_head + h) * params.q.stride +
              params.nope_dim + 2u * p;
    vec2 v = rope_rotate(params.freq, pos, p, vec2(q[at], q[at + 1u]));
    q[at] = v.x;
    q[at + 1u] = v.y;
}
