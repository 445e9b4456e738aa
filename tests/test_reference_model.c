/* model_load on every fixture (hyperparameters against the generator's
 * config in <model>.gguf.json), its errors on damaged copies of tiny-v2,
 * and the reference's context and vocabulary checks. */
#include "gguf/gguf.h"
#include "model/model.h"
#include "reference/reference.h"
#include "testlib.h"
#include "testlib_fixture.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double config_number(const cJSON *config, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, key);
    CHECK(cJSON_IsNumber(v) || cJSON_IsBool(v), "config has no '%s'", key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : v ? v->valuedouble : NAN;
}

static bool config_is(const cJSON *config, const char *key, const char *s)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, key);
    return cJSON_IsString(v) && strcmp(v->valuestring, s) == 0;
}

/* Every hyperparameter the generator chose, as model_load read it. */
static void check_hparams(const char *name, const model *m, const cJSON *json)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(json, "config");
    const model_hparams *hp = &m->hp;
    const struct {
        const char *key;
        double have;
    } fields[] = {
        {"n_vocab", hp->n_vocab},
        {"n_ctx_train", hp->n_ctx_train},
        {"n_embd", hp->n_embd},
        {"n_layer", hp->n_layer},
        {"n_layer_dense_lead", hp->n_layer_dense_lead},
        {"n_ff", hp->n_ff},
        {"n_expert", hp->n_expert},
        {"n_expert_used", hp->n_expert_used},
        {"n_expert_shared", hp->n_expert_shared},
        {"n_ff_exp", hp->n_ff_exp},
        {"n_head", hp->n_head},
        {"q_lora_rank", hp->q_lora_rank},
        {"kv_lora_rank", hp->kv_lora_rank},
        {"qk_nope_head_dim", hp->qk_nope_head_dim},
        {"qk_rope_head_dim", hp->qk_rope_head_dim},
        {"v_head_dim", hp->v_head_dim},
        {"expert_weights_norm", hp->expert_weights_norm},
        {"expert_weights_scale", hp->expert_weights_scale},
        {"n_expert_groups", hp->n_expert_groups},
        {"n_group_used", hp->n_group_used},
        {"rms_eps", hp->rms_eps},
        {"rope_freq_base", hp->rope_freq_base},
        {"rope_factor", hp->rope_factor},
        {"rope_orig_ctx", hp->rope_orig_ctx},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        double want = config_number(c, fields[i].key);
        CHECK(fabs(fields[i].have - want) <= 1e-6 * fabs(want),
              "%s: %s = %g, "
              "config %g",
              name, fields[i].key, fields[i].have, want);
    }
    const bool sigmoid = config_is(c, "gating", "sigmoid");
    CHECK(hp->gating == (sigmoid ? MODEL_GATING_SIGMOID : MODEL_GATING_SOFTMAX),
          "%s: gating %d", name, hp->gating);
    CHECK(hp->rope_scaling == MODEL_ROPE_SCALING_YARN, "%s: rope scaling %d",
          name, hp->rope_scaling);
    const bool legacy = !config_is(c, "layout", "mla");
    CHECK(m->kv_layout == (legacy ? MODEL_KV_LEGACY : MODEL_KV_SPLIT),
          "%s: layout %d", name, m->kv_layout);
    const bool bias = config_number(c, "exp_probs_b") != 0;
    CHECK((m->layers[hp->n_layer - 1].exp_probs_b != NULL) == bias,
          "%s: exp_probs_b bound %d, config %d", name,
          m->layers[hp->n_layer - 1].exp_probs_b != NULL, bias);
    CHECK(!m->output_tied, "%s: output tied", name);

    /* scale = mscale^2 / sqrt(dn + dr), mscale = 0.1 mscale_all_dim
     * ln(factor) + 1 (DESIGN.md §2). */
    double mscale = 0.1 * config_number(c, "rope_mscale_all_dim") *
                        log(config_number(c, "rope_factor")) +
                    1.0;
    double scale =
        mscale * mscale / sqrt(hp->qk_nope_head_dim + hp->qk_rope_head_dim);
    CHECK(fabs(hp->attn_scale - scale) < 1e-6,
          "%s: attention scale %.7f, "
          "expected %.7f",
          name, hp->attn_scale, scale);

    /* Quantized fixtures record it for their f32 source. */
    const cJSON *source = cJSON_GetObjectItemCaseSensitive(json, "source");
    double n_params = config_number(source ? source : json, "n_params");
    CHECK(m->stats.n_params == n_params, "%s: %llu parameters, file has %g",
          name, (unsigned long long)m->stats.n_params, n_params);
}

static void check_fixture_models(void)
{
    fixture_name names[32];
    size_t n = fixture_list(names, 32);
    CHECK(n > 0, "no model fixtures");
    for (size_t i = 0; i < n && i < 32; i++) {
        char rel[128], err[256];
        snprintf(rel, sizeof rel, "models/%s.gguf.json", names[i].name);
        char *text = test_read_file(test_fixture(rel), NULL);
        cJSON *json = text ? cJSON_Parse(text) : NULL;
        free(text);
        snprintf(rel, sizeof rel, "models/%s.gguf", names[i].name);
        gguf_file *f = NULL;
        model *m = NULL;
        CHECK(json, "%s: cannot read %s", names[i].name, rel);
        CHECK(gguf_open(test_fixture(rel), &f, err, sizeof err) == DSVK_OK,
              "%s", err);
        if (f)
            CHECK(model_load(f, &m, err, sizeof err) == DSVK_OK, "%s: %s",
                  names[i].name, err);
        if (m && json)
            check_hparams(names[i].name, m, json);
        model_free(m);
        gguf_close(f);
        cJSON_Delete(json);
    }
}

/* tiny-v2 by hand: the derived numbers of DESIGN.md §2 and model.h. */
static void check_tiny_v2_numbers(const model *m)
{
    const model_hparams *hp = &m->hp;
    /* YaRN ramp for dr 8, original context 64, base 10000: corr dims
     * floor(8 ln(64/(32 2pi)) / (2 ln 1e4)) = floor(-0.50) -> 0 and
     * ceil(8 ln(64/(2pi)) / (2 ln 1e4)) = ceil(1.01) = 2. */
    CHECK(hp->yarn_corr_dims[0] == 0.0f && hp->yarn_corr_dims[1] == 2.0f,
          "corr dims %g %g", hp->yarn_corr_dims[0], hp->yarn_corr_dims[1]);
    CHECK(hp->rope_freq_scale == 0.25f && hp->rope_ext_factor == 1.0f,
          "freq scale %g ext %g", hp->rope_freq_scale, hp->rope_ext_factor);
    /* 3 layers x (r 32 + dr 8) x 2 bytes; MHA: 3 x (4 x 24 + 4 x 16) x 2. */
    CHECK(m->stats.latent_cache_bytes_per_token == 240,
          "latent cache %llu B/token",
          (unsigned long long)m->stats.latent_cache_bytes_per_token);
    CHECK(m->stats.mha_cache_bytes_per_token == 960, "MHA cache %llu B/token",
          (unsigned long long)m->stats.mha_cache_bytes_per_token);
    /* 2 MoE layers of 8 experts x 3 x 64 x 32 weights, 6 of 8 idle. */
    CHECK(m->stats.n_params - m->stats.n_params_active == 2 * 6 * 3 * 64 * 32,
          "active %llu of %llu", (unsigned long long)m->stats.n_params_active,
          (unsigned long long)m->stats.n_params);
}

/* Position of a length-prefixed GGUF string in the file bytes. */
static uint8_t *find_gguf_string(uint8_t *bytes, size_t size, const char *s)
{
    uint8_t pattern[128];
    uint64_t len = strlen(s);
    memcpy(pattern, &len, 8); /* GGUF is little-endian, as is the host */
    memcpy(pattern + 8, s, len);
    for (size_t i = 0; i + 8 + len <= size; i++)
        if (memcmp(bytes + i, pattern, 8 + len) == 0)
            return bytes + i + 8;
    return NULL;
}

/* Loads a damaged copy of tiny-v2; expects `status` and `message` in the
 * error line. */
static void expect_load_error(const uint8_t *bytes, size_t size,
                              dsvk_status status, const char *message)
{
    gguf_file *f = NULL;
    model *m = NULL;
    char err[256] = "";
    CHECK(gguf_open_memory(bytes, size, &f, err, sizeof err) == DSVK_OK,
          "damaged copy no longer opens: %s", err);
    if (!f)
        return;
    dsvk_status st = model_load(f, &m, err, sizeof err);
    CHECK(st == status && !m, "status %d, expected %d", st, status);
    CHECK(strstr(err, message), "error '%s', expected '%s'", err, message);
    model_free(m);
    gguf_close(f);
}

static void check_load_errors(const uint8_t *clean, size_t size)
{
    uint8_t *b = malloc(size);
    if (!b) {
        CHECK(false, "out of memory");
        return;
    }
    uint8_t *p;

    memcpy(b, clean, size);
    p = find_gguf_string(b, size, "deepseek2");
    CHECK(p, "no architecture string");
    if (p) {
        p[8] = '3';
        expect_load_error(b, size, DSVK_ERROR_BAD_MODEL,
                          "architecture 'deepseek3' is not supported");
    }

    memcpy(b, clean, size);
    p = find_gguf_string(b, size, "blk.1.ffn_up_exps.weight");
    CHECK(p, "no ffn_up_exps");
    if (p) {
        p[23] = 'x';
        expect_load_error(b, size, DSVK_ERROR_BAD_MODEL,
                          "missing tensor 'blk.1.ffn_up_exps.weight'");
    }

    memcpy(b, clean, size);
    p = find_gguf_string(b, size, "deepseek2.attention.kv_lora_rank");
    CHECK(p, "no kv_lora_rank key");
    if (p) {
        p[31] = 'q';
        expect_load_error(b, size, DSVK_ERROR_BAD_MODEL,
                          "missing key 'deepseek2.attention.kv_lora_rank'");
    }

    /* Tensor info after the name: u32 n_dims, u64 ne[n_dims], u32 type. */
    memcpy(b, clean, size);
    p = find_gguf_string(b, size, "blk.0.attn_q.weight");
    CHECK(p, "no attn_q");
    if (p) {
        uint64_t ne1 = 72; /* 96 -> 72: smaller, so the data stays in bounds */
        memcpy(p + 19 + 4 + 8, &ne1, 8);
        expect_load_error(b, size, DSVK_ERROR_BAD_MODEL,
                          "tensor 'blk.0.attn_q.weight' has shape [64, 72], "
                          "expected [64, 96]");
    }

    memcpy(b, clean, size);
    p = find_gguf_string(b, size, "blk.0.attn_kv_a_mqa.weight");
    CHECK(p, "no attn_kv_a_mqa");
    if (p) {
        uint32_t iq4_nl = 20; /* a real ggml type dsvk does not decode */
        memcpy(p + 26 + 4 + 2 * 8, &iq4_nl, 4);
        expect_load_error(b, size, DSVK_ERROR_BAD_MODEL,
                          "'blk.0.attn_kv_a_mqa.weight' has type IQ4_NL");
    }
    free(b);
}

/* Without output.weight the head is tied to token_embd. */
static void check_tied_output(const uint8_t *clean, size_t size)
{
    uint8_t *b = malloc(size);
    if (!b)
        return;
    memcpy(b, clean, size);
    uint8_t *p = find_gguf_string(b, size, "output.weight");
    gguf_file *f = NULL;
    model *m = NULL;
    char err[256] = "";
    if (p) {
        p[0] = 'O';
        if (gguf_open_memory(b, size, &f, err, sizeof err) == DSVK_OK)
            CHECK(model_load(f, &m, err, sizeof err) == DSVK_OK, "%s", err);
    }
    CHECK(m && m->output_tied && m->output == m->token_embd,
          "output not tied to token_embd: %s", err);
    model_free(m);
    gguf_close(f);
    free(b);
}

static void check_reference_limits(const model *m)
{
    ref *r = NULL;
    char err[256];
    ref_desc desc = {.n_ctx = 8};
    CHECK(ref_create(m, &desc, &r, err, sizeof err) == DSVK_OK, "%s", err);
    if (!r)
        return;
    const uint32_t tokens[8] = {0, 5, 9, 200, 7, 3, 3, 511};
    float *logits = malloc(8 * sizeof(float) * m->hp.n_vocab);
    CHECK(ref_eval(r, tokens, 5, logits, err, sizeof err) == DSVK_OK, "%s",
          err);
    CHECK(ref_eval(r, tokens, 4, logits, err, sizeof err) ==
              DSVK_ERROR_CONTEXT_FULL,
          "overfilling the context was accepted");
    CHECK(strstr(err, "context full"), "error '%s'", err);
    const uint32_t bad = 512;
    CHECK(ref_eval(r, &bad, 1, logits, err, sizeof err) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "token 512 accepted for a vocabulary of 512");
    CHECK(ref_position(r) == 5, "position %u after failed calls",
          ref_position(r));
    ref_reset(r);
    CHECK(ref_eval(r, tokens, 8, NULL, err, sizeof err) == DSVK_OK, "%s", err);
    CHECK(ref_position(r) == 8, "position %u", ref_position(r));
    free(logits);
    ref_destroy(r);
}

/* tiny-v2 and tiny-v2-legacy hold the same f32 weights in the two W_UK/W_UV
 * layouts: the reference must give the same logits for both. */
static void check_layouts_agree(const model *split)
{
    char err[256];
    gguf_file *f = NULL;
    model *legacy = NULL;
    CHECK(gguf_open(test_fixture("models/tiny-v2-legacy.gguf"), &f, err,
                    sizeof err) == DSVK_OK,
          "%s", err);
    if (f)
        CHECK(model_load(f, &legacy, err, sizeof err) == DSVK_OK, "%s", err);
    if (!legacy) {
        gguf_close(f);
        return;
    }
    const uint32_t tokens[6] = {0, 17, 300, 42, 42, 9};
    const uint32_t V = split->hp.n_vocab;
    float *a = malloc(6 * sizeof(float) * V);
    float *b = malloc(6 * sizeof(float) * V);
    ref *ra = NULL, *rb = NULL;
    ref_desc desc = {.n_ctx = 6};
    if (a && b && ref_create(split, &desc, &ra, err, sizeof err) == DSVK_OK &&
        ref_create(legacy, &desc, &rb, err, sizeof err) == DSVK_OK) {
        CHECK(ref_eval(ra, tokens, 6, a, err, sizeof err) == DSVK_OK, "%s",
              err);
        CHECK(ref_eval(rb, tokens, 6, b, err, sizeof err) == DSVK_OK, "%s",
              err);
        double diff = test_max_abs_diff(a, b, (size_t)6 * V);
        CHECK(diff == 0.0, "split and legacy layouts differ by %g", diff);
    } else {
        CHECK(false, "cannot evaluate both layouts: %s", err);
    }
    ref_destroy(ra);
    ref_destroy(rb);
    free(a);
    free(b);
    model_free(legacy);
    gguf_close(f);
}

int main(void)
{
    check_fixture_models();

    size_t size = 0;
    uint8_t *clean =
        (uint8_t *)test_read_file(test_fixture("models/tiny-v2.gguf"), &size);
    CHECK(clean, "cannot read tiny-v2.gguf");
    gguf_file *f = NULL;
    model *m = NULL;
    char err[256];
    if (clean && gguf_open_memory(clean, size, &f, err, sizeof err) == DSVK_OK)
        CHECK(model_load(f, &m, err, sizeof err) == DSVK_OK, "%s", err);
    CHECK(m, "tiny-v2 does not load");
    if (m) {
        check_tiny_v2_numbers(m);
        check_load_errors(clean, size);
        check_tied_output(clean, size);
        check_reference_limits(m);
        check_layouts_agree(m);
    }
    model_free(m);
    gguf_close(f);
    free(clean);
    return test_finish("reference_model");
}
