/* Row encoders: f32 floats to the bytes of one GGUF weight type. */
#ifndef GEN_MODEL_ENCODE_H
#define GEN_MODEL_ENCODE_H

#include <stdint.h>

void encode_f32(const float *x, uint64_t n, uint8_t *out);
void encode_f16(const float *x, uint64_t n, uint8_t *out);
void encode_bf16(const float *x, uint64_t n, uint8_t *out);
/* Blocks of 32: f16 scale d = max|x| / 127, then 32 int8 round(x / d),
 * exactly as ggml's quantize_row_q8_0_ref. */
void encode_q8_0(const float *x, uint64_t n, uint8_t *out);

#endif
