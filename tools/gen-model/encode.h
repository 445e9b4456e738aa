/* Row encoders: f32 floats to the bytes of one GGUF weight type. The block
 * quantizers reproduce ggml's quantize_row_*_ref (what llama-quantize uses
 * without an importance matrix). n must be a multiple of the block size:
 * 32 for Q4_0 ... Q8_0, 256 for the K-quants. */
#ifndef GEN_MODEL_ENCODE_H
#define GEN_MODEL_ENCODE_H

#include <stdint.h>

void encode_f32(const float *x, uint64_t n, uint8_t *out);
void encode_f16(const float *x, uint64_t n, uint8_t *out);
void encode_bf16(const float *x, uint64_t n, uint8_t *out);

/* Blocks of 32, f16 scale d (and f16 min m for the _1 types):
 *   Q4_0: d = -max/8, quants round(x/d) + 8 in 0..15 (the largest-magnitude
 *         value is exact, the opposite end clips one step short);
 *   Q4_1: d = (max-min)/15, m = min, quants round((x-m)/d);
 *   Q5_0, Q5_1: the same with 5 bits (16 and 31);
 *   Q8_0: d = max|x|/127, quants roundf(x/d) in -127..127. */
void encode_q4_0(const float *x, uint64_t n, uint8_t *out);
void encode_q4_1(const float *x, uint64_t n, uint8_t *out);
void encode_q5_0(const float *x, uint64_t n, uint8_t *out);
void encode_q5_1(const float *x, uint64_t n, uint8_t *out);
void encode_q8_0(const float *x, uint64_t n, uint8_t *out);

/* Super-blocks of 256 (encode_kquants.c): Q4_K and Q5_K fit a scale and a
 * min per 32 elements (4/5-bit quants, 6-bit scales and mins); Q6_K a
 * signed scale per 16 elements (6-bit quants, 8-bit scales). */
void encode_q4_k(const float *x, uint64_t n, uint8_t *out);
void encode_q5_k(const float *x, uint64_t n, uint8_t *out);
void encode_q6_k(const float *x, uint64_t n, uint8_t *out);

/* Little-endian u16 store shared by the encoders. */
void encode_store_u16(uint8_t *p, uint16_t v);

#endif
