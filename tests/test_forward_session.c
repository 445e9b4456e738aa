/* The forward session's API on the tiny-v2 fixture: which logits an
 * evaluation returns (all rows, the last, none), refusals that leave the
 * session untouched, a context the GPU cannot bind, a binding limit small
 * enough that weights are split and steps shortened, and GPU timings. Results
 * are compared with the CPU reference under the bound test_forward_generated.c
 * states (1e-3 of the logits' scale). */
#include "test_forward_support.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_TOKENS 24u
#define N_CTX 32u
#define RELATIVE_BOUND 1e-3

static uint32_t tokens[N_CTX]; /* the first N_TOKENS are compared */
static float *reference;       /* [N_TOKENS][n_vocab] */
static uint32_t n_vocab;

static double row_diff(const float *a, const float *b)
{
    return test_max_abs_diff(a, b, n_vocab);
}

static double bound(void)
{
    return RELATIVE_BOUND *
           fmax(1.0, fwd_max_abs(reference, (size_t)N_TOKENS * n_vocab));
}

/* LAST returns the final row, NONE only fills the cache, ALL every row;
 * rows agree with the reference whichever kernel (matvec for one row,
 * matmul for many) computed them. */
static void test_logit_rows(forward *f)
{
    float *all = malloc((size_t)N_TOKENS * n_vocab * sizeof *all);
    float *last = malloc(n_vocab * sizeof *last);
    if (!all || !last) {
        CHECK(false, "out of memory");
        free(all);
        free(last);
        return;
    }
    uint32_t greedy = UINT32_MAX;
    forward_reset(f);
    CHECK(forward_eval(f, tokens, N_TOKENS, FORWARD_LOGITS_LAST, last,
                       &greedy) == DSVK_OK,
          "%s", forward_error(f));
    const float *want = reference + (size_t)(N_TOKENS - 1) * n_vocab;
    double gap;
    CHECK(row_diff(last, want) <= bound(), "LAST row differs by %.3g",
          row_diff(last, want));
    CHECK(greedy == fwd_argmax(last, n_vocab, &gap), "greedy %u", greedy);

    forward_reset(f);
    CHECK(forward_eval(f, tokens, N_TOKENS - 1, FORWARD_LOGITS_NONE, NULL,
                       NULL) == DSVK_OK,
          "%s", forward_error(f));
    CHECK(forward_position(f) == N_TOKENS - 1, "position %u",
          forward_position(f));
    CHECK(forward_eval(f, tokens + N_TOKENS - 1, 1, FORWARD_LOGITS_LAST, last,
                       NULL) == DSVK_OK,
          "%s", forward_error(f));
    CHECK(row_diff(last, want) <= bound(), "row after NONE differs by %.3g",
          row_diff(last, want));

    CHECK(fwd_eval_gpu(f, n_vocab, tokens, N_TOKENS, 0, all, NULL), "ALL");
    double worst = 0.0;
    for (uint32_t t = 0; t < N_TOKENS; t++)
        worst = fmax(worst, row_diff(all + (size_t)t * n_vocab,
                                     reference + (size_t)t * n_vocab));
    printf("rows: LAST, NONE + LAST, ALL within %.2e of the reference "
           "(worst ALL row %.2e)\n",
           bound(), worst);
    CHECK(worst <= bound(), "ALL rows differ by %.3g", worst);
    free(all);
    free(last);
}

/* A bad token or a full context is refused before anything runs. */
static void test_refusals(forward *f)
{
    forward_reset(f);
    CHECK(forward_eval(f, tokens, 3, FORWARD_LOGITS_NONE, NULL, NULL) ==
              DSVK_OK,
          "%s", forward_error(f));
    const uint32_t bad[2] = {1, n_vocab};
    CHECK(forward_eval(f, bad, 2, FORWARD_LOGITS_NONE, NULL, NULL) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "token %u accepted", n_vocab);
    CHECK(strstr(forward_error(f), "vocabulary"), "error: %s",
          forward_error(f));
    CHECK(forward_eval(f, tokens, N_CTX - 2, FORWARD_LOGITS_NONE, NULL, NULL) ==
              DSVK_ERROR_CONTEXT_FULL,
          "%u tokens at position 3 fit a context of %u", N_CTX - 2, N_CTX);
    CHECK(strstr(forward_error(f), "context full"), "error: %s",
          forward_error(f));
    CHECK(forward_eval(f, tokens, 0, FORWARD_LOGITS_LAST, NULL, NULL) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "LAST of no tokens accepted");
    CHECK(forward_position(f) == 3, "position %u after refusals",
          forward_position(f));
    CHECK(forward_eval(f, tokens, N_CTX - 3, FORWARD_LOGITS_NONE, NULL, NULL) ==
              DSVK_OK,
          "filling the context: %s", forward_error(f));
    CHECK(forward_position(f) == N_CTX, "position %u", forward_position(f));
}

/* With a 32 KiB binding limit token_embd/output (128 KiB) and the expert
 * stacks (64 KiB) are split over several dispatches, and the logits of one
 * step (2 KiB per token) cap the batch below N_TOKENS, so one evaluation
 * runs as several steps. */
static void test_small_bindings(const gpu_weights *w)
{
    char err[512];
    forward *f = NULL;
    forward_desc desc = {.n_ctx = N_CTX, .max_binding_range = 32 << 10};
    CHECK(forward_create(w, &desc, &f, err, sizeof err) == DSVK_OK, "%s", err);
    if (!f)
        return;
    CHECK(forward_max_batch(f) < N_TOKENS && forward_max_batch(f) > 4,
          "max batch %u", forward_max_batch(f));
    float *all = malloc((size_t)N_TOKENS * n_vocab * sizeof *all);
    if (all && fwd_eval_gpu(f, n_vocab, tokens, N_TOKENS, 0, all, NULL)) {
        double d =
            test_max_abs_diff(all, reference, (size_t)N_TOKENS * n_vocab);
        printf("32 KiB bindings: batch %u, max |dlogit| %.2e\n",
               forward_max_batch(f), d);
        CHECK(d <= bound(), "split weights: logits differ by %.3g", d);
    }
    free(all);
    forward_destroy(f);

    /* One layer's latent cache for 4096 positions (256 KiB) exceeds it. */
    desc.n_ctx = 4096;
    CHECK(forward_create(w, &desc, &f, err, sizeof err) ==
              DSVK_ERROR_UNSUPPORTED,
          "a 256 KiB latent cache passed a 32 KiB binding limit");
    CHECK(!f && strstr(err, "latent cache"), "error: %s", err);
}

static void test_defaults_and_timings(const gpu_weights *w, rt_device *dev)
{
    char err[512];
    forward *f = NULL;
    forward_desc desc = {.timestamps = true};
    CHECK(forward_create(w, &desc, &f, err, sizeof err) == DSVK_OK, "%s", err);
    if (!f)
        return;
    /* tiny-v2's context_length is 256, under the default cap. */
    CHECK(forward_n_ctx(f) == 256, "default context %u", forward_n_ctx(f));
    CHECK(forward_max_batch(f) == FORWARD_DEFAULT_MAX_BATCH, "batch %u",
          forward_max_batch(f));
    CHECK(forward_eval(f, tokens, 2, FORWARD_LOGITS_NONE, NULL, NULL) ==
              DSVK_OK,
          "%s", forward_error(f));
    uint32_t count = 0;
    const rt_timing *t = forward_timings(f, &count);
    if (rt_device_caps(dev)->timestamps) {
        double total = 0.0;
        bool labelled = count > 0;
        for (uint32_t i = 0; i < count; i++) {
            total += t[i].microseconds;
            labelled = labelled && t[i].label && t[i].label[0];
        }
        printf("timings: %u dispatches, %.0f us on the GPU\n", count, total);
        CHECK(labelled, "%u timings, not all labelled", count);
    }
    forward_destroy(f);
}

int main(void)
{
    rt_device *dev = test_gpu_device();
    char err[512];
    fwd_model fm;
    dsvk_status status = fwd_open(dev, test_fixture("models/tiny-v2.gguf"),
                                  (forward_desc){.n_ctx = N_CTX}, NULL, NULL,
                                  &fm, err, sizeof err);
    CHECK(status == DSVK_OK, "%s", err);
    if (status == DSVK_OK) {
        n_vocab = fm.m->hp.n_vocab;
        test_rng rng = test_rng_seed(7);
        for (uint32_t i = 0; i < N_CTX; i++)
            tokens[i] = (uint32_t)test_rng_uniform(&rng, 0, (float)n_vocab);
        reference = malloc((size_t)N_TOKENS * n_vocab * sizeof *reference);
        if (reference && fwd_eval_ref(fm.r, tokens, N_TOKENS, reference)) {
            test_logit_rows(fm.f);
            test_refusals(fm.f);
            test_small_bindings(fm.weights);
            test_defaults_and_timings(fm.weights, dev);
        }
        free(reference);
    }
    fwd_close(&fm);
    return test_gpu_finish(dev, "forward_session");
}
