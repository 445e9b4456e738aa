/* The routing reports of a session (dsvk_session_desc.on_routing) on the
 * tiny-v2 and tiny-v3 fixtures, against the CPU reference's routing
 * (host/reference, the oracle; the only internals this API test uses). For
 * a sequence evaluated whole (two 64-token steps), in chunks, after a
 * rewind and through dsvk_generate: every (MoE layer, position) evaluated
 * is reported exactly once, in (position, layer) order, positions going on
 * across evaluations; the experts are the reference's and so are their
 * weights, within WEIGHT_TOLERANCE. A session without the callback gives
 * bit-identical logits. */
#include "test_api_support.h"
#include "testlib.h"

#include "forward/forward.h"
#include "model/dequant.h"
#include "reference/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* More than the default 64-token step, so that "whole" is two steps. */
#define N_TOKENS 80u
#define CHUNK 7u  /* evaluations that do not line up with the steps */
#define REWIND 5u /* tokens evaluated again after a rewind */
#define N_PROMPT 8u
#define N_GENERATE 6u

/* The GPU's hidden states differ from the reference's by ~1e-4 of their
 * scale on these models (f32 sums in other orders; the forward tests bound
 * the logits at 1e-3), and so do the router scores: the mixing weights,
 * smooth functions of the scores, moved by up to 1.1e-4 on lavapipe
 * (tiny-v3, whole, GPU kernels). A choice the reference made by a margin
 * below TIE_MARGIN, ~10 times that, could go either way: the test's
 * sequences must have none (the check says so rather than excuse it), and
 * two chosen experts whose choice scores are that close may come in either
 * order. WEIGHT_TOLERANCE allows ~5 times the measured difference, while
 * a wrong expert or normalisation moves a weight by O(0.1). */
#define TIE_MARGIN 5e-4f
#define WEIGHT_TOLERANCE 5e-4

/* Every report of one run, by (layer, position); layers before first_moe
 * are dense and must never appear. */
typedef struct route_log {
    uint32_t n_layer, first_moe, n_used, n_expert;
    uint32_t *experts; /* [n_layer][N_TOKENS][n_used] */
    float *weights;    /* [n_layer][N_TOKENS][n_used] */
    float *probs;      /* [n_layer][N_TOKENS][n_expert], reference only */
    float *margin;     /* [n_layer][N_TOKENS], reference only */
    uint32_t *reports; /* [n_layer][N_TOKENS]: how often reported */
    uint32_t n_reports;
    int64_t last; /* position * n_layer + layer of the last report */
} route_log;

static bool route_log_init(route_log *log, const model_hparams *hp)
{
    const size_t slots = (size_t)hp->n_layer * N_TOKENS;
    *log = (route_log){.n_layer = hp->n_layer,
                       .first_moe = hp->n_layer_dense_lead,
                       .n_used = hp->n_expert_used,
                       .n_expert = hp->n_expert,
                       .last = -1};
    log->experts = calloc(slots * log->n_used, sizeof *log->experts);
    log->weights = calloc(slots * log->n_used, sizeof *log->weights);
    log->probs = calloc(slots * log->n_expert, sizeof *log->probs);
    log->margin = calloc(slots, sizeof *log->margin);
    log->reports = calloc(slots, sizeof *log->reports);
    return log->experts && log->weights && log->probs && log->margin &&
           log->reports;
}

static void route_log_free(route_log *log)
{
    free(log->experts);
    free(log->weights);
    free(log->probs);
    free(log->margin);
    free(log->reports);
}

/* Forgets the reports, for a run that starts over (the rewind). */
static void route_log_clear(route_log *log)
{
    memset(log->reports, 0, sizeof *log->reports * log->n_layer * N_TOKENS);
    log->n_reports = 0;
    log->last = -1;
}

/* Records one report; SIZE_MAX when it is outside the log or out of order
 * (a CHECK failure says which). */
static size_t route_log_add(route_log *log, uint32_t layer, uint32_t position,
                            uint32_t n_used, const uint32_t *experts,
                            const float *weights)
{
    const bool inside = layer >= log->first_moe && layer < log->n_layer &&
                        position < N_TOKENS && n_used == log->n_used;
    CHECK(inside, "report of layer %u position %u with %u experts", layer,
          position, n_used);
    if (!inside)
        return SIZE_MAX;
    const int64_t order = (int64_t)position * log->n_layer + layer;
    CHECK(order > log->last, "layer %u position %u reported out of order",
          layer, position);
    log->last = order;
    const size_t slot = (size_t)layer * N_TOKENS + position;
    log->reports[slot]++;
    log->n_reports++;
    memcpy(&log->experts[slot * n_used], experts, n_used * sizeof *experts);
    memcpy(&log->weights[slot * n_used], weights, n_used * sizeof *weights);
    return slot;
}

static void log_api_routing(void *user, const dsvk_routing *r)
{
    route_log_add(user, r->layer, r->position, r->n_used, r->experts,
                  r->weights);
}

static void log_ref_routing(const ref_routing *r, void *user)
{
    route_log *log = user;
    const size_t slot = route_log_add(log, r->layer, r->position, r->n_used,
                                      r->chosen, r->weights);
    if (slot == SIZE_MAX)
        return;
    memcpy(&log->probs[slot * log->n_expert], r->probs,
           log->n_expert * sizeof *r->probs);
    log->margin[slot] = r->margin;
}

/* Exactly one report for every MoE layer and position in [from, to), none
 * elsewhere. */
static void check_reports(const char *label, const route_log *log,
                          uint32_t from, uint32_t to)
{
    uint32_t wrong = 0;
    for (uint32_t il = 0; il < log->n_layer; il++)
        for (uint32_t t = 0; t < N_TOKENS; t++) {
            const bool due = il >= log->first_moe && t >= from && t < to;
            wrong += log->reports[(size_t)il * N_TOKENS + t] != (due ? 1 : 0);
        }
    CHECK(wrong == 0 &&
              log->n_reports == (to - from) * (log->n_layer - log->first_moe),
          "%s: %u (layer, position) pairs not reported exactly once, %u "
          "reports for positions [%u, %u)",
          label, wrong, log->n_reports, from, to);
}

/* The reference file: the model for the reference and each MoE layer's
 * choice bias (0 without exp_probs_b), which orders the experts. */
typedef struct oracle {
    gguf_file *file;
    model *m;
    ref *r;
    float *bias; /* [n_layer][n_expert] */
    route_log log;
} oracle;

static bool oracle_open(oracle *o, const char *path)
{
    char err[512] = "";
    *o = (oracle){0};
    bool ok = gguf_open(path, &o->file, err, sizeof err) == DSVK_OK &&
              model_load(o->file, &o->m, err, sizeof err) == DSVK_OK &&
              route_log_init(&o->log, &o->m->hp);
    const ref_desc desc = {.on_routing = log_ref_routing, .user = &o->log};
    ok = ok && ref_create(o->m, &desc, &o->r, err, sizeof err) == DSVK_OK;
    CHECK(ok, "%s: %s", path, err);
    if (!ok)
        return false;
    const model_hparams *hp = &o->m->hp;
    o->bias = calloc((size_t)hp->n_layer * hp->n_expert, sizeof *o->bias);
    for (uint32_t il = 0; o->bias && il < hp->n_layer; il++) {
        const gguf_tensor *b = o->m->layers[il].exp_probs_b;
        if (b)
            ok = ok &&
                 dequant_row(b->type, b->data,
                             o->bias + (size_t)il * hp->n_expert, hp->n_expert);
    }
    CHECK(o->bias && ok, "%s: cannot read the choice biases", path);
    return o->bias && ok;
}

static void oracle_close(oracle *o)
{
    route_log_free(&o->log);
    free(o->bias);
    ref_destroy(o->r);
    model_free(o->m);
    gguf_close(o->file);
}

/* The reference's routes for tokens[0..n), from position 0. */
static void oracle_eval(const char *label, oracle *o, const dsvk_token *tokens,
                        uint32_t n)
{
    ref_reset(o->r);
    route_log_clear(&o->log);
    char err[512] = "";
    CHECK(ref_eval(o->r, (const uint32_t *)tokens, n, NULL, err, sizeof err) ==
              DSVK_OK,
          "ref_eval: %s", err);
    float smallest = INFINITY;
    for (uint32_t il = o->log.first_moe; il < o->log.n_layer; il++)
        for (uint32_t t = 0; t < n; t++)
            smallest = fminf(smallest, o->log.margin[il * N_TOKENS + t]);
    printf("%-22s reference's smallest routing margin %.2e (>= %.0e)\n", label,
           smallest, TIE_MARGIN);
    CHECK(smallest >= TIE_MARGIN,
          "%s: the reference chose by a margin of %g: pick tokens without a "
          "near tie",
          label, smallest);
}

/* How far a run's routes are from the reference's. */
typedef struct route_diff {
    double max_weight; /* largest |weight - reference weight| */
    uint32_t swaps;    /* chosen experts in another order, at a tie */
} route_diff;

/* Index of expert e in list[n], or n. */
static uint32_t find_expert(const uint32_t *list, uint32_t n, uint32_t e)
{
    uint32_t i = 0;
    while (i < n && list[i] != e)
        i++;
    return i;
}

/* Compares one (layer, position): the same experts, in the same order but
 * for ties, with the same weights. */
static void compare_slot(const char *label, const route_log *got,
                         const oracle *o, uint32_t il, uint32_t t,
                         route_diff *diff)
{
    const uint32_t k = got->n_used, E = got->n_expert;
    const size_t slot = (size_t)il * N_TOKENS + t;
    const uint32_t *ours = &got->experts[slot * k];
    const uint32_t *want = &o->log.experts[slot * k];
    const float *probs = &o->log.probs[slot * E];
    const float *bias = &o->bias[(size_t)il * E];
    for (uint32_t i = 0; i < k; i++) {
        const uint32_t j = find_expert(want, k, ours[i]);
        CHECK(j < k,
              "%s: layer %u position %u: expert %u is not the "
              "reference's (margin %g)",
              label, il, t, ours[i], o->log.margin[slot]);
        if (j == k)
            return;
        const float score = probs[ours[i]] + bias[ours[i]];
        const float wanted = probs[want[i]] + bias[want[i]];
        CHECK(j == i || fabsf(score - wanted) <= TIE_MARGIN,
              "%s: layer %u position %u: expert %u comes %u-th, the "
              "reference's %u-th (scores %.7f vs %.7f)",
              label, il, t, ours[i], i, j, score, wanted);
        diff->swaps += j != i;
        const double d = fabs((double)got->weights[slot * k + i] -
                              o->log.weights[slot * k + j]);
        diff->max_weight = fmax(diff->max_weight, d);
        CHECK(d <= WEIGHT_TOLERANCE,
              "%s: layer %u position %u: expert %u weight %.7f, the "
              "reference's %.7f",
              label, il, t, ours[i], got->weights[slot * k + i],
              o->log.weights[slot * k + j]);
    }
}

/* Reports exactly once for positions [from, to), each equal to the
 * reference's. */
static void compare_routes(const char *label, const route_log *got,
                           const oracle *o, uint32_t from, uint32_t to)
{
    check_reports(label, got, from, to);
    route_diff diff = {0};
    for (uint32_t il = got->first_moe; il < got->n_layer; il++)
        for (uint32_t t = from; t < to; t++)
            compare_slot(label, got, o, il, t, &diff);
    printf("%-22s %4u reports, max |dweight| %.2e (<= %.0e), %u order swaps "
           "at ties\n",
           label, got->n_reports, diff.max_weight, WEIGHT_TOLERANCE,
           diff.swaps);
}

static dsvk_session *new_session(const dsvk_model *model, route_log *log)
{
    const dsvk_session_desc desc = {.on_routing = log ? log_api_routing : NULL,
                                    .routing_user = log};
    dsvk_session *s = NULL;
    CHECK(dsvk_session_create(model, &desc, &s) == DSVK_OK,
          "dsvk_session_create: %s", dsvk_model_error(model));
    return s;
}

/* Evaluates tokens[from..to) with all logits into logits (rows from 0),
 * in evaluations of `chunk` tokens; after each, the log holds exactly the
 * positions evaluated since `from`. */
static void feed(const char *label, dsvk_session *s, const route_log *log,
                 const dsvk_token *tokens, uint32_t from, uint32_t to,
                 uint32_t chunk, float *logits, uint32_t n_vocab)
{
    for (uint32_t at = from; at < to; at += chunk) {
        const uint32_t n = to - at < chunk ? to - at : chunk;
        const dsvk_status status = dsvk_session_eval(
            s, tokens + at, n, DSVK_LOGITS_ALL,
            logits + (size_t)(at - from) * n_vocab, (size_t)n * n_vocab);
        CHECK(status == DSVK_OK, "%s: dsvk_session_eval: %s", label,
              dsvk_session_error(s));
        if (status != DSVK_OK)
            return;
        if (log)
            check_reports(label, log, from, at + n);
    }
}

/* One feeding with the callback and one without: the routes are the
 * reference's and the logits the same bit for bit (the reports only read
 * what the step wrote). With `rewind`, the last REWIND tokens are then
 * evaluated again and reported again. */
static void check_feeding(const char *name, const dsvk_model *model,
                          const oracle *o, const dsvk_token *tokens,
                          uint32_t chunk, bool rewind)
{
    const uint32_t n_vocab = o->m->hp.n_vocab;
    const size_t n_logits = (size_t)N_TOKENS * n_vocab;
    float *with = malloc(n_logits * sizeof *with);
    float *without = malloc(n_logits * sizeof *without);
    route_log log;
    dsvk_session *a = NULL, *b = NULL;
    char label[64];
    if (chunk >= N_TOKENS)
        snprintf(label, sizeof label, "%s whole", name);
    else
        snprintf(label, sizeof label, "%s chunks of %u", name, chunk);
    if (!with || !without || !route_log_init(&log, &o->m->hp)) {
        CHECK(false, "%s: out of memory", label);
        goto done;
    }
    a = new_session(model, &log);
    b = new_session(model, NULL);
    if (!a || !b)
        goto done;
    feed(label, a, &log, tokens, 0, N_TOKENS, chunk, with, n_vocab);
    feed(label, b, NULL, tokens, 0, N_TOKENS, chunk, without, n_vocab);
    compare_routes(label, &log, o, 0, N_TOKENS);
    CHECK(memcmp(with, without, n_logits * sizeof *with) == 0,
          "%s: logits with on_routing differ from without (max %g)", label,
          test_max_abs_diff(with, without, n_logits));
    if (rewind) {
        route_log_clear(&log);
        CHECK(dsvk_session_rewind(a, N_TOKENS - REWIND) == DSVK_OK, "rewind");
        snprintf(label, sizeof label, "%s rewound", name);
        feed(label, a, &log, tokens, N_TOKENS - REWIND, N_TOKENS, chunk, with,
             n_vocab);
        compare_routes(label, &log, o, N_TOKENS - REWIND, N_TOKENS);
    }
done:
    dsvk_session_destroy(a);
    dsvk_session_destroy(b);
    route_log_free(&log);
    free(with);
    free(without);
}

/* The tokens dsvk_generate chose, after the prompt. */
typedef struct generated {
    dsvk_token tokens[N_PROMPT + N_GENERATE];
    uint32_t n;
} generated;

static bool collect_token(void *user, dsvk_token token, const char *text,
                          size_t len)
{
    (void)text;
    (void)len;
    generated *g = user;
    if (token != DSVK_TOKEN_NONE && g->n < N_PROMPT + N_GENERATE)
        g->tokens[g->n++] = token;
    return true;
}

/* dsvk_generate reports the prompt's positions and those of every token it
 * evaluated (not the last one chosen, which it leaves pending), as the
 * reference routes that sequence. */
static void check_generate(const char *name, const dsvk_model *model, oracle *o,
                           const dsvk_token *tokens)
{
    char label[64];
    snprintf(label, sizeof label, "%s generate", name);
    route_log log;
    dsvk_session *s = NULL;
    if (!route_log_init(&log, &o->m->hp) || !(s = new_session(model, &log))) {
        CHECK(false, "%s: cannot start", label);
        route_log_free(&log);
        return;
    }
    generated g = {.n = N_PROMPT};
    memcpy(g.tokens, tokens, N_PROMPT * sizeof *tokens);
    const dsvk_generate_desc desc = {.max_tokens = N_GENERATE,
                                     .ignore_eog = true,
                                     .on_token = collect_token,
                                     .user = &g};
    dsvk_generate_result result;
    CHECK(dsvk_generate(s, tokens, N_PROMPT, &desc, &result) == DSVK_OK,
          "%s: %s", label, dsvk_session_error(s));
    const uint32_t evaluated = dsvk_session_position(s);
    CHECK(evaluated == N_PROMPT + N_GENERATE - 1 && g.n == evaluated + 1,
          "%s: %u positions evaluated, %u tokens", label, evaluated, g.n);
    oracle_eval(label, o, g.tokens, evaluated);
    compare_routes(label, &log, o, 0, evaluated);
    dsvk_session_destroy(s);
    route_log_free(&log);
}

static void check_model(dsvk_context *ctx, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "models/%s.gguf", name);
    oracle o;
    dsvk_model *model = test_api_load(ctx, test_fixture(path));
    if (oracle_open(&o, test_fixture(path))) {
        dsvk_token tokens[N_TOKENS];
        test_rng rng = test_rng_seed(14);
        const uint32_t n_vocab = o.m->hp.n_vocab;
        for (uint32_t i = 0; i < N_TOKENS; i++)
            tokens[i] = (dsvk_token)fminf(
                test_rng_uniform(&rng, 0, (float)n_vocab), n_vocab - 1);
        oracle_eval(name, &o, tokens, N_TOKENS);
        check_feeding(name, model, &o, tokens, N_TOKENS, true);
        check_feeding(name, model, &o, tokens, CHUNK, false);
        check_generate(name, model, &o, tokens);
    }
    oracle_close(&o);
    dsvk_model_destroy(model);
}

/* dsvk logits cuts a sequence into GPU steps with a default session, and
 * must cut it as forward did before it moved onto the API. */
static void check_default_steps(dsvk_context *ctx)
{
    dsvk_model *model = test_api_load(ctx, test_fixture("models/tiny-v2.gguf"));
    dsvk_session *s = new_session(model, NULL);
    dsvk_session_info info = {0};
    if (s)
        dsvk_session_get_info(s, &info);
    CHECK(info.max_batch == FORWARD_DEFAULT_MAX_BATCH,
          "a default session takes %u tokens a step, forward %u",
          info.max_batch, FORWARD_DEFAULT_MAX_BATCH);
    dsvk_session_destroy(s);
    dsvk_model_destroy(model);
}

int main(void)
{
    const dsvk_context_desc desc = test_api_desc();
    dsvk_context *ctx = test_api_context(&desc);
    check_default_steps(ctx);
    check_model(ctx, "tiny-v2");
    check_model(ctx, "tiny-v3");
    return test_api_finish(ctx, "api_routing");
}
