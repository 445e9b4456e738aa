/* How the latent cache stores one position's values (c, kv_lora_rank of
 * them, and kpe, qk_rope_head_dim), per dsvk_cache_type: the byte layout
 * the GPU ops write and read (shaders/latent_q8.glsl), the sizes the
 * planner and the model's statistics use, and the CPU rounding that gives
 * the reference the values the GPU will read back.
 *
 *   DSVK_CACHE_F16:  n f16 values, 2n bytes.
 *   DSVK_CACHE_Q8_0: ggml's q8_0 per block of 32 values (the last block
 *                    of a row may be shorter): d = max|x| / 127 kept as
 *                    f16, q = round(x / d) as int8, x read back as q * d.
 *                    A row is the n int8 quants, then the blocks' f16
 *                    scales, padded to whole 32-bit words (n a multiple of
 *                    4): 34 bytes per 32 values. Quants and scales are
 *                    apart so that the quants stay word-aligned for
 *                    16-byte loads. */
#ifndef DSVK_HOST_LATENT_CACHE_H
#define DSVK_HOST_LATENT_CACHE_H

#include "dsvk.h"

#include <stdbool.h>
#include <stdint.h>

/* Values per q8_0 block. */
#define LATENT_Q8_BLOCK 32u

/* Whether rows of n values can be stored as `type`: f16 needs n even (f16
 * pairs in words), q8_0 a multiple of 4 (int8 quads in words). */
bool latent_row_supported(dsvk_cache_type type, uint32_t n);

/* Bytes one position's n values take, a multiple of 4. */
uint64_t latent_row_bytes(dsvk_cache_type type, uint32_t n);

/* Rounds n values as the cache stores them: dst = what a read returns. */
void latent_round(dsvk_cache_type type, float *dst, const float *src,
                  uint32_t n);

#endif
