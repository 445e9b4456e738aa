/* Decoding of GGUF weights in registers, the same two functions for every
 * weight type, so a shader that reads weights does not care which type it
 * reads. This interface is stable: op shaders (matvec, matmul, gather_rows,
 * and the expert/head-indexed products of the model shaders) rely on it.
 *
 * Use:
 *   #define WEIGHT_TYPE DSVK_TYPE_Q8_0   (usually -DWEIGHT_TYPE=... from the
 *                                         shader table; ids from shared.h)
 *   layout(binding = N) readonly buffer Weights { uint weight_words[]; };
 *   #define WEIGHT_WORDS weight_words
 *   #include "weights.glsl"
 *
 * Provides:
 *   WEIGHT_BLOCK        elements per block (1 for F32/F16/BF16, 32 for Q8_0);
 *                       a row's length must be a multiple of it
 *   WEIGHT_BLOCK_BYTES  bytes per block (row bytes = cols / WEIGHT_BLOCK *
 *                       WEIGHT_BLOCK_BYTES)
 *   float weight_get(uint row, uint col)
 *                       element `col` of the row starting at byte `row` of
 *                       the binding
 *   vec4 weight_get4(uint row, uint col)
 *                       elements col .. col+3; needs col % 4 == 0 and
 *                       col + 4 <= the row's length
 *
 * `row` is a byte offset: a multiple of 2 for every type (rows of odd-length
 * f16 and of 34-byte Q8_0 blocks are only 2-byte aligned), a multiple of 4
 * for F32. The binding must cover the whole 32-bit word holding the last
 * byte read.
 *
 * Weights are read as 32-bit words and unpacked with unpackHalf2x16, shifts
 * and bitfieldExtract, so no 8/16-bit storage or float16 arithmetic feature
 * is needed. To add a type, add an #elif branch defining the two constants
 * and the two functions: in every GGUF block type four consecutive elements
 * starting at a multiple of 4 come from consecutive bytes (or nibbles), so
 * weight_get4 stays one or two word reads. */
#ifndef WEIGHT_TYPE
#error "define WEIGHT_TYPE to a DSVK_TYPE_* id before including weights.glsl"
#endif

/* The 4 bytes starting at any byte offset, little-endian. */
uint weight_bytes4(uint byte)
{
    uint word = byte >> 2;
    uint shift = (byte & 3u) * 8u;
    if (shift == 0u)
        return WEIGHT_WORDS[word];
    return (WEIGHT_WORDS[word] >> shift) |
           (WEIGHT_WORDS[word + 1u] << (32u - shift));
}

/* The 16 bits at a 2-byte aligned offset, in the low half. */
uint weight_bytes2(uint byte)
{
    return (WEIGHT_WORDS[byte >> 2] >> ((byte & 2u) * 8u)) & 0xffffu;
}

float weight_f16(uint byte)
{
    return unpackHalf2x16(weight_bytes2(byte)).x;
}

#if WEIGHT_TYPE == DSVK_TYPE_F32

#define WEIGHT_BLOCK 1u
#define WEIGHT_BLOCK_BYTES 4u

float weight_get(uint row, uint col)
{
    return uintBitsToFloat(WEIGHT_WORDS[(row >> 2) + col]);
}

vec4 weight_get4(uint row, uint col)
{
    uint word = (row >> 2) + col;
    return uintBitsToFloat(uvec4(WEIGHT_WORDS[word], WEIGHT_WORDS[word + 1u],
                                 WEIGHT_WORDS[word + 2u],
                                 WEIGHT_WORDS[word + 3u]));
}

#elif WEIGHT_TYPE == DSVK_TYPE_F16

#define WEIGHT_BLOCK 1u
#define WEIGHT_BLOCK_BYTES 2u

float weight_get(uint row, uint col)
{
    return weight_f16(row + col * 2u);
}

vec4 weight_get4(uint row, uint col)
{
    uint byte = row + col * 2u;
    return vec4(unpackHalf2x16(weight_bytes4(byte)),
                unpackHalf2x16(weight_bytes4(byte + 4u)));
}

#elif WEIGHT_TYPE == DSVK_TYPE_BF16

#define WEIGHT_BLOCK 1u
#define WEIGHT_BLOCK_BYTES 2u

/* bfloat16 is the top half of an f32. */
float weight_get(uint row, uint col)
{
    return uintBitsToFloat(weight_bytes2(row + col * 2u) << 16);
}

vec4 weight_get4(uint row, uint col)
{
    uint byte = row + col * 2u;
    uint lo = weight_bytes4(byte);
    uint hi = weight_bytes4(byte + 4u);
    return uintBitsToFloat(uvec4(lo << 16, lo & 0xffff0000u, hi << 16,
                                 hi & 0xffff0000u));
}

#elif WEIGHT_TYPE == DSVK_TYPE_Q8_0

/* Block: f16 scale d, then 32 signed 8-bit quants; value = d * q. */
#define WEIGHT_BLOCK 32u
#define WEIGHT_BLOCK_BYTES 34u

float weight_get(uint row, uint col)
{
    uint block = row + (col / 32u) * 34u;
    uint byte = block + 2u + col % 32u;
    int q = bitfieldExtract(int(WEIGHT_WORDS[byte >> 2]), int(byte & 3u) * 8,
                            8);
    return weight_f16(block) * float(q);
}

vec4 weight_get4(uint row, uint col)
{
    uint block = row + (col / 32u) * 34u;
    int q = int(weight_bytes4(block + 2u + col % 32u));
    ivec4 quants = ivec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8),
                         bitfieldExtract(q, 16, 8), bitfieldExtract(q, 24, 8));
    return weight_f16(block) * vec4(quants);
}

#else
#error "weights.glsl: WEIGHT_TYPE has no decoder yet"
#endif
