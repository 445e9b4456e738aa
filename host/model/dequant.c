/* Block layouts follow ggml-common.h; every decoder writes its floats with
 * the same operations, in the same order, as ggml's dequantize_row_*, so the
 * results are bit-identical. Multi-byte fields are read byte by byte: GGUF
 * blocks are packed (18, 34, 210 bytes...) and fields are little-endian. */
#include "dequant.h"

#include "half.h"
#include "shared.h"

#include <stddef.h>
#include <string.h>

enum {
    QK = 32,   /* elements per legacy block (Q4_0 ... Q8_0) */
    QK_K = 256 /* elements per K-quant super-block */
};

static uint16_t read_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static float read_half(const uint8_t *p)
{
    return half_to_f32(read_u16(p));
}

/* Q4_0, 18 bytes: f16 d, 16 bytes of nibbles. Element j is the low nibble
 * of byte j, element j+16 the high nibble; value (q - 8) * d. */
static void dequant_q4_0(const uint8_t *b, float *y)
{
    const float d = read_half(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < QK / 2; j++) {
        const int x0 = (qs[j] & 0x0f) - 8;
        const int x1 = (qs[j] >> 4) - 8;
        y[j] = x0 * d;
        y[j + QK / 2] = x1 * d;
    }
}

/* Q4_1, 20 bytes: f16 d, f16 m, 16 bytes of nibbles; value q * d + m. */
static void dequant_q4_1(const uint8_t *b, float *y)
{
    const float d = read_half(b);
    const float m = read_half(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < QK / 2; j++) {
        const int x0 = qs[j] & 0x0f;
        const int x1 = qs[j] >> 4;
        y[j] = x0 * d + m;
        y[j + QK / 2] = x1 * d + m;
    }
}

/* Q5_0, 22 bytes: f16 d, 32-bit qh (bit j = 5th bit of element j), 16 bytes
 * of nibbles laid out as in Q4_0; value (q - 16) * d. */
static void dequant_q5_0(const uint8_t *b, float *y)
{
    const float d = read_half(b);
    const uint32_t qh = read_u32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < QK / 2; j++) {
        const int h0 = ((qh >> j) << 4) & 0x10;
        const int h1 = (qh >> (j + 12)) & 0x10;
        const int x0 = ((qs[j] & 0x0f) | h0) - 16;
        const int x1 = ((qs[j] >> 4) | h1) - 16;
        y[j] = x0 * d;
        y[j + QK / 2] = x1 * d;
    }
}

/* Q5_1, 24 bytes: f16 d, f16 m, 32-bit qh, 16 bytes of nibbles; value
 * q * d + m. */
static void dequant_q5_1(const uint8_t *b, float *y)
{
    const float d = read_half(b);
    const float m = read_half(b + 2);
    const uint32_t qh = read_u32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < QK / 2; j++) {
        const int h0 = ((qh >> j) << 4) & 0x10;
        const int h1 = (qh >> (j + 12)) & 0x10;
        const int x0 = (qs[j] & 0x0f) | h0;
        const int x1 = (qs[j] >> 4) | h1;
        y[j] = x0 * d + m;
        y[j + QK / 2] = x1 * d + m;
    }
}

/* Q8_0, 34 bytes: f16 d, 32 signed bytes; value q * d. */
static void dequant_q8_0(const uint8_t *b, float *y)
{
    const float d = read_half(b);
    for (int j = 0; j < QK; j++)
        y[j] = (int8_t)b[2 + j] * d;
}

/* The 12 scale bytes of Q4_K/Q5_K hold eight 6-bit scales and eight 6-bit
 * mins (ggml's get_scale_min_k4): sub-blocks 0-3 use the low 6 bits of
 * bytes 0-3 (scale) and 4-7 (min); sub-blocks 4-7 take their low 4 bits
 * from bytes 8-11 (scale: low nibble, min: high nibble) and their top 2
 * bits from the spare top bits of bytes 0-3 (scale) and 4-7 (min). */
static void k_scale_min(int j, const uint8_t *q, uint8_t *scale, uint8_t *min)
{
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = (uint8_t)((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *min = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Q4_K, 144 bytes: f16 d, f16 dmin, 12 scale bytes, 128 bytes of nibbles.
 * Each 64 elements share 32 quant bytes: low nibbles are the first 32
 * elements (sub-block 2i), high nibbles the next 32 (sub-block 2i+1);
 * value d*scale * q - dmin*min. */
static void dequant_q4_k(const uint8_t *b, float *y)
{
    const float d = read_half(b);
    const float dmin = read_half(b + 2);
    const uint8_t *scales = b + 4;
    const uint8_t *q = b + 16;
    for (int sub = 0; sub < 8; sub += 2) {
        uint8_t sc, m;
        k_scale_min(sub, scales, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        k_scale_min(sub + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++)
            *y++ = d1 * (q[l] & 0x0f) - m1;
        for (int l = 0; l < 32; l++)
            *y++ = d2 * (q[l] >> 4) - m2;
        q += 32;
    }
}

/* Q5_K, 176 bytes: f16 d, f16 dmin, 12 scale bytes, 32 bytes qh, 128 bytes
 * of nibbles. As Q4_K, plus a 5th bit: for the 64-element group g, bit 2g
 * of qh[l] belongs to the low-nibble element l, bit 2g+1 to the high one. */
static void dequant_q5_k(const uint8_t *b, float *y)
{
    const float d = read_half(b);
    const float dmin = read_half(b + 2);
    const uint8_t *scales = b + 4;
    const uint8_t *qh = b + 16;
    const uint8_t *ql = b + 48;
    uint8_t bit_lo = 1, bit_hi = 2;
    for (int sub = 0; sub < 8; sub += 2) {
        uint8_t sc, m;
        k_scale_min(sub, scales, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        k_scale_min(sub + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++)
            *y++ = d1 * ((ql[l] & 0x0f) + (qh[l] & bit_lo ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++)
            *y++ = d2 * ((ql[l] >> 4) + (qh[l] & bit_hi ? 16 : 0)) - m2;
        ql += 32;
        bit_lo <<= 2;
        bit_hi <<= 2;
    }
}

/* Q6_K, 210 bytes: 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits),
 * 16 signed 8-bit scales (one per 16 elements), f16 d at the end. Each 128
 * elements use 64 ql bytes and 32 qh bytes: element l (l < 32) of the four
 * 32-element quarters takes ql[l] low, ql[l+32] low, ql[l] high, ql[l+32]
 * high nibble and bits 0-1, 2-3, 4-5, 6-7 of qh[l]; value d*scale*(q-32). */
static void dequant_q6_k(const uint8_t *b, float *y)
{
    const uint8_t *ql = b;
    const uint8_t *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    const float d = read_half(b + 208);
    for (int half = 0; half < 2; half++) {
        for (int l = 0; l < 32; l++) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 =
                ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[is] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

typedef void (*block_decoder)(const uint8_t *block, float *dst);

typedef struct block_format {
    uint32_t type;
    uint32_t elements;
    uint32_t bytes;
    block_decoder decode;
} block_format;

static const block_format block_formats[] = {
    {DSVK_TYPE_Q4_0, QK, 18, dequant_q4_0},
    {DSVK_TYPE_Q4_1, QK, 20, dequant_q4_1},
    {DSVK_TYPE_Q5_0, QK, 22, dequant_q5_0},
    {DSVK_TYPE_Q5_1, QK, 24, dequant_q5_1},
    {DSVK_TYPE_Q8_0, QK, 34, dequant_q8_0},
    {DSVK_TYPE_Q4_K, QK_K, 144, dequant_q4_k},
    {DSVK_TYPE_Q5_K, QK_K, 176, dequant_q5_k},
    {DSVK_TYPE_Q6_K, QK_K, 210, dequant_q6_k},
};

static const block_format *find_block_format(uint32_t type)
{
    for (size_t i = 0; i < sizeof block_formats / sizeof block_formats[0]; i++)
        if (block_formats[i].type == type)
            return &block_formats[i];
    return NULL;
}

static bool is_float_type(uint32_t type)
{
    return type == DSVK_TYPE_F32 || type == DSVK_TYPE_F16 ||
           type == DSVK_TYPE_BF16;
}

bool dequant_supports(uint32_t type)
{
    return is_float_type(type) || find_block_format(type) != NULL;
}

bool dequant_row(uint32_t type, const void *src, float *dst, uint64_t n)
{
    const uint8_t *p = src;
    switch (type) {
    case DSVK_TYPE_F32:
        /* GGUF is little-endian, like every host dsvk targets. */
        memcpy(dst, p, n * sizeof(float));
        return true;
    case DSVK_TYPE_F16:
        for (uint64_t i = 0; i < n; i++)
            dst[i] = half_to_f32(read_u16(p + 2 * i));
        return true;
    case DSVK_TYPE_BF16:
        for (uint64_t i = 0; i < n; i++)
            dst[i] = bf16_to_f32(read_u16(p + 2 * i));
        return true;
    default:
        break;
    }
    const block_format *format = find_block_format(type);
    if (!format || n % format->elements)
        return false;
    for (uint64_t i = 0; i < n / format->elements; i++)
        format->decode(p + i * format->bytes, dst + i * format->elements);
    return true;
}
