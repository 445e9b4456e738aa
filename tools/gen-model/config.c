/* Presets and the shape checks every generated model must pass. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Ids 0 and 1 are BOS and EOS, then one token per byte (tokenizer.c). */
#define MIN_VOCAB 258

typedef struct preset {
    const char *name;
    model_config cfg;
} preset;

static const preset presets[] = {
    /* The shape of tests/fixtures/models/tiny-v2.gguf: V2-Lite in
     * miniature. */
    {"tiny",
     {.name = "tiny",
      .n_vocab = 512,
      .n_embd = 64,
      .n_layer = 3,
      .n_layer_dense_lead = 1,
      .n_ff = 128,
      .n_expert = 8,
      .n_expert_used = 2,
      .n_expert_shared = 2,
      .n_ff_exp = 32,
      .n_head = 4,
      .q_lora_rank = 0,
      .kv_lora_rank = 32,
      .qk_nope_head_dim = 16,
      .qk_rope_head_dim = 8,
      .v_head_dim = 16,
      .gating = GATING_SOFTMAX,
      .expert_weights_scale = 1.0f,
      .rms_eps = 1e-6f,
      .rope_freq_base = 10000.0f,
      .yarn_factor = 4.0f,
      .yarn_original_context = 64,
      .yarn_mscale_all_dim = 0.707,
      .context_length = 256}},
    /* tests/fixtures/models/tiny-v3.gguf's shape: query compression,
     * sigmoid gating with a choice bias, 4 groups keeping 2. */
    {"tiny-v3",
     {.name = "tiny-v3",
      .n_vocab = 512,
      .n_embd = 64,
      .n_layer = 3,
      .n_layer_dense_lead = 1,
      .n_ff = 128,
      .n_expert = 16,
      .n_expert_used = 4,
      .n_expert_shared = 1,
      .n_ff_exp = 32,
      .n_head = 4,
      .q_lora_rank = 24,
      .kv_lora_rank = 32,
      .qk_nope_head_dim = 16,
      .qk_rope_head_dim = 8,
      .v_head_dim = 16,
      .gating = GATING_SIGMOID,
      .exp_probs_b = true,
      .expert_weights_norm = true,
      .expert_weights_scale = 2.5f,
      .expert_group_count = 4,
      .expert_group_used_count = 2,
      .rms_eps = 1e-6f,
      .rope_freq_base = 10000.0f,
      .yarn_factor = 4.0f,
      .yarn_original_context = 64,
      .yarn_mscale_all_dim = 1.0,
      .context_length = 256}},
    /* tests/fixtures/models/tiny-v2-q4_0.gguf's and tiny-v2-q4_k_m.gguf's
     * shape: tiny-v2 with every row length a multiple of 256 except
     * attn_k_b's (dn = 32), so K-quants apply almost everywhere. */
    {"tiny-v2-k",
     {.name = "tiny-v2-k",
      .n_vocab = 512,
      .n_embd = 256,
      .n_layer = 3,
      .n_layer_dense_lead = 1,
      .n_ff = 512,
      .n_expert = 8,
      .n_expert_used = 2,
      .n_expert_shared = 1,
      .n_ff_exp = 256,
      .n_head = 4,
      .q_lora_rank = 0,
      .kv_lora_rank = 256,
      .qk_nope_head_dim = 32,
      .qk_rope_head_dim = 16,
      .v_head_dim = 64,
      .gating = GATING_SOFTMAX,
      .expert_weights_scale = 1.0f,
      .rms_eps = 1e-6f,
      .rope_freq_base = 10000.0f,
      .yarn_factor = 4.0f,
      .yarn_original_context = 64,
      .yarn_mscale_all_dim = 0.707,
      .context_length = 256}},
    /* tests/fixtures/models/tiny-v3-q6_k.gguf's shape: tiny-v3's routing
     * with K-quant-friendly widths. */
    {"tiny-v3-k",
     {.name = "tiny-v3-k",
      .n_vocab = 512,
      .n_embd = 256,
      .n_layer = 2,
      .n_layer_dense_lead = 1,
      .n_ff = 256,
      .n_expert = 12,
      .n_expert_used = 4,
      .n_expert_shared = 1,
      .n_ff_exp = 256,
      .n_head = 4,
      .q_lora_rank = 256,
      .kv_lora_rank = 256,
      .qk_nope_head_dim = 32,
      .qk_rope_head_dim = 32,
      .v_head_dim = 64,
      .gating = GATING_SIGMOID,
      .exp_probs_b = true,
      .expert_weights_norm = true,
      .expert_weights_scale = 2.5f,
      .expert_group_count = 4,
      .expert_group_used_count = 2,
      .rms_eps = 1e-6f,
      .rope_freq_base = 10000.0f,
      .yarn_factor = 4.0f,
      .yarn_original_context = 64,
      .yarn_mscale_all_dim = 1.0,
      .context_length = 256}},
    /* DeepSeek-V2-Lite's widths and attention geometry (kv_lora 512, heads
     * 128/64/128) with 2 layers, 16 experts and a small vocabulary:
     * about 284M parameters. */
    {"v2-lite-like",
     {.name = "v2-lite-like",
      .n_vocab = 8192,
      .n_embd = 2048,
      .n_layer = 2,
      .n_layer_dense_lead = 1,
      .n_ff = 10944,
      .n_expert = 16,
      .n_expert_used = 6,
      .n_expert_shared = 2,
      .n_ff_exp = 1408,
      .n_head = 16,
      .q_lora_rank = 0,
      .kv_lora_rank = 512,
      .qk_nope_head_dim = 128,
      .qk_rope_head_dim = 64,
      .v_head_dim = 128,
      .gating = GATING_SOFTMAX,
      .expert_weights_scale = 1.0f,
      .rms_eps = 1e-6f,
      .rope_freq_base = 10000.0f,
      .yarn_factor = 40.0f,
      .yarn_original_context = 4096,
      .yarn_mscale_all_dim = 0.707,
      .context_length = 163840}},
    /* DeepSeek-V3's attention geometry and routing (sigmoid + bias, 8
     * groups keeping 4, top-8, weights normalised x 2.5) at n_embd 1024
     * with 64 experts: about 214M parameters. */
    {"v3-like",
     {.name = "v3-like",
      .n_vocab = 16384,
      .n_embd = 1024,
      .n_layer = 4,
      .n_layer_dense_lead = 1,
      .n_ff = 2816,
      .n_expert = 64,
      .n_expert_used = 8,
      .n_expert_shared = 1,
      .n_ff_exp = 256,
      .n_head = 8,
      .q_lora_rank = 768,
      .kv_lora_rank = 512,
      .qk_nope_head_dim = 128,
      .qk_rope_head_dim = 64,
      .v_head_dim = 128,
      .gating = GATING_SIGMOID,
      .exp_probs_b = true,
      .expert_weights_norm = true,
      .expert_weights_scale = 2.5f,
      .expert_group_count = 8,
      .expert_group_used_count = 4,
      .rms_eps = 1e-6f,
      .rope_freq_base = 10000.0f,
      .yarn_factor = 40.0f,
      .yarn_original_context = 4096,
      .yarn_mscale_all_dim = 1.0,
      .context_length = 163840}},
};

#define N_PRESETS (sizeof presets / sizeof presets[0])

bool config_preset(const char *name, model_config *cfg)
{
    for (size_t i = 0; i < N_PRESETS; i++) {
        if (strcmp(presets[i].name, name) == 0) {
            /* Keep the caller's layout, format and seed. */
            model_config chosen = presets[i].cfg;
            chosen.layout = cfg->layout;
            chosen.format = cfg->format;
            chosen.seed = cfg->seed;
            *cfg = chosen;
            return true;
        }
    }
    return false;
}

const char *config_preset_names(void)
{
    static char names[128];
    if (!names[0]) {
        for (size_t i = 0; i < N_PRESETS; i++) {
            if (i)
                strcat(names, " ");
            strcat(names, presets[i].name);
        }
    }
    return names;
}

bool config_has_yarn(const model_config *cfg)
{
    return cfg->yarn_factor > 1.0f;
}

#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond)) {                                                         \
            snprintf(err, err_size, __VA_ARGS__);                              \
            return false;                                                      \
        }                                                                      \
    } while (0)

static bool check_routing(const model_config *c, char *err, size_t err_size)
{
    REQUIRE(c->n_expert >= 1 && c->n_ff_exp >= 1,
            "MoE layers need --n-expert and --n-ff-exp of at least 1");
    REQUIRE(c->n_expert_used >= 1 && c->n_expert_used <= c->n_expert,
            "--n-expert-used %u must be 1 to --n-expert (%u)", c->n_expert_used,
            c->n_expert);
    /* llama.cpp's deepseek2 loader requires the shared expert tensors. */
    REQUIRE(c->n_expert_shared >= 1, "--n-expert-shared must be at least 1");
    if (c->expert_group_count > 1) {
        REQUIRE(c->n_expert % c->expert_group_count == 0,
                "--n-expert %u is not a multiple of --expert-group-count %u",
                c->n_expert, c->expert_group_count);
        REQUIRE(c->expert_group_used_count >= 1 &&
                    c->expert_group_used_count <= c->expert_group_count,
                "--expert-group-used-count %u must be 1 to "
                "--expert-group-count (%u)",
                c->expert_group_used_count, c->expert_group_count);
        uint32_t per_group = c->n_expert / c->expert_group_count;
        REQUIRE(c->n_expert_used <= c->expert_group_used_count * per_group,
                "--n-expert-used %u exceeds the %u experts in the chosen "
                "groups",
                c->n_expert_used, c->expert_group_used_count * per_group);
    }
    REQUIRE(isfinite(c->expert_weights_scale) && c->expert_weights_scale > 0,
            "--expert-weights-scale must be positive");
    return true;
}

bool config_check(const model_config *c, char *err, size_t err_size)
{
    REQUIRE(c->n_vocab >= MIN_VOCAB,
            "--n-vocab %u is too small: the tokenizer needs %u ids (BOS, "
            "EOS and 256 bytes)",
            c->n_vocab, MIN_VOCAB);
    REQUIRE(c->n_embd >= 1 && c->n_layer >= 1 && c->n_head >= 1,
            "--n-embd, --n-layer and --n-head must be at least 1");
    REQUIRE(c->kv_lora_rank >= 1 && c->qk_nope_head_dim >= 1 &&
                c->v_head_dim >= 1,
            "--kv-lora-rank, --qk-nope-head-dim and --v-head-dim must be at "
            "least 1");
    REQUIRE(c->qk_rope_head_dim >= 2 && c->qk_rope_head_dim % 2 == 0,
            "--qk-rope-head-dim %u must be even and at least 2 (RoPE "
            "rotates pairs)",
            c->qk_rope_head_dim);
    REQUIRE(c->n_layer_dense_lead <= c->n_layer,
            "--n-layer-dense-lead %u exceeds --n-layer %u",
            c->n_layer_dense_lead, c->n_layer);
    REQUIRE(c->n_layer_dense_lead == 0 || c->n_ff >= 1,
            "dense layers need --n-ff of at least 1");
    if (c->n_layer_dense_lead < c->n_layer && !check_routing(c, err, err_size))
        return false;
    REQUIRE(isfinite(c->rms_eps) && c->rms_eps > 0,
            "--rms-eps must be positive");
    REQUIRE(isfinite(c->rope_freq_base) && c->rope_freq_base > 0,
            "--rope-freq-base must be positive");
    REQUIRE(c->context_length >= 1, "--context-length must be at least 1");
    REQUIRE(isfinite(c->yarn_factor) && isfinite(c->yarn_mscale_all_dim),
            "YaRN parameters must be finite");
    REQUIRE(!config_has_yarn(c) || c->yarn_original_context >= 1,
            "--yarn-original-ctx must be at least 1 when --yarn-factor > 1");
    return true;
}
