/* Hyperparameters of a generated model: every field maps to a gen-model
 * flag and to the deepseek2.* GGUF key llama.cpp reads for it. */
#ifndef GEN_MODEL_CONFIG_H
#define GEN_MODEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct weight_format;

/* llama.cpp's expert_gating_func numbering. */
typedef enum expert_gating {
    GATING_SOFTMAX = 1, /* DeepSeek-V2 */
    GATING_SIGMOID = 2, /* DeepSeek-V3 */
} expert_gating;

typedef enum attention_layout {
    LAYOUT_SPLIT,  /* attn_k_b + attn_v_b (current llama.cpp converters) */
    LAYOUT_LEGACY, /* one attn_kv_b (older files) */
} attention_layout;

typedef struct model_config {
    const char *name; /* general.name */
    uint32_t n_vocab;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_layer_dense_lead; /* first layers with a dense FFN */
    uint32_t n_ff;               /* dense FFN width */
    uint32_t n_expert;
    uint32_t n_expert_used;
    uint32_t n_expert_shared;
    uint32_t n_ff_exp; /* width of one expert (and of each shared one) */
    uint32_t n_head;
    uint32_t q_lora_rank; /* 0: queries are not compressed */
    uint32_t kv_lora_rank;
    uint32_t qk_nope_head_dim;
    uint32_t qk_rope_head_dim;
    uint32_t v_head_dim;
    expert_gating gating;
    bool exp_probs_b; /* per-expert choice bias (V3) */
    bool expert_weights_norm;
    float expert_weights_scale;
    uint32_t expert_group_count; /* 0 or 1: no group-limited routing */
    uint32_t expert_group_used_count;
    float rms_eps;
    float rope_freq_base;
    float yarn_factor; /* <= 1: no YaRN scaling keys are written */
    uint32_t yarn_original_context;
    /* Written as yarn_log_multiplier = 0.1 x this, computed in double like
     * llama.cpp's converter (so 0.707 gives the same f32 as its files). */
    double yarn_mscale_all_dim;
    uint32_t context_length;
    attention_layout layout;
    const struct weight_format *format;
    uint64_t seed;
} model_config;

/* Fills cfg with a named preset; false for an unknown name. */
bool config_preset(const char *name, model_config *cfg);
/* Space-separated preset names, for --help and error messages. */
const char *config_preset_names(void);

/* Checks that the shape is a model llama.cpp could load; on failure writes
 * one line to err and returns false. */
bool config_check(const model_config *cfg, char *err, size_t err_size);

/* Whether YaRN rope scaling keys are written. */
bool config_has_yarn(const model_config *cfg);

#endif
