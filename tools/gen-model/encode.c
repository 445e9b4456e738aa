/* Row encoders for the float types and the 32-element block types. Each
 * quantizer follows ggml's quantize_row_*_ref (the quantizer llama.cpp uses
 * when no importance matrix is given) operation for operation, so files
 * come out as llama-quantize would write them. Multi-byte values are stored
 * little-endian byte by byte so the output does not depend on the host or
 * on alignment. */
#include "encode.h"
#include "model/half.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define QK 32 /* elements per legacy block */

void encode_store_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void store_u32(uint8_t *p, uint32_t v)
{
    for (int b = 0; b < 4; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

void encode_f32(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        store_u32(out + 4 * i, bits);
    }
}

void encode_f16(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t i = 0; i < n; i++)
        encode_store_u16(out + 2 * i, f32_to_half(x[i]));
}

void encode_bf16(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t i = 0; i < n; i++)
        encode_store_u16(out + 2 * i, f32_to_bf16(x[i]));
}

/* The signed value of largest magnitude (the first one on ties). */
static float signed_absmax(const float *v)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK; j++) {
        if (amax < fabsf(v[j])) {
            amax = fabsf(v[j]);
            max = v[j];
        }
    }
    return max;
}

static void min_max(const float *v, float *min, float *max)
{
    *min = FLT_MAX;
    *max = -FLT_MAX;
    for (int j = 0; j < QK; j++) {
        *min = fminf(*min, v[j]);
        *max = fmaxf(*max, v[j]);
    }
}

/* Symmetric 4/5-bit blocks (Q4_0, Q5_0): d = max / -half_range puts the
 * largest-magnitude value exactly on quant 0, so the other end of the range
 * clips at half_range - 1. Quants are (int)(x/d + half_range + 0.5):
 * truncation of a non-negative number, i.e. round half up. */
static void quantize_symmetric(const float *v, int half_range, uint8_t q[QK],
                               uint16_t *d_half)
{
    const float d = signed_absmax(v) / (float)-half_range;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    *d_half = f32_to_half(d);
    const int top = 2 * half_range - 1;
    for (int j = 0; j < QK; j++) {
        int l = (int8_t)(v[j] * id + ((float)half_range + 0.5f));
        q[j] = (uint8_t)(l < top ? l : top);
    }
}

/* Affine blocks (Q4_1, Q5_1): d = (max - min) / top, m = min. */
static void quantize_affine(const float *v, int top, uint8_t q[QK],
                            uint16_t *d_half, uint16_t *m_half)
{
    float min, max;
    min_max(v, &min, &max);
    const float d = (max - min) / (float)top;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    *d_half = f32_to_half(d);
    *m_half = f32_to_half(min);
    for (int j = 0; j < QK; j++) {
        int l = (int8_t)((v[j] - min) * id + 0.5f);
        q[j] = (uint8_t)(l < top ? l : top);
    }
}

/* 16 bytes: element j in the low nibble of byte j, element j+16 in the
 * high nibble (the 5th bits, if any, are stored separately). */
static void pack_nibbles(const uint8_t q[QK], uint8_t *qs)
{
    for (int j = 0; j < QK / 2; j++)
        qs[j] = (uint8_t)((q[j] & 0x0f) | (q[j + QK / 2] & 0x0f) << 4);
}

/* Bit j of qh is the 5th bit of element j. */
static uint32_t fifth_bits(const uint8_t q[QK])
{
    uint32_t qh = 0;
    for (int j = 0; j < QK; j++)
        qh |= (uint32_t)(q[j] >> 4 & 1) << j;
    return qh;
}

void encode_q4_0(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t block = 0; block < n / QK; block++) {
        uint8_t *dst = out + block * 18, q[QK];
        uint16_t d;
        quantize_symmetric(x + block * QK, 8, q, &d);
        encode_store_u16(dst, d);
        pack_nibbles(q, dst + 2);
    }
}

void encode_q4_1(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t block = 0; block < n / QK; block++) {
        uint8_t *dst = out + block * 20, q[QK];
        uint16_t d, m;
        quantize_affine(x + block * QK, 15, q, &d, &m);
        encode_store_u16(dst, d);
        encode_store_u16(dst + 2, m);
        pack_nibbles(q, dst + 4);
    }
}

void encode_q5_0(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t block = 0; block < n / QK; block++) {
        uint8_t *dst = out + block * 22, q[QK];
        uint16_t d;
        quantize_symmetric(x + block * QK, 16, q, &d);
        encode_store_u16(dst, d);
        store_u32(dst + 2, fifth_bits(q));
        pack_nibbles(q, dst + 6);
    }
}

void encode_q5_1(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t block = 0; block < n / QK; block++) {
        uint8_t *dst = out + block * 24, q[QK];
        uint16_t d, m;
        quantize_affine(x + block * QK, 31, q, &d, &m);
        encode_store_u16(dst, d);
        encode_store_u16(dst + 2, m);
        store_u32(dst + 4, fifth_bits(q));
        pack_nibbles(q, dst + 8);
    }
}

void encode_q8_0(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t block = 0; block < n / QK; block++) {
        const float *v = x + block * QK;
        uint8_t *dst = out + block * (2 + QK);
        float amax = 0.0f;
        for (int j = 0; j < QK; j++)
            amax = fmaxf(amax, fabsf(v[j]));
        /* ggml scales by the f32 d, and stores d rounded to f16. */
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        encode_store_u16(dst, f32_to_half(d));
        for (int j = 0; j < QK; j++)
            dst[2 + j] = (uint8_t)(int8_t)roundf(v[j] * id);
    }
}
