/* Expert routing on the GPU (moe_route) against ref_moe_route: softmax
 * (V2) and sigmoid with exp_probs_b (V3) gating, with and without
 * group-limited choice, normalised and scaled weights, from 8 experts to
 * DeepSeek-V3's 256 with 8 used, from logits and from the router's product
 * computed in the same dispatch (moe_route_product, up to its largest
 * router); then clean errors for unsupported routers. Expert ids must
 * match exactly, so the inputs are drawn without near-ties at any decision
 * the router makes. */
#include "forward/ops_moe.h"
#include "ref/ref_model_ops.h"
#include "ref/ref_ops.h"
#include "test_ops_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Both sides compute softmax/sigmoid of the same logits; the GPU in f32
 * with its exp (within 3 + 2|x| ulp in Vulkan, |x| <= 8 here), the
 * reference in double: a relative error of a few 1e-6 at worst, an NMSE
 * below 1e-11. 1e-9 leaves margin yet fails on a wrong weight (one swapped
 * weight of 8 gives well over 1e-3) or a missed normalisation. */
#define WEIGHT_TOLERANCE 1e-9
/* Smallest gap between choice scores (or group scores) at any decision,
 * redrawn until met: a hundred times the GPU's f32 error on scores <= 1.1,
 * so the GPU and the reference must decide alike. */
#define DECISION_MARGIN 1e-5
/* The same where the GPU computes the logits too: its f32 products (up to
 * 1024 terms here) err by under 1e-5, so ten times that. */
#define PRODUCT_DECISION_MARGIN 1e-4

typedef struct route_case {
    moe_router router;
    bool bias;
    uint32_t tokens;
} route_case;

static int by_score_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* The smallest gap at the router's decisions for one token: between the
 * kept groups and the rest, and among the k + 1 best allowed experts (the
 * choice and the order of the ids), computed in double as the reference
 * does. */
static double decision_gap(const route_case *c, const float *logits,
                           const float *bias)
{
    const moe_router *r = &c->router;
    uint32_t E = r->n_expert, G = r->n_group > 1 ? r->n_group : 1;
    uint32_t size = E / G;
    double choice[MOE_MAX_EXPERTS], sorted[MOE_MAX_EXPERTS];
    double group[MOE_MAX_EXPERTS], group_sorted[MOE_MAX_EXPERTS];
    double max = -INFINITY, total = 0;
    for (uint32_t e = 0; e < E; e++)
        max = fmax(max, logits[e]);
    for (uint32_t e = 0; e < E; e++)
        total += exp(logits[e] - max);
    for (uint32_t e = 0; e < E; e++) {
        choice[e] = r->gating == MOE_GATING_SIGMOID
                        ? 1 / (1 + exp(-(double)logits[e]))
                        : exp(logits[e] - max) / total;
        choice[e] += bias ? bias[e] : 0;
    }
    double gap = INFINITY;
    for (uint32_t g = 0; g < G; g++) {
        memcpy(sorted, choice + g * size, size * sizeof *sorted);
        qsort(sorted, size, sizeof *sorted, by_score_desc);
        group[g] = r->gating == MOE_GATING_SIGMOID && size > 1
                       ? sorted[0] + sorted[1]
                       : sorted[0];
    }
    memcpy(group_sorted, group, G * sizeof *group);
    qsort(group_sorted, G, sizeof *group_sorted, by_score_desc);
    uint32_t kept = G > 1 ? r->n_group_used : 1;
    if (kept < G)
        gap = group_sorted[kept - 1] - group_sorted[kept];
    double cut = group_sorted[kept - 1];
    uint32_t n = 0;
    for (uint32_t e = 0; e < E; e++)
        if (group[e / size] >= cut)
            sorted[n++] = choice[e];
    qsort(sorted, n, sizeof *sorted, by_score_desc);
    for (uint32_t i = 0; i < r->n_expert_used && i + 1 < n; i++)
        gap = fmin(gap, sorted[i] - sorted[i + 1]);
    return gap;
}

/* Routes T tokens from their logits, or with cols > 0 from the router's
 * product: a weight [E][cols] times x [T][cols] (at most
 * MOE_ROUTE_PRODUCT_MAX_TOKENS), and checks against the reference routing
 * of the same logits. */
static void run_route(ops_fixture *f, const route_case *c, uint32_t cols)
{
    const moe_router *r = &c->router;
    uint32_t E = r->n_expert, k = r->n_expert_used, T = c->tokens;
    if (cols && T > MOE_ROUTE_PRODUCT_MAX_TOKENS)
        T = MOE_ROUTE_PRODUCT_MAX_TOKENS;
    test_rng rng = test_rng_seed(E * 131u + k * 17u + T + cols);
    float bias[MOE_MAX_EXPERTS];
    test_rng_fill(&rng, bias, E, -0.1f, 0.1f);
    /* Logits (or x) of T rows with stride n + 1, one float into the
     * buffer; the router weight likewise one float in. */
    const uint32_t n = cols ? cols : E;
    float *logits = malloc((size_t)T * E * 4);
    float *w = cols ? malloc((size_t)E * cols * 4) : NULL;
    float *x = cols ? malloc((size_t)T * cols * 4) : NULL;
    if (cols)
        test_rng_fill(&rng, w, (size_t)E * cols, -1, 1);
    const double margin = cols ? PRODUCT_DECISION_MARGIN : DECISION_MARGIN;
    for (uint32_t t = 0; t < T; t++) {
        float *row = logits + (size_t)t * E;
        int draws = 0;
        do {
            if (cols) {
                /* Scaled so that the logits span about [-4, 4]. */
                float scale = 4.0f * sqrtf(3.0f / (float)cols);
                test_rng_fill(&rng, x + (size_t)t * cols, cols, -scale, scale);
                ref_matmul(w, E, cols, x + (size_t)t * cols, 1, row);
            } else {
                test_rng_fill(&rng, row, E, -4, 4);
            }
        } while (++draws < 1000 &&
                 decision_gap(c, row, c->bias ? bias : NULL) < margin);
        CHECK(draws < 1000, "no logits without near-ties for E %u", E);
    }
    /* Logits one float in with a stride of E + 1; x 16 bytes in with a
     * stride of cols + 4, on 16-byte words as the product form needs. */
    const uint32_t lead = cols ? 4 : 1, stride = cols ? n + 4 : n + 1;
    float *stored = calloc(lead + (size_t)T * stride, 4);
    fixture_scatter(cols ? x : logits, T, n, stride, stored + lead);
    const rt_buffer *input_buf =
        fixture_buffer(f, stored, (lead + (size_t)T * stride) * 4);
    const rt_buffer *bias_buf = fixture_buffer(f, NULL, 4 + E * 4);
    rt_buffer_upload(f->dev, bias_buf, 4, bias, E * 4);
    rt_weight bias_w = {bias_buf, 4, DSVK_TYPE_F32, E, 1, 1, E * 4};
    uint64_t route_bytes = (uint64_t)T * k * 4;
    const rt_buffer *route_buf = fixture_buffer(f, NULL, 16 + 2 * route_bytes);
    moe_routes routes = {route_buf, 4, 12 + route_bytes, T, k};

    rt_view input = {input_buf, 4ull * lead, T, n, stride};
    dsvk_status status;
    if (cols) {
        const rt_buffer *w_buf =
            fixture_buffer(f, NULL, 16 + (size_t)E * cols * 4);
        rt_buffer_upload(f->dev, w_buf, 16, w, (size_t)E * cols * 4);
        const rt_weight router_w = {w_buf, 16, DSVK_TYPE_F32, cols,
                                    E,     1,  4ull * cols};
        CHECK(moe_route_product_fits(r, &router_w, input),
              "E %u x %u, %u tokens: the product does not fit", E, cols, T);
        status = moe_route_product(&f->ops, r, &router_w, input,
                                   c->bias ? &bias_w : NULL, &routes);
    } else {
        status =
            moe_route(&f->ops, r, input, c->bias ? &bias_w : NULL, &routes);
    }
    CHECK(status == DSVK_OK, "route: %s", rt_device_error(f->dev));
    fixture_submit(f);

    uint32_t *ids = malloc(route_bytes), *ids_ref = malloc(route_bytes);
    float *weights = malloc(route_bytes), *weights_ref = malloc(route_bytes);
    fixture_read(f, route_buf, routes.ids_offset, ids, route_bytes);
    fixture_read(f, route_buf, routes.weights_offset, weights, route_bytes);
    ref_moe_router ref = {E,
                          k,
                          r->gating == MOE_GATING_SIGMOID,
                          c->bias ? bias : NULL,
                          r->n_group,
                          r->n_group_used,
                          r->weights_norm,
                          r->weights_scale};
    ref_moe_route(&ref, T, logits, ids_ref, weights_ref);
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < T * k; i++)
        wrong += ids[i] != ids_ref[i];
    double nmse = test_nmse(weights, weights_ref, (size_t)T * k);
    CHECK(wrong == 0, "E %u k %u: %u of %u ids differ (first: %u vs %u)", E, k,
          wrong, T * k, ids[0], ids_ref[0]);
    CHECK(nmse <= WEIGHT_TOLERANCE, "E %u k %u: weights nmse %g", E, k, nmse);
    printf("route E %3u k %u %s%s groups %u/%u, %2u tokens%s: ids %s, "
           "weights nmse %.2g\n",
           E, k, r->gating == MOE_GATING_SIGMOID ? "sigmoid" : "softmax",
           c->bias ? "+bias" : "", r->n_group, r->n_group_used, T,
           cols ? ", with the product" : "", wrong ? "DIFFER" : "equal", nmse);

    fixture_release(f);
    free(logits);
    free(w);
    free(x);
    free(stored);
    free(ids);
    free(ids_ref);
    free(weights);
    free(weights_ref);
}

static void test_routes(ops_fixture *f)
{
    const moe_gating softmax = MOE_GATING_SOFTMAX;
    const moe_gating sigmoid = MOE_GATING_SIGMOID;
    const route_case cases[] = {
        /* V2-Lite: 64 experts, 6 used, no groups, weights unnormalised. */
        {{64, 6, softmax, 1, 1, false, 1.0f}, false, 1},
        {{64, 6, softmax, 1, 1, false, 1.0f}, false, 17},
        {{8, 2, softmax, 0, 0, true, 1.0f}, false, 3},
        /* tiny-v3 (the fixtures): 16 experts in 4 groups keeping 2. */
        {{16, 4, sigmoid, 4, 2, true, 2.5f}, true, 1},
        {{16, 4, sigmoid, 4, 2, true, 2.5f}, true, 3},
        {{16, 4, sigmoid, 4, 2, true, 2.5f}, true, 17},
        /* V2 group_limited_greedy: a group scores its best expert. */
        {{16, 4, softmax, 4, 2, false, 1.0f}, false, 17},
        /* DeepSeek-V2: 160 experts, 6 used, 8 groups keeping 3, x16. */
        {{160, 6, softmax, 8, 3, false, 16.0f}, false, 3},
        /* DeepSeek-V3: 256 experts, 8 used, 8 groups keeping 4. */
        {{256, 8, sigmoid, 8, 4, true, 2.5f}, true, 1},
        {{256, 8, sigmoid, 8, 4, true, 2.5f}, true, 17},
        /* Edges: sigmoid without bias or groups; every expert used;
         * groups of one expert (the group score is its only score). */
        {{8, 2, sigmoid, 1, 1, false, 1.0f}, false, 3},
        {{8, 8, softmax, 1, 1, true, 1.0f}, false, 3},
        {{8, 2, sigmoid, 8, 4, true, 1.0f}, true, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_route(f, &cases[i], 0);
        /* About the largest router the product form takes at E >= 64,
         * rows of whole 16-byte words below. */
        uint32_t E = cases[i].router.n_expert;
        run_route(f, &cases[i],
                  E >= 64 ? MOE_ROUTE_PRODUCT_MAX_MACS / E / 4 * 4 : 36 + E);
    }
}

static void expect_error(ops_fixture *f, const moe_router *r, rt_view logits,
                         const moe_routes *routes, dsvk_status expected,
                         const char *what)
{
    dsvk_status status = moe_route(&f->ops, r, logits, NULL, routes);
    CHECK(status == expected, "%s: got %s", what, dsvk_status_string(status));
    printf("expected error: %s\n", rt_device_error(f->dev));
}

static void test_errors(ops_fixture *f)
{
    const rt_buffer *buf = fixture_buffer(f, NULL, 1 << 14);
    moe_routes routes = {buf, 8192, 12288, 2, 4};
    moe_router r = {16, 4, MOE_GATING_SIGMOID, 4, 2, true, 1.0f};
    rt_view logits = {buf, 0, 2, 16, 16};

    moe_router big = r;
    big.n_expert = 257;
    big.n_group = 1;
    expect_error(f, &big, (rt_view){buf, 0, 2, 257, 257}, &routes,
                 DSVK_ERROR_UNSUPPORTED, "257 experts");
    moe_router many = r;
    many.n_expert_used = 9;
    expect_error(f, &many, logits, &routes, DSVK_ERROR_UNSUPPORTED,
                 "9 experts used");
    moe_router uneven = r;
    uneven.n_group = 3;
    expect_error(f, &uneven, logits, &routes, DSVK_ERROR_INVALID_ARGUMENT,
                 "16 experts in 3 groups");
    moe_router narrow = r;
    narrow.n_group_used = 1; /* one group of 4 cannot give 5 experts */
    narrow.n_expert_used = 5;
    expect_error(f, &narrow, logits, &routes, DSVK_ERROR_INVALID_ARGUMENT,
                 "5 experts from one group of 4");
    expect_error(f, &r, (rt_view){buf, 0, 2, 15, 16}, &routes,
                 DSVK_ERROR_INVALID_ARGUMENT, "15 logits for 16 experts");
    moe_routes short_routes = routes;
    short_routes.n_tokens = 1;
    expect_error(f, &r, logits, &short_routes, DSVK_ERROR_INVALID_ARGUMENT,
                 "routes for fewer tokens");
    /* The product form: not a quantized router, nor more tokens or
     * multiply-adds than it takes, nor rows off 16-byte words. */
    rt_weight router_w = {buf, 0, DSVK_TYPE_F32, 64, 16, 1, 256};
    rt_view x = {buf, 0, 2, 64, 64};
    rt_weight quantized = router_w;
    quantized.type = DSVK_TYPE_Q8_0;
    quantized.row_bytes = 68;
    rt_weight huge = router_w;
    huge.cols = MOE_ROUTE_PRODUCT_MAX_MACS / 16 + 32;
    huge.row_bytes = 4ull * huge.cols;
    rt_view too_many = {buf, 0, MOE_ROUTE_PRODUCT_MAX_TOKENS + 1, 64, 64};
    rt_weight unaligned = router_w;
    unaligned.offset = 4;
    const struct {
        const rt_weight *w;
        rt_view x;
        const char *what;
    } bad[] = {{&quantized, x, "a Q8_0 router"},
               {&huge, (rt_view){buf, 0, 2, huge.cols, huge.cols},
                "a router past the product's size"},
               {&router_w, too_many, "more tokens than the product takes"},
               {&router_w, (rt_view){buf, 0, 2, 63, 63}, "x of 63 for 64"},
               {&router_w, (rt_view){buf, 4, 2, 64, 64}, "x 4 bytes in"},
               {&router_w, (rt_view){buf, 0, 2, 64, 66}, "x rows of 66"},
               {&unaligned, x, "a router weight 4 bytes in"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(moe_route_product(&f->ops, &r, bad[i].w, bad[i].x, NULL,
                                &routes) == DSVK_ERROR_INVALID_ARGUMENT,
              "moe_route_product accepted %s", bad[i].what);
        printf("expected error: %s\n", rt_device_error(f->dev));
    }
    fixture_submit(f); /* nothing was recorded */
    fixture_release(f);
}

int main(void)
{
    ops_fixture f;
    fixture_open(&f);
    test_routes(&f);
    test_errors(&f);
    return fixture_close(&f, "test_model_ops_route");
}
