/* The q8_0 latent cache row (host/forward/latent_cache.h): n int8 quants, four to
 * a uint (value i in byte i % 4 of word i / 4, a plain int8 array), then
 * the f16 scales of its blocks of 32 values, two to a uint. n is a
 * multiple of 4. */
#ifndef DSVK_LATENT_Q8_GLSL
#define DSVK_LATENT_Q8_GLSL

const uint Q8_BLOCK = 32u;
const uint Q8_BLOCK_WORDS = Q8_BLOCK / 4u;

uint q8_blocks(uint n)
{
    return (n + Q8_BLOCK - 1u) / Q8_BLOCK;
}

/* uints of one row: quants, then scales. */
uint q8_row_words(uint n)
{
    return n / 4u + (q8_blocks(n) + 1u) / 2u;
}

/* The four quants of a word, sign-extended by arithmetic shifts. */
vec4 q8_unpack(uint word)
{
    int w = int(word);
    return vec4(ivec4(w << 24, w << 16, w << 8, w) >> 24);
}

/* ggml's roundf (half away from zero), within the int8 range. */
int q8_round(float v)
{
    return int(clamp(sign(v) * floor(abs(v) + 0.5), -127.0, 127.0));
}

uint q8_pack(vec4 scaled)
{
    ivec4 q = ivec4(q8_round(scaled.x), q8_round(scaled.y),
                    q8_round(scaled.z), q8_round(scaled.w));
    return uint(q.x & 255) | uint(q.y & 255) << 8u | uint(q.z & 255) << 16u |
           uint(q.w & 255) << 24u;
}

/* Block b's scale from the row's scale word b / 2. */
float q8_scale(uint scale_word, uint b)
{
    return unpackHalf2x16(scale_word)[b & 1u];
}

#endif
