/* Loads the model fixtures' *.ref.json (layout in
 * tests/fixtures/models/README.md) and implements its passing rule. */
#include "testlib_fixture.h"

#include "testlib.h"

#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char REF_SUFFIX[] = ".ref.json";

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const fixture_name *)a)->name,
                  ((const fixture_name *)b)->name);
}

size_t fixture_list(fixture_name *names, size_t max)
{
    DIR *dir = opendir(test_fixture("models"));
    if (!dir)
        return 0;
    size_t count = 0;
    const size_t suffix_len = strlen(REF_SUFFIX);
    for (struct dirent *e; (e = readdir(dir));) {
        size_t len = strlen(e->d_name);
        if (len <= suffix_len || len - suffix_len >= sizeof names->name ||
            strcmp(e->d_name + len - suffix_len, REF_SUFFIX) != 0)
            continue;
        if (count < max) {
            memcpy(names[count].name, e->d_name, len - suffix_len);
            names[count].name[len - suffix_len] = 0;
        }
        count++;
    }
    closedir(dir);
    qsort(names, count < max ? count : max, sizeof *names, compare_names);
    return count;
}

/* Error reporting for the loader: the first error wins. */
typedef struct loader {
    char *err;
    size_t err_size;
    bool failed;
} loader;

static void fail(loader *ld, const char *fmt, ...)
{
    if (ld->failed)
        return;
    ld->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->err_size, fmt, ap);
    va_end(ap);
}

static const cJSON *member(loader *ld, const cJSON *obj, const char *key,
                           const char *where)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item)
        fail(ld, "%s: missing '%s'", where, key);
    return item;
}

static double number(loader *ld, const cJSON *item, const char *where)
{
    if (!cJSON_IsNumber(item)) {
        fail(ld, "%s: expected a number", where);
        return 0;
    }
    return item->valuedouble;
}

/* A JSON array of non-negative integers below `limit` into out[n]. */
static bool read_ids(loader *ld, const cJSON *arr, uint32_t n, uint32_t limit,
                     uint32_t *out, const char *where)
{
    if (!cJSON_IsArray(arr) || (uint32_t)cJSON_GetArraySize(arr) != n) {
        fail(ld, "%s: expected an array of %u ids", where, n);
        return false;
    }
    uint32_t i = 0;
    for (const cJSON *v = arr->child; v; v = v->next, i++) {
        double x = number(ld, v, where);
        if (ld->failed || x < 0 || x >= limit || x != floor(x)) {
            fail(ld, "%s: id %g out of range [0, %u)", where, x, limit);
            return false;
        }
        out[i] = (uint32_t)x;
    }
    return true;
}

/* A JSON array of n rows of `cols` numbers into out[n][cols]. */
static bool read_rows(loader *ld, const cJSON *arr, uint32_t n, uint32_t cols,
                      float *out, const char *where)
{
    if (!cJSON_IsArray(arr) || (uint32_t)cJSON_GetArraySize(arr) != n) {
        fail(ld, "%s: expected %u rows", where, n);
        return false;
    }
    for (const cJSON *row = arr->child; row; row = row->next) {
        if (!cJSON_IsArray(row) || (uint32_t)cJSON_GetArraySize(row) != cols) {
            fail(ld, "%s: expected rows of %u values", where, cols);
            return false;
        }
        for (const cJSON *v = row->child; v; v = v->next)
            *out++ = (float)number(ld, v, where);
    }
    return !ld->failed;
}

static uint32_t array_size(const cJSON *arr)
{
    return cJSON_IsArray(arr) ? (uint32_t)cJSON_GetArraySize(arr) : 0;
}

/* Block indices that have "ffn_moe_topk-L" in the first routing call. */
static bool read_routing_layers(loader *ld, const cJSON *call,
                                fixture_prompt *p)
{
    uint32_t n = 0;
    for (const cJSON *kv = call ? call->child : NULL; kv; kv = kv->next)
        n += strncmp(kv->string, "ffn_moe_topk-", 13) == 0;
    p->routing_layers = calloc(n ? n : 1, sizeof *p->routing_layers);
    if (!p->routing_layers) {
        fail(ld, "out of memory");
        return false;
    }
    for (const cJSON *kv = call ? call->child : NULL; kv; kv = kv->next) {
        unsigned layer;
        if (sscanf(kv->string, "ffn_moe_topk-%u", &layer) == 1)
            p->routing_layers[p->n_routing_layers++] = layer;
    }
    return true;
}

/* cpu.routing[c]: call 0 is the prompt batch, call c > 0 the decode of
 * greedy[c-1]; each call's rows cover the next sequence positions. */
static bool read_routing(loader *ld, const cJSON *calls, fixture_prompt *p,
                         const char *where)
{
    const cJSON *first = cJSON_IsArray(calls) ? calls->child : NULL;
    if (!read_routing_layers(ld, first, p) || p->n_routing_layers == 0)
        return !ld->failed;
    char key[48];
    snprintf(key, sizeof key, "ffn_moe_probs-%u", p->routing_layers[0]);
    const cJSON *probs = member(ld, first, key, where);
    snprintf(key, sizeof key, "ffn_moe_topk-%u", p->routing_layers[0]);
    const cJSON *topk = member(ld, first, key, where);
    if (ld->failed || !array_size(probs) || !array_size(topk)) {
        fail(ld, "%s: empty routing dump", where);
        return false;
    }
    p->n_expert = array_size(cJSON_GetArrayItem(probs, 0));
    p->n_expert_used = array_size(cJSON_GetArrayItem(topk, 0));
    const size_t slots = (size_t)p->n_routing_layers * p->n_sequence;
    p->routing_probs = calloc(slots * p->n_expert + 1, sizeof(float));
    p->routing_topk = calloc(slots * p->n_expert_used + 1, sizeof(int32_t));
    p->routing_present = calloc(slots + 1, sizeof(bool));
    uint32_t *ids = calloc(p->n_expert_used + 1, sizeof *ids);
    if (!p->routing_probs || !p->routing_topk || !p->routing_present || !ids) {
        free(ids);
        fail(ld, "out of memory");
        return false;
    }
    uint32_t pos = 0;
    for (const cJSON *call = first; call && !ld->failed; call = call->next) {
        uint32_t rows = 0;
        for (uint32_t li = 0; li < p->n_routing_layers && !ld->failed; li++) {
            snprintf(key, sizeof key, "ffn_moe_probs-%u",
                     p->routing_layers[li]);
            probs = member(ld, call, key, where);
            snprintf(key, sizeof key, "ffn_moe_topk-%u", p->routing_layers[li]);
            topk = member(ld, call, key, where);
            rows = array_size(topk);
            if (ld->failed || pos + rows > p->n_sequence) {
                fail(ld, "%s: routing covers more than %u positions", where,
                     p->n_sequence);
                break;
            }
            const size_t slot = (size_t)li * p->n_sequence + pos;
            if (!read_rows(ld, probs, rows, p->n_expert,
                           p->routing_probs + slot * p->n_expert, where))
                break;
            uint32_t r = 0;
            for (const cJSON *row = topk->child; row; row = row->next, r++) {
                if (!read_ids(ld, row, p->n_expert_used, p->n_expert, ids,
                              where))
                    break;
                for (uint32_t j = 0; j < p->n_expert_used; j++)
                    p->routing_topk[(slot + r) * p->n_expert_used + j] =
                        (int32_t)ids[j];
                p->routing_present[slot + r] = true;
            }
        }
        pos += rows;
    }
    free(ids);
    return !ld->failed;
}

static bool read_prompt(loader *ld, const cJSON *root, const cJSON *prompt,
                        uint32_t n_vocab, fixture_prompt *p)
{
    char where[64];
    snprintf(where, sizeof where, "prompts.%s", prompt->string);
    snprintf(p->name, sizeof p->name, "%s", prompt->string);
    const cJSON *tokens = member(ld, prompt, "tokens", where);
    const cJSON *cpu = member(ld, prompt, "cpu", where);
    const cJSON *logits = member(ld, cpu, "logits", where);
    const cJSON *greedy = member(ld, cpu, "greedy", where);
    const cJSON *greedy_logits = member(ld, cpu, "greedy_logits", where);
    if (ld->failed)
        return false;
    p->n_tokens = array_size(tokens);
    p->n_greedy = array_size(greedy);
    const uint32_t n_greedy_rows = array_size(greedy_logits);
    if (p->n_tokens == 0 || n_greedy_rows > p->n_greedy) {
        fail(ld, "%s: %u tokens, %u greedy tokens, %u greedy logit rows", where,
             p->n_tokens, p->n_greedy, n_greedy_rows);
        return false;
    }
    p->n_sequence = p->n_tokens + n_greedy_rows;
    p->sequence = calloc(p->n_sequence, sizeof *p->sequence);
    p->greedy = calloc(p->n_greedy, sizeof *p->greedy);
    p->expected = calloc((size_t)p->n_sequence * n_vocab, sizeof(float));
    if (!p->sequence || !p->greedy || !p->expected) {
        fail(ld, "out of memory");
        return false;
    }
    if (!read_ids(ld, tokens, p->n_tokens, n_vocab, p->sequence, where) ||
        !read_ids(ld, greedy, p->n_greedy, n_vocab, p->greedy, where) ||
        !read_rows(ld, logits, p->n_tokens, n_vocab, p->expected, where) ||
        !read_rows(ld, greedy_logits, n_greedy_rows, n_vocab,
                   p->expected + (size_t)p->n_tokens * n_vocab, where))
        return false;
    memcpy(p->sequence + p->n_tokens, p->greedy,
           n_greedy_rows * sizeof *p->sequence);

    const cJSON *agreement = member(ld, root, "agreement", "ref.json");
    const cJSON *mine = member(ld, agreement, prompt->string, "agreement");
    const cJSON *cv = member(ld, mine, "cpu_vs_vulkan", where);
    p->agreement_max_abs =
        number(ld, member(ld, cv, "max_abs_logit", where), where);
    p->agreement_rms = number(ld, member(ld, cv, "rms_logit", where), where);
    p->bounds.max_abs = fmax(0.02, 2.0 * p->agreement_max_abs);
    p->bounds.rms = fmax(0.005, 3.0 * p->agreement_rms);
    if (ld->failed)
        return false;

    const cJSON *routing = cJSON_GetObjectItemCaseSensitive(cpu, "routing");
    return !routing || read_routing(ld, routing, p, where);
}

bool fixture_load(const char *name, fixture_model *out, char *err,
                  size_t err_size)
{
    memset(out, 0, sizeof *out);
    loader ld = {err, err_size, false};
    char rel[128];
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(rel, sizeof rel, "models/%s.gguf", name);
    snprintf(out->gguf_path, sizeof out->gguf_path, "%s", test_fixture(rel));
    snprintf(rel, sizeof rel, "models/%s%s", name, REF_SUFFIX);
    const char *path = test_fixture(rel);
    char *text = test_read_file(path, NULL);
    if (!text) {
        fail(&ld, "%s: cannot read", path);
        return false;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) {
        fail(&ld, "%s: not valid JSON", path);
        return false;
    }
    const cJSON *config = member(&ld, root, "config", path);
    const cJSON *prompts = member(&ld, root, "prompts", path);
    double n_vocab = number(&ld, member(&ld, config, "n_vocab", path), path);
    if (!ld.failed && (n_vocab < 1 || n_vocab > 1e7))
        fail(&ld, "%s: bad n_vocab %g", path, n_vocab);
    if (!ld.failed) {
        out->n_vocab = (uint32_t)n_vocab;
        uint32_t n = (uint32_t)cJSON_GetArraySize(prompts);
        out->prompts = calloc(n ? n : 1, sizeof *out->prompts);
        if (!out->prompts)
            fail(&ld, "out of memory");
        for (const cJSON *p = prompts->child; p && !ld.failed; p = p->next)
            read_prompt(&ld, root, p, out->n_vocab,
                        &out->prompts[out->n_prompts++]);
    }
    cJSON_Delete(root);
    if (ld.failed)
        fixture_free(out);
    return !ld.failed;
}

void fixture_free(fixture_model *m)
{
    for (uint32_t i = 0; m->prompts && i < m->n_prompts; i++) {
        fixture_prompt *p = &m->prompts[i];
        free(p->sequence);
        free(p->expected);
        free(p->greedy);
        free(p->routing_layers);
        free(p->routing_probs);
        free(p->routing_topk);
        free(p->routing_present);
    }
    free(m->prompts);
    memset(m, 0, sizeof *m);
}

/* Slot of (layer, position) in the routing arrays, or -1. */
static int64_t routing_slot(const fixture_prompt *p, uint32_t layer,
                            uint32_t position)
{
    if (position >= p->n_sequence)
        return -1;
    for (uint32_t li = 0; li < p->n_routing_layers; li++) {
        size_t slot = (size_t)li * p->n_sequence + position;
        if (p->routing_layers[li] == layer)
            return p->routing_present[slot] ? (int64_t)slot : -1;
    }
    return -1;
}

const int32_t *fixture_routing_topk(const fixture_prompt *p, uint32_t layer,
                                    uint32_t position)
{
    int64_t slot = routing_slot(p, layer, position);
    return slot < 0 ? NULL : p->routing_topk + slot * p->n_expert_used;
}

const float *fixture_routing_probs(const fixture_prompt *p, uint32_t layer,
                                   uint32_t position)
{
    int64_t slot = routing_slot(p, layer, position);
    return slot < 0 ? NULL : p->routing_probs + slot * p->n_expert;
}

fixture_routing_match fixture_check_routing(const fixture_prompt *p,
                                            uint32_t layer, uint32_t position,
                                            const uint32_t *chosen,
                                            uint32_t n_used, const float *probs,
                                            uint32_t n_expert, float margin,
                                            double *prob_diff)
{
    const int32_t *topk = fixture_routing_topk(p, layer, position);
    const float *ref_probs = fixture_routing_probs(p, layer, position);
    *prob_diff = 0.0;
    if (!topk || n_used != p->n_expert_used || n_expert != p->n_expert)
        return FIXTURE_ROUTING_UNKNOWN;
    for (uint32_t e = 0; e < n_expert; e++)
        *prob_diff = fmax(*prob_diff, fabs((double)probs[e] - ref_probs[e]));
    uint32_t common = 0;
    for (uint32_t i = 0; i < n_used; i++)
        for (uint32_t j = 0; j < n_used; j++)
            common += chosen[i] == (uint32_t)topk[j];
    if (common == n_used)
        return FIXTURE_ROUTING_SAME;
    return margin <= 4.0 * *prob_diff ? FIXTURE_ROUTING_TIE
                                      : FIXTURE_ROUTING_DIFFERENT;
}

static uint32_t argmax(const float *row, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (row[i] > row[best])
            best = i;
    return best;
}

/* Largest minus second largest value of a row. */
static double top2_gap(const float *row, uint32_t n)
{
    double first = -INFINITY, second = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        if (row[i] > first) {
            second = first;
            first = row[i];
        } else if (row[i] > second) {
            second = row[i];
        }
    }
    return first - second;
}

fixture_result fixture_compare(const fixture_model *m, const fixture_prompt *p,
                               const float *logits, uint32_t first_row,
                               uint32_t n_rows, const bool *excused)
{
    fixture_result res = {.first_mismatch_row = -1};
    const uint32_t V = m->n_vocab;
    if (n_rows == 0 || first_row > p->n_sequence ||
        n_rows > p->n_sequence - first_row)
        return res; /* nothing comparable: pass stays false */
    double sum_sq = 0.0;
    bool nan = false;
    for (uint32_t i = 0; i < n_rows; i++) {
        const uint32_t row = first_row + i;
        if (excused && excused[row]) {
            res.excused++;
            continue;
        }
        const float *ours = logits + (size_t)i * V;
        const float *ref = p->expected + (size_t)row * V;
        for (uint32_t v = 0; v < V; v++) {
            double d = fabs((double)ours[v] - ref[v]);
            nan = nan || isnan(d);
            sum_sq += d * d;
            if (d > res.max_abs) {
                res.max_abs = d;
                res.worst_row = row;
            }
        }
        /* Where the reference's top two are closer than the logit bound,
         * a correct implementation may rank them either way. */
        if (top2_gap(ref, V) > p->bounds.max_abs) {
            res.argmax_checked++;
            if (argmax(ours, V) != argmax(ref, V)) {
                if (!res.argmax_mismatch)
                    res.first_mismatch_row = row;
                res.argmax_mismatch++;
            }
        }
    }
    const uint32_t compared = n_rows - res.excused;
    res.rms = compared ? sqrt(sum_sq / ((double)compared * V)) : 0.0;
    if (nan)
        res.max_abs = res.rms = NAN;
    res.pass = compared > 0 && !nan && res.max_abs <= p->bounds.max_abs &&
               res.rms <= p->bounds.rms && res.argmax_mismatch == 0;
    return res;
}

void fixture_format_result(const fixture_prompt *p, const fixture_result *r,
                           char *out, size_t size)
{
    snprintf(out, size,
             "max %.4f (<= %.4f, row %u) rms %.5f (<= %.5f) argmax %u/%u "
             "excused %u",
             r->max_abs, p->bounds.max_abs, r->worst_row, r->rms, p->bounds.rms,
             r->argmax_checked - r->argmax_mismatch, r->argmax_checked,
             r->excused);
}
