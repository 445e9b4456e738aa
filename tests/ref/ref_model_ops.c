#include "ref/ref_model_ops.h"

#include "model/half.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float ref_round_f16(float x)
{
    return half_to_f32(f32_to_half(x));
}

void ref_mla_attention(const ref_mla_shape *shape, uint32_t n_tokens,
                       uint32_t pos0, float scale, const float *q,
                       const float *latent, const float *rope_key,
                       const float *k_b, const float *v_b, float *out)
{
    uint32_t H = shape->n_head, dn = shape->qk_nope_head_dim;
    uint32_t dr = shape->qk_rope_head_dim, dv = shape->v_head_dim;
    uint32_t r = shape->kv_lora_rank, n_ctx = pos0 + n_tokens;
    float *key = malloc(sizeof(float) * dn);
    float *value = malloc(sizeof(float) * (size_t)n_ctx * dv);
    float *score = malloc(sizeof(float) * n_ctx);
    for (uint32_t h = 0; h < H; h++) {
        const float *kb = k_b + (size_t)h * r * dn;
        const float *vb = v_b + (size_t)h * dv * r;
        /* Values v_s = W_UV_h c_s for every cached position. */
        for (uint32_t s = 0; s < n_ctx; s++)
            for (uint32_t i = 0; i < dv; i++) {
                double sum = 0;
                for (uint32_t j = 0; j < r; j++)
                    sum += (double)vb[i * r + j] * latent[(size_t)s * r + j];
                value[(size_t)s * dv + i] = (float)sum;
            }
        for (uint32_t t = 0; t < n_tokens; t++) {
            const float *qn = q + ((size_t)t * H + h) * (dn + dr);
            const float *qp = qn + dn;
            uint32_t n_seen = pos0 + t + 1; /* causal: s <= pos0 + t */
            double max = -INFINITY;
            for (uint32_t s = 0; s < n_seen; s++) {
                /* Key k_s = W_UK_h c_s; k_b row j holds W_UK_h[:, j]. */
                for (uint32_t i = 0; i < dn; i++) {
                    double sum = 0;
                    for (uint32_t j = 0; j < r; j++)
                        sum +=
                            (double)kb[j * dn + i] * latent[(size_t)s * r + j];
                    key[i] = (float)sum;
                }
                double dot = 0;
                for (uint32_t i = 0; i < dn; i++)
                    dot += (double)qn[i] * key[i];
                for (uint32_t i = 0; i < dr; i++)
                    dot += (double)qp[i] * rope_key[(size_t)s * dr + i];
                score[s] = (float)(dot * scale);
                if (score[s] > max)
                    max = score[s];
            }
            double total = 0;
            for (uint32_t s = 0; s < n_seen; s++)
                total += exp(score[s] - max);
            float *o = out + ((size_t)t * H + h) * dv;
            for (uint32_t i = 0; i < dv; i++) {
                double sum = 0;
                for (uint32_t s = 0; s < n_seen; s++)
                    sum += exp(score[s] - max) * value[(size_t)s * dv + i];
                o[i] = (float)(sum / total);
            }
        }
    }
    free(key);
    free(value);
    free(score);
}

/* Score of one expert group: V3 (sigmoid) sums its two best choice scores,
 * V2 (softmax) takes its best one (DESIGN.md §2). */
static float group_score(const float *choice, uint32_t size, bool sigmoid)
{
    float best = -INFINITY, second = -INFINITY;
    for (uint32_t i = 0; i < size; i++) {
        if (choice[i] > best) {
            second = best;
            best = choice[i];
        } else if (choice[i] > second) {
            second = choice[i];
        }
    }
    if (!sigmoid || size < 2)
        return best;
    return best + second;
}

void ref_moe_route(const ref_moe_router *router, uint32_t n_tokens,
                   const float *logits, uint32_t *ids, float *weights)
{
    uint32_t E = router->n_expert, k = router->n_expert_used;
    uint32_t n_group = router->n_group > 1 ? router->n_group : 1;
    uint32_t group_size = E / n_group;
    float *prob = malloc(sizeof(float) * E);
    float *choice = malloc(sizeof(float) * E);
    float *gscore = malloc(sizeof(float) * n_group);
    bool *allowed = malloc(sizeof(bool) * E);
    bool *taken = malloc(sizeof(bool) * E);
    for (uint32_t t = 0; t < n_tokens; t++) {
        const float *l = logits + (size_t)t * E;
        if (router->sigmoid) {
            for (uint32_t e = 0; e < E; e++)
                prob[e] = (float)(1.0 / (1.0 + exp(-(double)l[e])));
        } else {
            double max = -INFINITY, total = 0;
            for (uint32_t e = 0; e < E; e++)
                max = l[e] > max ? l[e] : max;
            for (uint32_t e = 0; e < E; e++)
                total += exp(l[e] - max);
            for (uint32_t e = 0; e < E; e++)
                prob[e] = (float)(exp(l[e] - max) / total);
        }
        for (uint32_t e = 0; e < E; e++)
            choice[e] = prob[e] + (router->bias ? router->bias[e] : 0.0f);

        /* Keep the n_group_used best groups (ties: lower group first). */
        for (uint32_t g = 0; g < n_group; g++)
            gscore[g] = group_score(choice + g * group_size, group_size,
                                    router->sigmoid);
        for (uint32_t g = 0; g < n_group; g++) {
            uint32_t better = 0;
            for (uint32_t o = 0; o < n_group; o++)
                better +=
                    gscore[o] > gscore[g] || (gscore[o] == gscore[g] && o < g);
            bool keep = n_group == 1 || better < router->n_group_used;
            for (uint32_t i = 0; i < group_size; i++)
                allowed[g * group_size + i] = keep;
        }

        /* Top-k by repeated selection of the best remaining expert. */
        memset(taken, 0, sizeof(bool) * E);
        double sum = 0;
        for (uint32_t j = 0; j < k; j++) {
            uint32_t best = E;
            for (uint32_t e = 0; e < E; e++)
                if (allowed[e] && !taken[e] &&
                    (best == E || choice[e] > choice[best]))
                    best = e;
            taken[best] = true;
            ids[(size_t)t * k + j] = best;
            weights[(size_t)t * k + j] = prob[best];
            sum += prob[best];
        }
        /* llama.cpp clamps the sum at the smallest normal f16. */
        if (sum < 6.103515625e-5)
            sum = 6.103515625e-5;
        for (uint32_t j = 0; j < k; j++) {
            float *w = &weights[(size_t)t * k + j];
            if (router->weights_norm)
                *w = (float)(*w / sum);
            *w *= router->weights_scale;
        }
    }
    free(prob);
    free(choice);
    free(gscore);
    free(allowed);
    free(taken);
}

void ref_moe_experts(uint32_t n_tokens, uint32_t n_embd, uint32_t n_ff,
                     uint32_t n_expert_used, const uint32_t *ids,
                     const float *weights, const float *gate, const float *up,
                     const float *down, const float *x, float *y)
{
    float *hidden = malloc(sizeof(float) * n_ff);
    for (uint32_t t = 0; t < n_tokens; t++) {
        const float *xt = x + (size_t)t * n_embd;
        double *acc = calloc(n_embd, sizeof(double));
        for (uint32_t j = 0; j < n_expert_used; j++) {
            uint32_t e = ids[(size_t)t * n_expert_used + j];
            float w = weights[(size_t)t * n_expert_used + j];
            const float *ge = gate + (size_t)e * n_ff * n_embd;
            const float *ue = up + (size_t)e * n_ff * n_embd;
            const float *de = down + (size_t)e * n_embd * n_ff;
            for (uint32_t i = 0; i < n_ff; i++) {
                double g = 0, u = 0;
                for (uint32_t c = 0; c < n_embd; c++) {
                    g += (double)ge[(size_t)i * n_embd + c] * xt[c];
                    u += (double)ue[(size_t)i * n_embd + c] * xt[c];
                }
                hidden[i] = (float)(g / (1.0 + exp(-g)) * u);
            }
            for (uint32_t o = 0; o < n_embd; o++) {
                double sum = 0;
                for (uint32_t i = 0; i < n_ff; i++)
                    sum += (double)de[(size_t)o * n_ff + i] * hidden[i];
                acc[o] += w * sum;
            }
        }
        for (uint32_t o = 0; o < n_embd; o++)
            y[(size_t)t * n_embd + o] = (float)acc[o];
        free(acc);
    }
    free(hidden);
}
