/* Routed expert products (moe_experts_forward) against ref_moe_experts:
 * every weight type, both paths (k matrix-vector products per token, and
 * tokens grouped by expert on the GPU into tiled matmuls), 1, 3 and 17
 * tokens, an expert holding more rows than one matmul tile, the shared
 * experts inside the routed dispatches or apart, accumulation
 * into y, stacks split over several dispatches by a small binding limit,
 * and routing followed by the experts in one submit (ids never leave the
 * GPU); then clean errors for bad arguments. */
#include "forward/ops_moe.h"
#include "ref/ref_model_ops.h"
#include "ref/ref_ops.h"
#include "test_ops_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* GPU and reference use the same decoded weights and inputs; they differ
 * by f32 accumulation order against double (relative ~sqrt(n) 2^-24 for
 * n <= 96 terms) and by the GPU's exp inside silu (within 3 + 2|x| ulp in
 * Vulkan, |x| < 10 here): a relative error of a few 1e-6 at most, an NMSE
 * below 1e-11. 1e-9 keeps margin and still fails on one wrong expert,
 * slot or weight (1e-3 and more). */
#define EXPERT_TOLERANCE 1e-9

/* The value left around y's rows; it must survive every product. */
#define PAD_VALUE 7.0f

typedef struct expert_case {
    uint32_t type;
    uint32_t n_expert, k;
    uint32_t tokens;
    moe_path path;
    bool skewed;     /* every token's first choice is expert 3 */
    bool accumulate; /* y starts with values the experts add to */
    uint64_t max_binding_range;
    /* Rows of whole 256-element groups on 16-byte boundaries and x aligned
     * alike: what the CPU-class wide kernels take (shaders/weights.glsl's
     * weight_dot_wide). Otherwise rows and x are as unaligned as allowed. */
    bool aligned;
    /* gate and up (and the shared experts' gate and up, and both downs) in
     * one buffer, as model loading places them: the per-token path runs
     * them in one dispatch each. */
    bool paired;
    bool shared; /* two shared experts (n_ff_shared = 2 n_ff) */
} expert_case;

static const uint32_t types[] = {DSVK_TYPE_F32, DSVK_TYPE_F16, DSVK_TYPE_BF16,
                                 DSVK_TYPE_Q8_0};
/* The 4-6-bit block types run fewer cases (each shader once per type):
 * their decoding is what is new, the routing paths are the same. */
static const uint32_t block_types[] = {
    DSVK_TYPE_Q4_0, DSVK_TYPE_Q4_1, DSVK_TYPE_Q5_0, DSVK_TYPE_Q5_1,
    DSVK_TYPE_Q4_K, DSVK_TYPE_Q5_K, DSVK_TYPE_Q6_K};
static const char *const path_names[] = {"auto", "per-token", "grouped"};

/* Row lengths: odd ones for the float types (the shaders' tails), whole
 * 32-blocks for Q4_0 ... Q8_0, whole 256-blocks for the K-quants. */
static void dims(const expert_case *c, uint32_t *n_embd, uint32_t *n_ff)
{
    const uint32_t type = c->type;
    if (c->aligned) {
        *n_embd = *n_ff = 256;
        return;
    }
    bool k_quant = type == DSVK_TYPE_Q4_K || type == DSVK_TYPE_Q5_K ||
                   type == DSVK_TYPE_Q6_K;
    bool float_type = type == DSVK_TYPE_F32 || type == DSVK_TYPE_F16 ||
                      type == DSVK_TYPE_BF16;
    *n_embd = k_quant ? 256 : float_type ? 70 : 96;
    *n_ff = k_quant ? 256 : float_type ? 37 : 64;
}

/* k distinct experts per token and weights in [0.1, 1). */
static void draw_routes(test_rng *rng, const expert_case *c, uint32_t *ids,
                        float *weights)
{
    for (uint32_t t = 0; t < c->tokens; t++) {
        uint32_t *row = ids + (size_t)t * c->k;
        for (uint32_t j = 0; j < c->k; j++) {
            bool fresh;
            do {
                row[j] = c->skewed && j == 0
                             ? 3
                             : (uint32_t)test_rng_uniform(rng, 0, c->n_expert);
                fresh = row[j] < c->n_expert;
                for (uint32_t i = 0; i < j; i++)
                    fresh = fresh && row[i] != row[j];
            } while (!fresh);
            weights[(size_t)t * c->k + j] = test_rng_uniform(rng, 0.1f, 1);
        }
    }
}

/* y[t] += D (silu(G x[t]) * (U x[t])): the shared experts' reference. */
static void add_shared_experts(uint32_t T, uint32_t d, uint32_t ff,
                               const float *gate, const float *up,
                               const float *down, const float *x, float *y)
{
    float *g = malloc((size_t)T * ff * 4), *u = malloc((size_t)T * ff * 4);
    float *out = malloc((size_t)T * d * 4);
    ref_matmul(gate, ff, d, x, T, g);
    ref_matmul(up, ff, d, x, T, u);
    for (size_t i = 0; i < (size_t)T * ff; i++)
        g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    ref_matmul(down, d, ff, g, T, out);
    for (size_t i = 0; i < (size_t)T * d; i++)
        y[i] += out[i];
    free(g);
    free(u);
    free(out);
}

/* Runs one case and returns y (dense, malloc'd); *nmse against the
 * reference. */
static float *run_experts(ops_fixture *f, const expert_case *c, double *nmse)
{
    uint32_t d, ff, E = c->n_expert, k = c->k, T = c->tokens;
    dims(c, &d, &ff);
    test_rng rng = test_rng_seed(c->type * 1009u + E * 101u + k * 13u + T);
    uint64_t lead = c->aligned ? 0 : fixture_unaligned_lead(c->type);
    /* Routed gate, up, down, then the shared gate, up and down. */
    const uint32_t ff_sh = 2 * ff;
    const fixture_shape shapes[6] = {{E, ff, d},    {E, ff, d},
                                     {E, d, ff},    {1, ff_sh, d},
                                     {1, ff_sh, d}, {1, d, ff_sh}};
    const uint32_t n_weights = c->shared ? 6 : 3;
    rt_weight w[6];
    float *dec[6] = {NULL};
    if (c->paired) {
        const fixture_shape gate_up[4] = {shapes[0], shapes[1], shapes[3],
                                          shapes[4]};
        const fixture_shape downs[2] = {shapes[2], shapes[5]};
        rt_weight gu[4], dn[2];
        float *gu_dec[4], *dn_dec[2];
        fixture_weights(f, &rng, c->type, c->shared ? 4 : 2, gate_up, lead, gu,
                        gu_dec);
        fixture_weights(f, &rng, c->type, c->shared ? 2 : 1, downs, lead, dn,
                        dn_dec);
        w[0] = gu[0], dec[0] = gu_dec[0];
        w[1] = gu[1], dec[1] = gu_dec[1];
        w[2] = dn[0], dec[2] = dn_dec[0];
        if (c->shared) {
            w[3] = gu[2], dec[3] = gu_dec[2];
            w[4] = gu[3], dec[4] = gu_dec[3];
            w[5] = dn[1], dec[5] = dn_dec[1];
        }
    } else {
        for (uint32_t i = 0; i < n_weights; i++)
            w[i] =
                fixture_weight(f, &rng, c->type, shapes[i].count,
                               shapes[i].rows, shapes[i].cols, lead, &dec[i]);
    }
    float *gate = dec[0], *up = dec[1], *down = dec[2];

    size_t n_assign = (size_t)T * k;
    uint32_t *ids = malloc(n_assign * 4);
    float *weights = malloc(n_assign * 4);
    draw_routes(&rng, c, ids, weights);
    const rt_buffer *route_buf = fixture_buffer(f, NULL, 16 + 2 * n_assign * 4);
    moe_routes routes = {route_buf, 4, 8 + n_assign * 4, T, k};
    rt_buffer_upload(f->dev, route_buf, routes.ids_offset, ids, n_assign * 4);
    rt_buffer_upload(f->dev, route_buf, routes.weights_offset, weights,
                     n_assign * 4);

    /* x with stride d + 1 one float in (aligned: d, from the start); y with
     * stride d + 2 two in. */
    const uint32_t x_lead = c->aligned ? 0 : 1;
    const uint32_t x_stride = c->aligned ? d : d + 1;
    float *x = malloc((size_t)T * d * 4), *y0 = malloc((size_t)T * d * 4);
    float *x_stored = calloc(x_lead + (size_t)T * x_stride, 4);
    size_t y_size = 2 + (size_t)T * (d + 2);
    float *y_stored = malloc(y_size * 4);
    test_rng_fill(&rng, x, (size_t)T * d, -1, 1);
    test_rng_fill(&rng, y0, (size_t)T * d, -1, 1);
    fixture_scatter(x, T, d, x_stride, x_stored + x_lead);
    for (size_t i = 0; i < y_size; i++)
        y_stored[i] = PAD_VALUE;
    if (c->accumulate)
        fixture_scatter(y0, T, d, d + 2, y_stored + 2);
    const rt_buffer *x_buf =
        fixture_buffer(f, x_stored, (x_lead + (size_t)T * x_stride) * 4);
    const rt_buffer *y_buf = fixture_buffer(f, y_stored, y_size * 4);
    const rt_buffer *scratch = fixture_buffer(
        f, NULL,
        16 + moe_experts_scratch_bytes(T, k, d, ff, c->shared ? ff_sh : 0, E));

    moe_experts experts = {&w[0], &w[1], &w[2]};
    moe_experts shared = {&w[3], &w[4], &w[5]};
    moe_experts_desc desc = {
        .experts = &experts,
        .routes = &routes,
        .x = {x_buf, 4 * x_lead, T, d, x_stride},
        .scratch = scratch,
        .scratch_offset = 16,
        .path = c->path,
        .accumulate = c->accumulate,
        .shared = c->shared ? &shared : NULL,
    };
    fixture_time_next(f);
    f->ops.max_binding_range = c->max_binding_range;
    dsvk_status status =
        moe_experts_forward(&f->ops, &desc, (rt_view){y_buf, 8, T, d, d + 2});
    f->ops.max_binding_range = 0;
    CHECK(status == DSVK_OK, "experts: %s", rt_device_error(f->dev));
    fixture_submit(f);
    /* Per token: gate and up (one dispatch when paired), then the down
     * product with the weighted sum; the shared experts inside both when
     * paired, else a gate-and-up pair (two dispatches here, in separate
     * buffers) and a down product. */
    bool per_token =
        c->path == MOE_PATH_PER_TOKEN || (c->path == MOE_PATH_AUTO && T <= 4);
    uint32_t expected = c->paired ? 2u : c->shared ? 6u : 3u;
    if (per_token && !c->max_binding_range &&
        rt_device_caps(f->dev)->timestamps)
        CHECK(f->timed_dispatches == expected,
              "per-token experts: %u dispatches, expected %u",
              f->timed_dispatches, expected);
    fixture_read(f, y_buf, 0, y_stored, y_size * 4);

    float *y = malloc((size_t)T * d * 4), *y_ref = malloc((size_t)T * d * 4);
    fixture_gather(y_stored + 2, T, d, d + 2, y);
    for (size_t i = 0; i < y_size; i++)
        if (i < 2 || (i - 2) % (d + 2) >= d)
            CHECK(y_stored[i] == PAD_VALUE, "padding at %zu overwritten", i);
    ref_moe_experts(T, d, ff, k, ids, weights, gate, up, down, x, y_ref);
    if (c->shared)
        add_shared_experts(T, d, ff_sh, dec[3], dec[4], dec[5], x, y_ref);
    if (c->accumulate)
        for (size_t i = 0; i < (size_t)T * d; i++)
            y_ref[i] += y0[i];
    *nmse = test_nmse(y, y_ref, (size_t)T * d);

    fixture_release(f);
    for (uint32_t i = 0; i < n_weights; i++)
        free(dec[i]);
    free(ids);
    free(weights);
    free(x);
    free(y0);
    free(x_stored);
    free(y_stored);
    free(y_ref);
    return y;
}

static void check_case(ops_fixture *f, const expert_case *c)
{
    double nmse;
    free(run_experts(f, c, &nmse));
    CHECK(nmse <= EXPERT_TOLERANCE, "%s E %u k %u, %u tokens, %s: nmse %g",
          fixture_type_name(c->type), c->n_expert, c->k, c->tokens,
          path_names[c->path], nmse);
    printf("experts %-4s E %2u k %u, %2u tokens, %-9s%s%s%s%s: nmse %.2g\n",
           fixture_type_name(c->type), c->n_expert, c->k, c->tokens,
           path_names[c->path], c->skewed ? ", skewed" : "",
           c->accumulate ? ", accumulate" : "", c->paired ? ", paired" : "",
           c->shared ? ", shared" : "", nmse);
}

static void test_table(ops_fixture *f)
{
    static const uint32_t tokens[] = {1, 3, 17};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (int e = 0; e < 2; e++)
            for (int n = 0; n < 3; n++)
                for (moe_path p = MOE_PATH_PER_TOKEN; p <= MOE_PATH_GROUPED;
                     p++) {
                    expert_case c = {.type = types[t],
                                     .n_expert = e ? 16 : 8,
                                     .k = e ? 4 : 2,
                                     .tokens = tokens[n],
                                     .path = p,
                                     .paired = e == 1,
                                     .shared = (n + e) % 2 == 1};
                    check_case(f, &c);
                }
    /* Decode (indexed matvec) and a batch (grouped indexed matmul). */
    for (size_t t = 0; t < sizeof block_types / sizeof block_types[0]; t++) {
        check_case(f,
                   &(expert_case){block_types[t], 16, 4, 1, MOE_PATH_PER_TOKEN,
                                  false, false, 0, false, true, true});
        check_case(f,
                   &(expert_case){block_types[t], 16, 4, 17, MOE_PATH_GROUPED,
                                  false, false, 0, false, true, false});
    }
    /* 40 rows on expert 3: two token tiles of the grouped matmul. */
    check_case(f, &(expert_case){DSVK_TYPE_F16, 16, 4, 40, MOE_PATH_GROUPED,
                                 true, false, 0, false, false, false});
    check_case(f, &(expert_case){DSVK_TYPE_Q8_0, 8, 2, 40, MOE_PATH_AUTO, true,
                                 true, 0, false, true, true});
    check_case(f, &(expert_case){DSVK_TYPE_BF16, 8, 2, 3, MOE_PATH_AUTO, false,
                                 true, 0, false, true, true});
    /* Decode with aligned rows: the wide types take the wide kernels on CPU
     * drivers. */
    static const uint32_t wide_types[] = {DSVK_TYPE_F16, DSVK_TYPE_Q8_0,
                                          DSVK_TYPE_Q4_K, DSVK_TYPE_Q5_K,
                                          DSVK_TYPE_Q6_K};
    for (size_t t = 0; t < sizeof wide_types / sizeof wide_types[0]; t++)
        for (uint32_t tokens = 1; tokens <= 2; tokens++)
            for (int paired = 0; paired < 2; paired++)
                check_case(f, &(expert_case){wide_types[t], 8, 2, tokens,
                                             MOE_PATH_PER_TOKEN, false, true, 0,
                                             true, paired, paired});
}

/* A binding limit of three expert matrices (plus what alignment holds
 * back) splits each stack over several dispatches (and keeps gate and up
 * apart even where they share a buffer). */
static void test_split(ops_fixture *f, moe_path path)
{
    expert_case c = {DSVK_TYPE_Q8_0, 16, 4,     5,    path, false,
                     false,          0,  false, true, true};
    uint32_t d, ff;
    dims(&c, &d, &ff);
    uint64_t matrix_bytes = (uint64_t)ff * rt_weight_row_bytes(c.type, d);
    uint64_t align =
        rt_device_caps(f->dev)->min_storage_buffer_offset_alignment;
    double nmse_whole, nmse_split;
    float *whole = run_experts(f, &c, &nmse_whole);
    c.max_binding_range = 3 * matrix_bytes + (align > 4 ? align : 4) + 3;
    float *split = run_experts(f, &c, &nmse_split);
    CHECK(nmse_split <= EXPERT_TOLERANCE, "split %s: nmse %g", path_names[path],
          nmse_split);
    uint32_t T = c.tokens;
    /* Grouped, each row is computed by the same code on the same data
     * either way. Per token, the down product sums a token's experts in
     * the dispatch that binds them, so a split changes the order of that
     * sum: the two agree to rounding. */
    if (path == MOE_PATH_GROUPED)
        CHECK(memcmp(whole, split, (size_t)T * d * 4) == 0,
              "split %s differs from the unsplit product", path_names[path]);
    else
        CHECK(test_nmse(split, whole, (size_t)T * d) <= EXPERT_TOLERANCE,
              "split %s is far from the unsplit product", path_names[path]);
    printf("experts split at %llu bytes, %s: nmse %.2g\n",
           (unsigned long long)c.max_binding_range, path_names[path],
           nmse_split);
    free(whole);
    free(split);
}

/* moe_route then moe_experts_forward in one submit. Logits are a spaced
 * permutation (no near-ties), so the reference routes alike. */
static void test_route_then_experts(ops_fixture *f)
{
    const uint32_t E = 16, k = 4, T = 17, d = 70, ff = 37;
    test_rng rng = test_rng_seed(77);
    float *logits = malloc((size_t)T * E * 4);
    for (uint32_t t = 0; t < T; t++) {
        uint32_t order[16];
        for (uint32_t e = 0; e < E; e++)
            order[e] = e;
        for (uint32_t e = E - 1; e > 0; e--) {
            uint32_t j = (uint32_t)test_rng_uniform(&rng, 0, (float)e + 1);
            j = j > e ? e : j;
            uint32_t tmp = order[e];
            order[e] = order[j];
            order[j] = tmp;
        }
        for (uint32_t e = 0; e < E; e++)
            logits[(size_t)t * E + e] = 0.5f * (float)order[e] - 4;
    }
    float *gate, *up, *down;
    rt_weight gate_w =
        fixture_weight(f, &rng, DSVK_TYPE_F16, E, ff, d, 2, &gate);
    rt_weight up_w = fixture_weight(f, &rng, DSVK_TYPE_F16, E, ff, d, 2, &up);
    rt_weight down_w =
        fixture_weight(f, &rng, DSVK_TYPE_F16, E, d, ff, 2, &down);
    float *x = malloc((size_t)T * d * 4);
    test_rng_fill(&rng, x, (size_t)T * d, -1, 1);
    const rt_buffer *logit_buf = fixture_buffer(f, logits, (size_t)T * E * 4);
    const rt_buffer *x_buf = fixture_buffer(f, x, (size_t)T * d * 4);
    const rt_buffer *y_buf = fixture_buffer(f, NULL, (size_t)T * d * 4);
    const rt_buffer *route_buf = fixture_buffer(f, NULL, 2 * T * k * 4);
    const rt_buffer *scratch =
        fixture_buffer(f, NULL, moe_experts_scratch_bytes(T, k, d, ff, 0, E));
    moe_router router = {E, k, MOE_GATING_SOFTMAX, 1, 1, true, 1.5f};
    moe_routes routes = {route_buf, 0, (uint64_t)T * k * 4, T, k};
    moe_experts experts = {&gate_w, &up_w, &down_w};
    moe_experts_desc desc = {.experts = &experts,
                             .routes = &routes,
                             .x = {x_buf, 0, T, d, d},
                             .scratch = scratch,
                             .path = MOE_PATH_GROUPED};
    dsvk_status status = moe_route(
        &f->ops, &router, (rt_view){logit_buf, 0, T, E, E}, NULL, &routes);
    if (status == DSVK_OK)
        status =
            moe_experts_forward(&f->ops, &desc, (rt_view){y_buf, 0, T, d, d});
    CHECK(status == DSVK_OK, "route + experts: %s", rt_device_error(f->dev));
    fixture_submit(f);

    float *y = malloc((size_t)T * d * 4), *y_ref = malloc((size_t)T * d * 4);
    uint32_t *ids = malloc((size_t)T * k * 4);
    float *weights = malloc((size_t)T * k * 4);
    fixture_read(f, y_buf, 0, y, (size_t)T * d * 4);
    ref_moe_router ref = {E, k, false, NULL, 1, 1, true, 1.5f};
    ref_moe_route(&ref, T, logits, ids, weights);
    ref_moe_experts(T, d, ff, k, ids, weights, gate, up, down, x, y_ref);
    double nmse = test_nmse(y, y_ref, (size_t)T * d);
    CHECK(nmse <= EXPERT_TOLERANCE, "route + experts: nmse %g", nmse);
    printf("route + experts in one submit: nmse %.2g\n", nmse);

    fixture_release(f);
    free(logits);
    free(gate);
    free(up);
    free(down);
    free(x);
    free(y);
    free(y_ref);
    free(ids);
    free(weights);
}

static void test_errors(ops_fixture *f)
{
    test_rng rng = test_rng_seed(3);
    float *gate, *down;
    rt_weight gate_w =
        fixture_weight(f, &rng, DSVK_TYPE_F32, 8, 37, 70, 0, &gate);
    rt_weight down_w =
        fixture_weight(f, &rng, DSVK_TYPE_F32, 8, 70, 37, 0, &down);
    const rt_buffer *buf = fixture_buffer(f, NULL, 1 << 16);
    moe_routes routes = {buf, 0, 64, 2, 2};
    moe_experts experts = {&gate_w, &gate_w, &down_w};
    moe_experts_desc desc = {.experts = &experts,
                             .routes = &routes,
                             .x = {buf, 1024, 2, 70, 70},
                             .scratch = buf,
                             .scratch_offset = 8192};
    rt_view y = {buf, 4096, 2, 70, 70};

    moe_experts swapped = {&down_w, &gate_w, &down_w};
    desc.experts = &swapped;
    CHECK(moe_experts_forward(&f->ops, &desc, y) == DSVK_ERROR_INVALID_ARGUMENT,
          "down passed as gate");
    printf("expected error: %s\n", rt_device_error(f->dev));
    desc.experts = &experts;
    desc.x.rows = 3;
    CHECK(moe_experts_forward(&f->ops, &desc, y) == DSVK_ERROR_INVALID_ARGUMENT,
          "x and y of different token counts");
    printf("expected error: %s\n", rt_device_error(f->dev));
    desc.x.rows = 2;
    desc.scratch_offset = 8200;
    CHECK(moe_experts_forward(&f->ops, &desc, y) == DSVK_ERROR_INVALID_ARGUMENT,
          "misaligned scratch");
    printf("expected error: %s\n", rt_device_error(f->dev));
    fixture_submit(f); /* nothing was recorded */
    fixture_release(f);
    free(gate);
    free(down);
}

int main(void)
{
    ops_fixture f;
    fixture_open(&f);
    test_table(&f);
    test_split(&f, MOE_PATH_PER_TOKEN);
    test_split(&f, MOE_PATH_GROUPED);
    test_route_then_experts(&f);
    test_errors(&f);
    return fixture_close(&f, "test_model_ops_experts");
}
