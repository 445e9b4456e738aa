/* Rotary position embedding with YaRN of one pair (x[2i], x[2i+1]), as
 * ggml's rope_yarn (DESIGN.md §2):
 *   theta_extrap = pos * freq_base^(-2i/n)
 *   theta_interp = freq_scale * theta_extrap
 *   mix   = ext_factor * (1 - clamp((i - corr_low) / max(0.001,
 *           corr_high - corr_low), 0, 1))
 *   theta = theta_interp * (1 - mix) + theta_extrap * mix
 * ggml also multiplies cos/sin by 1 + 0.1 ln(1/freq_scale) when ext_factor
 * is set; llama.cpp cancels that for DeepSeek through attn_factor (the
 * attention scale carries mscale^2 instead), so cos/sin stay unscaled.
 * Used by rope.comp and mla_prepare.comp. */
const float ROPE_TWO_PI = 6.28318530717958647692;

vec2 rope_rotate(dsvk_rope_freq f, float pos, uint pair, vec2 v)
{
    float theta_extrap = pos * pow(f.theta_scale, float(pair));
    float theta = f.freq_scale * theta_extrap;
    if (f.ext_factor != 0.0) {
        float y = (float(pair) - f.corr_low) /
                  max(0.001, f.corr_high - f.corr_low);
        float mix = f.ext_factor * (1.0 - clamp(y, 0.0, 1.0));
        theta = theta * (1.0 - mix) + theta_extrap * mix;
    }
    /* Vulkan bounds sin/cos error only on [-pi, pi]. */
    theta -= ROPE_TWO_PI * round(theta / ROPE_TWO_PI);
    float c = cos(theta);
    float s = sin(theta);
    return vec2(v.x * c - v.y * s, v.x * s + v.y * c);
}
