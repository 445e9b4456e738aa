/* dequant_row on hand-built blocks. Each block uses power-of-two scales and
 * small quants, so every expected value below is exact and was worked out
 * from ggml's block layouts; results must match bit for bit. */
#include "model/dequant.h"
#include "shared.h"
#include "testlib.h"

#include <string.h>

/* Little-endian f16 constants. */
enum {
    H_ONE = 0x3c00,
    H_HALF = 0x3800,
    H_QUARTER = 0x3400,
    H_MINUS_ONE = 0xbc00,
    H_MINUS_EIGHTH = 0xb000
};

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Decodes one block and compares all 32 outputs with `expected`. */
static void check_block32(const char *name, uint32_t type, const uint8_t *block,
                          const float expected[32])
{
    float y[32];
    CHECK(dequant_row(type, block, y, 32), "%s: dequant_row failed", name);
    for (int j = 0; j < 32; j++)
        CHECK(same_bits(y[j], expected[j]), "%s[%d] = %g, expected %g", name, j,
              y[j], expected[j]);
}

static void test_q4_0(void)
{
    /* d = 0.5; byte j: low nibble j, high nibble 15 - j. */
    uint8_t b[18];
    put_u16(b, H_HALF);
    for (int j = 0; j < 16; j++)
        b[2 + j] = (uint8_t)(j | (15 - j) << 4);
    const float expected[32] = {
        -4,   -3.5f, -3,    -2.5f, -2,    -1.5f, -1,    -0.5f, 0,     0.5f, 1,
        1.5f, 2,     2.5f,  3,     3.5f,  3.5f,  3,     2.5f,  2,     1.5f, 1,
        0.5f, 0,     -0.5f, -1,    -1.5f, -2,    -2.5f, -3,    -3.5f, -4};
    check_block32("q4_0", DSVK_TYPE_Q4_0, b, expected);
}

static void test_q4_1(void)
{
    /* d = 0.25, m = -1; byte j: low nibble 15 - j, high nibble j. */
    uint8_t b[20];
    put_u16(b, H_QUARTER);
    put_u16(b + 2, H_MINUS_ONE);
    for (int j = 0; j < 16; j++)
        b[4 + j] = (uint8_t)((15 - j) | j << 4);
    const float expected[32] = {
        2.75f, 2.5f,   2.25f, 2,      1.75f,  1.5f,  1.25f,  1,
        0.75f, 0.5f,   0.25f, 0,      -0.25f, -0.5f, -0.75f, -1,
        -1,    -0.75f, -0.5f, -0.25f, 0,      0.25f, 0.5f,   0.75f,
        1,     1.25f,  1.5f,  1.75f,  2,      2.25f, 2.5f,   2.75f};
    check_block32("q4_1", DSVK_TYPE_Q4_1, b, expected);
}

static void test_q5_0(void)
{
    /* d = 1; qh = 0xAAAA5555 sets the 5th bit of the even elements 0-15 and
     * the odd elements 16-31; byte j: low nibble j, high nibble 15 - j. */
    uint8_t b[22];
    put_u16(b, H_ONE);
    put_u32(b + 2, 0xAAAA5555u);
    for (int j = 0; j < 16; j++)
        b[6 + j] = (uint8_t)(j | (15 - j) << 4);
    const float expected[32] = {
        0,  -15, 2,  -13, 4,  -11, 6,  -9, 8,  -7, 10,  -5, 12,  -3, 14,  -1,
        -1, 14,  -3, 12,  -5, 10,  -7, 8,  -9, 6,  -11, 4,  -13, 2,  -15, 0};
    check_block32("q5_0", DSVK_TYPE_Q5_0, b, expected);
}

static void test_q5_1(void)
{
    /* d = 0.5, m = 1; qh = 0x0F0F00FF: elements 0-7, 16-19 and 24-27 have
     * the 5th bit; byte j: low nibble 3j mod 16, high nibble 5j mod 16. */
    uint8_t b[24];
    put_u16(b, H_HALF);
    put_u16(b + 2, H_ONE);
    put_u32(b + 4, 0x0F0F00FFu);
    for (int j = 0; j < 16; j++)
        b[8 + j] = (uint8_t)(((3 * j) & 15) | ((5 * j) & 15) << 4);
    const float expected[32] = {9,  10.5f, 12, 13.5f, 15, 16.5f, 10, 11.5f,
                                5,  6.5f,  8,  1.5f,  3,  4.5f,  6,  7.5f,
                                9,  11.5f, 14, 16.5f, 3,  5.5f,  8,  2.5f,
                                13, 15.5f, 10, 12.5f, 7,  1.5f,  4,  6.5f};
    check_block32("q5_1", DSVK_TYPE_Q5_1, b, expected);
}

static void test_q8_0(void)
{
    /* d = -0.125; q_j = 4j - 64. Element 16 is 0 * -0.125 = -0. */
    uint8_t b[34];
    put_u16(b, H_MINUS_EIGHTH);
    for (int j = 0; j < 32; j++)
        b[2 + j] = (uint8_t)(int8_t)(4 * j - 64);
    const float expected[32] = {8,     7.5f,  7,  6.5f,  6,  5.5f,  5,  4.5f,
                                4,     3.5f,  3,  2.5f,  2,  1.5f,  1,  0.5f,
                                -0.0f, -0.5f, -1, -1.5f, -2, -2.5f, -3, -3.5f,
                                -4,    -4.5f, -5, -5.5f, -6, -6.5f, -7, -7.5f};
    check_block32("q8_0", DSVK_TYPE_Q8_0, b, expected);
}

typedef struct spot {
    int index;
    float value;
} spot;

/* Decodes one 256-element super-block and checks the listed elements. */
static void check_spots(const char *name, uint32_t type, const uint8_t *block,
                        const spot *spots, int n_spots)
{
    float y[256];
    CHECK(dequant_row(type, block, y, 256), "%s: dequant_row failed", name);
    for (int i = 0; i < n_spots; i++)
        CHECK(same_bits(y[spots[i].index], spots[i].value),
              "%s[%d] = %g, expected %g", name, spots[i].index,
              y[spots[i].index], spots[i].value);
}

/* Q4_K/Q5_K header: d = 0.5, dmin = 0.25, and the eight 6-bit scales
 * {1, 17, 35, 63, 5, 22, 40, 63} and mins {0, 3, 48, 9, 7, 30, 50, 1}
 * packed as ggml's get_scale_min_k4 reads them. */
static void put_k_header(uint8_t *b)
{
    static const uint8_t scales[12] = {0x01, 0x51, 0xa3, 0xff, 0x00, 0x43,
                                       0xf0, 0x09, 0x75, 0xe6, 0x28, 0x1f};
    put_u16(b, H_HALF);
    put_u16(b + 2, H_QUARTER);
    memcpy(b + 4, scales, sizeof scales);
}

/* Quant byte l of 64-element group g (shared by the Q4_K and Q5_K blocks). */
static uint8_t k_nibbles(int g, int l)
{
    return (uint8_t)(((l + 3 * g) & 15) | ((l * 7 + g) & 15) << 4);
}

/* First, 18th and last element of each of the 8 sub-blocks. */
static const spot q4_k_spots[] = {
    {0, 0},        {17, 0.5f},    {31, 7.5f},     {32, -0.75f},
    {49, 58.75f},  {63, 75.75f},  {64, 40.5f},    {81, 58},
    {95, 23},      {96, 29.25f},  {113, 249.75f}, {127, 312.75f},
    {128, 13.25f}, {145, 15.75f}, {159, 10.75f},  {160, 14.5f},
    {177, 91.5f},  {191, 113.5f}, {192, 167.5f},  {209, 187.5f},
    {223, 147.5f}, {224, 94.25f}, {241, 314.75f}, {255, 377.75f}};

static void test_q4_k(void)
{
    uint8_t b[144];
    put_k_header(b);
    for (int g = 0; g < 4; g++)
        for (int l = 0; l < 32; l++)
            b[16 + 32 * g + l] = k_nibbles(g, l);
    check_spots("q4_K", DSVK_TYPE_Q4_K, b, q4_k_spots,
                (int)(sizeof q4_k_spots / sizeof q4_k_spots[0]));
}

/* Same quants as Q4_K plus qh[l] = 37l + 11 (mod 256) for the 5th bits. */
static const spot q5_k_spots[] = {
    {0, 8},        {17, 0.5f},    {31, 7.5f},     {32, 135.25f},
    {49, 58.75f},  {63, 211.75f}, {64, 40.5f},    {81, 58},
    {95, 303},     {96, 533.25f}, {113, 249.75f}, {127, 312.75f},
    {128, 13.25f}, {145, 15.75f}, {159, 10.75f},  {160, 14.5f},
    {177, 91.5f},  {191, 113.5f}, {192, 167.5f},  {209, 187.5f},
    {223, 147.5f}, {224, 94.25f}, {241, 818.75f}, {255, 881.75f}};

static void test_q5_k(void)
{
    uint8_t b[176];
    put_k_header(b);
    for (int l = 0; l < 32; l++)
        b[16 + l] = (uint8_t)(l * 37 + 11);
    for (int g = 0; g < 4; g++)
        for (int l = 0; l < 32; l++)
            b[48 + 32 * g + l] = k_nibbles(g, l);
    check_spots("q5_K", DSVK_TYPE_Q5_K, b, q5_k_spots,
                (int)(sizeof q5_k_spots / sizeof q5_k_spots[0]));
}

/* Q6_K: ql[i] = 11i + 5, qh[i] = 29i + 7 (mod 256), scales
 * {1, -2, 3, -4, ..., 15, -16}, d = 0.25. First and 10th element of each
 * of the 16 sub-blocks. */
static const spot q6_k_spots[] = {
    {0, 5.25f},     {9, -6},       {16, -10.5f},   {25, 12},      {32, -8.25f},
    {41, 18},       {48, 11},      {57, -24},      {64, -40},     {73, -32.5f},
    {80, 7.5f},     {89, 22.5f},   {96, -45.5f},   {105, -35},    {112, -34},
    {121, -46},     {128, 47.25f}, {137, -54},     {144, -52.5f}, {153, 60},
    {160, -30.25f}, {169, 66},     {176, 33},      {185, -72},    {192, 39},
    {201, 6.5f},    {208, -80.5f}, {217, -101.5f}, {224, 7.5f},   {233, 30},
    {240, 12},      {249, 52}};

static void test_q6_k(void)
{
    uint8_t b[210];
    for (int i = 0; i < 128; i++)
        b[i] = (uint8_t)(i * 11 + 5);
    for (int i = 0; i < 64; i++)
        b[128 + i] = (uint8_t)(i * 29 + 7);
    for (int i = 0; i < 16; i++)
        b[192 + i] = (uint8_t)(int8_t)((i % 2 ? -1 : 1) * (i + 1));
    put_u16(b + 208, H_QUARTER);
    check_spots("q6_K", DSVK_TYPE_Q6_K, b, q6_k_spots,
                (int)(sizeof q6_k_spots / sizeof q6_k_spots[0]));
}

static void test_float_types(void)
{
    /* f16: 1, -2, smallest subnormal 2^-24, -0, +inf, 65504. */
    const uint8_t f16[] = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00,
                           0x00, 0x80, 0x00, 0x7c, 0xff, 0x7b};
    const float f16_expected[] = {1,    -2, 0x1p-24f, -0.0f, __builtin_inff(),
                                  65504};
    float y[6];
    CHECK(dequant_row(DSVK_TYPE_F16, f16, y, 6), "f16 failed");
    for (int i = 0; i < 6; i++)
        CHECK(same_bits(y[i], f16_expected[i]), "f16[%d] = %g, expected %g", i,
              y[i], f16_expected[i]);

    /* bf16: 1, -3, 2^-126 (smallest normal). */
    const uint8_t bf16[] = {0x80, 0x3f, 0x40, 0xc0, 0x80, 0x00};
    const float bf16_expected[] = {1, -3, 0x1p-126f};
    CHECK(dequant_row(DSVK_TYPE_BF16, bf16, y, 3), "bf16 failed");
    for (int i = 0; i < 3; i++)
        CHECK(same_bits(y[i], bf16_expected[i]), "bf16[%d] = %g, expected %g",
              i, y[i], bf16_expected[i]);

    /* f32 from a byte buffer at an odd address: 1.5, -0.25. */
    const uint8_t f32[] = {0xee, 0x00, 0x00, 0xc0, 0x3f,
                           0x00, 0x00, 0x80, 0xbe};
    CHECK(dequant_row(DSVK_TYPE_F32, f32 + 1, y, 2), "f32 failed");
    CHECK(y[0] == 1.5f && y[1] == -0.25f, "f32 = %g %g", y[0], y[1]);
}

/* Consecutive blocks land one after another, read from an odd address. */
static void test_block_stride(void)
{
    uint8_t bytes[1 + 2 * 34];
    uint8_t *blocks = bytes + 1;
    for (int k = 0; k < 2; k++) {
        put_u16(blocks + 34 * k, k ? H_MINUS_ONE : H_HALF);
        for (int j = 0; j < 32; j++)
            blocks[34 * k + 2 + j] = (uint8_t)j;
    }
    float y[64];
    CHECK(dequant_row(DSVK_TYPE_Q8_0, blocks, y, 64), "q8_0 x2 failed");
    CHECK(y[3] == 1.5f && y[31] == 15.5f && y[32] == -0.0f && y[63] == -31,
          "q8_0 x2 = %g %g %g %g", y[3], y[31], y[32], y[63]);
}

static void test_rejects(void)
{
    uint8_t block[210] = {0};
    float y[256];
    CHECK(!dequant_row(DSVK_TYPE_Q4_K, block, y, 128),
          "Q4_K accepted a partial super-block");
    CHECK(!dequant_row(DSVK_TYPE_Q4_0, block, y, 31),
          "Q4_0 accepted a partial block");
    CHECK(!dequant_row(10 /* Q2_K */, block, y, 256), "Q2_K accepted");
    CHECK(!dequant_supports(10), "Q2_K claimed supported");
    const uint32_t supported[] = {
        DSVK_TYPE_F32,  DSVK_TYPE_F16,  DSVK_TYPE_BF16, DSVK_TYPE_Q8_0,
        DSVK_TYPE_Q4_0, DSVK_TYPE_Q4_1, DSVK_TYPE_Q5_0, DSVK_TYPE_Q5_1,
        DSVK_TYPE_Q4_K, DSVK_TYPE_Q5_K, DSVK_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++)
        CHECK(dequant_supports(supported[i]), "type %u not supported",
              supported[i]);
}

int main(void)
{
    test_q4_0();
    test_q4_1();
    test_q5_0();
    test_q5_1();
    test_q8_0();
    test_q4_k();
    test_q5_k();
    test_q6_k();
    test_float_types();
    test_block_stride();
    test_rejects();
    return test_finish("dequant");
}
