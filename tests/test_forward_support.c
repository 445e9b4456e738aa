#include "test_forward_support.h"

#include "testlib.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool routing_log_init(routing_log *log, const model *m, uint32_t n_ctx)
{
    *log = (routing_log){.n_layer = m->hp.n_layer,
                         .n_ctx = n_ctx,
                         .n_used = m->hp.n_expert_used,
                         .n_expert = m->hp.n_expert};
    size_t slots = (size_t)log->n_layer * n_ctx;
    log->chosen = calloc(slots * log->n_used + 1, sizeof *log->chosen);
    log->probs = calloc(slots * log->n_expert + 1, sizeof *log->probs);
    log->margin = calloc(slots + 1, sizeof *log->margin);
    log->seen = calloc(slots + 1, sizeof *log->seen);
    return log->chosen && log->probs && log->margin && log->seen;
}

void routing_log_free(routing_log *log)
{
    free(log->chosen);
    free(log->probs);
    free(log->margin);
    free(log->seen);
    *log = (routing_log){0};
}

static size_t slot_of(routing_log *log, uint32_t layer, uint32_t position,
                      uint32_t n_used)
{
    if (layer >= log->n_layer || position >= log->n_ctx ||
        n_used != log->n_used)
        return SIZE_MAX;
    return (size_t)layer * log->n_ctx + position;
}

void routing_log_gpu(const forward_routing *r, void *user)
{
    routing_log *log = user;
    size_t slot = slot_of(log, r->layer, r->position, r->n_used);
    CHECK(slot != SIZE_MAX, "routing outside the log: layer %u position %u",
          r->layer, r->position);
    if (slot == SIZE_MAX)
        return;
    memcpy(log->chosen + slot * log->n_used, r->chosen,
           r->n_used * sizeof *r->chosen);
    log->seen[slot] = true;
}

void routing_log_ref(const ref_routing *r, void *user)
{
    routing_log *log = user;
    size_t slot = slot_of(log, r->layer, r->position, r->n_used);
    if (slot == SIZE_MAX || r->n_expert != log->n_expert)
        return;
    memcpy(log->chosen + slot * log->n_used, r->chosen,
           r->n_used * sizeof *r->chosen);
    memcpy(log->probs + slot * log->n_expert, r->probs,
           r->n_expert * sizeof *r->probs);
    log->margin[slot] = r->margin;
    log->seen[slot] = true;
}

dsvk_status fwd_open(rt_device *dev, const char *path, forward_desc desc,
                     routing_log *gpu_log, routing_log *ref_log, fwd_model *out,
                     char *err, size_t err_size)
{
    *out = (fwd_model){0};
    dsvk_status status = gguf_open(path, &out->file, err, err_size);
    if (status == DSVK_OK)
        status = model_load(out->file, &out->m, err, err_size);
    if (status != DSVK_OK)
        return status;
    const uint32_t n_ctx = desc.n_ctx;
    if ((gpu_log && !routing_log_init(gpu_log, out->m, n_ctx)) ||
        (ref_log && !routing_log_init(ref_log, out->m, n_ctx))) {
        snprintf(err, err_size, "out of memory for routing logs");
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    if (gpu_log) {
        desc.on_routing = routing_log_gpu;
        desc.user = gpu_log;
    }
    status = gpu_weights_create(dev, out->m, &out->weights, err, err_size);
    if (status == DSVK_OK)
        status = forward_create(out->weights, &desc, &out->f, err, err_size);
    const ref_desc rd = {.n_ctx = n_ctx,
                         .cache_type = desc.cache_type,
                         .on_routing = ref_log ? routing_log_ref : NULL,
                         .user = ref_log};
    if (status == DSVK_OK)
        status = ref_create(out->m, &rd, &out->r, err, err_size);
    return status;
}

void fwd_close(fwd_model *fm)
{
    ref_destroy(fm->r);
    forward_destroy(fm->f);
    gpu_weights_destroy(fm->weights);
    model_free(fm->m);
    gguf_close(fm->file);
    *fm = (fwd_model){0};
}

bool fwd_eval_gpu(forward *f, uint32_t n_vocab, const uint32_t *tokens,
                  uint32_t n, uint32_t chunk, float *logits, uint32_t *greedy)
{
    forward_reset(f);
    if (!chunk)
        chunk = n;
    for (uint32_t at = 0; at < n; at += chunk) {
        uint32_t count = n - at < chunk ? n - at : chunk;
        dsvk_status status = forward_eval(
            f, tokens + at, count, FORWARD_LOGITS_ALL,
            logits + (size_t)at * n_vocab, greedy ? greedy + at : NULL);
        CHECK(status == DSVK_OK, "forward_eval at %u: %s", at,
              forward_error(f));
        if (status != DSVK_OK)
            return false;
    }
    CHECK(forward_position(f) == n, "position %u after %u tokens",
          forward_position(f), n);
    return true;
}

bool fwd_eval_ref(ref *r, const uint32_t *tokens, uint32_t n, float *logits)
{
    char err[256];
    ref_reset(r);
    dsvk_status status = ref_eval(r, tokens, n, logits, err, sizeof err);
    CHECK(status == DSVK_OK, "ref_eval: %s", err);
    return status == DSVK_OK;
}

double fwd_max_abs(const float *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)x[i]));
    return m;
}

uint32_t fwd_argmax(const float *x, uint32_t n, double *gap)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    double second = -INFINITY;
    for (uint32_t i = 0; i < n; i++)
        if (i != best && x[i] > second)
            second = x[i];
    *gap = x[best] - second;
    return best;
}

int fwd_run(const char *const *argv, const char *output_path)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(output_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool same_set(const uint32_t *a, const uint32_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        bool found = false;
        for (uint32_t j = 0; j < n; j++)
            found = found || a[i] == b[j];
        if (!found)
            return false;
    }
    return true;
}

/* Marks positions where the GPU's router chose other experts than the
 * reference's at a near tie; any clearer difference fails. */
void fwd_compare_routing(const char *label, const routing_log *gpu,
                         const routing_log *ref, const model *m,
                         uint32_t n_tokens, bool *excused)
{
    for (uint32_t layer = m->hp.n_layer_dense_lead; layer < m->hp.n_layer;
         layer++)
        for (uint32_t pos = 0; pos < n_tokens; pos++) {
            size_t slot = (size_t)layer * gpu->n_ctx + pos;
            CHECK(gpu->seen[slot], "%s: no routing for layer %u position %u",
                  label, layer, pos);
            if (same_set(gpu->chosen + slot * gpu->n_used,
                         ref->chosen + slot * ref->n_used, gpu->n_used))
                continue;
            printf("  %s: layer %u position %u chose other experts (margin "
                   "%.2e)\n",
                   label, layer, pos, ref->margin[slot]);
            CHECK(ref->margin[slot] < FWD_ROUTING_TIE,
                  "%s: layer %u position %u: routing differs from the "
                  "reference's at margin %.3g",
                  label, layer, pos, ref->margin[slot]);
            excused[pos] = true;
        }
}

void fwd_compare_logits(const char *label, uint32_t n_vocab, uint32_t n_tokens,
                        double relative_bound, const float *ref,
                        const float *gpu, const uint32_t *greedy,
                        const bool *excused)
{
    const double bound =
        relative_bound *
        fmax(1.0, fwd_max_abs(ref, (size_t)n_tokens * n_vocab));
    double max_abs = 0.0, sum_sq = 0.0;
    uint32_t checked = 0, mismatched = 0, compared = 0, wrong_greedy = 0;
    for (uint32_t t = 0; t < n_tokens; t++) {
        const float *want = ref + (size_t)t * n_vocab;
        const float *got = gpu + (size_t)t * n_vocab;
        double gap, unused;
        uint32_t best = fwd_argmax(want, n_vocab, &gap);
        uint32_t ours = fwd_argmax(got, n_vocab, &unused);
        wrong_greedy += greedy && greedy[t] != ours;
        if (excused[t])
            continue;
        compared++;
        for (uint32_t v = 0; v < n_vocab; v++) {
            double d = fabs((double)got[v] - want[v]);
            max_abs = isnan(d) ? INFINITY : fmax(max_abs, d);
            sum_sq += d * d;
        }
        if (gap > 2 * bound) {
            checked++;
            mismatched += best != ours;
        }
    }
    double rms = compared ? sqrt(sum_sq / ((double)compared * n_vocab)) : 0;
    printf("%-30s max %.2e (<= %.2e) rms %.2e argmax %u/%u\n", label, max_abs,
           bound, rms, checked - mismatched, checked);
    CHECK(compared * 10 >= n_tokens * 9, "%s: only %u rows compared", label,
          compared);
    CHECK(max_abs <= bound, "%s: max |dlogit| %.3g exceeds %.3g", label,
          max_abs, bound);
    CHECK(mismatched == 0, "%s: %u argmax mismatches", label, mismatched);
    CHECK(wrong_greedy == 0,
          "%s: the GPU's argmax differs from its logits' in %u rows", label,
          wrong_greedy);
}

void fwd_compare_modes(const fwd_model *fm, routing_log *gpu_log,
                       const routing_log *ref_log, const char *name,
                       const fwd_mode *modes, size_t n_modes, uint32_t n_tokens,
                       uint64_t seed, double relative_bound, bool check_greedy)
{
    const uint32_t V = fm->m->hp.n_vocab;
    float *ref = malloc((size_t)n_tokens * V * sizeof *ref);
    float *gpu = malloc((size_t)n_tokens * V * sizeof *gpu);
    uint32_t *tokens = malloc(n_tokens * sizeof *tokens);
    uint32_t *greedy = malloc(n_tokens * sizeof *greedy);
    bool *excused = malloc(n_tokens * sizeof *excused);
    CHECK(ref && gpu && tokens && greedy && excused, "%s: out of memory", name);
    if (ref && gpu && tokens && greedy && excused) {
        test_rng rng = test_rng_seed(seed);
        for (uint32_t i = 0; i < n_tokens; i++)
            tokens[i] = (uint32_t)test_rng_uniform(&rng, 0, (float)V);
        if (fwd_eval_ref(fm->r, tokens, n_tokens, ref))
            for (size_t i = 0; i < n_modes; i++) {
                char label[96];
                snprintf(label, sizeof label, "%s %s", name, modes[i].name);
                memset(excused, 0, n_tokens * sizeof *excused);
                memset(gpu_log->seen, 0,
                       (size_t)gpu_log->n_layer * gpu_log->n_ctx *
                           sizeof *gpu_log->seen);
                uint32_t *want_greedy = check_greedy ? greedy : NULL;
                if (!fwd_eval_gpu(fm->f, V, tokens, n_tokens, modes[i].chunk,
                                  gpu, want_greedy))
                    break;
                fwd_compare_routing(label, gpu_log, ref_log, fm->m, n_tokens,
                                    excused);
                fwd_compare_logits(label, V, n_tokens, relative_bound, ref, gpu,
                                   want_greedy, excused);
            }
    }
    free(ref);
    free(gpu);
    free(tokens);
    free(greedy);
    free(excused);
}
