/* The GPU forward pass against llama.cpp on every model fixture whose
 * weight types the GPU decodes (tests/fixtures/models/README.md): for each
 * prompt, the prompt alone in one batch, then the prompt plus its recorded
 * greedy continuation fed whole, in chunks of 5, and as llama.cpp made it
 * (the prompt in one batch, then one token at a time); every row of logits
 * must pass the fixtures' rule (testlib_fixture.h). The first (shortest)
 * prompt is also fed token by token from its start: every token a decode
 * step. (Doing that for every prompt would triple the test's time on
 * lavapipe and repeat the same decode steps at more positions; the longest
 * prompt's continuation already decodes past YaRN's original context.) A model
 * the GPU cannot load (DSVK_ERROR_UNSUPPORTED) is reported and fails the
 * test: every fixture's weight types have GPU decoders.
 *
 * Router choices are compared with llama.cpp's dump; where they differ at
 * a near tie that position is left out, as in the reference's own test.
 * The GPU reports only its choices, so the tie is judged with the CPU
 * reference's probabilities and decision margin at that spot (the two
 * agree to ~1e-6, far below the ties' scale). */
#include "test_forward_support.h"
#include "testlib.h"
#include "testlib_fixture.h"
#include "testlib_gpu.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FIXTURES 32

/* How a mode feeds the sequence: `first` tokens in the first evaluation
 * (0: `chunk`), then `chunk` at a time (0: the rest at once). */
static const struct {
    const char *name;
    bool prompt_only;  /* the prompt's rows only */
    bool first_prompt; /* only for the first prompt */
    bool prompt_first; /* the prompt as one evaluation, then `chunk` */
    uint32_t chunk;
} modes[] = {{"prompt", true, false, false, 0},
             {"whole", false, false, false, 0},
             {"chunk5", false, false, false, 5},
             {"decode", false, false, true, 1},
             {"token", false, true, false, 1}};

/* Feeds sequence[0..n) from position 0 as described above into
 * logits[n][n_vocab] and greedy[n]. */
static bool feed(forward *f, uint32_t n_vocab, const uint32_t *sequence,
                 uint32_t n, uint32_t first, uint32_t chunk, float *logits,
                 uint32_t *greedy)
{
    forward_reset(f);
    for (uint32_t at = 0; at < n;) {
        uint32_t count = at == 0 && first ? first : chunk ? chunk : n;
        if (count > n - at)
            count = n - at;
        dsvk_status status =
            forward_eval(f, sequence + at, count, FORWARD_LOGITS_ALL,
                         logits + (size_t)at * n_vocab, greedy + at);
        CHECK(status == DSVK_OK, "forward_eval at %u: %s", at,
              forward_error(f));
        if (status != DSVK_OK)
            return false;
        at += count;
    }
    return true;
}

/* Marks positions whose routing differs from llama.cpp's at a near tie;
 * clearer differences fail. */
static void compare_routing(const char *label, const fixture_prompt *p,
                            uint32_t n_rows, const routing_log *gpu,
                            const routing_log *ref, bool *excused)
{
    for (uint32_t layer = 0; layer < gpu->n_layer; layer++)
        for (uint32_t pos = 0; pos < n_rows; pos++) {
            size_t slot = (size_t)layer * gpu->n_ctx + pos;
            if (!gpu->seen[slot])
                continue;
            double dp;
            fixture_routing_match match = fixture_check_routing(
                p, layer, pos, gpu->chosen + slot * gpu->n_used, gpu->n_used,
                ref->probs + slot * ref->n_expert, ref->n_expert,
                ref->margin[slot], &dp);
            if (match == FIXTURE_ROUTING_SAME ||
                match == FIXTURE_ROUTING_UNKNOWN)
                continue;
            excused[pos] = true;
            CHECK(match == FIXTURE_ROUTING_TIE,
                  "%s: layer %u position %u: routing differs from llama.cpp "
                  "by more than a near tie (margin %.3g, |dprob| %.3g)",
                  label, layer, pos, ref->margin[slot], dp);
        }
}

static void check_prompt(const fixture_model *fm, fwd_model *g,
                         const fixture_prompt *p, routing_log *gpu_log,
                         routing_log *ref_log)
{
    const uint32_t V = fm->n_vocab;
    float *logits = malloc((size_t)p->n_sequence * V * sizeof *logits);
    uint32_t *greedy = malloc(p->n_sequence * sizeof *greedy);
    bool *excused = malloc(p->n_sequence * sizeof *excused);
    /* The reference's routing (probabilities, margins) for the whole
     * sequence; its logits are not needed. */
    bool ok = logits && greedy && excused &&
              fwd_eval_ref(g->r, p->sequence, p->n_sequence, logits);
    CHECK(logits && greedy && excused, "out of memory");
    for (size_t m = 0; ok && m < sizeof modes / sizeof modes[0]; m++) {
        if (modes[m].first_prompt && p != &fm->prompts[0])
            continue;
        const uint32_t n = modes[m].prompt_only ? p->n_tokens : p->n_sequence;
        char label[96];
        snprintf(label, sizeof label, "%s %s %s", fm->name, p->name,
                 modes[m].name);
        memset(gpu_log->seen, 0,
               (size_t)gpu_log->n_layer * gpu_log->n_ctx *
                   sizeof *gpu_log->seen);
        memset(excused, 0, p->n_sequence * sizeof *excused);
        if (!feed(g->f, V, p->sequence, n,
                  modes[m].prompt_first ? p->n_tokens : 0, modes[m].chunk,
                  logits, greedy))
            break;
        compare_routing(label, p, n, gpu_log, ref_log, excused);
        fixture_result res = fixture_compare(fm, p, logits, 0, n, excused);
        char line[160];
        fixture_format_result(p, &res, line, sizeof line);
        printf("%-28s %s\n", label, line);
        CHECK(res.pass, "%s fails the fixture rule: %s", label, line);
        uint32_t wrong = 0;
        for (uint32_t t = 0; t < n; t++) {
            double gap;
            wrong += greedy[t] != fwd_argmax(logits + (size_t)t * V, V, &gap);
        }
        CHECK(wrong == 0,
              "%s: the GPU's argmax differs from its logits' in "
              "%u rows",
              label, wrong);
    }
    free(logits);
    free(greedy);
    free(excused);
}

/* Returns whether the model ran (false: skipped or failed). */
static bool check_model(rt_device *dev, const char *name)
{
    char err[512];
    fixture_model fm;
    if (!fixture_load(name, &fm, err, sizeof err)) {
        CHECK(false, "%s", err);
        return false;
    }
    uint32_t n_ctx = 0;
    for (uint32_t i = 0; i < fm.n_prompts; i++)
        if (fm.prompts[i].n_sequence > n_ctx)
            n_ctx = fm.prompts[i].n_sequence;
    fwd_model g;
    routing_log gpu_log = {0}, ref_log = {0};
    dsvk_status status =
        fwd_open(dev, fm.gguf_path, (forward_desc){.n_ctx = n_ctx}, &gpu_log,
                 &ref_log, &g, err, sizeof err);
    bool ran = false;
    if (status == DSVK_ERROR_UNSUPPORTED && !g.weights) {
        printf("%-16s skipped: %s\n", name, err);
    } else {
        CHECK(status == DSVK_OK, "%s: %s", name, err);
        ran = status == DSVK_OK;
        for (uint32_t i = 0; ran && i < fm.n_prompts; i++)
            check_prompt(&fm, &g, &fm.prompts[i], &gpu_log, &ref_log);
    }
    routing_log_free(&gpu_log);
    routing_log_free(&ref_log);
    fwd_close(&g);
    fixture_free(&fm);
    return ran;
}

int main(void)
{
    rt_device *dev = test_gpu_device();
    fixture_name names[MAX_FIXTURES];
    size_t n = fixture_list(names, MAX_FIXTURES);
    CHECK(n > 0 && n <= MAX_FIXTURES, "%zu model fixtures", n);
    uint32_t ran = 0;
    for (size_t i = 0; i < n && i < MAX_FIXTURES; i++)
        ran += check_model(dev, names[i].name);
    /* The GPU decodes every weight type the fixtures use (F32, F16, Q8_0,
     * Q4_0, Q4_K, Q5_K, Q5_0, Q6_K): all of them must run. */
    CHECK(ran == n, "only %u of %zu fixtures ran on the GPU", ran, n);
    return test_gpu_finish(dev, "forward_fixtures");
}
