/* gen-model's quantizers (tools/gen-model/encode*.c) against
 * host/model/dequant.c.
 *
 * 1. Round trip: encode, decode, and check every element's error and each
 *    input's NMSE against bounds that follow from the format (below).
 * 2. Agreement with llama.cpp: the quantized fixtures were written by
 *    llama-quantize (ggml's quantize_row_*_ref) from f32 weights. Decoding
 *    one of their blocks and encoding the result again must give llama.cpp's
 *    bytes back wherever the quantizer is idempotent: always for the
 *    closed-form Q4_0/Q5_0/Q8_0, most blocks for the K-quants, whose scale
 *    search may settle elsewhere on already-quantized input. A wrong bit
 *    layout or rounding rule would break every block. */
#include "encode.h"
#include "gguf/gguf.h"
#include "model/dequant.h"
#include "shared.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_VALUES (256 * 64)

typedef void (*encode_fn)(const float *x, uint64_t n, uint8_t *out);

/* The largest error element j of a block may have, from the block's values
 * (block = 32 elements, or the 256 of a K-quant super-block). */
typedef double (*bound_fn)(const float *block, int j);

typedef struct quant_type {
    const char *name;
    uint32_t type;
    encode_fn encode;
    uint32_t block_elements, block_bytes;
    bound_fn max_error;
    /* NMSE on uniform data: plain round-to-nearest with step D over a
     * range [-a, a] has error variance D^2/12 against a signal variance
     * a^2/3, NMSE = D^2 / (4 a^2). We allow 20% more than that for the
     * format's step, since the blocks' extremes only approach a. */
    double uniform_nmse;
} quant_type;

/* f16 keeps 11 significant bits: storing a scale d costs |d| 2^-11, and
 * values below 2^-14 lose precision down to a spacing of 2^-24; with at
 * most 32 quant steps on top that is 2^-19 absolute. */
#define F16_REL 0x1p-11
#define F16_ABS 0x1p-19

static void block_stats(const float *b, int n, double *amax, double *min,
                        double *max)
{
    *amax = 0;
    *min = *max = b[0];
    for (int i = 0; i < n; i++) {
        *amax = fmax(*amax, fabs(b[i]));
        *min = fmin(*min, b[i]);
        *max = fmax(*max, b[i]);
    }
}

/* Symmetric types put the largest-magnitude value exactly on the end quant,
 * so the other end clips by up to one step D = amax/half_range; the stored
 * scale adds up to half_range * |D| * F16_REL. */
static double symmetric_bound(const float *b, int half_range)
{
    double amax, min, max;
    block_stats(b, 32, &amax, &min, &max);
    return amax / half_range * (1 + half_range * F16_REL) + F16_ABS;
}

/* Affine types round (x - min) / D with D = (max - min)/top: half a step,
 * plus the f16 rounding of D (top steps of it) and of min. */
static double affine_bound(const float *b, int top)
{
    double amax, min, max;
    block_stats(b, 32, &amax, &min, &max);
    double step = (max - min) / top;
    return step * (0.5 + top * F16_REL) + amax * F16_REL + F16_ABS;
}

static double q4_0_bound(const float *b, int j)
{
    (void)j;
    return symmetric_bound(b, 8);
}

static double q5_0_bound(const float *b, int j)
{
    (void)j;
    return symmetric_bound(b, 16);
}

static double q4_1_bound(const float *b, int j)
{
    (void)j;
    return affine_bound(b, 15);
}

static double q5_1_bound(const float *b, int j)
{
    (void)j;
    return affine_bound(b, 31);
}

/* Q8_0 rounds x/D with D = amax/127: half a step plus the stored scale. */
static double q8_0_bound(const float *b, int j)
{
    (void)j;
    double amax, min, max;
    block_stats(b, 32, &amax, &min, &max);
    return amax / 127 * (0.5 + 127 * F16_REL) + F16_ABS;
}

/* K-quants fit each sub-block's scale and min by weighted least squares
 * over a few trial steps, quantize them to 6 or 8 bits relative to the
 * super-block's largest, then requantize the elements with the stored
 * values. The fit may clip a sub-block's extreme value to get a finer step
 * for the rest, and a scale rounded down clips a little more, so the
 * error can exceed half a step. We bound it by levels_per_step steps of
 * the super-block's own resolution amax / levels (levels: quant steps
 * across the range: 15, 31, and 32 on each side for Q6_K's signed quants).
 * Measured worst cases on the inputs below: 1.7 steps for Q5_K, 1.2 for
 * Q4_K, 0.7 for Q6_K. */
static double k_bound(const float *b, int levels, double levels_per_step)
{
    double amax, min, max;
    block_stats(b, 256, &amax, &min, &max);
    return levels_per_step * amax / levels + F16_ABS;
}

static double q4_k_bound(const float *b, int j)
{
    (void)j;
    return k_bound(b, 15, 2);
}

static double q5_k_bound(const float *b, int j)
{
    (void)j;
    return k_bound(b, 31, 2);
}

static double q6_k_bound(const float *b, int j)
{
    (void)j;
    return k_bound(b, 32, 1);
}

static const quant_type types[] = {
    {"q4_0", DSVK_TYPE_Q4_0, encode_q4_0, 32, 18, q4_0_bound,
     1.0 / 256}, /* a/8 */
    {"q4_1", DSVK_TYPE_Q4_1, encode_q4_1, 32, 20, q4_1_bound, 1.0 / 225},
    {"q5_0", DSVK_TYPE_Q5_0, encode_q5_0, 32, 22, q5_0_bound, 1.0 / 1024},
    {"q5_1", DSVK_TYPE_Q5_1, encode_q5_1, 32, 24, q5_1_bound, 1.0 / 961},
    {"q8_0", DSVK_TYPE_Q8_0, encode_q8_0, 32, 34, q8_0_bound,
     1.0 / (4 * 127.0 * 127.0)},
    {"q4_k", DSVK_TYPE_Q4_K, encode_q4_k, 256, 144, q4_k_bound, 1.0 / 225},
    {"q5_k", DSVK_TYPE_Q5_K, encode_q5_k, 256, 176, q5_k_bound, 1.0 / 961},
    {"q6_k", DSVK_TYPE_Q6_K, encode_q6_k, 256, 210, q6_k_bound, 1.0 / 4096},
};
#define N_TYPES (sizeof types / sizeof types[0])

typedef enum input_kind {
    INPUT_UNIFORM,     /* uniform [-1, 1) */
    INPUT_BELL,        /* sum of 4 uniforms: bell-shaped, unbounded tails */
    INPUT_OUTLIERS,    /* uniform, every 97th value x 20 */
    INPUT_BLOCK_SCALE, /* uniform, each 32 scaled by 2^(k mod 9 - 4) */
    INPUT_NEGATIVE,    /* uniform [-2, -1): a range that excludes 0 */
    INPUT_CONSTANT,    /* every value 0.75 */
    INPUT_ZERO,
    N_INPUTS
} input_kind;

static const char *const input_names[N_INPUTS] = {
    "uniform",  "bell",     "outliers", "block-scale",
    "negative", "constant", "zero"};

static void make_input(input_kind kind, float *x)
{
    test_rng rng = test_rng_seed(1000 + kind);
    for (int i = 0; i < N_VALUES; i++) {
        float u = test_rng_uniform(&rng, -1, 1);
        switch (kind) {
        case INPUT_UNIFORM:
            x[i] = u;
            break;
        case INPUT_BELL:
            x[i] = u;
            for (int k = 0; k < 3; k++)
                x[i] += test_rng_uniform(&rng, -1, 1);
            break;
        case INPUT_OUTLIERS:
            x[i] = i % 97 == 0 ? 20 * u : u;
            break;
        case INPUT_BLOCK_SCALE:
            x[i] = ldexpf(u, i / 32 % 9 - 4);
            break;
        case INPUT_NEGATIVE:
            x[i] = -1.5f + 0.5f * u;
            break;
        case INPUT_CONSTANT:
            x[i] = 0.75f;
            break;
        default:
            x[i] = 0;
            break;
        }
    }
}

static void test_round_trip(const quant_type *t, input_kind kind,
                            const float *x, uint8_t *encoded, float *decoded)
{
    t->encode(x, N_VALUES, encoded);
    CHECK(dequant_row(t->type, encoded, decoded, N_VALUES), "%s: dequant_row",
          t->name);
    double worst = 0; /* largest error / bound */
    int first_bad = -1;
    for (int i = 0; i < N_VALUES; i++) {
        const float *block = x + i / t->block_elements * t->block_elements;
        double bound = t->max_error(block, (int)(i % t->block_elements));
        double err = fabs((double)decoded[i] - x[i]);
        worst = fmax(worst, err / bound);
        if (err > bound && first_bad < 0)
            first_bad = i;
    }
    CHECK(first_bad < 0, "%s, %s input: element %d = %g decodes to %g", t->name,
          input_names[kind], first_bad, first_bad < 0 ? 0 : x[first_bad],
          first_bad < 0 ? 0 : decoded[first_bad]);
    double nmse = test_nmse(decoded, x, N_VALUES);
    printf("%-5s %-12s nmse %.3g, worst error %.2f of its bound\n", t->name,
           input_names[kind], nmse, worst);
    if (kind == INPUT_UNIFORM)
        CHECK(nmse <= 1.2 * t->uniform_nmse, "%s: uniform nmse %g > 1.2 x %g",
              t->name, nmse, t->uniform_nmse);
    if (kind == INPUT_ZERO)
        CHECK(nmse == 0, "%s: zeros must stay exact", t->name);
}

static const quant_type *type_of(uint32_t type)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (types[i].type == type)
            return &types[i];
    return NULL;
}

/* Decodes each block of a llama.cpp-written tensor, encodes it again and
 * counts the blocks that come back byte for byte. */
static void test_matches_llama_cpp(const char *fixture, const char *tensor,
                                   double min_identical)
{
    char err[512] = "";
    gguf_file *f = NULL;
    gguf_open(test_fixture(fixture), &f, err, sizeof err);
    CHECK(f, "%s", err);
    const gguf_tensor *t = f ? gguf_find_tensor(f, tensor) : NULL;
    const quant_type *q = t ? type_of(t->type) : NULL;
    CHECK(q, "%s: %s missing or of an unexpected type", fixture, tensor);
    if (!q) {
        gguf_close(f);
        return;
    }
    uint64_t n_blocks = t->n_bytes / q->block_bytes, identical = 0;
    float values[256];
    uint8_t again[256];
    for (uint64_t b = 0; b < n_blocks; b++) {
        const uint8_t *block = t->data + b * q->block_bytes;
        dequant_row(q->type, block, values, q->block_elements);
        q->encode(values, q->block_elements, again);
        identical += memcmp(again, block, q->block_bytes) == 0;
    }
    double share = (double)identical / (double)n_blocks;
    printf("%s %s (%s): %llu of %llu blocks re-encode identically\n", fixture,
           tensor, q->name, (unsigned long long)identical,
           (unsigned long long)n_blocks);
    CHECK(share >= min_identical, "%s %s: %.3f identical, expected >= %.2f",
          fixture, tensor, share, min_identical);
    gguf_close(f);
}

int main(void)
{
    float *x = malloc(N_VALUES * sizeof *x);
    float *decoded = malloc(N_VALUES * sizeof *decoded);
    uint8_t *encoded = malloc(N_VALUES * 2); /* Q8_0 is 34/32 bytes a value */
    for (int kind = 0; kind < N_INPUTS; kind++) {
        make_input((input_kind)kind, x);
        for (size_t i = 0; i < N_TYPES; i++)
            test_round_trip(&types[i], (input_kind)kind, x, encoded, decoded);
    }
    free(x);
    free(decoded);
    free(encoded);

    /* K-quants: 80-100% measured on these tensors; 70% leaves room for
     * compilers that round the search's sums slightly differently. */
    test_matches_llama_cpp("models/tiny-v2-q4_0.gguf",
                           "blk.1.ffn_up_exps.weight", 1.0);
    test_matches_llama_cpp("models/tiny-v2-q4_0.gguf", "output.weight", 0.7);
    test_matches_llama_cpp("models/tiny-v2-q4_k_m.gguf",
                           "blk.1.ffn_gate_exps.weight", 0.7);
    test_matches_llama_cpp("models/tiny-v2-q4_k_m.gguf",
                           "blk.0.attn_output.weight", 0.7);
    test_matches_llama_cpp("models/tiny-v2-q4_k_m.gguf",
                           "blk.1.attn_k_b.weight", 1.0);
    test_matches_llama_cpp("models/tiny-v2-q4_k_m.gguf",
                           "blk.2.ffn_down_exps.weight", 0.7);
    test_matches_llama_cpp("models/tiny-v3-q6_k.gguf", "blk.0.attn_k_b.weight",
                           1.0);
    test_matches_llama_cpp("models/tiny-v3-q6_k.gguf",
                           "blk.1.ffn_up_exps.weight", 0.7);
    return test_finish("quant_encode");
}
