/* The CPU reference against llama.cpp on every model fixture: for each
 * prompt, the prompt plus its recorded greedy continuation is fed whole,
 * token by token and in chunks of 5, and every row of logits must pass the
 * fixtures' rule (testlib_fixture.h). Router choices are compared with
 * llama.cpp's dump: where nearly tied scores went the other way, that
 * position's logits are left out of the comparison (a different expert
 * moves them by up to about 2); any clearer disagreement fails. */
#include "gguf/gguf.h"
#include "model/model.h"
#include "reference/reference.h"
#include "testlib.h"
#include "testlib_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Router choices captured during an evaluation, per block and position. */
typedef struct routing_log {
    uint32_t n_layer, n_ctx, n_used, n_expert;
    uint32_t *chosen; /* [n_layer][n_ctx][n_used] */
    float *probs;     /* [n_layer][n_ctx][n_expert] */
    float *margin;    /* [n_layer][n_ctx] */
} routing_log;

static void log_routing(const ref_routing *r, void *user)
{
    routing_log *log = user;
    if (r->layer >= log->n_layer || r->position >= log->n_ctx ||
        r->n_used != log->n_used || r->n_expert != log->n_expert)
        return;
    size_t slot = (size_t)r->layer * log->n_ctx + r->position;
    memcpy(log->chosen + slot * log->n_used, r->chosen,
           r->n_used * sizeof *r->chosen);
    memcpy(log->probs + slot * log->n_expert, r->probs,
           r->n_expert * sizeof *r->probs);
    log->margin[slot] = r->margin;
}

/* Feeds p->sequence in chunks of `chunk` tokens (0: all at once). */
static bool eval_sequence(ref *r, const fixture_prompt *p, uint32_t chunk,
                          uint32_t n_vocab, float *logits)
{
    char err[256];
    ref_reset(r);
    if (!chunk)
        chunk = p->n_sequence;
    for (uint32_t at = 0; at < p->n_sequence; at += chunk) {
        uint32_t n = p->n_sequence - at < chunk ? p->n_sequence - at : chunk;
        dsvk_status st =
            ref_eval(r, p->sequence + at, n, logits + (size_t)at * n_vocab, err,
                     sizeof err);
        CHECK(st == DSVK_OK, "ref_eval at %u: %s", at, err);
        if (st != DSVK_OK)
            return false;
    }
    CHECK(ref_position(r) == p->n_sequence, "position %u after %u tokens",
          ref_position(r), p->n_sequence);
    return true;
}

/* Compares every router choice with llama.cpp's dump. Near ties that went
 * the other way mark their position in `excused`; a clear disagreement
 * fails. */
static void compare_routing(const char *model, const fixture_prompt *p,
                            const routing_log *log, bool *excused)
{
    uint32_t counts[4] = {0};
    double max_prob_diff = 0.0;
    for (uint32_t layer = 0; layer < log->n_layer; layer++) {
        for (uint32_t pos = 0; pos < p->n_sequence; pos++) {
            size_t slot = (size_t)layer * log->n_ctx + pos;
            const uint32_t *ours = log->chosen + slot * log->n_used;
            double dp;
            fixture_routing_match match =
                fixture_check_routing(p, layer, pos, ours, log->n_used,
                                      log->probs + slot * log->n_expert,
                                      log->n_expert, log->margin[slot], &dp);
            counts[match]++;
            if (match == FIXTURE_ROUTING_UNKNOWN)
                continue;
            max_prob_diff = fmax(max_prob_diff, dp);
            if (match == FIXTURE_ROUTING_SAME)
                continue;
            excused[pos] = true;
            const int32_t *theirs = fixture_routing_topk(p, layer, pos);
            printf("  %s %s: layer %u position %u chose", model, p->name, layer,
                   pos);
            for (uint32_t i = 0; i < log->n_used; i++)
                printf(" %u", ours[i]);
            printf(", llama.cpp");
            for (uint32_t i = 0; i < log->n_used; i++)
                printf(" %d", theirs[i]);
            printf(" (margin %.2e, |dprob| %.2e)\n", log->margin[slot], dp);
            CHECK(match == FIXTURE_ROUTING_TIE,
                  "%s %s: layer %u position %u: routing differs from "
                  "llama.cpp by more than a near tie",
                  model, p->name, layer, pos);
        }
    }
    const uint32_t compared = counts[FIXTURE_ROUTING_SAME] +
                              counts[FIXTURE_ROUTING_TIE] +
                              counts[FIXTURE_ROUTING_DIFFERENT];
    printf("  %s %s routing: %u/%u choices equal, max |dprob| %.2e\n", model,
           p->name, counts[FIXTURE_ROUTING_SAME], compared, max_prob_diff);
    CHECK(compared > 0 || p->n_routing_layers == 0,
          "%s %s: no routing compared", model, p->name);
    /* Ties are rare; many of them would leave too little to compare. */
    uint32_t n_excused = 0;
    for (uint32_t pos = 0; pos < p->n_sequence; pos++)
        n_excused += excused[pos];
    CHECK(n_excused * 10 <= p->n_sequence,
          "%s %s: %u of %u positions have routing ties", model, p->name,
          n_excused, p->n_sequence);
}

static void check_prompt(const fixture_model *fm, ref *r,
                         const fixture_prompt *p, routing_log *log)
{
    const uint32_t V = fm->n_vocab;
    const size_t n_values = (size_t)p->n_sequence * V;
    float *whole = malloc(n_values * sizeof *whole);
    float *fed = malloc(n_values * sizeof *fed);
    bool *excused = calloc(p->n_sequence, sizeof *excused);
    if (!whole || !fed || !excused) {
        CHECK(false, "out of memory");
        free(whole);
        free(fed);
        free(excused);
        return;
    }
    static const struct {
        const char *name;
        uint32_t chunk;
    } modes[] = {{"whole", 0}, {"token", 1}, {"chunk5", 5}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        float *logits = m == 0 ? whole : fed;
        if (!eval_sequence(r, p, modes[m].chunk, V, logits))
            break;
        if (m == 0)
            compare_routing(fm->name, p, log, excused);
        fixture_result res =
            fixture_compare(fm, p, logits, 0, p->n_sequence, excused);
        char line[160];
        fixture_format_result(p, &res, line, sizeof line);
        printf("%-16s %s %-6s %s\n", fm->name, p->name, modes[m].name, line);
        CHECK(res.pass, "%s %s %s fails the fixture rule: %s", fm->name,
              p->name, modes[m].name, line);
        /* Tokens are processed one at a time whatever the feeding. */
        if (m > 0)
            CHECK(memcmp(whole, fed, n_values * sizeof *fed) == 0,
                  "%s %s: %s feeding changed the logits", fm->name, p->name,
                  modes[m].name);
    }
    free(whole);
    free(fed);
    free(excused);
}

static void check_model(const char *name)
{
    char err[512];
    fixture_model fm;
    if (!fixture_load(name, &fm, err, sizeof err)) {
        CHECK(false, "%s", err);
        return;
    }
    gguf_file *file = NULL;
    model *m = NULL;
    ref *r = NULL;
    routing_log log = {0};
    CHECK(gguf_open(fm.gguf_path, &file, err, sizeof err) == DSVK_OK, "%s",
          err);
    if (file)
        CHECK(model_load(file, &m, err, sizeof err) == DSVK_OK, "%s: %s", name,
              err);
    if (m) {
        CHECK(m->hp.n_vocab == fm.n_vocab, "%s: n_vocab %u, fixture %u", name,
              m->hp.n_vocab, fm.n_vocab);
        uint32_t n_ctx = 0;
        for (uint32_t i = 0; i < fm.n_prompts; i++)
            if (fm.prompts[i].n_sequence > n_ctx)
                n_ctx = fm.prompts[i].n_sequence;
        log.n_layer = m->hp.n_layer;
        log.n_ctx = n_ctx;
        log.n_used = m->hp.n_expert_used;
        log.n_expert = m->hp.n_expert;
        log.chosen = calloc((size_t)log.n_layer * n_ctx * log.n_used + 1,
                            sizeof *log.chosen);
        log.probs = calloc((size_t)log.n_layer * n_ctx * log.n_expert + 1,
                           sizeof *log.probs);
        log.margin =
            calloc((size_t)log.n_layer * n_ctx + 1, sizeof *log.margin);
        ref_desc desc = {
            .n_ctx = n_ctx, .on_routing = log_routing, .user = &log};
        CHECK(log.chosen && log.probs && log.margin, "out of memory");
        if (log.chosen && log.probs && log.margin)
            CHECK(ref_create(m, &desc, &r, err, sizeof err) == DSVK_OK,
                  "%s: %s", name, err);
    }
    if (r && m->hp.n_vocab == fm.n_vocab)
        for (uint32_t i = 0; i < fm.n_prompts; i++)
            check_prompt(&fm, r, &fm.prompts[i], &log);
    free(log.chosen);
    free(log.probs);
    free(log.margin);
    ref_destroy(r);
    model_free(m);
    gguf_close(file);
    fixture_free(&fm);
}

int main(void)
{
    fixture_name names[32];
    size_t n = fixture_list(names, 32);
    CHECK(n > 0 && n <= 32, "%zu model fixtures found under %s", n,
          test_fixture("models"));
    for (size_t i = 0; i < n && i < 32; i++)
        check_model(names[i].name);
    return test_finish("reference");
}
