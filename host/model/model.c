/* Loading a deepseek2 GGUF: hyperparameters as llama.cpp's deepseek2
 * loader reads them, then every tensor bound and checked against the shape
 * those hyperparameters imply. */
#include "model.h"

#include "dequant.h"
#include "forward/latent_cache.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define KEY(suffix) ("deepseek2." suffix)

/* Upper bounds that keep every size product far from overflow and reject
 * absurd headers before anything is allocated. Real models are well
 * inside them (DeepSeek-V3: 61 layers, 256 experts, d = 7168). */
enum {
    MAX_LAYERS = 1 << 12,
    MAX_DIM = 1 << 20,
    MAX_VOCAB = 1 << 24,
    MAX_EXPERTS = 1 << 14
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

/* Reads a u32 key; `required` keys must exist, optional ones keep *out.
 * Present but not a non-negative integer that fits is an error either
 * way. */
static bool read_u32(const gguf_file *f, const char *key, bool required,
                     uint32_t *out, char *err, size_t err_size)
{
    if (!gguf_find_kv(f, key)) {
        if (required)
            set_error(err, err_size, "missing key '%s'", key);
        return !required;
    }
    if (!gguf_get_u32(f, key, out)) {
        set_error(err, err_size, "key '%s' is not a 32-bit unsigned integer",
                  key);
        return false;
    }
    return true;
}

static bool read_f32(const gguf_file *f, const char *key, bool required,
                     float *out, char *err, size_t err_size)
{
    if (!gguf_find_kv(f, key)) {
        if (required)
            set_error(err, err_size, "missing key '%s'", key);
        return !required;
    }
    if (!gguf_get_f32(f, key, out) || !isfinite(*out)) {
        set_error(err, err_size, "key '%s' is not a finite float", key);
        return false;
    }
    return true;
}

static bool read_bool(const gguf_file *f, const char *key, bool *out, char *err,
                      size_t err_size)
{
    if (gguf_find_kv(f, key) && !gguf_get_bool(f, key, out)) {
        set_error(err, err_size, "key '%s' is not a bool", key);
        return false;
    }
    return true;
}

static bool read_rope_scaling(const gguf_file *f, model_hparams *hp, char *err,
                              size_t err_size)
{
    /* llama.cpp's default when the type is absent is "linear", which with
     * no factor is no scaling at all. */
    hp->rope_scaling = MODEL_ROPE_SCALING_LINEAR;
    gguf_str type;
    if (gguf_find_kv(f, KEY("rope.scaling.type"))) {
        if (!gguf_get_str(f, KEY("rope.scaling.type"), &type)) {
            set_error(err, err_size, "key '%s' is not a string",
                      KEY("rope.scaling.type"));
            return false;
        }
        if (gguf_str_eq(type, "none"))
            hp->rope_scaling = MODEL_ROPE_SCALING_NONE;
        else if (gguf_str_eq(type, "yarn"))
            hp->rope_scaling = MODEL_ROPE_SCALING_YARN;
        else if (!gguf_str_eq(type, "linear")) {
            char name[GGUF_QUOTE_MAX + 4];
            set_error(err, err_size, "rope scaling type '%s' is not supported",
                      gguf_quote(type, name));
            return false;
        }
    }
    hp->rope_factor = 1.0f;
    hp->rope_orig_ctx = hp->n_ctx_train;
    hp->yarn_log_multiplier = 0.0f;
    if (!read_f32(f, KEY("rope.scaling.factor"), false, &hp->rope_factor, err,
                  err_size) ||
        !read_u32(f, KEY("rope.scaling.original_context_length"), false,
                  &hp->rope_orig_ctx, err, err_size) ||
        !read_f32(f, KEY("rope.scaling.yarn_log_multiplier"), false,
                  &hp->yarn_log_multiplier, err, err_size))
        return false;
    if (hp->rope_factor == 0.0f) /* llama.cpp reads 0 as "not set" */
        hp->rope_factor = 1.0f;
    if (hp->rope_factor < 0.0f || hp->rope_orig_ctx == 0) {
        set_error(err, err_size,
                  "bad rope scaling (factor %g, original context %u)",
                  hp->rope_factor, hp->rope_orig_ctx);
        return false;
    }
    return true;
}

/* ggml_rope_yarn_corr_dim: the pair index whose wavelength fits
 * `n_rot` times into the original context. */
static float yarn_corr_dim(uint32_t n_dims, uint32_t n_ctx_orig, float n_rot,
                           float base)
{
    return (float)n_dims *
           logf((float)n_ctx_orig / (n_rot * 2.0f * (float)M_PI)) /
           (2.0f * logf(base));
}

/* Derived values, in float like llama.cpp/ggml compute them. */
static void derive(model_hparams *hp)
{
    const bool scaled = hp->rope_scaling != MODEL_ROPE_SCALING_NONE;
    hp->rope_freq_scale = scaled ? 1.0f / hp->rope_factor : 1.0f;
    hp->rope_ext_factor =
        hp->rope_scaling == MODEL_ROPE_SCALING_YARN ? 1.0f : 0.0f;
    /* YaRN's beta_fast = 32 and beta_slow = 1 (llama.cpp defaults). */
    const uint32_t n = hp->qk_rope_head_dim;
    float lo =
        floorf(yarn_corr_dim(n, hp->rope_orig_ctx, 32.0f, hp->rope_freq_base));
    float hi =
        ceilf(yarn_corr_dim(n, hp->rope_orig_ctx, 1.0f, hp->rope_freq_base));
    hp->yarn_corr_dims[0] = fmaxf(0.0f, lo);
    hp->yarn_corr_dims[1] = fminf((float)n - 1.0f, hi);
    /* llama.cpp scales the attention by mscale^2 and leaves cos/sin
     * unscaled for deepseek2 (DESIGN.md §2). */
    const float mscale =
        1.0f + hp->yarn_log_multiplier * logf(1.0f / hp->rope_freq_scale);
    hp->attn_scale =
        mscale * mscale /
        sqrtf((float)(hp->qk_nope_head_dim + hp->qk_rope_head_dim));
}

/* dn and dv as llama.cpp derives them: files converted for its MLA code
 * carry key_length_mla/value_length_mla (and key_length = r + dr for the
 * latent "head"); older files carry the per-head sizes in key_length and
 * value_length (default n_embd / n_head). */
static bool read_head_dims(const gguf_file *f, model_hparams *hp, char *err,
                           size_t err_size)
{
    uint32_t key_length = hp->n_embd / hp->n_head;
    uint32_t value_length = key_length;
    uint32_t key_length_mla = 0, value_length_mla = 0;
    if (!read_u32(f, KEY("attention.key_length"), false, &key_length, err,
                  err_size) ||
        !read_u32(f, KEY("attention.value_length"), false, &value_length, err,
                  err_size) ||
        !read_u32(f, KEY("attention.key_length_mla"), false, &key_length_mla,
                  err, err_size) ||
        !read_u32(f, KEY("attention.value_length_mla"), false,
                  &value_length_mla, err, err_size))
        return false;
    if (key_length_mla && value_length_mla) {
        key_length = key_length_mla;
        value_length = value_length_mla;
    }
    if (key_length <= hp->qk_rope_head_dim || key_length > MAX_DIM ||
        value_length == 0 || value_length > MAX_DIM) {
        set_error(
            err, err_size,
            "attention key length %u must exceed the rope dimension %u, and "
            "value length %u must be positive (both at most 2^20)",
            key_length, hp->qk_rope_head_dim, value_length);
        return false;
    }
    hp->qk_nope_head_dim = key_length - hp->qk_rope_head_dim;
    hp->v_head_dim = value_length;
    return true;
}

static bool read_moe(const gguf_file *f, model_hparams *hp, char *err,
                     size_t err_size)
{
    uint32_t gating = 0;
    hp->expert_weights_scale = 1.0f; /* absent in V2 files: no scaling */
    if (!read_u32(f, KEY("expert_count"), true, &hp->n_expert, err, err_size) ||
        !read_u32(f, KEY("expert_used_count"), true, &hp->n_expert_used, err,
                  err_size) ||
        !read_u32(f, KEY("expert_feed_forward_length"), true, &hp->n_ff_exp,
                  err, err_size) ||
        !read_u32(f, KEY("expert_shared_count"), false, &hp->n_expert_shared,
                  err, err_size) ||
        !read_f32(f, KEY("expert_weights_scale"), false,
                  &hp->expert_weights_scale, err, err_size) ||
        !read_bool(f, KEY("expert_weights_norm"), &hp->expert_weights_norm, err,
                   err_size) ||
        !read_u32(f, KEY("expert_gating_func"), false, &gating, err,
                  err_size) ||
        !read_u32(f, KEY("expert_group_count"), false, &hp->n_expert_groups,
                  err, err_size) ||
        !read_u32(f, KEY("expert_group_used_count"), false, &hp->n_group_used,
                  err, err_size))
        return false;
    /* 0 (absent) means softmax: DeepSeek-V2 files predate the key. */
    if (gating == 0)
        gating = MODEL_GATING_SOFTMAX;
    if (gating != MODEL_GATING_SOFTMAX && gating != MODEL_GATING_SIGMOID) {
        set_error(err, err_size, "expert gating function %u is not supported",
                  gating);
        return false;
    }
    hp->gating = (model_gating)gating;
    if (hp->n_expert == 0 || hp->n_expert > MAX_EXPERTS ||
        hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert ||
        hp->n_ff_exp == 0 || hp->n_ff_exp > MAX_DIM ||
        hp->n_expert_shared > MAX_EXPERTS) {
        set_error(err, err_size,
                  "bad experts: %u routed, %u used, %u shared, width %u",
                  hp->n_expert, hp->n_expert_used, hp->n_expert_shared,
                  hp->n_ff_exp);
        return false;
    }
    if (hp->n_expert_groups > 1) {
        const uint32_t per_group = hp->n_expert / hp->n_expert_groups;
        if (hp->n_expert % hp->n_expert_groups || hp->n_group_used == 0 ||
            hp->n_group_used > hp->n_expert_groups ||
            hp->n_expert_used > hp->n_group_used * per_group) {
            set_error(err, err_size,
                      "bad expert groups: %u experts in %u groups, %u groups "
                      "used, %u experts used",
                      hp->n_expert, hp->n_expert_groups, hp->n_group_used,
                      hp->n_expert_used);
            return false;
        }
    }
    return true;
}

static bool read_hparams(const gguf_file *f, model_hparams *hp, char *err,
                         size_t err_size)
{
    hp->rms_eps = 1e-6f;
    hp->rope_freq_base = 10000.0f;
    if (!read_u32(f, KEY("block_count"), true, &hp->n_layer, err, err_size) ||
        !read_u32(f, KEY("context_length"), true, &hp->n_ctx_train, err,
                  err_size) ||
        !read_u32(f, KEY("embedding_length"), true, &hp->n_embd, err,
                  err_size) ||
        !read_u32(f, KEY("attention.head_count"), true, &hp->n_head, err,
                  err_size) ||
        !read_u32(f, KEY("attention.kv_lora_rank"), true, &hp->kv_lora_rank,
                  err, err_size) ||
        !read_u32(f, KEY("attention.q_lora_rank"), false, &hp->q_lora_rank, err,
                  err_size) ||
        !read_u32(f, KEY("rope.dimension_count"), true, &hp->qk_rope_head_dim,
                  err, err_size) ||
        !read_u32(f, KEY("leading_dense_block_count"), false,
                  &hp->n_layer_dense_lead, err, err_size) ||
        !read_f32(f, KEY("attention.layer_norm_rms_epsilon"), true,
                  &hp->rms_eps, err, err_size) ||
        !read_f32(f, KEY("rope.freq_base"), false, &hp->rope_freq_base, err,
                  err_size))
        return false;
    const uint32_t dims[] = {hp->n_embd, hp->n_head, hp->kv_lora_rank,
                             hp->qk_rope_head_dim, hp->n_ctx_train};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        if (dims[i] == 0 || dims[i] > MAX_DIM) {
            set_error(err, err_size,
                      "bad dimensions: n_embd %u, heads %u, kv_lora_rank %u, "
                      "rope dimension %u, context %u",
                      hp->n_embd, hp->n_head, hp->kv_lora_rank,
                      hp->qk_rope_head_dim, hp->n_ctx_train);
            return false;
        }
    }
    if (hp->n_layer == 0 || hp->n_layer > MAX_LAYERS ||
        hp->n_layer_dense_lead > hp->n_layer || hp->q_lora_rank > MAX_DIM ||
        hp->qk_rope_head_dim % 2 || hp->rms_eps < 0.0f ||
        hp->rope_freq_base <= 1.0f) {
        set_error(err, err_size,
                  "bad hyperparameters: %u layers (%u dense), q_lora_rank %u, "
                  "rope dimension %u (must be even), rms eps %g, rope base %g",
                  hp->n_layer, hp->n_layer_dense_lead, hp->q_lora_rank,
                  hp->qk_rope_head_dim, hp->rms_eps, hp->rope_freq_base);
        return false;
    }
    if (hp->n_layer_dense_lead > 0) {
        if (!read_u32(f, KEY("feed_forward_length"), true, &hp->n_ff, err,
                      err_size))
            return false;
        if (hp->n_ff == 0 || hp->n_ff > MAX_DIM) {
            set_error(err, err_size, "bad feed_forward_length %u", hp->n_ff);
            return false;
        }
    }
    if (hp->n_layer_dense_lead < hp->n_layer && !read_moe(f, hp, err, err_size))
        return false;
    return read_head_dims(f, hp, err, err_size) &&
           read_rope_scaling(f, hp, err, err_size);
}

/* Binds tensors of one block (or the globals, layer < 0) and checks them. */
typedef struct binder {
    const gguf_file *file;
    int layer;
    uint64_t n_params;
    char *err;
    size_t err_size;
} binder;

static void format_shape(char *out, size_t size, const uint64_t ne[4],
                         int n_dims)
{
    size_t used = 0;
    for (int i = 0; i < n_dims && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%" PRIu64,
                                 i ? ", " : "[", ne[i]);
    if (used < size)
        snprintf(out + used, size - used, "]");
}

/* Finds `suffix` ("attn_q.weight") and checks its shape against ne0..ne2
 * (trailing 1s optional) and that its type can be decoded. */
static bool bind(binder *b, const gguf_tensor **slot, const char *suffix,
                 bool required, uint64_t ne0, uint64_t ne1, uint64_t ne2)
{
    char name[96];
    if (b->layer < 0)
        snprintf(name, sizeof name, "%s", suffix);
    else
        snprintf(name, sizeof name, "blk.%d.%s", b->layer, suffix);
    const gguf_tensor *t = gguf_find_tensor(b->file, name);
    *slot = t;
    if (!t) {
        if (required)
            set_error(b->err, b->err_size, "missing tensor '%s'", name);
        return !required;
    }
    const uint64_t want[4] = {ne0, ne1, ne2, 1};
    bool same = true;
    for (int i = 0; i < 4; i++)
        same = same && t->ne[i] == want[i];
    if (!same) {
        int want_dims = ne2 > 1 ? 3 : ne1 > 1 ? 2 : 1;
        int have_dims = 1;
        for (int i = 1; i < 4; i++)
            if (t->ne[i] != 1)
                have_dims = i + 1;
        char have_s[96], want_s[96];
        format_shape(have_s, sizeof have_s, t->ne, have_dims);
        format_shape(want_s, sizeof want_s, want, want_dims);
        set_error(b->err, b->err_size, "tensor '%s' has shape %s, expected %s",
                  name, have_s, want_s);
        return false;
    }
    if (!dequant_supports(t->type) || gguf_row_bytes(t->type, ne0) == 0) {
        set_error(
            b->err, b->err_size,
            "tensor '%s' has type %s (%u), which dsvk cannot decode for rows "
            "of %" PRIu64,
            name, gguf_type_name(t->type), t->type, ne0);
        return false;
    }
    b->n_params += t->n_elements;
    return true;
}

/* Attention tensors of one block; the layout was chosen from block 0. */
static bool bind_attention(binder *b, const model *m, model_layer *l)
{
    const model_hparams *hp = &m->hp;
    const uint64_t d = hp->n_embd, H = hp->n_head, r = hp->kv_lora_rank;
    const uint64_t dn = hp->qk_nope_head_dim, dr = hp->qk_rope_head_dim;
    const uint64_t dv = hp->v_head_dim, rq = hp->q_lora_rank;
    bool ok =
        bind(b, &l->attn_norm, "attn_norm.weight", true, d, 1, 1) &&
        bind(b, &l->attn_kv_a_mqa, "attn_kv_a_mqa.weight", true, d, r + dr,
             1) &&
        bind(b, &l->attn_kv_a_norm, "attn_kv_a_norm.weight", true, r, 1, 1) &&
        bind(b, &l->attn_output, "attn_output.weight", true, H * dv, d, 1);
    if (ok && rq)
        ok = bind(b, &l->attn_q_a, "attn_q_a.weight", true, d, rq, 1) &&
             bind(b, &l->attn_q_a_norm, "attn_q_a_norm.weight", true, rq, 1,
                  1) &&
             bind(b, &l->attn_q_b, "attn_q_b.weight", true, rq, H * (dn + dr),
                  1);
    else if (ok)
        ok = bind(b, &l->attn_q, "attn_q.weight", true, d, H * (dn + dr), 1);
    if (ok && m->kv_layout == MODEL_KV_SPLIT)
        ok = bind(b, &l->attn_k_b, "attn_k_b.weight", true, dn, r, H) &&
             bind(b, &l->attn_v_b, "attn_v_b.weight", true, r, dv, H);
    else if (ok)
        ok = bind(b, &l->attn_kv_b, "attn_kv_b.weight", true, r, H * (dn + dv),
                  1);
    return ok;
}

static bool bind_feed_forward(binder *b, const model *m, uint32_t index,
                              model_layer *l)
{
    const model_hparams *hp = &m->hp;
    const uint64_t d = hp->n_embd;
    if (!bind(b, &l->ffn_norm, "ffn_norm.weight", true, d, 1, 1))
        return false;
    if (!model_layer_is_moe(m, index))
        return bind(b, &l->ffn_gate, "ffn_gate.weight", true, d, hp->n_ff, 1) &&
               bind(b, &l->ffn_up, "ffn_up.weight", true, d, hp->n_ff, 1) &&
               bind(b, &l->ffn_down, "ffn_down.weight", true, hp->n_ff, d, 1);
    const uint64_t E = hp->n_expert, ff = hp->n_ff_exp;
    const uint64_t ff_shared = ff * hp->n_expert_shared;
    const bool shared = hp->n_expert_shared > 0;
    return bind(b, &l->ffn_gate_inp, "ffn_gate_inp.weight", true, d, E, 1) &&
           bind(b, &l->exp_probs_b, "exp_probs_b.bias", false, E, 1, 1) &&
           bind(b, &l->ffn_gate_exps, "ffn_gate_exps.weight", true, d, ff, E) &&
           bind(b, &l->ffn_up_exps, "ffn_up_exps.weight", true, d, ff, E) &&
           bind(b, &l->ffn_down_exps, "ffn_down_exps.weight", true, ff, d, E) &&
           bind(b, &l->ffn_gate_shexp, "ffn_gate_shexp.weight", shared, d,
                ff_shared, 1) &&
           bind(b, &l->ffn_up_shexp, "ffn_up_shexp.weight", shared, d,
                ff_shared, 1) &&
           bind(b, &l->ffn_down_shexp, "ffn_down_shexp.weight", shared,
                ff_shared, d, 1);
}

static bool bind_all(model *m, char *err, size_t err_size)
{
    const model_hparams *hp = &m->hp;
    binder b = {m->file, -1, 0, err, err_size};
    const gguf_tensor *embd = gguf_find_tensor(m->file, "token_embd.weight");
    /* vocab_size is optional; without it the embedding's rows count. */
    if (embd && m->hp.n_vocab == 0 && embd->ne[1] <= MAX_VOCAB)
        m->hp.n_vocab = (uint32_t)embd->ne[1];
    if (hp->n_vocab == 0 || hp->n_vocab > MAX_VOCAB) {
        set_error(err, err_size, "bad vocabulary size %u", hp->n_vocab);
        return false;
    }
    if (!bind(&b, &m->token_embd, "token_embd.weight", true, hp->n_embd,
              hp->n_vocab, 1) ||
        !bind(&b, &m->output_norm, "output_norm.weight", true, hp->n_embd, 1,
              1) ||
        !bind(&b, &m->output, "output.weight", false, hp->n_embd, hp->n_vocab,
              1))
        return false;
    m->output_tied = m->output == NULL;
    if (m->output_tied)
        m->output = m->token_embd;

    /* Both W_UK/W_UV layouts exist in the wild; block 0 decides. */
    m->kv_layout = gguf_find_tensor(m->file, "blk.0.attn_kv_b.weight") &&
                           !gguf_find_tensor(m->file, "blk.0.attn_k_b.weight")
                       ? MODEL_KV_LEGACY
                       : MODEL_KV_SPLIT;
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        b.layer = (int)i;
        if (!bind_attention(&b, m, &m->layers[i]) ||
            !bind_feed_forward(&b, m, i, &m->layers[i]))
            return false;
    }
    m->stats.n_params = b.n_params;
    return true;
}

static void compute_stats(model *m)
{
    const model_hparams *hp = &m->hp;
    uint64_t idle = 0; /* routed expert weights a token does not touch */
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        const model_layer *l = &m->layers[i];
        if (!model_layer_is_moe(m, i))
            continue;
        uint64_t experts = l->ffn_gate_exps->n_elements +
                           l->ffn_up_exps->n_elements +
                           l->ffn_down_exps->n_elements;
        idle += experts / hp->n_expert * (hp->n_expert - hp->n_expert_used);
    }
    m->stats.n_params_active = m->stats.n_params - idle;
    const uint64_t f16 = 2, L = hp->n_layer, H = hp->n_head;
    m->stats.latent_cache_bytes_per_token =
        model_latent_bytes_per_token(hp, DSVK_CACHE_F16);
    m->stats.mha_cache_bytes_per_token =
        L *
        (H * (hp->qk_nope_head_dim + hp->qk_rope_head_dim) +
         H * hp->v_head_dim) *
        f16;
}

bool model_layer_is_moe(const model *m, uint32_t layer)
{
    return layer >= m->hp.n_layer_dense_lead;
}

dsvk_status model_read_hparams(const gguf_file *file, model_hparams *hp,
                               char *err, size_t err_size)
{
    *hp = (model_hparams){0};
    gguf_str arch;
    if (!gguf_get_str(file, "general.architecture", &arch)) {
        set_error(err, err_size, "missing key 'general.architecture'");
        return DSVK_ERROR_BAD_MODEL;
    }
    if (!gguf_str_eq(arch, "deepseek2")) {
        char name[GGUF_QUOTE_MAX + 4];
        set_error(err, err_size,
                  "architecture '%s' is not supported (dsvk runs deepseek2 "
                  "models)",
                  gguf_quote(arch, name));
        return DSVK_ERROR_BAD_MODEL;
    }
    if (!read_hparams(file, hp, err, err_size) ||
        !read_u32(file, KEY("vocab_size"), false, &hp->n_vocab, err, err_size))
        return DSVK_ERROR_BAD_MODEL;
    derive(hp);
    return DSVK_OK;
}

dsvk_status model_load(const gguf_file *file, model **out, char *err,
                       size_t err_size)
{
    *out = NULL;
    model_hparams hp;
    dsvk_status status = model_read_hparams(file, &hp, err, err_size);
    if (status != DSVK_OK)
        return status;

    model *m = calloc(1, sizeof *m);
    if (!m) {
        set_error(err, err_size, "out of memory loading the model");
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    m->file = file;
    m->hp = hp;
    m->layers = calloc(m->hp.n_layer, sizeof *m->layers);
    if (!m->layers) {
        model_free(m);
        set_error(err, err_size, "out of memory loading the model");
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    if (!bind_all(m, err, err_size)) {
        model_free(m);
        return DSVK_ERROR_BAD_MODEL;
    }
    compute_stats(m);
    *out = m;
    return DSVK_OK;
}

void model_free(model *m)
{
    if (!m)
        return;
    free(m->layers);
    free(m);
}

uint64_t model_latent_bytes_per_token(const model_hparams *hp,
                                      dsvk_cache_type type)
{
    if (!latent_row_supported(type, hp->kv_lora_rank) ||
        !latent_row_supported(type, hp->qk_rope_head_dim))
        return 0;
    return (uint64_t)hp->n_layer *
           (latent_row_bytes(type, hp->kv_lora_rank) +
            latent_row_bytes(type, hp->qk_rope_head_dim));
}
