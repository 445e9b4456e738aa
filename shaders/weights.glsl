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
 *   WEIGHT_BLOCK        elements per block (1 for F32/F16/BF16, 32 for
 *                       Q4_0 ... Q8_0, 256 for Q4_K/Q5_K/Q6_K); a row's
 *                       length must be a multiple of it
 *   WEIGHT_BLOCK_BYTES  bytes per block (row bytes = cols / WEIGHT_BLOCK *
 *                       WEIGHT_BLOCK_BYTES)
 *   float weight_get(uint row, uint col)
 *                       element `col` of the row starting at byte `row` of
 *                       the binding
 *   vec4 weight_get4(uint row, uint col)
 *                       elements col .. col+3; needs col % 4 == 0 and
 *                       col + 4 <= the row's length
 *
 * Optionally, where decoding a 32-element block at once saves reads (the
 * type defines WEIGHT_DOT32):
 *   void weight_dot32(uint row, uint col, vec4 xv[WEIGHT_TOKENS][8],
 *                     inout float acc[WEIGHT_TOKENS])
 *                       adds elements col .. col+31 dotted with each
 *                       token's xv (x[col + 4k + j] in xv[t][k][j]) to
 *                       acc[t]; needs col % 32 == 0 and col + 32 <= the
 *                       row's length
 * and, for a group of WEIGHT_WIDE_COLS elements (32 for F32, F16 and
 * BF16, 256 for Q8_0 and the K-quants) in 16-byte reads (the type defines
 * WEIGHT_WIDE_COLS where the shader declares the weights again as u64vec2
 * WEIGHT_QUADS[], which needs shaderInt64):
 *   void weight_dot_wide(uint quad,
 *                        vec4 xv[WEIGHT_TOKENS][WEIGHT_WIDE_COLS / 4],
 *                        inout float acc[WEIGHT_TOKENS])
 *                       the same for the group starting at 16-byte word
 *                       `quad`; needs a 16-byte aligned start
 * Both decode each weight once for all WEIGHT_TOKENS tokens.
 *
 * `row` is a byte offset: a multiple of 4 for F32 and for the types whose
 * blocks are whole 32-bit words (Q4_1 20 bytes, Q5_1 24, Q4_K 144, Q5_K
 * 176, Q6_K 224 on the device), which are read as aligned words; a
 * multiple of 2 for the others (rows of odd-length f16 and of 18-, 22- and
 * 34-byte blocks are only 2-byte aligned), read through weight_bytes4. The
 * binding must cover the whole 32-bit word holding the last byte read.
 *
 * Weights keep their GGUF blocks on the GPU, except Q6_K, padded from 210
 * to 224 bytes at load (runtime/weight_layout.c). Measured on lavapipe
 * (2048 x 4096 matvec, best of 4), aligned word reads made Q4_K 1.45x and
 * Q5_K 1.5x faster than the unaligned-capable reads, which the word-sized
 * blocks get for free. Q4_0 (18-byte blocks) ran no slower than Q4_1 (20),
 * so for the small blocks alignment matters less than decode work; Q6_K,
 * with four unaligned reads per four elements, was the slowest type.
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

/* The tokens whose x the block decodes are dotted with at once: the
 * CPU-class products' specialization constant (1 in decode, more in
 * prompts: product_rows.glsl), 1 elsewhere. */
#ifdef CPU_KERNELS
layout(constant_id = DSVK_SPEC_PRODUCT_TOKENS) const uint WEIGHT_TOKENS = 1u;
#else
const uint WEIGHT_TOKENS = 1u;
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

#ifdef WEIGHT_QUADS
/* The 16-byte word q of the weights. WEIGHT_QUADS holds them as two 64-bit
 * components each: lavapipe loads a storage buffer one component at a time
 * inside a loop over the lanes, with a bounds check each, so two 64-bit
 * components cost half of four 32-bit ones. Measured on lavapipe (32000 x
 * 1024 Q4_K matvec, best of 5): 1.3-1.5x faster than uvec4 loads. */
uvec4 weight_quad(uint q)
{
    u64vec2 v = WEIGHT_QUADS[q];
    return uvec4(unpackUint2x32(v.x), unpackUint2x32(v.y));
}

/* The n 16-byte words from `quad` on into the uint array w, unrolled so
 * that every index is a constant and w stays in registers. */
#define WEIGHT_LOAD_QUADS(w, quad, n)                                          \
    [[unroll]] for (uint i_ = 0u; i_ < (n); i_++) {                            \
        uvec4 v_ = weight_quad((quad) + i_);                                   \
        w[4u * i_] = v_.x;                                                     \
        w[4u * i_ + 1u] = v_.y;                                                \
        w[4u * i_ + 2u] = v_.z;                                                \
        w[4u * i_ + 3u] = v_.w;                                                \
    }
#endif

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

#ifdef WEIGHT_QUADS
#define WEIGHT_WIDE_COLS 32u
void weight_dot_wide(uint quad, vec4 xv[WEIGHT_TOKENS][8],
                     inout float acc[WEIGHT_TOKENS])
{
    [[unroll]] for (uint i = 0u; i < 8u; i++) {
        vec4 w = uintBitsToFloat(weight_quad(quad + i));
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            acc[t] += dot(w, xv[t][i]);
    }
}
#endif

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

#ifdef WEIGHT_QUADS
#define WEIGHT_WIDE_COLS 32u
void weight_dot_wide(uint quad, vec4 xv[WEIGHT_TOKENS][8],
                     inout float acc[WEIGHT_TOKENS])
{
    [[unroll]] for (uint i = 0u; i < 4u; i++) {
        uvec4 v = weight_quad(quad + i);
        vec4 lo = vec4(unpackHalf2x16(v.x), unpackHalf2x16(v.y));
        vec4 hi = vec4(unpackHalf2x16(v.z), unpackHalf2x16(v.w));
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            acc[t] += dot(lo, xv[t][2u * i]) + dot(hi, xv[t][2u * i + 1u]);
    }
}
#endif

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

#ifdef WEIGHT_QUADS
#define WEIGHT_WIDE_COLS 32u
void weight_dot_wide(uint quad, vec4 xv[WEIGHT_TOKENS][8],
                     inout float acc[WEIGHT_TOKENS])
{
    [[unroll]] for (uint i = 0u; i < 4u; i++) {
        uvec4 v = weight_quad(quad + i);
        vec4 lo = uintBitsToFloat(
            uvec4(v.x << 16, v.x & 0xffff0000u, v.y << 16, v.y & 0xffff0000u));
        vec4 hi = uintBitsToFloat(
            uvec4(v.z << 16, v.z & 0xffff0000u, v.w << 16, v.w & 0xffff0000u));
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            acc[t] += dot(lo, xv[t][2u * i]) + dot(hi, xv[t][2u * i + 1u]);
    }
}
#endif

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

#ifdef WEIGHT_QUADS
/* Eight blocks (272 bytes) in 17 16-byte reads. Block b starts at byte 34b:
 * for even b on a word (scale in the low half, quants from the high
 * half), for odd b in the middle of one (scale in the high half, quants
 * from the next word). The unrolled loops make every index a constant, so
 * the words stay in registers. */
#define WEIGHT_WIDE_COLS 256u
void weight_dot_wide(uint quad, vec4 xv[WEIGHT_TOKENS][64],
                     inout float acc[WEIGHT_TOKENS])
{
    uint w[68];
    WEIGHT_LOAD_QUADS(w, quad, 17u);
    [[unroll]] for (uint b = 0u; b < 8u; b++) {
        const uint start = 17u * b / 2u;
        const bool odd = (b & 1u) == 1u;
        float d = unpackHalf2x16(odd ? w[start] >> 16 : w[start]).x;
        float sum[WEIGHT_TOKENS];
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            sum[t] = 0.0;
        [[unroll]] for (uint k = 0u; k < 8u; k++) {
            uint q = odd ? w[start + 1u + k]
                         : (w[start + k] >> 16) | (w[start + k + 1u] << 16);
            int s = int(q);
            vec4 quants =
                vec4(bitfieldExtract(s, 0, 8), bitfieldExtract(s, 8, 8),
                     bitfieldExtract(s, 16, 8), bitfieldExtract(s, 24, 8));
            [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
                sum[t] += dot(quants, xv[t][8u * b + k]);
        }
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            acc[t] += d * sum[t];
    }
}
#endif

/* A whole block in 9 word reads: 34-byte blocks start on a 2-byte
 * boundary, so either the quants start on a word and the scale is the
 * high half of the word before, or the scale is the low half of the word
 * whose high half starts the quants. */
#define WEIGHT_DOT32
void weight_dot32(uint row, uint col, vec4 xv[WEIGHT_TOKENS][8],
                  inout float acc[WEIGHT_TOKENS])
{
    uint block = row + (col / 32u) * 34u;
    uint word = (block + 2u) >> 2;
    bool quants_aligned = (block & 3u) == 2u;
    uint first = WEIGHT_WORDS[quants_aligned ? word - 1u : word];
    float d = unpackHalf2x16(quants_aligned ? first >> 16 : first).x;
    float sum[WEIGHT_TOKENS];
    [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
        sum[t] = 0.0;
    uint low = first;
    [[unroll]] for (uint k = 0u; k < 8u; k++) {
        uint q;
        if (quants_aligned) {
            q = WEIGHT_WORDS[word + k];
        } else {
            uint high = WEIGHT_WORDS[word + k + 1u];
            q = (low >> 16) | (high << 16);
            low = high;
        }
        int s = int(q);
        vec4 quants = vec4(bitfieldExtract(s, 0, 8), bitfieldExtract(s, 8, 8),
                           bitfieldExtract(s, 16, 8), bitfieldExtract(s, 24, 8));
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            sum[t] += dot(quants, xv[t][k]);
    }
    [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
        acc[t] += d * sum[t];
}

#elif WEIGHT_TYPE == DSVK_TYPE_Q4_0 || WEIGHT_TYPE == DSVK_TYPE_Q4_1 ||        \
    WEIGHT_TYPE == DSVK_TYPE_Q5_0 || WEIGHT_TYPE == DSVK_TYPE_Q5_1

/* Legacy 32-element blocks (layouts as host/model/dequant.c): f16 d, for the _1
 * types f16 m, for the 5-bit types 32 bits qh (bit j: the 5th bit of element
 * j), then 16 bytes of nibbles: element j in the low nibble of byte j, j+16
 * in the high one. Values (q-8) d, q d + m, (q-16) d, q d + m. Q4_1 and
 * Q5_1 blocks are whole words, so their fields are read as aligned words;
 * Q4_0 and Q5_0 blocks (18, 22 bytes) go through weight_bytes4. */
#define WEIGHT_BLOCK 32u
#if WEIGHT_TYPE == DSVK_TYPE_Q4_0
#define WEIGHT_BLOCK_BYTES 18u
#define LEGACY_QS 2u
#define LEGACY_READ4(byte) weight_bytes4(byte)
#elif WEIGHT_TYPE == DSVK_TYPE_Q4_1
#define WEIGHT_BLOCK_BYTES 20u
#define LEGACY_QS 4u
#define LEGACY_READ4(byte) WEIGHT_WORDS[(byte) >> 2]
#elif WEIGHT_TYPE == DSVK_TYPE_Q5_0
#define WEIGHT_BLOCK_BYTES 22u
#define LEGACY_QH 2u
#define LEGACY_QS 6u
#define LEGACY_READ4(byte) weight_bytes4(byte)
#else
#define WEIGHT_BLOCK_BYTES 24u
#define LEGACY_QH 4u
#define LEGACY_QS 8u
#define LEGACY_READ4(byte) WEIGHT_WORDS[(byte) >> 2]
#endif

vec4 weight_get4(uint row, uint col)
{
    uint block = row + (col / 32u) * WEIGHT_BLOCK_BYTES;
    uint j = col % 32u;
    /* Elements j .. j+3 lie in one half: four consecutive bytes' nibbles. */
    uint q = (LEGACY_READ4(block + LEGACY_QS + j % 16u) >> (j & 16u) / 4u) &
             0x0f0f0f0fu;
#ifdef LEGACY_QH
    /* Their 5th bits, moved to bit 4 of each byte. */
    uint h = LEGACY_READ4(block + LEGACY_QH) >> j;
    q |= ((h & 1u) | (h & 2u) << 7 | (h & 4u) << 14 | (h & 8u) << 21) << 4;
#endif
    vec4 quants = vec4((uvec4(q) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu);
#if WEIGHT_TYPE == DSVK_TYPE_Q4_0
    return (quants - 8.0) * weight_f16(block);
#elif WEIGHT_TYPE == DSVK_TYPE_Q5_0
    return (quants - 16.0) * weight_f16(block);
#else
    vec2 dm = unpackHalf2x16(WEIGHT_WORDS[block >> 2]);
    /* precise: two roundings, as host/model/dequant.c computes q * d + m. */
    precise vec4 v = quants * dm.x + dm.y;
    return v;
#endif
}

float weight_get(uint row, uint col)
{
    return weight_get4(row, col & ~3u)[col & 3u];
}

#elif WEIGHT_TYPE == DSVK_TYPE_Q4_K || WEIGHT_TYPE == DSVK_TYPE_Q5_K

/* 256-element super-blocks, whole words (read as aligned words): f16 d and
 * dmin, 12 bytes of eight 6-bit scales and mins (host/model/dequant.c's
 * k_scale_min), for Q5_K 32 bytes qh, then 128 bytes of nibbles: the 64
 * elements of group g share bytes 32g .. 32g+31, low nibbles first. Q5_K's
 * 5th bit of element l (l < 32) of group g is bit 2g of qh[l], that of
 * element l + 32 bit 2g + 1. Value d * scale * q - dmin * min, with the
 * scale and min of the element's 32-element sub-block. */
#define WEIGHT_BLOCK 256u
#if WEIGHT_TYPE == DSVK_TYPE_Q4_K
#define WEIGHT_BLOCK_BYTES 144u
#define KQ_QS 16u
#else
#define WEIGHT_BLOCK_BYTES 176u
#define KQ_QH 16u
#define KQ_QS 48u
#endif

vec4 weight_get4(uint row, uint col)
{
    uint word = (row + (col / 256u) * WEIGHT_BLOCK_BYTES) >> 2;
    uint j = col % 256u;
    uint sub = j / 32u;   /* sub-block: its scale and min */
    uint group = j / 64u; /* 64 elements share 32 quant bytes */
    uint l = j % 32u;
    uint high = sub & 1u; /* second half of the group: high nibbles */
    uint q =
        (WEIGHT_WORDS[word + (KQ_QS + group * 32u + l) / 4u] >> high * 4u) &
        0x0f0f0f0fu;
#ifdef KQ_QH
    q |= (WEIGHT_WORDS[word + (KQ_QH + l) / 4u] >> (group * 2u + high) &
          0x01010101u)
         << 4;
#endif
    /* Scale bytes 0-3 hold sub-blocks 0-3's scales and the top 2 bits of
     * 4-7's, bytes 4-7 the same for the mins, bytes 8-11 the low 4 bits of
     * sub-blocks 4-7's scale (low nibble) and min (high nibble). */
    uint scales = WEIGHT_WORDS[word + 1u];
    uint mins = WEIGHT_WORDS[word + 2u];
    uint scale, min;
    if (sub < 4u) {
        scale = bitfieldExtract(scales, int(sub * 8u), 6);
        min = bitfieldExtract(mins, int(sub * 8u), 6);
    } else {
        uint low = WEIGHT_WORDS[word + 3u] >> ((sub - 4u) * 8u);
        int top = int(sub - 4u) * 8 + 6;
        scale = (low & 0xfu) | bitfieldExtract(scales, top, 2) << 4;
        min = (low >> 4 & 0xfu) | bitfieldExtract(mins, top, 2) << 4;
    }
    vec4 quants = vec4((uvec4(q) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu);
    vec2 d_dmin = unpackHalf2x16(WEIGHT_WORDS[word]);
    /* precise: one rounding per operation, as host/model/dequant.c. */
    precise float d = d_dmin.x * float(scale);
    precise float m = d_dmin.y * float(min);
    precise vec4 v = d * quants - m;
    return v;
}

float weight_get(uint row, uint col)
{
    return weight_get4(row, col & ~3u)[col & 3u];
}

#ifdef WEIGHT_QUADS
/* A super-block (9 or 11 16-byte reads) with each sub-block's scale and min
 * decoded once: sum_i (d sc q_i - dmin mn) x_i = d sc sum q_i x_i - dmin mn
 * sum x_i, the factoring llama.cpp uses too. */
#define WEIGHT_WIDE_COLS 256u
void weight_dot_wide(uint quad, vec4 xv[WEIGHT_TOKENS][64],
                     inout float acc[WEIGHT_TOKENS])
{
    const uint n_words = WEIGHT_BLOCK_BYTES / 4u;
    uint w[n_words];
    WEIGHT_LOAD_QUADS(w, quad, n_words / 4u);
    float scaled[WEIGHT_TOKENS], offset[WEIGHT_TOKENS];
    [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++) {
        scaled[t] = 0.0;
        offset[t] = 0.0;
    }
    [[unroll]] for (uint s = 0u; s < 8u; s++) {
        uint scale, min;
        if (s < 4u) {
            scale = bitfieldExtract(w[1], int(s * 8u), 6);
            min = bitfieldExtract(w[2], int(s * 8u), 6);
        } else {
            uint low = w[3] >> ((s - 4u) * 8u);
            int top = int(s - 4u) * 8 + 6;
            scale = (low & 0xfu) | bitfieldExtract(w[1], top, 2) << 4;
            min = (low >> 4 & 0xfu) | bitfieldExtract(w[2], top, 2) << 4;
        }
        const uint group = s / 2u, high = s & 1u;
        float qx[WEIGHT_TOKENS], x_sum[WEIGHT_TOKENS];
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++) {
            qx[t] = 0.0;
            x_sum[t] = 0.0;
        }
        [[unroll]] for (uint k = 0u; k < 8u; k++) {
            uint q = (w[KQ_QS / 4u + group * 8u + k] >> high * 4u) & 0x0f0f0f0fu;
#ifdef KQ_QH
            q |= (w[KQ_QH / 4u + k] >> (group * 2u + high) & 0x01010101u) << 4;
#endif
            vec4 quants = vec4((uvec4(q) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu);
            [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++) {
                vec4 xk = xv[t][8u * s + k];
                qx[t] += dot(quants, xk);
                x_sum[t] += (xk.x + xk.y) + (xk.z + xk.w);
            }
        }
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++) {
            scaled[t] += float(scale) * qx[t];
            offset[t] += float(min) * x_sum[t];
        }
    }
    vec2 d_dmin = unpackHalf2x16(w[0]);
    [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
        acc[t] += d_dmin.x * scaled[t] - d_dmin.y * offset[t];
}
#endif

#elif WEIGHT_TYPE == DSVK_TYPE_Q6_K

/* 256-element super-blocks: ql[128], qh[64], 16 signed 8-bit scales, f16
 * d, as in GGUF (210 bytes), then 14 bytes of padding on the device
 * (runtime/weight_layout.c), so that blocks are whole 16-byte words. Each
 * half h of 128 elements uses ql[64h ..], qh[32h ..], scales[8h ..]; its
 * quarter k (32 elements, l = 0..31) takes the low (k < 2) or high nibble
 * of ql[l + 32 (k & 1)], bits 2k, 2k+1 of qh[l] and scale l/16 + 2k.
 * Value d * scale * (q - 32). */
#define WEIGHT_BLOCK 256u
#define WEIGHT_BLOCK_BYTES 224u
#define Q6K_QH_WORD 32u
#define Q6K_SCALES_WORD 48u
#define Q6K_D_WORD 52u

/* The 6-bit quants of four consecutive elements (l % 4 == 0) of quarter
 * `quarter`, from their ql and qh words, one per byte. */
uint q6k_quants(uint low, uint high, uint quarter)
{
    return (low >> (quarter >> 1) * 4u & 0x0f0f0f0fu) |
           (high >> quarter * 2u & 0x03030303u) << 4;
}

vec4 weight_get4(uint row, uint col)
{
    uint word = (row + (col / 256u) * WEIGHT_BLOCK_BYTES) >> 2;
    uint j = col % 256u;
    uint half_ = j / 128u;
    uint quarter = j % 128u / 32u;
    uint l = j % 32u;
    uint q = q6k_quants(
        WEIGHT_WORDS[word + half_ * 16u + (quarter & 1u) * 8u + l / 4u],
        WEIGHT_WORDS[word + Q6K_QH_WORD + half_ * 8u + l / 4u], quarter);
    uint s = half_ * 8u + l / 16u + quarter * 2u;
    int scale = bitfieldExtract(
        int(WEIGHT_WORDS[word + Q6K_SCALES_WORD + s / 4u]), int(s % 4u) * 8, 8);
    vec4 quants =
        vec4(ivec4((uvec4(q) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu) - 32);
    precise float d =
        unpackHalf2x16(WEIGHT_WORDS[word + Q6K_D_WORD]).x * float(scale);
    precise vec4 v = d * quants;
    return v;
}

float weight_get(uint row, uint col)
{
    return weight_get4(row, col & ~3u)[col & 3u];
}

#ifdef WEIGHT_QUADS
/* A super-block in 14 16-byte reads, each 16-element run's scale applied
 * once to its sum. q - 32 is the 6-bit field q ^ 32 read as signed, so one
 * sign-extending extract per element gives it. */
#define WEIGHT_WIDE_COLS 256u
void weight_dot_wide(uint quad, vec4 xv[WEIGHT_TOKENS][64],
                     inout float acc[WEIGHT_TOKENS])
{
    uint w[56];
    WEIGHT_LOAD_QUADS(w, quad, 14u);
    float total[WEIGHT_TOKENS];
    [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
        total[t] = 0.0;
    [[unroll]] for (uint s = 0u; s < 16u; s++) {
        const uint half_ = s / 8u, quarter = s % 8u / 2u, run = s % 2u;
        float sum[WEIGHT_TOKENS];
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            sum[t] = 0.0;
        [[unroll]] for (uint k = 0u; k < 4u; k++) {
            const uint m = 4u * run + k;
            uint q = q6k_quants(w[half_ * 16u + (quarter & 1u) * 8u + m],
                                w[Q6K_QH_WORD + half_ * 8u + m], quarter);
            int signed_q = int(q ^ 0x20202020u);
            vec4 quants = vec4(bitfieldExtract(signed_q, 0, 6),
                               bitfieldExtract(signed_q, 8, 6),
                               bitfieldExtract(signed_q, 16, 6),
                               bitfieldExtract(signed_q, 24, 6));
            [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
                sum[t] += dot(quants, xv[t][half_ * 32u + quarter * 8u + m]);
        }
        int scale = bitfieldExtract(int(w[Q6K_SCALES_WORD + s / 4u]),
                                    int(s % 4u) * 8, 8);
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            total[t] += float(scale) * sum[t];
    }
    float d = unpackHalf2x16(w[Q6K_D_WORD]).x;
    [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
        acc[t] += d * total[t];
}
#endif

#else
#error "weights.glsl: WEIGHT_TYPE has no decoder yet"
#endif

