#version 450
#extension GL_GOOGLE_include_directive : require
/* Rotary position embedding with YaRN, in place, on adjacent pairs
 * (x[2i], x[2i+1]) of each row, one invocation per pair; row r is at
 * position pos0 + r / rows_per_position (rows_per_position = heads for q).
 * Follows ggml's rope_yarn (DESIGN.md §2):
 *   theta_extrap = pos * freq_base^(-2i/n)
 *   theta_interp = freq_scale * theta_extrap
 *   mix   = ext_factor * (1 - clamp((i - corr_low) / max(0.001,
 *           corr_high - corr_low), 0, 1))
 *   theta = theta_interp * (1 - mix) + theta_extrap * mix
 * ggml also multiplies cos/sin by 1 + 0.1 ln(1/freq_scale) when ext_factor
 * is set; llama.cpp cancels that for DeepSeek through attn_factor (the
 * attention scale carries mscale^2 instead), so cos/sin stay unscaled. */
#include "common.glsl"

layout(push_constant) uniform Push { dsvk_rope_params params; };

layout(binding = 0) buffer X { float x[]; };

const float TWO_PI = 6.28318530717958647692;

void main()
{
    uint pairs = params.cols / 2u;
    uint index = group_index() * WORKGROUP_SIZE + gl_LocalInvocationIndex;
    if (index >= params.rows * pairs)
        return;
    uint row = index / pairs;
    uint pair = index % pairs;

    float pos = float(params.pos0 + row / params.rows_per_position);
    float theta_extrap = pos * pow(params.theta_scale, float(pair));
    float theta = params.freq_scale * theta_extrap;
    if (params.ext_factor != 0.0) {
        float y = (float(pair) - params.corr_low) /
                  max(0.001, params.corr_high - params.corr_low);
        float mix = params.ext_factor * (1.0 - clamp(y, 0.0, 1.0));
        theta = theta * (1.0 - mix) + theta_extrap * mix;
    }
    /* Vulkan bounds sin/cos error only on [-pi, pi]. */
    theta -= TWO_PI * round(theta / TWO_PI);
    float c = cos(theta);
    float s = sin(theta);

    uint at = params.x.base + row * params.x.stride + pair * 2u;
    float x0 = x[at];
    float x1 = x[at + 1u];
    x[at] = x0 * c - x1 * s;
    x[at + 1u] = x0 * s + x1 * c;
}
