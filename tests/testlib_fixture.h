/* The llama.cpp model fixtures (tests/fixtures/models/README.md): tiny
 * deepseek2 GGUFs with the logits, greedy continuations and router choices
 * llama.cpp's CPU backend computed for them, and the README's passing rule
 * as one function, for every end-to-end test (CPU reference and GPU).
 *
 * Typical use:
 *     fixture_name names[16];
 *     size_t n = fixture_list(names, 16);
 *     fixture_model fm;
 *     fixture_load(names[i].name, &fm, err, sizeof err);
 *     for each prompt p of fm: evaluate p->sequence (any feeding pattern)
 *         into logits[n_sequence][n_vocab], then
 *         fixture_result res = fixture_compare(&fm, p, logits, 0,
 *                                              p->n_sequence, excused);
 *         CHECK(res.pass, ...);
 *     fixture_free(&fm);
 *
 * Routing ties: where two experts' (or groups') router scores are nearly
 * equal, a correct implementation may choose differently from llama.cpp,
 * and that position's logits then differ by up to about 2. Such positions
 * are left out via `excused`: mark position t when, for some MoE layer,
 * fixture_check_routing says FIXTURE_ROUTING_TIE for the implementation's
 * choice at t (and fail on FIXTURE_ROUTING_DIFFERENT). The CPU reference
 * reports chosen experts, probabilities and the decision margin through
 * ref_desc.on_routing (tests/test_reference.c does exactly this); a GPU
 * test can take the excused positions from a reference run over the same
 * sequence, as long as its own routing matches the reference's. */
#ifndef DSVK_TESTLIB_FIXTURE_H
#define DSVK_TESTLIB_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fixture_name {
    char name[64]; /* "tiny-v3": <name>.gguf and <name>.ref.json */
} fixture_name;

/* Names of every model fixture (each *.ref.json under models/), sorted;
 * returns how many exist (may exceed max; only max are written). */
size_t fixture_list(fixture_name *names, size_t max);

/* The README's bounds for one prompt, from llama.cpp's CPU-vs-Vulkan
 * agreement: max |dlogit| <= max(0.02, 2 x agreement max_abs_logit),
 * rms |dlogit| <= max(0.005, 3 x agreement rms_logit). */
typedef struct fixture_bounds {
    double max_abs;
    double rms;
} fixture_bounds;

typedef struct fixture_prompt {
    char name[16]; /* "p12", "p40", "p80" */
    /* The sequence a test feeds: the prompt's tokens, then the greedy
     * continuation whose logits were recorded one token at a time. */
    uint32_t n_tokens;   /* prompt length */
    uint32_t n_sequence; /* n_tokens + greedy tokens with logits (15) */
    uint32_t *sequence;  /* [n_sequence] */
    /* expected[i]: llama.cpp's logits after sequence[0..i] — cpu.logits
     * for prompt rows (whole-prompt batch), cpu.greedy_logits after. */
    float *expected; /* [n_sequence][n_vocab] */
    uint32_t n_greedy;
    uint32_t *greedy; /* [n_greedy] cpu.greedy: argmax continuation */
    /* llama.cpp's router per MoE layer and sequence position (cpu.routing);
     * see fixture_routing_*. */
    uint32_t n_routing_layers;
    uint32_t *routing_layers; /* [n_routing_layers] block indices */
    uint32_t n_expert;
    uint32_t n_expert_used;
    float *routing_probs;  /* [layers][n_sequence][n_expert] */
    int32_t *routing_topk; /* [layers][n_sequence][n_expert_used] */
    bool *routing_present; /* [layers][n_sequence] */
    fixture_bounds bounds;
    double agreement_max_abs; /* agreement.<p>.cpu_vs_vulkan.max_abs_logit */
    double agreement_rms;     /* agreement.<p>.cpu_vs_vulkan.rms_logit */
} fixture_prompt;

typedef struct fixture_model {
    char name[64];
    char gguf_path[4096]; /* ready for gguf_open */
    uint32_t n_vocab;
    uint32_t n_prompts;
    fixture_prompt *prompts;
} fixture_model;

/* Reads models/<name>.ref.json. On failure returns false with one line in
 * err and *out zeroed (fixture_free on it is harmless). */
bool fixture_load(const char *name, fixture_model *out, char *err,
                  size_t err_size);
void fixture_free(fixture_model *m);

/* llama.cpp's router output for a block and sequence position, or NULL
 * where the fixture has none (a dense block, or no dump). topk lists
 * n_expert_used expert ids, best first; probs the n_expert router
 * probabilities before any bias. */
const int32_t *fixture_routing_topk(const fixture_prompt *p, uint32_t layer,
                                    uint32_t position);
const float *fixture_routing_probs(const fixture_prompt *p, uint32_t layer,
                                   uint32_t position);

/* An implementation's router choice at (layer, position) against
 * llama.cpp's. Two correct routers whose probabilities differ by dp can
 * order two candidates differently when their scores are within about 2dp
 * (4dp for group scores, which add two probabilities), so a different
 * choice counts as a tie when the implementation's own decision margin
 * (ref_routing.margin) is at most 4 x max |dprob| at that spot. */
typedef enum fixture_routing_match {
    FIXTURE_ROUTING_SAME,      /* same set of experts */
    FIXTURE_ROUTING_TIE,       /* different, explained by a near tie */
    FIXTURE_ROUTING_DIFFERENT, /* different with a clear margin: a bug */
    FIXTURE_ROUTING_UNKNOWN,   /* no dump for this layer and position */
} fixture_routing_match;

fixture_routing_match fixture_check_routing(const fixture_prompt *p,
                                            uint32_t layer, uint32_t position,
                                            const uint32_t *chosen,
                                            uint32_t n_used, const float *probs,
                                            uint32_t n_expert, float margin,
                                            double *prob_diff);

typedef struct fixture_result {
    double max_abs;             /* max |dlogit| over the rows compared */
    double rms;                 /* sqrt(mean dlogit^2) over the same */
    uint32_t worst_row;         /* sequence row of max_abs */
    uint32_t argmax_checked;    /* rows whose reference top-2 gap > bound */
    uint32_t argmax_mismatch;   /* of those, rows with a different argmax */
    int64_t first_mismatch_row; /* -1 when none */
    uint32_t excused;           /* rows left out (routing ties) */
    bool pass;                  /* all three conditions of the rule hold */
} fixture_result;

/* Applies the passing rule to logits[n_rows][n_vocab], which hold the
 * logits after sequence[0..first_row], ..., sequence[0..first_row +
 * n_rows - 1]. Rows marked in excused[n_sequence] (may be NULL) are left
 * out: positions where the implementation's routing differs from
 * llama.cpp's at a near tie (FIXTURE_ROUTING_TIE), where logits may differ
 * by up to about 2. A NaN in a compared row fails. */
fixture_result fixture_compare(const fixture_model *m, const fixture_prompt *p,
                               const float *logits, uint32_t first_row,
                               uint32_t n_rows, const bool *excused);

/* "max 0.0123 (<= 0.0200, row 5) rms 0.0012 (<= 0.0050) argmax 27/27
 * excused 0": one line for test logs, without a newline. */
void fixture_format_result(const fixture_prompt *p, const fixture_result *r,
                           char *out, size_t size);

#endif
