/* f16 and bf16 conversions, exhaustively: every 16-bit value round-trips,
 * and every midpoint between neighbours rounds to the even one (while the
 * floats just beside it round to the nearer one) - the definition of
 * round-to-nearest-even that ggml's conversions implement. */
#include "model/half.h"
#include "testlib.h"

#include <math.h>
#include <string.h>

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

typedef float (*to_f32_fn)(uint16_t);
typedef uint16_t (*from_f32_fn)(float);

static bool is_nan16(uint16_t h, to_f32_fn to_f32)
{
    return isnan(to_f32(h));
}

static void check_format(const char *name, to_f32_fn to_f32,
                         from_f32_fn from_f32)
{
    int failures_before = test_failures;
    for (uint32_t h = 0; h < 0x10000 && test_failures - failures_before < 10;
         h++) {
        if (is_nan16((uint16_t)h, to_f32))
            continue;
        float value = to_f32((uint16_t)h);
        CHECK(from_f32(value) == h, "%s %04x -> %g -> %04x", name, h, value,
              from_f32(value));
        /* Neighbour away from zero, same sign; stop at inf. */
        uint16_t next = (uint16_t)(h + 1);
        if ((h & 0x7fff) == 0x7fff || isinf(value) || is_nan16(next, to_f32))
            continue;
        float upper = to_f32(next);
        if (isinf(upper))
            continue;
        /* Two neighbouring 16-bit floats differ in their last mantissa
         * bit; their midpoint needs one more bit, which f32 has. */
        float mid = (float)(((double)value + (double)upper) / 2);
        uint16_t even = (h & 1) ? next : (uint16_t)h;
        CHECK(from_f32(mid) == even, "%s tie %04x/%04x -> %04x", name, h, next,
              from_f32(mid));
        CHECK(from_f32(nextafterf(mid, value)) == h, "%s below mid %04x", name,
              h);
        CHECK(from_f32(nextafterf(mid, upper)) == next, "%s above mid %04x",
              name, h);
    }
}

static void test_half_specials(void)
{
    CHECK(f32_to_half(1.0f) == 0x3c00, "1.0");
    CHECK(f32_to_half(-2.0f) == 0xc000, "-2.0");
    CHECK(f32_to_half(65504.0f) == 0x7bff, "max half");
    CHECK(f32_to_half(65519.99f) == 0x7bff, "below the inf midpoint");
    CHECK(f32_to_half(65520.0f) == 0x7c00, "inf midpoint ties to inf");
    CHECK(f32_to_half(1e10f) == 0x7c00, "overflow");
    CHECK(f32_to_half(-INFINITY) == 0xfc00, "-inf");
    CHECK((f32_to_half(NAN) & 0x7fff) == 0x7e00, "quiet NaN");
    CHECK(f32_to_half(ldexpf(1, -24)) == 0x0001, "smallest subnormal");
    CHECK(f32_to_half(ldexpf(1, -25)) == 0x0000, "half of it ties to 0");
    CHECK(f32_to_half(ldexpf(1.5f, -25)) == 0x0001, "above the tie");
    CHECK(f32_to_half(-1e-30f) == 0x8000, "underflow keeps the sign");
    CHECK(half_to_f32(0x0001) == ldexpf(1, -24), "subnormal decode");
    CHECK(half_to_f32(0x3555) == 0.333251953125f, "1/3 decode");
    CHECK(isnan(half_to_f32(0x7e00)), "NaN decode");
}

static void test_bf16_specials(void)
{
    CHECK(f32_to_bf16(1.0f) == 0x3f80, "1.0");
    CHECK(bits_of(bf16_to_f32(0xc040)) == bits_of(-3.0f), "-3.0");
    CHECK(f32_to_bf16(3.4028235e38f) == 0x7f80, "f32 max rounds to inf");
    /* A signalling NaN whose payload lives only in the low 16 bits must
     * not turn into inf. */
    float snan;
    uint32_t snan_bits = 0x7f800001;
    memcpy(&snan, &snan_bits, sizeof snan);
    CHECK(f32_to_bf16(snan) == 0x7fc0, "NaN stays NaN: %04x",
          f32_to_bf16(snan));
}

int main(void)
{
    check_format("f16", half_to_f32, f32_to_half);
    check_format("bf16", bf16_to_f32, f32_to_bf16);
    test_half_specials();
    test_bf16_specials();
    return test_finish("gguf_half");
}
