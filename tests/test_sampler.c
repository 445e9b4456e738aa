/* The sampler: reproducible draws, truncation that never leaks excluded
 * tokens (checked against a plain full-sort reference), the greedy limit,
 * penalties, and hostile logits. */
#include "testlib.h"
#include "text/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define V3_VOCAB 129280

static sampler *make(const sampler_settings *st)
{
    sampler *s = NULL;
    char err[160] = "";
    dsvk_status status = sampler_create(st, &s, err, sizeof err);
    CHECK(status == DSVK_OK, "sampler_create: %s", err);
    return s;
}

static int32_t sample(sampler *s, const float *logits, uint32_t n)
{
    int32_t token = -1;
    dsvk_status status = sampler_sample(s, logits, n, &token);
    CHECK(status == DSVK_OK, "sampler_sample: %s", sampler_error(s));
    return token;
}

static sampler_settings plain(float temperature)
{
    sampler_settings st = sampler_default_settings();
    st.temperature = temperature;
    st.top_k = 0;
    st.top_p = 1.0f;
    st.min_p = 0.0f;
    return st;
}

static void test_reproducible(void)
{
    enum { N = 1000, DRAWS = 200 };
    static float logits[N];
    test_rng rng = test_rng_seed(1);
    test_rng_fill(&rng, logits, N, -2.0f, 2.0f);
    sampler_settings st = plain(1.0f);
    st.seed = 42;
    sampler *a = make(&st), *b = make(&st);
    st.seed = 43;
    sampler *c = make(&st);
    int same = 0, differ = 0;
    for (int i = 0; i < DRAWS; i++) {
        int32_t ta = sample(a, logits, N), tb = sample(b, logits, N);
        same += ta == tb;
        differ += ta != sample(c, logits, N);
    }
    CHECK(same == DRAWS, "same seed gave %d equal draws of %d", same, DRAWS);
    /* On 1000 near-uniform tokens two streams rarely agree. */
    CHECK(differ > DRAWS * 9 / 10, "seeds 42 and 43 differ in %d of %d draws",
          differ, DRAWS);
    sampler_free(a);
    sampler_free(b);
    sampler_free(c);
}

/* The reference: every finite token sorted best first, truncated exactly
 * in the specified order (top-k, softmax at temperature, top-p, min-p),
 * in double precision. Thresholds are loosened by 1e-4 so that a token
 * the sampler's float arithmetic keeps at the very edge is not a false
 * failure; every token outside this set must never be drawn. */
typedef struct ranked {
    double logit;
    int32_t id;
} ranked;

static int best_first(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->logit != y->logit)
        return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static size_t reference_allowed(const float *logits, uint32_t n,
                                const sampler_settings *st, bool *allowed)
{
    ranked *r = malloc(n * sizeof *r);
    size_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        allowed[i] = false;
        if (!isnan(logits[i]) && logits[i] > -INFINITY)
            r[count++] = (ranked){logits[i], (int32_t)i};
    }
    qsort(r, count, sizeof *r, best_first);
    if (st->top_k > 0 && st->top_k < count)
        count = st->top_k;
    double z = 0.0;
    for (size_t i = 0; i < count; i++)
        z += exp((r[i].logit - r[0].logit) / st->temperature);
    double cumulative = 0.0;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        double p = exp((r[i].logit - r[0].logit) / st->temperature) / z;
        double p_max = 1.0 / z;
        if (p < st->min_p * p_max * (1.0 - 1e-4))
            break;
        allowed[r[i].id] = true;
        kept++;
        cumulative += p;
        if (st->top_p < 1.0f && cumulative >= st->top_p + 1e-4)
            break;
    }
    free(r);
    return kept;
}

static void check_truncation(test_rng *rng, uint32_t n,
                             const sampler_settings *st, int draws,
                             int *nonvacuous)
{
    float *logits = malloc(n * sizeof *logits);
    bool *allowed = malloc(n * sizeof *allowed);
    test_rng_fill(rng, logits, n, -4.0f, 4.0f);
    /* Sprinkle impossible tokens. */
    for (uint32_t i = 0; i < n / 16; i++)
        logits[(uint32_t)test_rng_uniform(rng, 0, (float)n) % n] =
            i % 2 ? NAN : -INFINITY;
    size_t kept = reference_allowed(logits, n, st, allowed);
    size_t finite = 0;
    for (uint32_t i = 0; i < n; i++)
        finite += !isnan(logits[i]) && logits[i] > -INFINITY;
    *nonvacuous += kept < finite;

    sampler *s = make(st);
    for (int d = 0; d < draws && s; d++) {
        int32_t t = sample(s, logits, n);
        CHECK(t >= 0 && (uint32_t)t < n && allowed[t],
              "n %u top_k %u top_p %g min_p %g T %g: drew excluded token %d "
              "(reference keeps %zu)",
              n, st->top_k, st->top_p, st->min_p, st->temperature, (int)t,
              kept);
    }
    sampler_free(s);
    free(logits);
    free(allowed);
}

static void test_truncation_property(void)
{
    static const struct {
        uint32_t top_k;
        float top_p, min_p, temperature;
    } cases[] = {
        {5, 1.0f, 0.0f, 1.0f}, {40, 0.9f, 0.0f, 0.7f}, {0, 0.5f, 0.0f, 1.0f},
        {0, 1.0f, 0.3f, 1.0f}, {0, 0.8f, 0.1f, 2.0f},  {40, 0.95f, 0.05f, 0.8f},
        {3, 0.3f, 0.0f, 1.5f}, {0, 0.99f, 0.0f, 3.0f},
    };
    test_rng rng = test_rng_seed(7);
    int runs = 0, nonvacuous = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sampler_settings st = plain(cases[c].temperature);
        st.top_k = cases[c].top_k;
        st.top_p = cases[c].top_p;
        st.min_p = cases[c].min_p;
        for (int v = 0; v < 25; v++, runs++) {
            st.seed = (uint64_t)(c * 100 + v);
            uint32_t n = 1 + (uint32_t)test_rng_uniform(&rng, 0.0f, 400.0f);
            check_truncation(&rng, n, &st, 40, &nonvacuous);
        }
    }
    /* The property means something only if tokens were excluded. */
    CHECK(nonvacuous > runs / 2, "only %d of %d runs excluded any token",
          nonvacuous, runs);

    /* A real vocabulary with top-p alone: a flat distribution makes the
     * sampler order most of it slice by slice. */
    sampler_settings st = plain(1.0f);
    st.top_p = 0.95f;
    check_truncation(&rng, V3_VOCAB, &st, 20, &nonvacuous);
    st.top_p = 0.5f;
    st.temperature = 0.2f;
    check_truncation(&rng, V3_VOCAB, &st, 20, &nonvacuous);
}

/* Frequencies follow the renormalised softmax of what truncation keeps:
 * catches truncation that keeps too little, which the property test
 * above cannot see. Logits are ln(weight). */
static void test_distribution(void)
{
    static const struct {
        const char *what;
        uint32_t top_k;
        float top_p, min_p, temperature;
        float weights[4];
        double expected[4];
    } cases[] = {
        {"plain",
         0,
         1.0f,
         0.0f,
         1.0f,
         {1, 2, 3, 0},
         {1 / 6., 2 / 6., 3 / 6., 0}},
        /* 0.4 + 0.3 reaches 0.65 */
        {"top-p", 0, 0.65f, 0.0f, 1.0f, {1, 2, 3, 4}, {0, 0, 3 / 7., 4 / 7.}},
        {"top-k",
         3,
         1.0f,
         0.0f,
         1.0f,
         {1, 2, 3, 4},
         {0, 2 / 9., 3 / 9., 4 / 9.}},
        /* p >= 0.5 * 0.4 */
        {"min-p",
         0,
         1.0f,
         0.5f,
         1.0f,
         {1, 2, 3, 4},
         {0, 2 / 9., 3 / 9., 4 / 9.}},
        /* temperature 2 takes square roots: weights 1 and 2 */
        {"temperature",
         0,
         1.0f,
         0.0f,
         2.0f,
         {1, 4, 0, 0},
         {1 / 3., 2 / 3., 0, 0}},
    };
    enum { DRAWS = 30000 };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float logits[4];
        for (int i = 0; i < 4; i++)
            logits[i] =
                cases[c].weights[i] > 0 ? logf(cases[c].weights[i]) : -INFINITY;
        sampler_settings st = plain(cases[c].temperature);
        st.top_k = cases[c].top_k;
        st.top_p = cases[c].top_p;
        st.min_p = cases[c].min_p;
        st.seed = 5 + c;
        sampler *s = make(&st);
        int counts[4] = {0};
        for (int d = 0; d < DRAWS && s; d++) {
            int32_t t = sample(s, logits, 4);
            if (t >= 0 && t < 4)
                counts[t]++;
        }
        for (int i = 0; i < 4; i++) {
            double got = (double)counts[i] / DRAWS;
            /* The binomial standard deviation is at most 0.003 here. */
            CHECK(fabs(got - cases[c].expected[i]) < 0.015,
                  "%s: token %d drawn with frequency %.4f, expected %.4f",
                  cases[c].what, i, got, cases[c].expected[i]);
        }
        sampler_free(s);
    }
}

static void test_greedy_limit(void)
{
    enum { N = 5000 };
    static float logits[N];
    test_rng rng = test_rng_seed(11);
    sampler_settings greedy = plain(0.0f), cold = plain(1e-6f);
    sampler *g = make(&greedy), *c = make(&cold);
    for (int v = 0; v < 20 && g && c; v++) {
        test_rng_fill(&rng, logits, N, -3.0f, 3.0f);
        int32_t best = 0;
        for (int32_t i = 1; i < N; i++)
            best = logits[i] > logits[best] ? i : best;
        CHECK(sample(g, logits, N) == best, "greedy is not the argmax");
        CHECK(sample(c, logits, N) == best,
              "temperature 1e-6 did not pick the argmax");
    }
    sampler_free(g);
    sampler_free(c);

    sampler_settings st = plain(0.0f);
    CHECK(!sampler_needs_logits(&st), "greedy needs no logits");
    st = plain(0.7f);
    st.top_k = 1;
    CHECK(!sampler_needs_logits(&st), "top-k 1 is greedy");
    st = plain(0.7f);
    CHECK(sampler_needs_logits(&st), "temperature 0.7 needs logits");
    st = plain(0.0f);
    st.repeat_penalty = 1.1f;
    CHECK(sampler_needs_logits(&st), "a repeat penalty needs logits");
    st = plain(0.0f);
    st.presence_penalty = 0.5f;
    CHECK(sampler_needs_logits(&st), "a presence penalty needs logits");
    st.repeat_last_n = 0;
    CHECK(!sampler_needs_logits(&st), "an empty window means no penalty");
    st = sampler_default_settings();
    CHECK(sampler_needs_logits(&st), "the defaults sample");
}

/* Greedy choice after penalties, with the window holding `history`. */
static int32_t penalised(const float *logits, uint32_t n, float repeat,
                         float presence, uint32_t last_n,
                         const int32_t *history, size_t n_history)
{
    sampler_settings st = plain(0.0f);
    st.repeat_penalty = repeat;
    st.presence_penalty = presence;
    st.repeat_last_n = last_n;
    sampler *s = make(&st);
    if (!s)
        return -1;
    for (size_t i = 0; i < n_history; i++)
        sampler_accept(s, history[i]);
    int32_t t = sample(s, logits, n);
    sampler_free(s);
    return t;
}

static void test_penalties(void)
{
    const int32_t zero[] = {0}, zeros[] = {0, 0, 0}, old[] = {0, 5, 6};
    const float pos[] = {2.0f, 1.9f}, pos_far[] = {2.0f, 1.7f};
    const float neg[] = {-1.0f, -1.05f};
    const float close[] = {1.0f, 0.8f}, far[] = {1.0f, 0.6f};

    CHECK(penalised(pos, 2, 1.1f, 0.0f, 64, NULL, 0) == 0, "no history");
    /* 2.0 / 1.1 = 1.82 < 1.9 */
    CHECK(penalised(pos, 2, 1.1f, 0.0f, 64, zero, 1) == 1,
          "a positive logit is divided by the penalty");
    /* -1.0 * 1.1 = -1.1 < -1.05 */
    CHECK(penalised(neg, 2, 1.1f, 0.0f, 64, zero, 1) == 1,
          "a negative logit is multiplied by the penalty");
    /* Once: 1.82 > 1.7; three times would give 1.50. */
    CHECK(penalised(pos_far, 2, 1.1f, 0.0f, 64, zeros, 3) == 0,
          "a repeated token is penalised once");
    /* 1.0 - 0.3 = 0.7 < 0.8 */
    CHECK(penalised(close, 2, 1.0f, 0.3f, 64, zero, 1) == 1,
          "presence penalty subtracts");
    /* Once: 0.7 > 0.6; three times would give 0.1. */
    CHECK(penalised(far, 2, 1.0f, 0.3f, 64, zeros, 3) == 0,
          "presence penalty applies once per token");
    /* Window of 2 holds 5 and 6 only. */
    CHECK(penalised(pos, 2, 1.1f, 0.0f, 2, old, 3) == 0,
          "a token older than the window is not penalised");
    CHECK(penalised(pos, 2, 1.1f, 0.0f, 3, old, 3) == 1,
          "a token inside the window is penalised");

    /* Frequency penalty: 0.15 per occurrence, with a presence penalty of
     * 0.05 on top. Once: 1.0 - 0.2 = 0.8 > 0.6; three times: 1.0 - 0.5 =
     * 0.5 < 0.6. */
    sampler_settings fq = plain(0.0f);
    fq.frequency_penalty = 0.15f;
    fq.presence_penalty = 0.05f;
    CHECK(sampler_needs_logits(&fq), "a frequency penalty needs logits");
    for (int times = 1; times <= 3; times += 2) {
        sampler *s = make(&fq);
        if (!s)
            continue;
        for (int i = 0; i < times; i++)
            sampler_accept(s, 0);
        CHECK(sample(s, far, 2) == (times == 1 ? 0 : 1),
              "frequency penalty counts occurrences");
        sampler_free(s);
    }
    fq.frequency_penalty = NAN;
    sampler *bad = NULL;
    char err[160];
    CHECK(sampler_create(&fq, &bad, err, sizeof err) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              strstr(err, "frequency"),
          "a NaN frequency penalty is refused");

    /* Sampling records its own choice: the second draw avoids the first. */
    sampler_settings st = plain(0.0f);
    st.repeat_penalty = 1.1f;
    sampler *s = make(&st);
    if (s) {
        CHECK(sample(s, pos, 2) == 0, "first greedy draw");
        CHECK(sample(s, pos, 2) == 1, "the drawn token joins the window");
    }
    sampler_free(s);
}

static void test_edge_cases(void)
{
    const float inf = INFINITY, nan = NAN;
    const float one_finite[] = {-inf, -inf, 0.5f, -inf};
    const float with_nan[] = {nan, 1.0f, nan, 0.0f};
    const float all_bad[] = {nan, -inf, nan};
    const float plus_inf[] = {1.0f, inf, 3.0f};
    const float single[] = {-7.0f};
    sampler_settings hot = plain(1.0f), greedy = plain(0.0f);
    sampler_settings defaults = sampler_default_settings();
    const sampler_settings *all[] = {&hot, &greedy, &defaults};

    for (size_t i = 0; i < 3; i++) {
        sampler *s = make(all[i]);
        if (!s)
            continue;
        for (int d = 0; d < 50; d++) {
            CHECK(sample(s, one_finite, 4) == 2, "the only finite logit");
            int32_t t = sample(s, with_nan, 4);
            CHECK(t == 1 || t == 3, "NaN drawn: %d", (int)t);
            CHECK(sample(s, plus_inf, 3) == 1, "+inf wins");
            CHECK(sample(s, single, 1) == 0, "a vocabulary of one");
        }
        int32_t t = 5;
        CHECK(sampler_sample(s, all_bad, 3, &t) ==
                      DSVK_ERROR_INVALID_ARGUMENT &&
                  t == -1 && sampler_error(s)[0] != '\0',
              "all -inf/NaN must fail");
        CHECK(sampler_sample(s, single, 0, &t) == DSVK_ERROR_INVALID_ARGUMENT,
              "an empty vocabulary must fail");
        CHECK(sample(s, single, 1) == 0 && sampler_error(s)[0] == '\0',
              "a success clears the error");
        sampler_free(s);
    }

    const struct {
        const char *what;
        float temperature, top_p, min_p, repeat_penalty;
    } bad[] = {
        {"NaN temperature", NAN, 1.0f, 0.0f, 1.0f},
        {"top-p 0", 1.0f, 0.0f, 0.0f, 1.0f},
        {"top-p above 1", 1.0f, 1.5f, 0.0f, 1.0f},
        {"min-p above 1", 1.0f, 1.0f, 2.0f, 1.0f},
        {"repeat penalty 0", 1.0f, 1.0f, 0.0f, 0.0f},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sampler_settings st = plain(bad[i].temperature);
        st.top_p = bad[i].top_p;
        st.min_p = bad[i].min_p;
        st.repeat_penalty = bad[i].repeat_penalty;
        sampler *s = (sampler *)1;
        char err[160] = "";
        CHECK(sampler_create(&st, &s, err, sizeof err) ==
                      DSVK_ERROR_INVALID_ARGUMENT &&
                  !s && strstr(err, "sampler settings"),
              "%s accepted", bad[i].what);
    }
}

int main(void)
{
    test_reproducible();
    test_truncation_property();
    test_distribution();
    test_greedy_limit();
    test_penalties();
    test_edge_cases();
    return test_finish("test_sampler");
}
