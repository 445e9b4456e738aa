/* Row encoders. Multi-byte values are stored little-endian byte by byte so
 * the output does not depend on the host or on alignment. */
#include "encode.h"
#include "half.h"

#include <math.h>
#include <string.h>

#define Q8_0_BLOCK 32

static void store_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void encode_f32(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (uint8_t)(bits >> (8 * b));
    }
}

void encode_f16(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t i = 0; i < n; i++)
        store_u16(out + 2 * i, f32_to_half(x[i]));
}

void encode_bf16(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t i = 0; i < n; i++)
        store_u16(out + 2 * i, f32_to_bf16(x[i]));
}

void encode_q8_0(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t block = 0; block < n / Q8_0_BLOCK; block++) {
        const float *v = x + block * Q8_0_BLOCK;
        uint8_t *dst = out + block * (2 + Q8_0_BLOCK);
        float amax = 0.0f;
        for (int j = 0; j < Q8_0_BLOCK; j++)
            amax = fmaxf(amax, fabsf(v[j]));
        /* ggml scales by the f32 d, and stores d rounded to f16. */
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        store_u16(dst, f32_to_half(d));
        for (int j = 0; j < Q8_0_BLOCK; j++)
            dst[2 + j] = (uint8_t)(int8_t)roundf(v[j] * id);
    }
}
