/* CPU dequantization of every weight type dsvk reads, bit-exact with ggml's
 * dequantize_row_* (same block layouts, same order of float operations).
 * Used by the CPU reference forward pass and by op tests as the ground
 * truth for the GPU decoders. */
#ifndef DSVK_HOST_DEQUANT_H
#define DSVK_HOST_DEQUANT_H

#include <stdbool.h>
#include <stdint.h>

/* True for the types dequant_row decodes: F32, F16, BF16, Q8_0, Q4_0, Q4_1,
 * Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (DSVK_TYPE_* ids, GGML numbering). */
bool dequant_supports(uint32_t type);

/* Decodes `n` consecutive elements of `type` starting at `src` into `dst`.
 * `n` must be a multiple of the type's block size (32 for the legacy
 * quants, 256 for the K-quants, 1 for float types) and the type supported;
 * callers check both with dequant_supports and gguf_row_bytes when binding
 * a tensor. `src` needs no alignment (GGUF blocks are only 2-byte aligned).
 * Returns false, writing nothing, when either condition does not hold. */
bool dequant_row(uint32_t type, const void *src, float *dst, uint64_t n);

#endif
