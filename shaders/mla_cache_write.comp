#version 450
#extension GL_GOOGLE_include_directive : require
/* Latent cache write (DESIGN.md §3): stores c = kv[t][0:r] and
 * kpe = kv[t][r:r+dr] of T new tokens at positions pos0.. as f16. The cache
 * holds f16 pairs packed in uints (packHalf2x16): that needs no 16-bit
 * storage feature and has the byte layout of a plain f16 array, so every
 * device path shares one cache format. Workgroup (x, y) = (pairs, token). */
#include "common.glsl"
#include "model_op_params.h"

layout(push_constant) uniform Push { dsvk_cache_write_params params; };

layout(binding = 0) readonly buffer Kv { float kv[]; };
/* The cache: f16 pairs, [ctx][r/2] and [ctx][dr/2]. */
layout(binding = 1) writeonly buffer Latent { uint latent[]; };
layout(binding = 2) writeonly buffer RopeKey { uint rope_key[]; };

void main()
{
    uint t = gl_WorkGroupID.y;
    uint pair = gl_GlobalInvocationID.x;
    uint latent_pairs = params.kv_lora_rank / 2u;
    uint rope_pairs = params.rope_dim / 2u;
    if (pair >= latent_pairs + rope_pairs)
        return;
    uint src = params.kv.base + t * params.kv.stride + 2u * pair;
    uint packed = packHalf2x16(vec2(kv[src], kv[src + 1u]));
    if (pair < latent_pairs)
        latent[params.latent_base + t * latent_pairs + pair] = packed;
    else
        rope_key[params.rope_key_base + t * rope_pairs + pair - latent_pairs] =
            packed;
}
