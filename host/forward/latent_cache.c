#include "latent_cache.h"

#include "model/half.h"

#include <math.h>

bool latent_row_supported(dsvk_cache_type type, uint32_t n)
{
    return type == DSVK_CACHE_Q8_0 ? n % 4 == 0 : n % 2 == 0;
}

uint64_t latent_row_bytes(dsvk_cache_type type, uint32_t n)
{
    if (type != DSVK_CACHE_Q8_0)
        return 2ull * n;
    uint64_t blocks = ((uint64_t)n + LATENT_Q8_BLOCK - 1) / LATENT_Q8_BLOCK;
    /* n int8 quants (n % 4 == 0), then the f16 scales in whole words. */
    return n + (blocks + 1) / 2 * 4;
}

/* One block as ggml's quantize_row_q8_0 makes it: the scale rounded to f16
 * for reading back, the quants from the unrounded one. */
static void round_q8_block(float *dst, const float *src, uint32_t n)
{
    float amax = 0.0f;
    for (uint32_t i = 0; i < n; i++)
        amax = fmaxf(amax, fabsf(src[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const float stored = half_to_f32(f32_to_half(d));
    for (uint32_t i = 0; i < n; i++)
        dst[i] = fminf(fmaxf(roundf(src[i] * id), -127.0f), 127.0f) * stored;
}

void latent_round(dsvk_cache_type type, float *dst, const float *src,
                  uint32_t n)
{
    if (type == DSVK_CACHE_Q8_0) {
        for (uint32_t b = 0; b < n; b += LATENT_Q8_BLOCK)
            round_q8_block(dst + b, src + b,
                           n - b < LATENT_Q8_BLOCK ? n - b : LATENT_Q8_BLOCK);
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        dst[i] = half_to_f32(f32_to_half(src[i]));
}
