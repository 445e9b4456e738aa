/* The reference forward pass, one token at a time (see reference.h). Sums
 * accumulate in double so that the reference's own rounding stays well
 * below any difference it is asked to judge. */
#include "reference.h"

#include "forward/latent_cache.h"
#include "model/dequant.h"
#include "reference_moe.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One block's weights in f32, row-major: "[rows][cols]" means rows of
 * cols, so `y = W x` has len(x) = cols. NULL where the model has none. */
typedef struct ref_layer {
    const float *attn_norm;      /* [d] */
    const float *attn_q;         /* [H*(dn+dr)][d] */
    const float *attn_q_a;       /* [rq][d] */
    const float *attn_q_a_norm;  /* [rq] */
    const float *attn_q_b;       /* [H*(dn+dr)][rq] */
    const float *attn_kv_a_mqa;  /* [r+dr][d] */
    const float *attn_kv_a_norm; /* [r] */
    float *k_up_t;               /* [H][r][dn]: W_UK_h transposed */
    float *v_up;                 /* [H][dv][r]: W_UV_h */
    const float *attn_output;    /* [d][H*dv] */
    const float *ffn_norm;       /* [d] */
    ref_mlp dense;               /* dense layers */
    ref_moe moe;                 /* MoE layers */
} ref_layer;

struct ref {
    const model *m;
    ref_desc desc;
    uint32_t n_ctx;
    uint32_t pos;
    float *token_embd;  /* [n_vocab][d] */
    float *output_norm; /* [d] */
    float *output;      /* [n_vocab][d]; token_embd when tied */
    ref_layer *layers;  /* [n_layer] */
    float **owned;      /* every buffer above, freed by ref_destroy */
    size_t n_owned;
    /* Latent cache, values rounded as the cache type stores them. */
    float *latent;   /* [n_layer][n_ctx][r]: c */
    float *rope_key; /* [n_layer][n_ctx][dr]: kpe */
    /* Activations of the token being evaluated. */
    float *hidden;     /* [d] residual stream h */
    float *normed;     /* [d] */
    float *delta;      /* [d] block output added to h */
    float *q;          /* [H][dn+dr] */
    float *q_a;        /* [rq] */
    float *kv;         /* [r+dr] */
    float *q_latent;   /* [r]: W_UK_h^T qn_h */
    float *scores;     /* [n_ctx] */
    float *latent_sum; /* [r]: sum_s p_s c_s */
    float *heads;      /* [H][dv]: concat_h o_h */
    ref_moe_scratch moe_scratch;
};

static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
}

/* Zeroed f32 buffer owned by the ref. */
static float *alloc_owned(ref *r, uint64_t n)
{
    float **grown = realloc(r->owned, (r->n_owned + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    r->owned = grown;
    float *p = calloc(n ? n : 1, sizeof(float));
    if (p)
        r->owned[r->n_owned++] = p;
    return p;
}

/* The whole tensor in f32, rows in file order; NULL for an absent tensor.
 * *ok turns false on allocation failure. */
static float *dequantize(ref *r, const gguf_tensor *t, bool *ok)
{
    if (!t || !*ok)
        return NULL;
    float *out = alloc_owned(r, t->n_elements);
    if (!out) {
        *ok = false;
        return NULL;
    }
    const uint64_t row = t->ne[0], rows = t->n_elements / row;
    const uint64_t row_bytes = gguf_row_bytes(t->type, row);
    /* model_load checked that the type decodes rows of this length. */
    for (uint64_t i = 0; i < rows; i++)
        dequant_row(t->type, t->data + i * row_bytes, out + i * row, row);
    return out;
}

/* W_UK_h^T and W_UV_h per head, from either layout (model.h). */
static bool load_kv_up(ref *r, const model_layer *ml, ref_layer *l, bool *ok)
{
    const model_hparams *hp = &r->m->hp;
    const uint32_t H = hp->n_head, rank = hp->kv_lora_rank;
    const uint32_t dn = hp->qk_nope_head_dim, dv = hp->v_head_dim;
    if (r->m->kv_layout == MODEL_KV_SPLIT) {
        l->k_up_t = dequantize(r, ml->attn_k_b, ok);
        l->v_up = dequantize(r, ml->attn_v_b, ok);
        return *ok;
    }
    /* attn_kv_b rows: per head, dn rows of W_UK_h then dv rows of W_UV_h. */
    float *kv_b = dequantize(r, ml->attn_kv_b, ok);
    l->k_up_t = alloc_owned(r, (uint64_t)H * rank * dn);
    l->v_up = alloc_owned(r, (uint64_t)H * dv * rank);
    if (!*ok || !l->k_up_t || !l->v_up)
        return *ok = false;
    for (uint32_t h = 0; h < H; h++) {
        const float *head = kv_b + (size_t)h * (dn + dv) * rank;
        for (uint32_t i = 0; i < dn; i++)
            for (uint32_t j = 0; j < rank; j++)
                l->k_up_t[((size_t)h * rank + j) * dn + i] =
                    head[(size_t)i * rank + j];
        memcpy(l->v_up + (size_t)h * dv * rank, head + (size_t)dn * rank,
               (size_t)dv * rank * sizeof(float));
    }
    return true;
}

static bool load_weights(ref *r)
{
    const model *m = r->m;
    bool ok = true;
    r->token_embd = dequantize(r, m->token_embd, &ok);
    r->output_norm = dequantize(r, m->output_norm, &ok);
    r->output = m->output_tied ? r->token_embd : dequantize(r, m->output, &ok);
    for (uint32_t i = 0; ok && i < m->hp.n_layer; i++) {
        const model_layer *ml = &m->layers[i];
        ref_layer *l = &r->layers[i];
        l->attn_norm = dequantize(r, ml->attn_norm, &ok);
        l->attn_q = dequantize(r, ml->attn_q, &ok);
        l->attn_q_a = dequantize(r, ml->attn_q_a, &ok);
        l->attn_q_a_norm = dequantize(r, ml->attn_q_a_norm, &ok);
        l->attn_q_b = dequantize(r, ml->attn_q_b, &ok);
        l->attn_kv_a_mqa = dequantize(r, ml->attn_kv_a_mqa, &ok);
        l->attn_kv_a_norm = dequantize(r, ml->attn_kv_a_norm, &ok);
        l->attn_output = dequantize(r, ml->attn_output, &ok);
        l->ffn_norm = dequantize(r, ml->ffn_norm, &ok);
        l->dense.gate = dequantize(r, ml->ffn_gate, &ok);
        l->dense.up = dequantize(r, ml->ffn_up, &ok);
        l->dense.down = dequantize(r, ml->ffn_down, &ok);
        l->moe.router = dequantize(r, ml->ffn_gate_inp, &ok);
        l->moe.choice_bias = dequantize(r, ml->exp_probs_b, &ok);
        l->moe.gate_exps = dequantize(r, ml->ffn_gate_exps, &ok);
        l->moe.up_exps = dequantize(r, ml->ffn_up_exps, &ok);
        l->moe.down_exps = dequantize(r, ml->ffn_down_exps, &ok);
        l->moe.shared.gate = dequantize(r, ml->ffn_gate_shexp, &ok);
        l->moe.shared.up = dequantize(r, ml->ffn_up_shexp, &ok);
        l->moe.shared.down = dequantize(r, ml->ffn_down_shexp, &ok);
        load_kv_up(r, ml, l, &ok);
    }
    return ok;
}

static bool alloc_state(ref *r)
{
    const model_hparams *hp = &r->m->hp;
    const uint64_t L = hp->n_layer, d = hp->n_embd, H = hp->n_head;
    const uint64_t rank = hp->kv_lora_rank, dr = hp->qk_rope_head_dim;
    const uint64_t dn = hp->qk_nope_head_dim, dv = hp->v_head_dim;
    r->latent = alloc_owned(r, L * r->n_ctx * rank);
    r->rope_key = alloc_owned(r, L * r->n_ctx * dr);
    r->hidden = alloc_owned(r, d);
    r->normed = alloc_owned(r, d);
    r->delta = alloc_owned(r, d);
    r->q = alloc_owned(r, H * (dn + dr));
    r->q_a = alloc_owned(r, hp->q_lora_rank);
    r->kv = alloc_owned(r, rank + dr);
    r->q_latent = alloc_owned(r, rank);
    r->scores = alloc_owned(r, r->n_ctx);
    r->latent_sum = alloc_owned(r, rank);
    r->heads = alloc_owned(r, H * dv);
    return r->latent && r->rope_key && r->hidden && r->normed && r->delta &&
           r->q && r->q_a && r->kv && r->q_latent && r->scores &&
           r->latent_sum && r->heads &&
           ref_moe_scratch_init(&r->moe_scratch, hp);
}

dsvk_status ref_create(const model *m, const ref_desc *desc, ref **out,
                       char *err, size_t err_size)
{
    *out = NULL;
    ref *r = calloc(1, sizeof *r);
    if (!r) {
        set_error(err, err_size, "out of memory creating the reference");
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    r->m = m;
    if (desc)
        r->desc = *desc;
    r->n_ctx = r->desc.n_ctx ? r->desc.n_ctx : m->hp.n_ctx_train;
    r->layers = calloc(m->hp.n_layer, sizeof *r->layers);
    if (!r->layers || !load_weights(r) || !alloc_state(r)) {
        set_error(err, err_size,
                  "out of memory creating the reference (%llu weights in f32, "
                  "context %u)",
                  (unsigned long long)m->stats.n_params, r->n_ctx);
        ref_destroy(r);
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    *out = r;
    return DSVK_OK;
}

void ref_destroy(ref *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_owned; i++)
        free(r->owned[i]);
    free(r->owned);
    free(r->layers);
    ref_moe_scratch_free(&r->moe_scratch);
    free(r);
}

void ref_reset(ref *r)
{
    r->pos = 0;
}

uint32_t ref_position(const ref *r)
{
    return r->pos;
}

/* y = x / sqrt(mean(x^2) + eps) * weight (y may alias x). */
static void rms_norm(const float *x, const float *weight, float *y, uint32_t n,
                     float eps)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < n; i++)
        sum += (double)x[i] * x[i];
    const double scale = 1.0 / sqrt(sum / n + eps);
    for (uint32_t i = 0; i < n; i++)
        y[i] = (float)(x[i] * scale) * weight[i];
}

/* RoPE on adjacent pairs (x[2i], x[2i+1]) at position `pos`, with YaRN as
 * ggml's rope_yarn does it: pair i's angle blends the interpolated angle
 * (theta_i * freq_scale) and the original theta_i with a ramp that is 1
 * (original) below corr_dims[0] and 0 (interpolated) above corr_dims[1].
 * cos/sin are not scaled: for deepseek2 llama.cpp cancels YaRN's magnitude
 * factor and puts mscale^2 in the attention scale instead. */
static void rope(const model_hparams *hp, float *x, uint32_t pos)
{
    const uint32_t n = hp->qk_rope_head_dim;
    const float lo = hp->yarn_corr_dims[0], hi = hp->yarn_corr_dims[1];
    for (uint32_t i = 0; i < n / 2; i++) {
        const double theta_extrap = pos * pow(hp->rope_freq_base, -2.0 * i / n);
        const double theta_interp = hp->rope_freq_scale * theta_extrap;
        double ramp = ((double)i - lo) / fmax(0.001, (double)hi - lo);
        ramp = 1.0 - fmin(1.0, fmax(0.0, ramp));
        const double mix = ramp * hp->rope_ext_factor;
        const double theta = theta_interp * (1.0 - mix) + theta_extrap * mix;
        const double c = cos(theta), s = sin(theta);
        const double x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = (float)(x0 * c - x1 * s);
        x[2 * i + 1] = (float)(x0 * s + x1 * c);
    }
}

/* The cache stores c and kpe rounded as the session's cache type rounds
 * them: f16 like llama.cpp's default cache (the fixtures were made with
 * one) or q8_0, the same values the GPU reads back. */
/* Multi-head latent attention of the token at r->pos, in the absorbed form
 * (DESIGN.md §2): ql_h = W_UK_h^T qn_h, score_s = (ql_h . c_s + qp_h .
 * kpe_s) * scale, o_h = W_UV_h (sum_s p_s c_s). This is the same sum as
 * the decompressed form, regrouped. Writes attn_output . concat(o) to
 * r->delta. */
static void attention(ref *r, uint32_t il)
{
    const model_hparams *hp = &r->m->hp;
    const ref_layer *l = &r->layers[il];
    const uint32_t H = hp->n_head, d = hp->n_embd, rank = hp->kv_lora_rank;
    const uint32_t dn = hp->qk_nope_head_dim, dr = hp->qk_rope_head_dim;
    const uint32_t dv = hp->v_head_dim, rq = hp->q_lora_rank;
    const uint32_t qk = dn + dr;

    if (rq) {
        ref_matvec(l->attn_q_a, r->normed, r->q_a, rq, d);
        rms_norm(r->q_a, l->attn_q_a_norm, r->q_a, rq, hp->rms_eps);
        ref_matvec(l->attn_q_b, r->q_a, r->q, H * qk, rq);
    } else {
        ref_matvec(l->attn_q, r->normed, r->q, H * qk, d);
    }

    ref_matvec(l->attn_kv_a_mqa, r->normed, r->kv, rank + dr, d);
    rms_norm(r->kv, l->attn_kv_a_norm, r->kv, rank, hp->rms_eps);
    rope(hp, r->kv + rank, r->pos);
    float *latent = r->latent + (size_t)il * r->n_ctx * rank;
    float *rope_key = r->rope_key + (size_t)il * r->n_ctx * dr;
    latent_round(r->desc.cache_type, latent + (size_t)r->pos * rank, r->kv,
                 rank);
    latent_round(r->desc.cache_type, rope_key + (size_t)r->pos * dr,
                 r->kv + rank, dr);

    const uint32_t n_keys = r->pos + 1; /* causal: positions 0..pos */
    for (uint32_t h = 0; h < H; h++) {
        const float *q_nope = r->q + (size_t)h * qk;
        float *q_rope = r->q + (size_t)h * qk + dn;
        rope(hp, q_rope, r->pos);
        ref_matvec(l->k_up_t + (size_t)h * rank * dn, q_nope, r->q_latent, rank,
                   dn);

        double max_score = -INFINITY;
        for (uint32_t s = 0; s < n_keys; s++) {
            double score = 0.0;
            for (uint32_t j = 0; j < rank; j++)
                score += (double)r->q_latent[j] * latent[(size_t)s * rank + j];
            for (uint32_t j = 0; j < dr; j++)
                score += (double)q_rope[j] * rope_key[(size_t)s * dr + j];
            r->scores[s] = (float)(score * hp->attn_scale);
            max_score = fmax(max_score, r->scores[s]);
        }
        /* Softmax over the keys; scores[] now holds exp(score - max). */
        double total = 0.0;
        for (uint32_t s = 0; s < n_keys; s++) {
            const double e = exp(r->scores[s] - max_score);
            r->scores[s] = (float)e;
            total += e;
        }
        for (uint32_t j = 0; j < rank; j++) {
            double sum = 0.0;
            for (uint32_t s = 0; s < n_keys; s++)
                sum += (double)r->scores[s] * latent[(size_t)s * rank + j];
            r->latent_sum[j] = (float)(sum / total);
        }
        ref_matvec(l->v_up + (size_t)h * dv * rank, r->latent_sum,
                   r->heads + (size_t)h * dv, dv, rank);
    }
    ref_matvec(l->attn_output, r->heads, r->delta, d, H * dv);
}

/* Runs the token at r->pos through every block and, when `logits` is not
 * NULL, the output head. */
static void eval_token(ref *r, uint32_t token, float *logits)
{
    const model_hparams *hp = &r->m->hp;
    const uint32_t d = hp->n_embd;
    memcpy(r->hidden, r->token_embd + (size_t)token * d, d * sizeof(float));
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const ref_layer *l = &r->layers[il];
        rms_norm(r->hidden, l->attn_norm, r->normed, d, hp->rms_eps);
        attention(r, il);
        for (uint32_t i = 0; i < d; i++)
            r->hidden[i] += r->delta[i];

        rms_norm(r->hidden, l->ffn_norm, r->normed, d, hp->rms_eps);
        if (model_layer_is_moe(r->m, il)) {
            ref_routing routing = {.layer = il, .position = r->pos};
            ref_moe_forward(hp, &l->moe, &r->moe_scratch, r->normed, r->delta,
                            &routing);
            if (r->desc.on_routing)
                r->desc.on_routing(&routing, r->desc.user);
        } else {
            ref_mlp_forward(&l->dense, hp->n_ff, d, r->normed, r->delta,
                            r->moe_scratch.gate, r->moe_scratch.up);
        }
        for (uint32_t i = 0; i < d; i++)
            r->hidden[i] += r->delta[i];
    }
    if (logits) {
        rms_norm(r->hidden, r->output_norm, r->normed, d, hp->rms_eps);
        ref_matvec(r->output, r->normed, logits, hp->n_vocab, d);
    }
}

dsvk_status ref_eval(ref *r, const uint32_t *tokens, uint32_t n, float *logits,
                     char *err, size_t err_size)
{
    const uint32_t n_vocab = r->m->hp.n_vocab;
    if (n > r->n_ctx - r->pos) {
        set_error(err, err_size,
                  "context full: %u tokens at position %u exceed the context "
                  "of %u",
                  n, r->pos, r->n_ctx);
        return DSVK_ERROR_CONTEXT_FULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (tokens[i] >= n_vocab) {
            set_error(err, err_size,
                      "token %u (index %u) is outside the vocabulary of %u",
                      tokens[i], i, n_vocab);
            return DSVK_ERROR_INVALID_ARGUMENT;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        eval_token(r, tokens[i], logits ? logits + (size_t)i * n_vocab : NULL);
        r->pos++;
    }
    return DSVK_OK;
}
