/* DeepSeekMoE for the CPU reference: router, group-limited choice, routed
 * and shared experts, exactly as DESIGN.md §2 states them. */
#include "reference_moe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ref_matvec(const float *w, const float *x, float *y, uint32_t rows,
                uint32_t cols)
{
    for (uint32_t i = 0; i < rows; i++) {
        const float *row = w + (size_t)i * cols;
        /* Four partial sums let the CPU overlap the additions. */
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        size_t j = 0;
        for (; j + 4 <= cols; j += 4) {
            s0 += (double)row[j] * x[j];
            s1 += (double)row[j + 1] * x[j + 1];
            s2 += (double)row[j + 2] * x[j + 2];
            s3 += (double)row[j + 3] * x[j + 3];
        }
        for (; j < cols; j++)
            s0 += (double)row[j] * x[j];
        y[i] = (float)((s0 + s1) + (s2 + s3));
    }
}

bool ref_moe_scratch_init(ref_moe_scratch *s, const model_hparams *hp)
{
    memset(s, 0, sizeof *s);
    uint64_t width = hp->n_ff;
    const uint64_t shared = (uint64_t)hp->n_ff_exp * hp->n_expert_shared;
    if (shared > width)
        width = shared;
    if (hp->n_ff_exp > width)
        width = hp->n_ff_exp;
    const uint64_t E = hp->n_expert ? hp->n_expert : 1;
    const uint64_t k = hp->n_expert_used ? hp->n_expert_used : 1;
    const uint64_t groups = hp->n_expert_groups ? hp->n_expert_groups : 1;
    s->probs = calloc(E, sizeof *s->probs);
    s->choice = calloc(E, sizeof *s->choice);
    s->group = calloc(groups, sizeof *s->group);
    s->group_kept = calloc(groups, sizeof *s->group_kept);
    s->taken = calloc(E, sizeof *s->taken);
    s->chosen = calloc(k, sizeof *s->chosen);
    s->weights = calloc(k, sizeof *s->weights);
    s->gate = calloc(width ? width : 1, sizeof *s->gate);
    s->up = calloc(width ? width : 1, sizeof *s->up);
    s->expert_out = calloc(hp->n_embd, sizeof *s->expert_out);
    if (s->probs && s->choice && s->group && s->group_kept && s->taken &&
        s->chosen && s->weights && s->gate && s->up && s->expert_out)
        return true;
    ref_moe_scratch_free(s);
    return false;
}

void ref_moe_scratch_free(ref_moe_scratch *s)
{
    free(s->probs);
    free(s->choice);
    free(s->group);
    free(s->group_kept);
    free(s->taken);
    free(s->chosen);
    free(s->weights);
    free(s->gate);
    free(s->up);
    free(s->expert_out);
    memset(s, 0, sizeof *s);
}

void ref_mlp_forward(const ref_mlp *mlp, uint32_t n_ff, uint32_t d,
                     const float *x, float *y, float *gate, float *up)
{
    ref_matvec(mlp->gate, x, gate, n_ff, d);
    ref_matvec(mlp->up, x, up, n_ff, d);
    for (uint32_t i = 0; i < n_ff; i++) {
        const double g = gate[i];
        gate[i] = (float)(g / (1.0 + exp(-g)) * up[i]); /* silu(g) * u */
    }
    ref_matvec(mlp->down, gate, y, d, n_ff);
}

/* Index of the largest value among `n` not yet `taken`; ties go to the
 * lower index. */
static uint32_t best_untaken(const float *values, const bool *taken, uint32_t n)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (!taken[i] && (best == UINT32_MAX || values[i] > values[best]))
            best = i;
    return best;
}

/* Score of one group of choice scores: sigmoid gating (V3, noaux_tc) sums
 * its top two, softmax gating (V2, group_limited_greedy) takes its max. */
static float group_score(const float *choice, uint32_t n, bool sigmoid)
{
    float first = -INFINITY, second = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        if (choice[i] > first) {
            second = first;
            first = choice[i];
        } else if (choice[i] > second) {
            second = choice[i];
        }
    }
    return sigmoid && n > 1 ? first + second : first;
}

/* Keeps the best n_group_used groups: experts of the others can not be
 * chosen (choice -inf). */
static void limit_groups(const model_hparams *hp, ref_moe_scratch *s)
{
    const uint32_t G = hp->n_expert_groups, per = hp->n_expert / G;
    const bool sigmoid = hp->gating == MODEL_GATING_SIGMOID;
    for (uint32_t g = 0; g < G; g++) {
        s->group[g] = group_score(s->choice + g * per, per, sigmoid);
        s->group_kept[g] = false;
    }
    float worst_kept = INFINITY;
    for (uint32_t i = 0; i < hp->n_group_used; i++) {
        const uint32_t g = best_untaken(s->group, s->group_kept, G);
        s->group_kept[g] = true;
        worst_kept = s->group[g];
    }
    for (uint32_t g = 0; g < G; g++) {
        if (s->group_kept[g])
            continue;
        s->margin = fminf(s->margin, worst_kept - s->group[g]);
        for (uint32_t e = g * per; e < (g + 1) * per; e++)
            s->choice[e] = -INFINITY;
    }
}

/* Router: probabilities s, choice of k experts, their mixing weights. */
static void route(const model_hparams *hp, const ref_moe *moe,
                  ref_moe_scratch *s, const float *x)
{
    const uint32_t E = hp->n_expert, k = hp->n_expert_used;
    ref_matvec(moe->router, x, s->probs, E, hp->n_embd);
    if (hp->gating == MODEL_GATING_SIGMOID) {
        for (uint32_t e = 0; e < E; e++)
            s->probs[e] = (float)(1.0 / (1.0 + exp(-(double)s->probs[e])));
    } else {
        double max_logit = -INFINITY, total = 0.0;
        for (uint32_t e = 0; e < E; e++)
            max_logit = fmax(max_logit, s->probs[e]);
        for (uint32_t e = 0; e < E; e++)
            total += exp(s->probs[e] - max_logit);
        for (uint32_t e = 0; e < E; e++)
            s->probs[e] = (float)(exp(s->probs[e] - max_logit) / total);
    }
    /* The bias steers the choice only; the weights use s itself. */
    for (uint32_t e = 0; e < E; e++)
        s->choice[e] =
            s->probs[e] + (moe->choice_bias ? moe->choice_bias[e] : 0.0f);
    s->margin = INFINITY;
    if (hp->n_expert_groups > 1)
        limit_groups(hp, s);

    /* Top k by choice score, best first. */
    memset(s->taken, 0, E * sizeof *s->taken);
    for (uint32_t j = 0; j < k; j++) {
        s->chosen[j] = best_untaken(s->choice, s->taken, E);
        s->taken[s->chosen[j]] = true;
    }
    const uint32_t runner_up = best_untaken(s->choice, s->taken, E);
    if (runner_up != UINT32_MAX && isfinite(s->choice[runner_up]))
        s->margin = fminf(s->margin,
                          s->choice[s->chosen[k - 1]] - s->choice[runner_up]);

    double sum = 0.0;
    for (uint32_t j = 0; j < k; j++)
        sum += s->weights[j] = s->probs[s->chosen[j]];
    for (uint32_t j = 0; j < k; j++) {
        if (hp->expert_weights_norm)
            s->weights[j] = (float)(s->weights[j] / sum);
        s->weights[j] *= hp->expert_weights_scale;
    }
}

void ref_moe_forward(const model_hparams *hp, const ref_moe *moe,
                     ref_moe_scratch *s, const float *x, float *y,
                     ref_routing *routing)
{
    const uint32_t d = hp->n_embd, ff = hp->n_ff_exp;
    route(hp, moe, s, x);
    routing->n_expert = hp->n_expert;
    routing->n_used = hp->n_expert_used;
    routing->probs = s->probs;
    routing->chosen = s->chosen;
    routing->weights = s->weights;
    routing->margin = s->margin;

    memset(y, 0, d * sizeof *y);
    for (uint32_t j = 0; j < hp->n_expert_used; j++) {
        const size_t e = s->chosen[j];
        const ref_mlp expert = {moe->gate_exps + e * ff * d,
                                moe->up_exps + e * ff * d,
                                moe->down_exps + e * d * ff};
        ref_mlp_forward(&expert, ff, d, x, s->expert_out, s->gate, s->up);
        for (uint32_t i = 0; i < d; i++)
            y[i] += s->weights[j] * s->expert_out[i];
    }
    if (hp->n_expert_shared) {
        ref_mlp_forward(&moe->shared, ff * hp->n_expert_shared, d, x,
                        s->expert_out, s->gate, s->up);
        for (uint32_t i = 0; i < d; i++)
            y[i] += s->expert_out[i];
    }
}
