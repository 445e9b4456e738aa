/* dsvk info: what a model file holds and what running it costs, from its
 * metadata alone: hyperparameters, parameter counts, the weight types and
 * their memory, the latent KV cache against an ordinary multi-head cache,
 * and the tokenizer. Needs no GPU; works on vocab-only files too. */
#include "commands.h"
#include "common.h"

#include "gguf/gguf.h"
#include "model/model.h"
#include "text/chat.h"
#include "text/tokenizer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* GGML type ids are small; larger ones fall in the last bucket. */
#define N_TYPE_BUCKETS 64

static void usage(FILE *out)
{
    fputs("usage: dsvk info -m MODEL\n"
          "\n"
          "Prints what a deepseek2 GGUF file holds: architecture,\n"
          "hyperparameters (attention/MLA, MoE, RoPE/YaRN), parameters in\n"
          "total and active per token, weight types and their memory, the\n"
          "latent KV cache per token against a multi-head cache, and the\n"
          "tokenizer. Vocab-only files print what they have.\n"
          "\n"
          "options:\n"
          "  -m, --model MODEL  GGUF file\n"
          "  -h, --help         show this help\n",
          out);
}

/* A count with a readable scale: "265248 (265.2 K)". */
static void print_count(const char *label, uint64_t n, const char *suffix)
{
    static const char *const scales[] = {"", " K", " M", " B", " T"};
    double v = (double)n;
    int s = 0;
    while (v >= 1000.0 && s < 4) {
        v /= 1000.0;
        s++;
    }
    if (s == 0)
        printf("  %-22s %" PRIu64 "%s\n", label, n, suffix);
    else
        printf("  %-22s %" PRIu64 " (%.1f%s)%s\n", label, n, v, scales[s],
               suffix);
}

/* Bytes in binary units: "1.03 MiB". */
static void format_bytes(char *out, size_t size, uint64_t bytes)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, size, "%" PRIu64 " bytes", bytes);
    else
        snprintf(out, size, "%.2f %s", v, units[u]);
}

static void print_general(const char *path, const gguf_file *f,
                          const model_hparams *hp)
{
    gguf_str name = {"(none)", 6};
    gguf_get_str(f, "general.name", &name);
    printf("file                     %s (GGUF v%u)\n", path, gguf_version(f));
    printf("architecture             deepseek2\n");
    printf("name                     %.*s\n", (int)name.len, name.data);
    printf("\nmodel\n");
    printf("  %-22s %u (%u dense, %u MoE)\n", "layers", hp->n_layer,
           hp->n_layer_dense_lead, hp->n_layer - hp->n_layer_dense_lead);
    printf("  %-22s %u\n", "embedding width", hp->n_embd);
    printf("  %-22s %u\n", "vocabulary", hp->n_vocab);
    printf("  %-22s %u tokens\n", "context length", hp->n_ctx_train);
    printf("  %-22s %g\n", "RMS norm epsilon", hp->rms_eps);
}

static void print_attention(const model_hparams *hp, const model *m)
{
    printf("\nattention (MLA)\n");
    printf("  %-22s %u\n", "heads", hp->n_head);
    if (hp->q_lora_rank)
        printf("  %-22s %u\n", "q_lora_rank", hp->q_lora_rank);
    else
        printf("  %-22s 0 (queries not compressed)\n", "q_lora_rank");
    printf("  %-22s %u\n", "kv_lora_rank", hp->kv_lora_rank);
    printf("  %-22s nope %u + rope %u, value %u\n", "head dims",
           hp->qk_nope_head_dim, hp->qk_rope_head_dim, hp->v_head_dim);
    printf("  %-22s %g\n", "attention scale", hp->attn_scale);
    if (m)
        printf("  %-22s %s\n", "K/V up-projection",
               m->kv_layout == MODEL_KV_SPLIT ? "split (attn_k_b, attn_v_b)"
                                              : "legacy (attn_kv_b)");
}

static void print_moe(const model_hparams *hp)
{
    printf("\nfeed-forward (DeepSeekMoE)\n");
    if (hp->n_layer_dense_lead > 0)
        printf("  %-22s %u\n", "dense width", hp->n_ff);
    if (hp->n_layer_dense_lead == hp->n_layer) {
        printf("  %-22s none (every layer is dense)\n", "experts");
        return;
    }
    printf("  %-22s %u, %u used per token\n", "routed experts", hp->n_expert,
           hp->n_expert_used);
    printf("  %-22s %u\n", "shared experts", hp->n_expert_shared);
    printf("  %-22s %u\n", "expert width", hp->n_ff_exp);
    if (hp->n_expert_groups > 1)
        printf("  %-22s %u, best %u kept per token\n", "expert groups",
               hp->n_expert_groups, hp->n_group_used);
    else
        printf("  %-22s none\n", "expert groups");
    printf("  %-22s %s\n", "gating",
           hp->gating == MODEL_GATING_SIGMOID ? "sigmoid" : "softmax");
    printf("  %-22s %s, scale %g\n", "expert weights",
           hp->expert_weights_norm ? "normalised" : "not normalised",
           hp->expert_weights_scale);
}

static void print_rope(const model_hparams *hp)
{
    static const char *const kinds[] = {
        [MODEL_ROPE_SCALING_NONE] = "none",
        [MODEL_ROPE_SCALING_LINEAR] = "linear",
        [MODEL_ROPE_SCALING_YARN] = "YaRN",
    };
    printf("\nRoPE\n");
    printf("  %-22s %g\n", "frequency base", hp->rope_freq_base);
    printf("  %-22s %u\n", "rotated dims", hp->qk_rope_head_dim);
    printf("  %-22s %s\n", "scaling", kinds[hp->rope_scaling]);
    if (hp->rope_scaling == MODEL_ROPE_SCALING_NONE)
        return;
    printf("  %-22s %g\n", "factor", hp->rope_factor);
    printf("  %-22s %u tokens\n", "original context", hp->rope_orig_ctx);
    if (hp->rope_scaling == MODEL_ROPE_SCALING_YARN) {
        printf("  %-22s %g\n", "YaRN log multiplier", hp->yarn_log_multiplier);
        printf("  %-22s %.2f .. %.2f\n", "YaRN ramp (pairs)",
               hp->yarn_corr_dims[0], hp->yarn_corr_dims[1]);
    }
}

typedef struct type_usage {
    uint64_t tensors, bytes, elements;
} type_usage;

static void print_weights(const gguf_file *f, const model *m)
{
    type_usage usage[N_TYPE_BUCKETS] = {{0}};
    type_usage all = {0};
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        type_usage *u =
            &usage[t->type < N_TYPE_BUCKETS ? t->type : N_TYPE_BUCKETS - 1];
        u->tensors++;
        u->bytes += t->n_bytes;
        u->elements += t->n_elements;
        all.bytes += t->n_bytes;
        all.elements += t->n_elements;
    }
    char size[32];
    printf("\nweights\n");
    print_count("parameters", m->stats.n_params, " total");
    print_count("active per token", m->stats.n_params_active, "");
    format_bytes(size, sizeof size, all.bytes);
    printf("  %-22s %s in %" PRIu64 " tensors, %.2f bits per weight\n",
           "memory", size, gguf_tensor_count(f),
           8.0 * (double)all.bytes / (double)all.elements);
    for (uint32_t type = 0; type < N_TYPE_BUCKETS; type++) {
        const type_usage *u = &usage[type];
        if (!u->tensors)
            continue;
        format_bytes(size, sizeof size, u->bytes);
        printf("    %-8s %5" PRIu64 " tensors %12s  %6.2f bits per weight\n",
               gguf_type_name(type), u->tensors, size,
               8.0 * (double)u->bytes / (double)u->elements);
    }
}

static void print_cache(const model *m)
{
    const model_stats *st = &m->stats;
    const uint64_t n_ctx = m->hp.n_ctx_train;
    char latent[32], mha[32];
    printf("\nKV cache (f16 unless said)\n");
    printf("  %-22s %" PRIu64 " bytes per token (kv_lora_rank + rope dims "
           "values per layer)\n",
           "latent (MLA)", st->latent_cache_bytes_per_token);
    const uint64_t q8 = model_latent_bytes_per_token(&m->hp, DSVK_CACHE_Q8_0);
    if (q8)
        printf("  %-22s %" PRIu64 " bytes per token (--cache-type q8_0)\n",
               "latent (MLA), q8_0", q8);
    else
        printf("  %-22s not available (kv_lora_rank and rope dims must be "
               "multiples of 4)\n",
               "latent (MLA), q8_0");
    printf("  %-22s %" PRIu64 " bytes per token (per-head keys and values)\n",
           "multi-head equivalent", st->mha_cache_bytes_per_token);
    printf("  %-22s %.1fx smaller\n", "latent cache is",
           (double)st->mha_cache_bytes_per_token /
               (double)st->latent_cache_bytes_per_token);
    format_bytes(latent, sizeof latent,
                 st->latent_cache_bytes_per_token * n_ctx);
    format_bytes(mha, sizeof mha, st->mha_cache_bytes_per_token * n_ctx);
    printf("  %-22s %s latent, %s multi-head (%" PRIu64 " tokens)\n",
           "at full context", latent, mha, n_ctx);
}

static void print_special(const char *label, const tok *t, int32_t id)
{
    size_t len = 0;
    const char *text = id == TOK_NONE ? NULL : tok_text(t, id, &len);
    if (!text)
        printf("  %-22s none\n", label);
    else
        printf("  %-22s %d %.*s\n", label, (int)id, (int)len, text);
}

static void print_tokenizer(const gguf_file *f, const tok *t)
{
    gguf_str pre = {"(none)", 6};
    gguf_get_str(f, "tokenizer.ggml.pre", &pre);
    printf("\ntokenizer\n");
    printf("  %-22s %u tokens, byte-level BPE\n", "vocabulary",
           tok_vocab_size(t));
    printf("  %-22s %.*s\n", "pre-tokenizer", (int)pre.len, pre.data);
    print_special("BOS", t, tok_bos(t));
    print_special("EOS", t, tok_eos(t));
    printf("  %-22s %s\n", "BOS added to prompts",
           tok_wants_bos(t) ? "yes" : "no");

    gguf_str tmpl;
    chat_format format;
    if (!gguf_get_str(f, "tokenizer.chat_template", &tmpl))
        printf("  %-22s none (the file has no chat template)\n", "chat format");
    else if (chat_format_detect(tmpl.data, tmpl.len, &format))
        printf("  %-22s %s (detected from the chat template)\n", "chat format",
               chat_format_name(format));
    else
        printf("  %-22s not recognised (the chat template is not a DeepSeek "
               "format)\n",
               "chat format");
}

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, const char **path)
{
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-m") == 0 ||
                   strcmp(argv[i], "--model") == 0) {
            if (i + 1 >= argc)
                return cli_error("%s needs a GGUF file", argv[i]);
            *path = argv[++i];
        } else {
            return cli_error("info: unexpected argument '%s' (try dsvk info "
                             "--help)",
                             argv[i]);
        }
    }
    return *path ? -1 : cli_error("info: no model (-m MODEL)");
}

int cmd_info(int argc, char **argv)
{
    const char *path;
    int code = parse_args(argc, argv, &path);
    if (code >= 0)
        return code;

    char err[512] = "";
    gguf_file *f = NULL;
    model_hparams hp;
    model *m = NULL;
    tok *t = NULL;
    code = 1;
    /* Everything is loaded before anything is printed: the output is
     * either the whole report or one error line. A file without tensors
     * is vocab-only and has no weights to bind. */
    if (gguf_open(path, &f, err, sizeof err) != DSVK_OK)
        cli_error("%s", err);
    else if (model_read_hparams(f, &hp, err, sizeof err) != DSVK_OK)
        cli_error("%s: %s", path, err);
    else if (gguf_tensor_count(f) > 0 &&
             model_load(f, &m, err, sizeof err) != DSVK_OK)
        cli_error("%s: %s", path, err);
    else if (tok_load(f, &t, err, sizeof err) != DSVK_OK)
        cli_error("%s: tokenizer: %s", path, err);
    else
        code = 0;

    if (code == 0) {
        print_general(path, f, &hp);
        print_attention(&hp, m);
        print_moe(&hp);
        print_rope(&hp);
        if (m) {
            print_weights(f, m);
            print_cache(m);
        } else {
            printf("\nweights\n  none: a vocab-only file (parameter counts, "
                   "weight memory and cache sizes are printed for full "
                   "models)\n");
        }
        print_tokenizer(f, t);
        if (fflush(stdout) != 0)
            code = cli_error("cannot write the report");
    }
    tok_free(t);
    model_free(m);
    gguf_close(f);
    return code;
}
