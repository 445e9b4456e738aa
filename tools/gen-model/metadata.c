/* Key names, value types and order mirror the llama.cpp-written fixtures
 * (tests/fixtures/models/tiny-v2.gguf, tiny-v2-legacy.gguf, tiny-v3.gguf). */
#include "metadata.h"
#include "weight_format.h"

/* llama.cpp's current quantization format version. */
#define QUANTIZATION_VERSION 2

static void write_general(gguf_writer *w, const model_config *c)
{
    writer_kv_str(w, "general.architecture", "deepseek2");
    writer_kv_str(w, "general.name", c->name);
    writer_kv_str(w, "general.type", "model");
    writer_kv_u32(w, "general.file_type", c->format->file_type);
    writer_kv_u32(w, "general.quantization_version", QUANTIZATION_VERSION);
}

static void write_attention(gguf_writer *w, const model_config *c)
{
    uint32_t rope = c->qk_rope_head_dim;
    writer_kv_u32(w, "deepseek2.attention.q_lora_rank", c->q_lora_rank);
    writer_kv_u32(w, "deepseek2.attention.kv_lora_rank", c->kv_lora_rank);
    if (c->layout == LAYOUT_SPLIT) {
        /* The split layout describes attention as llama.cpp runs it: one
         * shared latent "head" (MQA) whose keys are latent + rope and whose
         * values are the latent; the per-head sizes move to *_mla. */
        writer_kv_u32(w, "deepseek2.attention.head_count_kv", 1);
        writer_kv_u32(w, "deepseek2.attention.key_length",
                      c->kv_lora_rank + rope);
        writer_kv_u32(w, "deepseek2.attention.value_length", c->kv_lora_rank);
        writer_kv_u32(w, "deepseek2.attention.key_length_mla",
                      c->qk_nope_head_dim + rope);
        writer_kv_u32(w, "deepseek2.attention.value_length_mla", c->v_head_dim);
    } else {
        writer_kv_u32(w, "deepseek2.attention.head_count_kv", c->n_head);
        writer_kv_u32(w, "deepseek2.attention.key_length",
                      c->qk_nope_head_dim + rope);
        writer_kv_u32(w, "deepseek2.attention.value_length", c->v_head_dim);
    }
}

static void write_experts(gguf_writer *w, const model_config *c)
{
    writer_kv_u32(w, "deepseek2.expert_count", c->n_expert);
    writer_kv_u32(w, "deepseek2.expert_used_count", c->n_expert_used);
    writer_kv_u32(w, "deepseek2.expert_shared_count", c->n_expert_shared);
    writer_kv_u32(w, "deepseek2.expert_feed_forward_length", c->n_ff_exp);
    writer_kv_u32(w, "deepseek2.expert_gating_func", c->gating);
    /* Like the fixtures (and V2 conversions), these are written only when
     * they differ from llama.cpp's defaults: scale 1, no normalisation, no
     * groups. Readers must apply the same defaults. */
    if (c->expert_weights_scale != 1.0f || c->expert_weights_norm ||
        c->expert_group_count > 1) {
        writer_kv_f32(w, "deepseek2.expert_weights_scale",
                      c->expert_weights_scale);
        writer_kv_bool(w, "deepseek2.expert_weights_norm",
                       c->expert_weights_norm);
        writer_kv_u32(w, "deepseek2.expert_group_count", c->expert_group_count);
        writer_kv_u32(w, "deepseek2.expert_group_used_count",
                      c->expert_group_used_count);
    }
}

static void write_tokenizer(gguf_writer *w, const vocabulary *v)
{
    writer_kv_str(w, "tokenizer.ggml.model", "gpt2");
    writer_kv_str(w, "tokenizer.ggml.pre", "deepseek-v3");
    writer_kv_str_array(w, "tokenizer.ggml.tokens",
                        (const char *const *)v->tokens, v->n_tokens);
    writer_kv_i32_array(w, "tokenizer.ggml.token_type", v->types, v->n_tokens);
    writer_kv_str_array(w, "tokenizer.ggml.merges",
                        (const char *const *)v->merges, v->n_merges);
    writer_kv_u32(w, "tokenizer.ggml.bos_token_id", VOCAB_BOS_ID);
    writer_kv_u32(w, "tokenizer.ggml.eos_token_id", VOCAB_EOS_ID);
    writer_kv_bool(w, "tokenizer.ggml.add_bos_token", true);
    writer_kv_bool(w, "tokenizer.ggml.add_eos_token", false);
}

void metadata_write(gguf_writer *w, const model_config *c,
                    const vocabulary *vocab)
{
    write_general(w, c);
    writer_kv_u32(w, "deepseek2.context_length", c->context_length);
    writer_kv_u32(w, "deepseek2.embedding_length", c->n_embd);
    writer_kv_u32(w, "deepseek2.block_count", c->n_layer);
    writer_kv_u32(w, "deepseek2.feed_forward_length", c->n_ff);
    writer_kv_u32(w, "deepseek2.attention.head_count", c->n_head);
    writer_kv_f32(w, "deepseek2.attention.layer_norm_rms_epsilon", c->rms_eps);
    writer_kv_f32(w, "deepseek2.rope.freq_base", c->rope_freq_base);
    writer_kv_u32(w, "deepseek2.rope.dimension_count", c->qk_rope_head_dim);
    if (config_has_yarn(c)) {
        writer_kv_str(w, "deepseek2.rope.scaling.type", "yarn");
        writer_kv_f32(w, "deepseek2.rope.scaling.factor", c->yarn_factor);
        writer_kv_u32(w, "deepseek2.rope.scaling.original_context_length",
                      c->yarn_original_context);
        /* llama.cpp's converter stores 0.1 * mscale_all_dim here. */
        writer_kv_f32(w, "deepseek2.rope.scaling.yarn_log_multiplier",
                      (float)(0.1 * c->yarn_mscale_all_dim));
    }
    writer_kv_u32(w, "deepseek2.vocab_size", c->n_vocab);
    writer_kv_u32(w, "deepseek2.leading_dense_block_count",
                  c->n_layer_dense_lead);
    write_attention(w, c);
    write_experts(w, c);
    write_tokenizer(w, vocab);
}
