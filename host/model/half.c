/* f16 / bf16 <-> f32 with integer bit manipulation only, so the result does
 * not depend on the compiler's float environment or on F16C. */
#include "half.h"

#include <string.h>

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Shifts right by `shift` (1..31) rounding to nearest, ties to even. */
static uint32_t shift_round_even(uint32_t value, uint32_t shift)
{
    uint32_t kept = value >> shift;
    uint32_t rest = value & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (kept & 1)))
        kept++;
    return kept;
}

float half_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    if (exponent == 0x1f) /* inf or NaN: keep the payload */
        return f32_from_bits(sign | 0x7f800000 | (mantissa << 13));
    if (exponent != 0)
        return f32_from_bits(sign | ((exponent + 112) << 23) |
                             (mantissa << 13));
    if (mantissa == 0)
        return f32_from_bits(sign);
    /* Subnormal: renormalise so the leading 1 becomes the implicit bit. */
    exponent = 113;
    while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        exponent--;
    }
    return f32_from_bits(sign | (exponent << 23) | ((mantissa & 0x3ff) << 13));
}

uint16_t f32_to_half(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t magnitude = u & 0x7fffffff;
    if (magnitude > 0x7f800000)
        return sign | 0x7e00;
    /* 65520 (0x477ff000) is the midpoint between the largest half, 65504,
     * and 65536; the tie goes to the even neighbour, which is inf. */
    if (magnitude >= 0x477ff000)
        return sign | 0x7c00;
    /* Below 2^-25 everything rounds to zero (2^-25 itself ties to 0). */
    if (magnitude <= 0x33000000)
        return sign;
    if (magnitude < 0x38800000) {
        /* Result is subnormal: units of 2^-24. The f32 value is
         * mantissa * 2^(exponent - 150), so shift by 126 - exponent. */
        uint32_t exponent = magnitude >> 23;
        uint32_t mantissa = (magnitude & 0x7fffff) | 0x800000;
        return sign | (uint16_t)shift_round_even(mantissa, 126 - exponent);
    }
    /* Normal: rebias the exponent (127 -> 15) and drop 13 mantissa bits. A
     * carry out of the mantissa correctly bumps the exponent. */
    return sign | (uint16_t)shift_round_even(magnitude - 0x38000000, 13);
}

float bf16_to_f32(uint16_t h)
{
    return f32_from_bits((uint32_t)h << 16);
}

uint16_t f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}
