#include "sampler.h"

#include "sampler_select.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Top-p without top-k puts candidates in TOP_P_BUCKETS buckets by the
 * exponent of their weight, from 0 down to -TOP_P_DEPTH (weights below
 * e^-20 all share the last bucket), so that it sorts one bucket instead
 * of the vocabulary. */
#define TOP_P_BUCKETS 256
#define TOP_P_DEPTH 20.0f

struct sampler {
    sampler_settings settings;
    uint64_t rng[4]; /* xoshiro256** state */

    int32_t *window; /* ring of the last repeat_last_n tokens */
    uint32_t window_count;
    uint32_t window_next;
    int32_t *distinct; /* scratch: the window's tokens, sorted */

    float *logits; /* [capacity] penalised logits of the current step */
    sampler_candidate *candidates; /* [capacity] */
    size_t capacity;

    char error[160];
};

sampler_settings sampler_default_settings(void)
{
    return (sampler_settings){
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .presence_penalty = 0.0f,
        .frequency_penalty = 0.0f,
        .repeat_last_n = 64,
        .seed = 0,
    };
}

static bool penalties_on(const sampler_settings *s)
{
    return s->repeat_last_n > 0 &&
           (s->repeat_penalty != 1.0f || s->presence_penalty != 0.0f ||
            s->frequency_penalty != 0.0f);
}

/* top-k 1 keeps only the best token: the same choice as greedy. */
static bool is_greedy(const sampler_settings *s)
{
    return s->temperature <= 0.0f || s->top_k == 1;
}

bool sampler_needs_logits(const sampler_settings *settings)
{
    return !is_greedy(settings) || penalties_on(settings);
}

/* splitmix64, the seeding function xoshiro's authors recommend: it spreads
 * any seed, including 0, over the whole state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro256ss(uint64_t s[4])
{
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) from the top 53 bits. */
static double uniform(sampler *s)
{
    return (double)(xoshiro256ss(s->rng) >> 11) * 0x1.0p-53;
}

static void set_error(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, err_size, fmt, args);
    va_end(args);
}

static bool check_settings(const sampler_settings *s, char *err,
                           size_t err_size)
{
    const char *bad = NULL;
    /* Written so that NaN fails every test. */
    if (!(s->temperature == s->temperature) || isinf(s->temperature))
        bad = "temperature must be a finite number";
    else if (!(s->top_p > 0.0f && s->top_p <= 1.0f))
        bad = "top-p must be in (0, 1]";
    else if (!(s->min_p >= 0.0f && s->min_p <= 1.0f))
        bad = "min-p must be in [0, 1]";
    else if (!(s->repeat_penalty > 0.0f) || isinf(s->repeat_penalty))
        bad = "repeat penalty must be a finite number above 0";
    else if (!(s->presence_penalty == s->presence_penalty) ||
             isinf(s->presence_penalty))
        bad = "presence penalty must be a finite number";
    else if (!(s->frequency_penalty == s->frequency_penalty) ||
             isinf(s->frequency_penalty))
        bad = "frequency penalty must be a finite number";
    if (bad)
        set_error(err, err_size, "sampler settings: %s", bad);
    return bad == NULL;
}

dsvk_status sampler_create(const sampler_settings *settings, sampler **out,
                           char *err, size_t err_size)
{
    *out = NULL;
    if (!check_settings(settings, err, err_size))
        return DSVK_ERROR_INVALID_ARGUMENT;
    sampler *s = calloc(1, sizeof *s);
    uint32_t n = settings->repeat_last_n;
    if (s && n > 0) {
        s->window = malloc(n * sizeof *s->window);
        s->distinct = malloc(n * sizeof *s->distinct);
    }
    if (!s || (n > 0 && (!s->window || !s->distinct))) {
        sampler_free(s);
        set_error(err, err_size, "out of memory creating a sampler");
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    s->settings = *settings;
    uint64_t seed = settings->seed;
    for (int i = 0; i < 4; i++)
        s->rng[i] = splitmix64(&seed);
    *out = s;
    return DSVK_OK;
}

void sampler_free(sampler *s)
{
    if (!s)
        return;
    free(s->window);
    free(s->distinct);
    free(s->logits);
    free(s->candidates);
    free(s);
}

void sampler_accept(sampler *s, int32_t token)
{
    uint32_t n = s->settings.repeat_last_n;
    if (n == 0)
        return;
    s->window[s->window_next] = token;
    s->window_next = (s->window_next + 1) % n;
    if (s->window_count < n)
        s->window_count++;
}

const char *sampler_error(const sampler *s)
{
    return s->error;
}

static bool reserve(sampler *s, size_t n)
{
    if (n <= s->capacity)
        return true;
    float *logits = realloc(s->logits, n * sizeof *logits);
    if (logits)
        s->logits = logits;
    sampler_candidate *c = realloc(s->candidates, n * sizeof *c);
    if (c)
        s->candidates = c;
    if (!logits || !c)
        return false;
    s->capacity = n;
    return true;
}

static int compare_ids(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Penalises each distinct token of the window as llama.cpp does: the
 * repeat and presence penalties once, however often it occurs, the
 * frequency penalty once per occurrence. Sorting the window puts each
 * token's occurrences side by side, which counts them. */
static void apply_penalties(sampler *s, uint32_t n_vocab)
{
    const sampler_settings *st = &s->settings;
    size_t n = s->window_count;
    for (size_t i = 0; i < n; i++)
        s->distinct[i] = s->window[i];
    qsort(s->distinct, n, sizeof *s->distinct, compare_ids);
    for (size_t i = 0; i < n;) {
        const int32_t t = s->distinct[i];
        size_t count = 1;
        while (i + count < n && s->distinct[i + count] == t)
            count++;
        i += count;
        if (t < 0 || (uint32_t)t >= n_vocab)
            continue;
        float l = s->logits[t];
        l = l > 0.0f ? l / st->repeat_penalty : l * st->repeat_penalty;
        s->logits[t] =
            l - (float)count * st->frequency_penalty - st->presence_penalty;
    }
}

/* Copies the logits, NaN as -inf (never chosen) and +inf as FLT_MAX (so
 * that softmax subtracts finite numbers), and applies the penalties. */
static void prepare_logits(sampler *s, const float *logits, uint32_t n_vocab)
{
    for (uint32_t i = 0; i < n_vocab; i++) {
        float l = logits[i];
        s->logits[i] = isnan(l) ? -INFINITY : l > FLT_MAX ? FLT_MAX : l;
    }
    if (penalties_on(&s->settings))
        apply_penalties(s, n_vocab);
}

/* The first index of the largest logit; -1 when every logit is -inf. */
static int32_t argmax(const float *logits, uint32_t n_vocab)
{
    int32_t best = -1;
    float best_logit = -INFINITY;
    for (uint32_t i = 0; i < n_vocab; i++) {
        if (logits[i] > best_logit) {
            best_logit = logits[i];
            best = (int32_t)i;
        }
    }
    return best;
}

/* The sorted-walk form of top-p: the prefix of a best-first array c whose
 * weight first reaches target. */
static size_t top_p_walk(const sampler_candidate *c, size_t n, double sum,
                         double target)
{
    for (size_t i = 0; i < n; i++) {
        sum += c[i].weight;
        if (sum >= target)
            return i + 1;
    }
    return n; /* rounding: the whole set falls just short */
}

/* Bucket of a candidate by its scaled logit (logit - max) / temperature,
 * the exponent of its weight: monotonic, best first. */
static size_t top_p_bucket(const sampler_candidate *c, float max,
                           float temperature)
{
    float depth =
        (max - c->logit) / temperature * (TOP_P_BUCKETS / TOP_P_DEPTH);
    return depth < TOP_P_BUCKETS - 1 ? (size_t)depth : TOP_P_BUCKETS - 1;
}

/* Moves the candidates of buckets [first, last] to the front of c, by
 * swaps so that none is lost; returns how many. */
static size_t gather_buckets(sampler_candidate *c, size_t n, size_t first,
                             size_t last, float max, float temperature)
{
    size_t moved = 0;
    for (size_t i = 0; i < n; i++) {
        size_t b = top_p_bucket(&c[i], max, temperature);
        if (b >= first && b <= last) {
            sampler_candidate t = c[moved];
            c[moved++] = c[i];
            c[i] = t;
        }
    }
    return moved;
}

/* Keeps the shortest best-first prefix whose weight reaches top_p of
 * `total` (every candidate after top-k, before min-p) and returns its
 * length. Unsorted candidates are not sorted whole: a histogram of their
 * weight by bucket finds the bucket where the prefix ends; the buckets
 * above it are kept as they are and only that bucket is sorted. */
static size_t top_p_prefix(sampler_candidate *c, size_t n, bool sorted,
                           double total, float top_p, float max,
                           float temperature)
{
    const double target = top_p * total;
    if (sorted)
        return top_p_walk(c, n, 0.0, target);

    double mass[TOP_P_BUCKETS] = {0};
    for (size_t i = 0; i < n; i++)
        mass[top_p_bucket(&c[i], max, temperature)] += c[i].weight;
    double above = 0.0;
    size_t edge = 0;
    while (edge < TOP_P_BUCKETS - 1 && above + mass[edge] < target)
        above += mass[edge++];

    size_t head =
        edge ? gather_buckets(c, n, 0, edge - 1, max, temperature) : 0;
    size_t m = gather_buckets(c + head, n - head, edge, edge, max, temperature);
    sampler_select_best(c + head, m, m);
    return head + top_p_walk(c + head, m, above, target);
}

/* Everything after the greedy branch: top-k, softmax, top-p, min-p, draw. */
static int32_t draw(sampler *s, uint32_t n_vocab)
{
    const sampler_settings *st = &s->settings;
    sampler_candidate *c = s->candidates;
    size_t n = 0;
    for (uint32_t i = 0; i < n_vocab; i++)
        if (s->logits[i] > -INFINITY)
            c[n++] =
                (sampler_candidate){.logit = s->logits[i], .id = (int32_t)i};
    if (n == 0)
        return -1;

    bool sorted = false;
    if (st->top_k > 0 && st->top_k < n) {
        sampler_select_best(c, n, st->top_k);
        n = st->top_k;
        sorted = true;
    }

    float max = c[0].logit;
    for (size_t i = 1; i < n; i++)
        max = c[i].logit > max ? c[i].logit : max;
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        c[i].weight = expf((c[i].logit - max) / st->temperature);
        total += c[i].weight;
    }

    /* min-p keeps p >= min_p * p_max, i.e. weight >= min_p since the best
     * weight is 1. Top-p and min-p each keep a best-first prefix, so
     * applying min-p first (in place, order kept) leaves the same set as
     * the specified order while top-p then orders far fewer candidates;
     * top-p still measures against the total before min-p. */
    if (st->min_p > 0.0f) {
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].weight >= st->min_p)
                c[kept++] = c[i];
        n = kept;
    }
    if (st->top_p < 1.0f)
        n = top_p_prefix(c, n, sorted, total, st->top_p, max, st->temperature);

    double kept_total = 0.0;
    for (size_t i = 0; i < n; i++)
        kept_total += c[i].weight;
    const double target = uniform(s) * kept_total;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += c[i].weight;
        if (target < sum)
            return c[i].id;
    }
    return c[n - 1].id; /* rounding left target at the very top */
}

dsvk_status sampler_sample(sampler *s, const float *logits, uint32_t n_vocab,
                           int32_t *token)
{
    s->error[0] = '\0';
    *token = -1;
    if (n_vocab == 0 || n_vocab > INT32_MAX) {
        set_error(s->error, sizeof s->error, "cannot sample from %u logits",
                  n_vocab);
        return DSVK_ERROR_INVALID_ARGUMENT;
    }
    if (!reserve(s, n_vocab)) {
        set_error(s->error, sizeof s->error,
                  "out of memory sampling from %u logits", n_vocab);
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    prepare_logits(s, logits, n_vocab);
    int32_t t =
        is_greedy(&s->settings) ? argmax(s->logits, n_vocab) : draw(s, n_vocab);
    if (t < 0) {
        set_error(s->error, sizeof s->error,
                  "no token can be sampled: every logit is -inf or NaN");
        return DSVK_ERROR_INVALID_ARGUMENT;
    }
    sampler_accept(s, t);
    *token = t;
    return DSVK_OK;
}
