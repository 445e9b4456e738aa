#version 450
#extension GL_GOOGLE_include_directive : require
/* What the attention needs of a step's new tokens, as one dispatch
 * (model_op_params.h, dsvk_mla_prepare_params; DESIGN.md §2, §3): the
 * normalised latent and the rotated rope key, stored in the latent cache
 * as f16, and the rotated rope part of every head's query, in place.
 * Workgroup (0, t) normalises token t's latent (a workgroup reduction) and
 * writes its cache row; workgroups (1.., t) rotate its query pairs, one
 * per invocation. The cache holds f16 pairs packed in uints
 * (packHalf2x16): that needs no 16-bit storage feature and has the byte
 * layout of a plain f16 array, so every device path shares one cache
 * format. */
#include "common.glsl"
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
    for (uint p = tid; p < r / 2u; p += WORKGROUP_SIZE) {
        vec2 v = vec2(kv[row + 2u * p], kv[row + 2u * p + 1u]);
        if (params.has_norm != 0u)
            v *= inv_rms * vec2(norm[params.norm_base + 2u * p],
                                norm[params.norm_base + 2u * p + 1u]);
        latent[params.latent_base + t * (r / 2u) + p] = packHalf2x16(v);
    }
    for (uint p = tid; p < dr / 2u; p += WORKGROUP_SIZE) {
        vec2 v = vec2(kv[row + r + 2u * p], kv[row + r + 2u * p + 1u]);
        if (params.has_rope != 0u)
            v = rope_rotate(params.freq, pos, p, v);
        rope_key[params.rope_key_base + t * (dr / 2u) + p] = packHalf2x16(v);
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
