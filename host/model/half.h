/* Conversions between f32 and the 16-bit float formats stored in GGUF files
 * (IEEE binary16 "f16" and bfloat16). Rounding is to nearest, ties to even,
 * bit-identical to ggml's CPU conversions, so files written here match what
 * llama.cpp would write for the same f32 values. */
#ifndef DSVK_HOST_HALF_H
#define DSVK_HOST_HALF_H

#include <stdint.h>

float half_to_f32(uint16_t h);
/* NaN becomes a quiet NaN (0x7e00 with the sign); too large becomes inf. */
uint16_t f32_to_half(float f);

float bf16_to_f32(uint16_t h);
/* NaN stays NaN (quiet bit forced), everything else rounds to nearest even. */
uint16_t f32_to_bf16(float f);

#endif
