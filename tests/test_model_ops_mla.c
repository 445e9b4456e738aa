/* MLA ops (host/forward/ops_mla.h) against tests/ref/ref_model_ops.c and
 * ref_ops.c: the step's preparation (latent norm, RoPE of the rope key and
 * the queries, the cache write), then absorbed attention compared with the
 * reference's decompressed form, for every weight type of attn_k_b/attn_v_b;
 * one token and whole prompts (matvec and matmul head products), chunks
 * continuing at pos0 > 0, contexts that are not multiples of the positions of
 * a pass, with and without context splits (merged by the last split to
 * finish, twice on one scratch), several head groups with a partial last
 * one, contexts long enough for lavapipe's loop limit; then clean errors
 * for bad arguments. */
#include "forward/ops_mla.h"
#include "model/half.h"
#include "ref/ref_model_ops.h"
#include "ref/ref_ops.h"
#include "test_ops_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The reference reads the very f16 values the GPU cached and the same
 * decoded weights, so the two differ only by f32 arithmetic: the absorbed
 * order of products against the reference's decompressed one in double,
 * and the GPU's exp (within 3 + 2|x| ulp in Vulkan; scores here stay
 * below ~10). That is a relative error around 1e-6 at worst, an NMSE near
 * 1e-12; 1e-8 keeps two orders of margin and still catches a wrong
 * position, head or causal limit, which costs more than 1e-3. */
#define ATTENTION_TOLERANCE 1e-8

typedef struct attention_case {
    uint32_t type;
    mla_shape shape;
    uint32_t tokens;
    uint32_t pos0;
    uint32_t n_split; /* 0: the launcher chooses */
    dsvk_cache_type cache;
    /* The cache regions on 16-byte boundaries, as a session places them:
     * f16 rows of whole groups of 8 are then read 16 bytes at a time
     * (mla_attention.comp's WIDE); otherwise word by word. */
    bool aligned;
} attention_case;

/* H 3, dn 16, dr 8, dv 12, r 40: nothing a multiple of a workgroup. */
static const mla_shape small = {3, 16, 8, 12, 40};
/* 33 heads: nine groups on every device (the accumulator budget allows 4
 * heads), eight of 4 and a partial last one of 1. */
static const mla_shape many_heads = {33, 16, 8, 12, 40};
/* Q8_0 needs rows of whole 32-blocks: attn_k_b rows are dn, attn_v_b rows
 * r long. */
static const mla_shape small_q8 = {3, 32, 8, 12, 64};
/* K-quants need rows of whole 256-blocks. */
static const mla_shape small_k = {3, 256, 8, 12, 256};
/* r and dr not multiples of the 8 values the attention reads at once: the
 * last group of each row is partial (r 44 and dr 4 for a q8_0 cache, which
 * needs multiples of 4). */
static const mla_shape partial_group = {3, 16, 6, 12, 42};
static const mla_shape partial_group_q8 = {3, 16, 4, 12, 44};

static const uint32_t types[] = {DSVK_TYPE_F32,  DSVK_TYPE_F16,  DSVK_TYPE_BF16,
                                 DSVK_TYPE_Q8_0, DSVK_TYPE_Q4_0, DSVK_TYPE_Q4_1,
                                 DSVK_TYPE_Q5_0, DSVK_TYPE_Q5_1, DSVK_TYPE_Q4_K,
                                 DSVK_TYPE_Q5_K, DSVK_TYPE_Q6_K};

/* The smallest shape whose rows are whole blocks of `type`. */
static const mla_shape *shape_for(uint32_t type)
{
    switch (type) {
    case DSVK_TYPE_F32:
    case DSVK_TYPE_F16:
    case DSVK_TYPE_BF16:
        return &small;
    case DSVK_TYPE_Q4_K:
    case DSVK_TYPE_Q5_K:
    case DSVK_TYPE_Q6_K:
        return &small_k;
    default:
        return &small_q8;
    }
}

/* |a - b| within one f16 step of b: packHalf2x16's rounding is the
 * implementation's, so the cache may hold either neighbour of the value. */
static bool within_f16_step(float a, float b)
{
    float step = fabsf(b) < 6.103515625e-5f ? 5.9604645e-8f
                                            : ldexpf(1.0f, ilogbf(b) - 10);
    return fabsf(a - b) <= step;
}

/* Decodes n_rows cached rows of n values, laid out as
 * host/forward/latent_cache.h documents it (read here byte by byte,
 * independently of the shaders). */
static void decode_rows(dsvk_cache_type type, const uint8_t *bytes,
                        uint32_t n_rows, uint32_t n, float *out)
{
    const uint64_t row_bytes = latent_row_bytes(type, n);
    for (uint32_t p = 0; p < n_rows; p++) {
        const uint8_t *row = bytes + p * row_bytes;
        for (uint32_t i = 0; i < n; i++) {
            uint16_t h;
            if (type == DSVK_CACHE_F16) {
                memcpy(&h, row + 2 * i, 2);
                out[(size_t)p * n + i] = half_to_f32(h);
                continue;
            }
            memcpy(&h, row + n + 2 * (i / 32), 2);
            out[(size_t)p * n + i] = (float)(int8_t)row[i] * half_to_f32(h);
        }
    }
}

/* Cached values that are not `exact` as the type rounds it: f16 within a
 * step; q8_0 within half a quant step of the block's max / 127, plus the
 * f16 rounding of the scale (127 quants x 2^-11) and slack for the GPU's
 * inputs, computed in another order than `exact`. */
static uint32_t misrounded(dsvk_cache_type type, const float *got,
                           const float *exact, uint32_t n_rows, uint32_t n)
{
    uint32_t bad = 0;
    for (size_t p = 0; p < n_rows; p++)
        for (uint32_t b = 0; b < n; b += 32) {
            const float *x = exact + p * n + b, *y = got + p * n + b;
            uint32_t len = n - b < 32 ? n - b : 32;
            float amax = 0;
            for (uint32_t i = 0; i < len; i++)
                amax = fmaxf(amax, fabsf(x[i]));
            for (uint32_t i = 0; i < len; i++)
                bad += type == DSVK_CACHE_F16
                           ? !within_f16_step(y[i], x[i])
                           : fabsf(y[i] - x[i]) >
                                 amax / 127 * (0.5f + 0.07f) + 1e-5f * amax;
        }
    return bad;
}

/* Reads rows [first, first + n_rows) of one part of the cache (the latent
 * or the rope key, n values a row) back as f32. */
static void read_rows(ops_fixture *f, const mla_latent_cache *cache,
                      uint64_t offset, uint32_t first, uint32_t n_rows,
                      uint32_t n, float *out)
{
    uint64_t row_bytes = latent_row_bytes(cache->type, n);
    uint8_t *bytes = malloc(n_rows * row_bytes);
    fixture_read(f, cache->buffer, offset + first * row_bytes, bytes,
                 n_rows * row_bytes);
    decode_rows(cache->type, bytes, n_rows, n, out);
    free(bytes);
}

/* Reads positions [0, n) of the cache back as f32 and checks them against
 * the kv rows they were written from. */
static void read_cache(ops_fixture *f, const mla_shape *s,
                       const mla_latent_cache *cache, const float *kv,
                       uint32_t n, float *latent, float *rope_key)
{
    uint32_t r = s->kv_lora_rank, dr = s->qk_rope_head_dim;
    read_rows(f, cache, cache->latent_offset, 0, n, r, latent);
    read_rows(f, cache, cache->rope_key_offset, 0, n, dr, rope_key);
    float *exact_latent = malloc((size_t)n * r * 4);
    float *exact_key = malloc((size_t)n * dr * 4);
    fixture_gather(kv, n, r, r + dr, exact_latent);
    fixture_gather(kv + r, n, dr, r + dr, exact_key);
    uint32_t bad = misrounded(cache->type, latent, exact_latent, n, r) +
                   misrounded(cache->type, rope_key, exact_key, n, dr);
    CHECK(bad == 0, "%u cached values are not kv rounded to %s", bad,
          dsvk_cache_type_name(cache->type));
    free(exact_latent);
    free(exact_key);
}

/* A cache of n_ctx positions in a new buffer, both parts off any
 * alignment larger than 4, or (aligned) on 16-byte boundaries. */
static mla_latent_cache new_cache(ops_fixture *f, const mla_shape *s,
                                  dsvk_cache_type type, uint32_t n_ctx,
                                  bool aligned)
{
    const uint64_t lead = aligned ? 16 : 4;
    const uint64_t latent_bytes = mla_latent_bytes(s, type, n_ctx);
    mla_latent_cache cache = {
        .latent_offset = lead,
        .rope_key_offset = aligned ? (lead + latent_bytes + 15) / 16 * 16 + 16
                                   : lead + latent_bytes + 12,
        .n_ctx = n_ctx,
        .type = type,
    };
    cache.buffer = fixture_buffer(
        f, NULL, cache.rope_key_offset + mla_rope_key_bytes(s, type, n_ctx));
    return cache;
}

/* mla_prepare as a plain cache write: kv stored as it is, no query. */
static dsvk_status cache_write(ops_fixture *f, const mla_shape *s, rt_view kv,
                               uint32_t pos0, const mla_latent_cache *cache)
{
    const mla_prepare_desc d = {.kv = kv, .pos0 = pos0, .cache = cache};
    return mla_prepare(&f->ops, s, &d);
}

static void run_attention(ops_fixture *f, const attention_case *c)
{
    const mla_shape *s = &c->shape;
    uint32_t H = s->n_head, dn = s->qk_nope_head_dim;
    uint32_t dr = s->qk_rope_head_dim, dv = s->v_head_dim;
    uint32_t r = s->kv_lora_rank, T = c->tokens, n_kv = c->pos0 + T;
    test_rng rng = test_rng_seed(T * 7919u + c->pos0 * 31u + H + c->type);

    float *k_b, *v_b;
    uint64_t lead = fixture_unaligned_lead(c->type); /* unaligned rows */
    rt_weight kb = fixture_weight(f, &rng, c->type, H, r, dn, lead, &k_b);
    rt_weight vb = fixture_weight(f, &rng, c->type, H, dv, r, lead, &v_b);

    /* kv rows of every position, read through a view of stride r + dr + 3
     * one float into its buffer; q is T * H rows of dn + dr. */
    uint32_t kv_stride = r + dr + 3;
    float *kv = malloc((size_t)n_kv * (r + dr) * 4);
    float *kv_stored = calloc(1 + (size_t)n_kv * kv_stride, 4);
    float *q = malloc((size_t)T * H * (dn + dr) * 4);
    test_rng_fill(&rng, kv, (size_t)n_kv * (r + dr), -1, 1);
    test_rng_fill(&rng, q, (size_t)T * H * (dn + dr), -1, 1);
    fixture_scatter(kv, n_kv, r + dr, kv_stride, kv_stored + 1);
    const rt_buffer *kv_buf =
        fixture_buffer(f, kv_stored, (1 + (size_t)n_kv * kv_stride) * 4);
    const rt_buffer *q_buf =
        fixture_buffer(f, NULL, 4 + (size_t)T * H * 4 * (dn + dr));
    rt_buffer_upload(f->dev, q_buf, 4, q, (size_t)T * H * (dn + dr) * 4);

    /* Room for 5 more positions. */
    mla_latent_cache cache = new_cache(f, s, c->cache, n_kv + 5, c->aligned);
    const rt_buffer *out_buf =
        fixture_buffer(f, NULL, 8 + (size_t)T * H * dv * 4);
    const rt_buffer *scratch =
        fixture_buffer(f, NULL, 16 + mla_attention_scratch_bytes(s, T));

    /* Earlier positions as an earlier step would have written them. */
    if (c->pos0 > 0) {
        rt_view prefix = {kv_buf, 4, c->pos0, r + dr, kv_stride};
        CHECK(cache_write(f, s, prefix, 0, &cache) == DSVK_OK,
              "cache write: %s", rt_device_error(f->dev));
        fixture_submit(f);
    }
    rt_view chunk = {kv_buf, 4 + 4ull * c->pos0 * kv_stride, T, r + dr,
                     kv_stride};
    mla_attention_desc desc = {
        .q = {q_buf, 4, T * H, dn + dr, dn + dr},
        .pos0 = c->pos0,
        .cache = &cache,
        .k_b = &kb,
        .v_b = &vb,
        .scale = 1.0f / sqrtf((float)(dn + dr)),
        .scratch = scratch,
        .scratch_offset = 16,
        .n_split = c->n_split,
    };
    rt_view out_view = {out_buf, 8, T * H, dv, dv};
    /* First with a wrong scale on the same scratch: the merge counters of
     * split attention must be back at zero for the real dispatch to
     * merge and overwrite that result. */
    mla_attention_desc wrong = desc;
    wrong.scale *= 2;
    dsvk_status status = cache_write(f, s, chunk, c->pos0, &cache);
    if (status == DSVK_OK)
        status = mla_attention(&f->ops, s, &wrong, out_view);
    if (status == DSVK_OK)
        status = mla_attention(&f->ops, s, &desc, out_view);
    CHECK(status == DSVK_OK, "attention: %s", rt_device_error(f->dev));
    fixture_submit(f);

    float *latent = malloc((size_t)n_kv * r * 4);
    float *rope_key = malloc((size_t)n_kv * dr * 4);
    read_cache(f, s, &cache, kv, n_kv, latent, rope_key);
    float *out = malloc((size_t)T * H * dv * 4);
    float *out_ref = malloc((size_t)T * H * dv * 4);
    fixture_read(f, out_buf, 8, out, (size_t)T * H * dv * 4);
    ref_mla_shape rs = {H, dn, dr, dv, r};
    ref_mla_attention(&rs, T, c->pos0, desc.scale, q, latent, rope_key, k_b,
                      v_b, out_ref);
    double nmse = test_nmse(out, out_ref, (size_t)T * H * dv);
    const char *cache_name = dsvk_cache_type_name(c->cache);
    CHECK(nmse <= ATTENTION_TOLERANCE,
          "%s H %u r %u, %s cache%s, %u tokens at %u, splits %u: nmse %g",
          fixture_type_name(c->type), H, r, cache_name,
          c->aligned ? " (aligned)" : "", T, c->pos0, c->n_split, nmse);
    printf("attention %-4s H %2u r %3u, %-4s cache%s: %2u tokens at %5u, "
           "splits %2u: nmse %.2g\n",
           fixture_type_name(c->type), H, r, cache_name,
           c->aligned ? " (16-byte aligned)" : "", T, c->pos0, c->n_split,
           nmse);

    fixture_release(f);
    free(k_b);
    free(v_b);
    free(kv);
    free(kv_stored);
    free(q);
    free(latent);
    free(rope_key);
    free(out);
    free(out_ref);
}

static void test_attention(ops_fixture *f)
{
    /* Every type for decode at a long context (automatic splits) and for a
     * prompt chunk continuing a context (matmul head products). */
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const mla_shape *s = shape_for(types[t]);
        run_attention(f, &(attention_case){types[t], *s, 1, 150, 0,
                                           DSVK_CACHE_F16, false});
        run_attention(f, &(attention_case){types[t], *s, 17, 100, 0,
                                           DSVK_CACHE_F16, false});
    }
    const dsvk_cache_type F16 = DSVK_CACHE_F16, Q8 = DSVK_CACHE_Q8_0;
    const attention_case cases[] = {
        {DSVK_TYPE_F32, small, 1, 0, 0, F16,
         false}, /* first token: one position */
        {DSVK_TYPE_F16, small, 3, 0, 0, F16, false}, /* short prompt */
        {DSVK_TYPE_F16, small, 3, 70, 0, F16,
         false}, /* short chunk, two passes */
        {DSVK_TYPE_F32, small, 17, 0, 0, F16,
         false}, /* prompt, matmul products */
        {DSVK_TYPE_F32, small, 3, 130, 1, F16,
         false}, /* three passes, one split */
        {DSVK_TYPE_BF16, small, 1, 200, 8, F16,
         false}, /* more splits than passes */
        {DSVK_TYPE_F16, small, 2, 63, 16, F16,
         false}, /* 2 x 16 = all split rows */
        {DSVK_TYPE_F32, many_heads, 2, 65, 0, F16, false},
        {DSVK_TYPE_F16, many_heads, 9, 0, 0, F16, false},
        /* 24 splits of 2 tokens: more than one dispatch's split rows. */
        {DSVK_TYPE_F32, small, 2, 2600, 24, F16, false},
        /* A q8_0 cache: r 40 ends in a short block of 8, dr 8 is one. */
        {DSVK_TYPE_F32, small, 1, 0, 0, Q8, false},
        {DSVK_TYPE_F16, small, 3, 70, 0, Q8, false},
        {DSVK_TYPE_F32, small, 17, 100, 0, Q8, false},
        {DSVK_TYPE_BF16, small, 1, 200, 8, Q8, false},
        {DSVK_TYPE_Q8_0, small_q8, 1, 150, 0, Q8, false}, /* whole blocks */
        {DSVK_TYPE_F32, many_heads, 2, 65, 0, Q8, false},
        {DSVK_TYPE_F32, small, 2, 2600, 24, Q8, false},
        /* Partial groups at the end of every row. */
        {DSVK_TYPE_F32, partial_group, 1, 150, 0, F16, false},
        {DSVK_TYPE_F16, partial_group, 17, 100, 0, F16, false},
        {DSVK_TYPE_F32, partial_group, 2, 2600, 24, F16, false},
        {DSVK_TYPE_F32, partial_group_q8, 1, 150, 0, Q8, false},
        {DSVK_TYPE_F32, partial_group_q8, 17, 100, 0, Q8, false},
        /* 16-byte reads of the rows. */
        {DSVK_TYPE_F32, small, 1, 0, 0, F16, true},
        {DSVK_TYPE_F16, small, 1, 150, 0, F16, true},
        {DSVK_TYPE_F32, small, 17, 100, 0, F16, true},
        {DSVK_TYPE_BF16, small, 1, 200, 8, F16, true},
        {DSVK_TYPE_F32, small, 2, 2600, 24, F16, true},
        {DSVK_TYPE_F16, many_heads, 9, 0, 0, F16, true},
        {DSVK_TYPE_Q8_0, small_q8, 3, 70, 0, F16, true},
        {DSVK_TYPE_F32, small, 17, 100, 0, Q8, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_attention(f, &cases[i]);
}

/* Long contexts in DeepSeek-V2's latent width (r 512, dr 64). lavapipe
 * stops an invocation's loops silently after 65,535 iterations; one
 * workgroup over the whole context passed that near 9k positions here and
 * gave wrong outputs with no error. The launcher now splits any context so
 * that no invocation runs more than half that (host/forward/ops_mla.c): one
 * token asking for no split, and a prompt chunk whose splits need four
 * dispatches of 2 tokens; with either cache type, whose loops differ. */
static void test_long_context(ops_fixture *f)
{
    const mla_shape v2_latent = {2, 16, 64, 16, 512};
    for (dsvk_cache_type c = DSVK_CACHE_F16; c <= DSVK_CACHE_Q8_0; c++) {
        run_attention(f, &(attention_case){DSVK_TYPE_F32, v2_latent, 1, 20000,
                                           1, c, false});
        run_attention(f, &(attention_case){DSVK_TYPE_F16, v2_latent, 8, 20000,
                                           16, c, false});
    }
    run_attention(f, &(attention_case){DSVK_TYPE_F32, v2_latent, 1, 20000, 1,
                                       DSVK_CACHE_F16, true});
}

/* RoPE of the tests: YaRN on, as the DeepSeek models use it. */
static const rt_rope yarn = {10000.0f, 0.25f, 64, 1.0f, 32.0f, 1.0f};
static const ref_rope_params yarn_ref = {10000.0f, 0.25f, 64,
                                         1.0f,     32.0f, 1.0f};

/* The step's preparation against ref_rms_norm and ref_rope: the cached
 * latent and rope key and the rotated queries, for T tokens at pos0. The
 * cache rounds to f16 (NMSE ~1e-7) and Vulkan's sin/cos may err by 2^-11
 * (test_ops_rows.c); 1e-6 still catches a wrong position, pair or norm
 * (1e-3 and more). */
static void run_prepare(ops_fixture *f, const mla_shape *s,
                        dsvk_cache_type type, uint32_t T, uint32_t pos0)
{
    const uint32_t H = s->n_head, dn = s->qk_nope_head_dim;
    const uint32_t dr = s->qk_rope_head_dim, r = s->kv_lora_rank;
    const uint32_t qw = dn + dr;
    test_rng rng = test_rng_seed(T * 131u + pos0 + H);
    float *kv = malloc((size_t)T * (r + dr) * 4);
    float *q = malloc((size_t)T * H * qw * 4);
    float *norm = malloc((size_t)r * 4);
    test_rng_fill(&rng, kv, (size_t)T * (r + dr), -2, 2);
    test_rng_fill(&rng, q, (size_t)T * H * qw, -1, 1);
    test_rng_fill(&rng, norm, r, 0.5f, 1.5f);
    const rt_buffer *kv_buf = fixture_buffer(f, kv, (size_t)T * (r + dr) * 4);
    const rt_buffer *q_buf = fixture_buffer(f, q, (size_t)T * H * qw * 4);
    const rt_buffer *norm_buf = fixture_buffer(f, norm, (size_t)r * 4);
    rt_weight norm_w = {norm_buf, 0, DSVK_TYPE_F32, r, 1, 1, 4ull * r};
    mla_latent_cache cache = new_cache(f, s, type, pos0 + T, false);
    const mla_prepare_desc d = {
        .kv = {kv_buf, 0, T, r + dr, r + dr},
        .q = {q_buf, 0, T * H, qw, qw},
        .norm = &norm_w,
        .eps = 1e-6f,
        .rope = &yarn,
        .pos0 = pos0,
        .cache = &cache,
    };
    CHECK(mla_prepare(&f->ops, s, &d) == DSVK_OK, "prepare: %s",
          rt_device_error(f->dev));
    fixture_submit(f);

    /* The reference: the latent normalised, the rope parts rotated. */
    float *latent_ref = malloc((size_t)T * r * 4);
    float *key_ref = malloc((size_t)T * dr * 4);
    float *latent_in = malloc((size_t)T * r * 4);
    fixture_gather(kv, T, r, r + dr, latent_in);
    fixture_gather(kv + r, T, dr, r + dr, key_ref);
    ref_rms_norm(latent_in, T, r, norm, 1e-6f, latent_ref);
    ref_rope(key_ref, T, dr, 1, pos0, &yarn_ref);
    float *q_rope = malloc((size_t)T * H * dr * 4);
    fixture_gather(q + dn, T * H, dr, qw, q_rope);
    ref_rope(q_rope, T * H, dr, H, pos0, &yarn_ref);

    float *latent = malloc((size_t)T * r * 4),
          *key = malloc((size_t)T * dr * 4);
    read_rows(f, &cache, cache.latent_offset, pos0, T, r, latent);
    read_rows(f, &cache, cache.rope_key_offset, pos0, T, dr, key);
    float *q_out = malloc((size_t)T * H * qw * 4);
    float *q_rope_out = malloc((size_t)T * H * dr * 4);
    fixture_read(f, q_buf, 0, q_out, (size_t)T * H * qw * 4);
    fixture_gather(q_out + dn, T * H, dr, qw, q_rope_out);
    bool nope_kept = true;
    for (uint32_t row = 0; row < T * H; row++)
        nope_kept = nope_kept && memcmp(q_out + (size_t)row * qw,
                                        q + (size_t)row * qw, dn * 4) == 0;

    /* q8_0's rounding alone costs an NMSE of 1e-5 to 4e-5 here (half a
     * step of max/127 in blocks as short as 8 values): the NMSE bound is
     * loose and misrounded() bounds every value to its rounding. */
    const double cached_tolerance = type == DSVK_CACHE_F16 ? 1e-6 : 1e-4;
    double e_latent = test_nmse(latent, latent_ref, (size_t)T * r);
    double e_key = test_nmse(key, key_ref, (size_t)T * dr);
    double e_q = test_nmse(q_rope_out, q_rope, (size_t)T * H * dr);
    const char *name = dsvk_cache_type_name(type);
    CHECK(e_latent <= cached_tolerance && e_key <= cached_tolerance &&
              e_q <= 1e-6,
          "prepare H %u r %u, %s, %u tokens at %u: nmse latent %g, key %g, q "
          "%g",
          H, r, name, T, pos0, e_latent, e_key, e_q);
    if (type == DSVK_CACHE_Q8_0) {
        uint32_t bad = misrounded(type, latent, latent_ref, T, r) +
                       misrounded(type, key, key_ref, T, dr);
        CHECK(bad == 0, "prepare: %u values are not q8_0 roundings", bad);
    }
    CHECK(nope_kept, "prepare changed the queries' nope part");
    printf("prepare H %2u r %3u, %-4s cache, %2u tokens at %4u: nmse latent "
           "%.2g, rope key %.2g, queries %.2g\n",
           H, r, name, T, pos0, e_latent, e_key, e_q);
    fixture_release(f);
    free(kv);
    free(q);
    free(norm);
    free(latent_ref);
    free(key_ref);
    free(latent_in);
    free(q_rope);
    free(latent);
    free(key);
    free(q_out);
    free(q_rope_out);
}

static void test_prepare(ops_fixture *f)
{
    /* One token and a batch; more query pairs than one workgroup (33 heads
     * x 4 pairs); a latent wider than the workgroup (r 256). */
    for (dsvk_cache_type c = DSVK_CACHE_F16; c <= DSVK_CACHE_Q8_0; c++) {
        run_prepare(f, &small, c, 1, 0);
        run_prepare(f, &small, c, 5, 1000);
        run_prepare(f, &many_heads, c, 3, 17);
        run_prepare(f, &small_k, c, 2, 40);
    }
}

static void test_errors(ops_fixture *f)
{
    const mla_shape *s = &small;
    uint32_t r = s->kv_lora_rank, dr = s->qk_rope_head_dim;
    const rt_buffer *buf = fixture_buffer(f, NULL, 1 << 16);
    mla_latent_cache cache = {buf, 0, 8192, 10, DSVK_CACHE_F16};
    rt_view kv = {buf, 0, 2, r + dr, r + dr};

    rt_view wide = kv;
    wide.cols++;
    CHECK(cache_write(f, s, wide, 0, &cache) == DSVK_ERROR_INVALID_ARGUMENT,
          "kv of the wrong width");
    printf("expected error: %s\n", rt_device_error(f->dev));
    CHECK(cache_write(f, s, kv, 9, &cache) == DSVK_ERROR_CONTEXT_FULL,
          "writing past the cache");
    printf("expected error: %s\n", rt_device_error(f->dev));
    mla_shape odd = *s;
    odd.kv_lora_rank = 41;
    CHECK(cache_write(f, &odd, kv, 0, &cache) == DSVK_ERROR_INVALID_ARGUMENT,
          "odd kv_lora_rank");
    mla_shape not_quads = *s;
    not_quads.kv_lora_rank = 42;
    mla_latent_cache q8 = cache;
    q8.type = DSVK_CACHE_Q8_0;
    rt_view kv42 = {buf, 0, 2, 42 + dr, 42 + dr};
    CHECK(cache_write(f, &not_quads, kv42, 0, &q8) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "a q8_0 cache of rows of 42");
    printf("expected error: %s\n", rt_device_error(f->dev));
    const mla_prepare_desc no_rope = {
        .kv = kv, .q = {buf, 4096, 2 * 3, 24, 24}, .cache = &cache};
    CHECK(mla_prepare(&f->ops, s, &no_rope) == DSVK_ERROR_INVALID_ARGUMENT,
          "a query without a RoPE");
    printf("expected error: %s\n", rt_device_error(f->dev));

    test_rng rng = test_rng_seed(5);
    float *k_b, *v_b;
    rt_weight kb = fixture_weight(f, &rng, DSVK_TYPE_F32, 3, r, 16, 0, &k_b);
    rt_weight vb = fixture_weight(f, &rng, DSVK_TYPE_F32, 3, 12, r, 0, &v_b);
    mla_attention_desc desc = {
        .q = {buf, 0, 2 * 3, 24, 24},
        .pos0 = 0,
        .cache = &cache,
        .k_b = &kb,
        .v_b = &vb,
        .scale = 1,
        .scratch = buf,
        .n_split = MLA_MAX_SPLIT_ROWS + 1,
    };
    rt_view out = {buf, 4096, 2 * 3, 12, 12};
    CHECK(mla_attention(&f->ops, s, &desc, out) == DSVK_ERROR_INVALID_ARGUMENT,
          "more splits than split rows");
    printf("expected error: %s\n", rt_device_error(f->dev));
    desc.n_split = 0;
    desc.k_b = &vb;
    CHECK(mla_attention(&f->ops, s, &desc, out) == DSVK_ERROR_INVALID_ARGUMENT,
          "attn_v_b passed as attn_k_b");
    printf("expected error: %s\n", rt_device_error(f->dev));
    desc.k_b = &kb;
    desc.pos0 = 9;
    CHECK(mla_attention(&f->ops, s, &desc, out) == DSVK_ERROR_CONTEXT_FULL,
          "attending past the cache");
    /* Nothing was recorded: the submit is empty and succeeds. */
    fixture_submit(f);
    fixture_release(f);
    free(k_b);
    free(v_b);
}

int main(void)
{
    ops_fixture f;
    fixture_open(&f);
    test_prepare(&f);
    test_attention(&f);
    test_long_context(&f);
    test_errors(&f);
    return fixture_close(&f, "test_model_ops_mla");
}
