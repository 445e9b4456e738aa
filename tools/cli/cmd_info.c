/* dsvk info: what a model file holds and what running it costs, from its
 * metadata alone: hyperparameters, parameter counts, the weight types and
 * their memory, the latent KV cache against an ordinary multi-head cache,
 * and the tokenizer; on request every tensor and every metadata key. Needs
 * no GPU (dsvk_model_open); works on vocab-only files too. */
#include "commands.h"
#include "common.h"
#include "dsvk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --metadata cuts values after this many bytes. */
#define METADATA_VALUE_MAX 80
/* --tensors pads names to this width. */
#define TENSOR_NAME_WIDTH 32

static void usage(FILE *out)
{
    fputs("usage: dsvk info -m MODEL [--tensors] [--metadata]\n"
          "\n"
          "Prints what a deepseek2 GGUF file holds: architecture,\n"
          "hyperparameters (attention/MLA, MoE, RoPE/YaRN), parameters in\n"
          "total and active per token, weight types and their memory, the\n"
          "latent KV cache per token against a multi-head cache, and the\n"
          "tokenizer. Vocab-only files print what they have.\n"
          "\n"
          "options:\n"
          "  -m, --model MODEL  GGUF file\n"
          "  --tensors          then list every tensor: name, type, shape\n"
          "                     (row length first) and bytes in the file\n"
          "  --metadata         then list every metadata key and its value\n"
          "                     (an array as [COUNT TYPE]; values longer\n"
          "                     than 80 bytes are cut, ending in ...)\n"
          "  -h, --help         show this help\n",
          out);
}

typedef struct options {
    const char *path;
    bool tensors;
    bool metadata;
} options;

/* The value of a metadata key as text, malloc'd, NUL-terminated after its
 * *len bytes; NULL when the file has no such key (or memory ran out). */
static char *metadata_value(const dsvk_model *model, const char *key,
                            size_t *len)
{
    if (dsvk_model_metadata(model, key, NULL, 0, len) !=
        DSVK_ERROR_BUFFER_TOO_SMALL)
        return NULL;
    char *value = malloc(*len + 1);
    if (value &&
        dsvk_model_metadata(model, key, value, *len + 1, len) != DSVK_OK) {
        free(value);
        value = NULL;
    }
    return value;
}

/* Prints a string metadata value as it is, or `absent`. */
static void print_metadata_string(const char *label, const dsvk_model *model,
                                  const char *key, const char *absent)
{
    size_t len = 0;
    char *value = metadata_value(model, key, &len);
    printf("%s%.*s\n", label, value ? (int)len : (int)strlen(absent),
           value ? value : absent);
    free(value);
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

static void print_general(const char *path, const dsvk_model *model,
                          const dsvk_model_info *info)
{
    printf("file                     %s (GGUF v%u)\n", path,
           info->gguf_version);
    printf("architecture             deepseek2\n");
    print_metadata_string("name                     ", model, "general.name",
                          "(none)");
    printf("\nmodel\n");
    printf("  %-22s %u (%u dense, %u MoE)\n", "layers", info->n_layer,
           info->n_layer_dense, info->n_layer - info->n_layer_dense);
    printf("  %-22s %u\n", "embedding width", info->n_embd);
    printf("  %-22s %u\n", "vocabulary", info->n_vocab);
    printf("  %-22s %u tokens\n", "context length", info->n_ctx_train);
    printf("  %-22s %g\n", "RMS norm epsilon", info->rms_norm_eps);
}

static void print_attention(const dsvk_model_info *info)
{
    printf("\nattention (MLA)\n");
    printf("  %-22s %u\n", "heads", info->n_head);
    if (info->q_lora_rank)
        printf("  %-22s %u\n", "q_lora_rank", info->q_lora_rank);
    else
        printf("  %-22s 0 (queries not compressed)\n", "q_lora_rank");
    printf("  %-22s %u\n", "kv_lora_rank", info->kv_lora_rank);
    printf("  %-22s nope %u + rope %u, value %u\n", "head dims",
           info->qk_nope_head_dim, info->qk_rope_head_dim, info->v_head_dim);
    printf("  %-22s %g\n", "attention scale", info->attention_scale);
    if (info->has_weights)
        printf("  %-22s %s\n", "K/V up-projection",
               info->kv_b_split ? "split (attn_k_b, attn_v_b)"
                                : "legacy (attn_kv_b)");
}

static void print_moe(const dsvk_model_info *info)
{
    printf("\nfeed-forward (DeepSeekMoE)\n");
    if (info->n_layer_dense > 0)
        printf("  %-22s %u\n", "dense width", info->n_ff);
    if (info->n_layer_dense == info->n_layer) {
        printf("  %-22s none (every layer is dense)\n", "experts");
        return;
    }
    printf("  %-22s %u, %u used per token\n", "routed experts", info->n_expert,
           info->n_expert_used);
    printf("  %-22s %u\n", "shared experts", info->n_expert_shared);
    printf("  %-22s %u\n", "expert width", info->n_ff_exp);
    if (info->n_expert_groups > 1)
        printf("  %-22s %u, best %u kept per token\n", "expert groups",
               info->n_expert_groups, info->n_expert_groups_used);
    else
        printf("  %-22s none\n", "expert groups");
    printf("  %-22s %s\n", "gating",
           info->gating == DSVK_GATING_SIGMOID ? "sigmoid" : "softmax");
    printf("  %-22s %s, scale %g\n", "expert weights",
           info->expert_weights_norm ? "normalised" : "not normalised",
           info->expert_weights_scale);
}

static void print_rope(const dsvk_model_info *info)
{
    static const char *const kinds[] = {
        [DSVK_ROPE_SCALING_NONE] = "none",
        [DSVK_ROPE_SCALING_LINEAR] = "linear",
        [DSVK_ROPE_SCALING_YARN] = "YaRN",
    };
    printf("\nRoPE\n");
    printf("  %-22s %g\n", "frequency base", info->rope_freq_base);
    printf("  %-22s %u\n", "rotated dims", info->qk_rope_head_dim);
    printf("  %-22s %s\n", "scaling", kinds[info->rope_scaling]);
    if (info->rope_scaling == DSVK_ROPE_SCALING_NONE)
        return;
    printf("  %-22s %g\n", "factor", info->rope_scaling_factor);
    printf("  %-22s %u tokens\n", "original context",
           info->rope_original_context);
    if (info->rope_scaling == DSVK_ROPE_SCALING_YARN) {
        printf("  %-22s %g\n", "YaRN log multiplier",
               info->yarn_log_multiplier);
        printf("  %-22s %.2f .. %.2f\n", "YaRN ramp (pairs)",
               info->yarn_ramp[0], info->yarn_ramp[1]);
    }
}

/* Every weight type of the file, most bytes first: the caller frees it. */
static dsvk_weight_type_usage *weight_types(const dsvk_model *model,
                                            uint32_t *count)
{
    dsvk_model_weight_types(model, NULL, 0, count);
    dsvk_weight_type_usage *types = calloc(*count ? *count : 1, sizeof *types);
    if (types)
        dsvk_model_weight_types(model, types, *count, count);
    return types;
}

static void print_weights(const dsvk_model_info *info,
                          const dsvk_weight_type_usage *types, uint32_t n_types)
{
    uint64_t bytes = 0, elements = 0;
    for (uint32_t i = 0; i < n_types; i++) {
        bytes += types[i].file_bytes;
        elements += types[i].n_params;
    }
    char size[32];
    printf("\nweights\n");
    print_count("parameters", info->n_params, " total");
    print_count("active per token", info->n_params_active, "");
    format_bytes(size, sizeof size, bytes);
    printf("  %-22s %s in %u tensors, %.2f bits per weight\n", "memory", size,
           info->n_tensors, 8.0 * (double)bytes / (double)elements);
    for (uint32_t i = 0; i < n_types; i++) {
        const dsvk_weight_type_usage *u = &types[i];
        format_bytes(size, sizeof size, u->file_bytes);
        printf("    %-8s %5u tensors %12s  %6.2f bits per weight\n", u->type,
               u->n_tensors, size,
               8.0 * (double)u->file_bytes / (double)u->n_params);
    }
}

static void print_cache(const dsvk_model *model, const dsvk_model_info *info)
{
    const uint64_t latent = info->cache_bytes_per_token;
    const uint64_t mha = info->mha_cache_bytes_per_token;
    const uint64_t n_ctx = info->n_ctx_train;
    char latent_all[32], mha_all[32];
    printf("\nKV cache (f16 unless said)\n");
    printf("  %-22s %" PRIu64 " bytes per token (kv_lora_rank + rope dims "
           "values per layer)\n",
           "latent (MLA)", latent);
    const uint64_t q8 = dsvk_cache_bytes_per_token(model, DSVK_CACHE_Q8_0);
    if (q8)
        printf("  %-22s %" PRIu64 " bytes per token (--cache-type q8_0)\n",
               "latent (MLA), q8_0", q8);
    else
        printf("  %-22s not available (kv_lora_rank and rope dims must be "
               "multiples of 4)\n",
               "latent (MLA), q8_0");
    printf("  %-22s %" PRIu64 " bytes per token (per-head keys and values)\n",
           "multi-head equivalent", mha);
    printf("  %-22s %.1fx smaller\n", "latent cache is",
           (double)mha / (double)latent);
    format_bytes(latent_all, sizeof latent_all, latent * n_ctx);
    format_bytes(mha_all, sizeof mha_all, mha * n_ctx);
    printf("  %-22s %s latent, %s multi-head (%" PRIu64 " tokens)\n",
           "at full context", latent_all, mha_all, n_ctx);
}

/* A special token with its text, control tokens rendered. */
static void print_special(const char *label, const dsvk_model *model,
                          const dsvk_model_info *info, dsvk_token id)
{
    char *text =
        id == DSVK_TOKEN_NONE ? NULL : malloc(info->max_piece_bytes + 1);
    size_t len = 0;
    if (text && dsvk_detokenize(model, &id, 1, true, text,
                                info->max_piece_bytes, &len) == DSVK_OK)
        printf("  %-22s %d %.*s\n", label, (int)id, (int)len, text);
    else
        printf("  %-22s none\n", label);
    free(text);
}

static void print_tokenizer(const dsvk_model *model,
                            const dsvk_model_info *info)
{
    printf("\ntokenizer\n");
    printf("  %-22s %u tokens, byte-level BPE\n", "vocabulary", info->n_vocab);
    print_metadata_string("  pre-tokenizer          ", model,
                          "tokenizer.ggml.pre", "(none)");
    print_special("BOS", model, info, info->bos);
    print_special("EOS", model, info, info->eos);
    printf("  %-22s %s\n", "BOS added to prompts",
           info->add_bos ? "yes" : "no");

    size_t len;
    dsvk_chat_format format;
    if (dsvk_model_metadata(model, "tokenizer.chat_template", NULL, 0, &len) ==
        DSVK_ERROR_NOT_FOUND)
        printf("  %-22s none (the file has no chat template)\n", "chat format");
    else if (dsvk_chat_resolve_format(model, DSVK_CHAT_FORMAT_AUTO, &format) ==
             DSVK_OK)
        printf("  %-22s %s (detected from the chat template)\n", "chat format",
               dsvk_chat_format_name(format));
    else
        printf("  %-22s not recognised (the chat template is not a DeepSeek "
               "format)\n",
               "chat format");
}

/* Prints text from the file on one line: control bytes escaped (a chat
 * template's newlines become \n), at most `max` bytes of it, cut at a
 * character boundary and followed by "..." when longer. Returns the
 * characters printed, for padding. */
static size_t print_escaped(const char *text, size_t len, size_t max)
{
    size_t n = len;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--; /* not inside a UTF-8 character */
    }
    size_t printed = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)text[i];
        if (c == '\n')
            printed += (size_t)printf("\\n");
        else if (c == '\t')
            printed += (size_t)printf("\\t");
        else if (c < 0x20 || c == 0x7f)
            printed += (size_t)printf("\\x%02x", c);
        else
            printed += putchar(c) != EOF;
    }
    if (n < len)
        printed += (size_t)printf("...");
    return printed;
}

static void print_tensors(const dsvk_model *model, const dsvk_model_info *info)
{
    printf("\ntensors (%u: name, type, shape, bytes in the file)\n",
           info->n_tensors);
    for (uint32_t i = 0; i < info->n_tensors; i++) {
        dsvk_tensor_info t;
        if (dsvk_model_tensor(model, i, &t) != DSVK_OK)
            continue; /* cannot happen below n_tensors */
        char shape[96];
        size_t used = 0;
        for (uint32_t d = 0; d < t.n_dims && used < sizeof shape; d++)
            used += (size_t)snprintf(shape + used, sizeof shape - used,
                                     "%s%" PRIu64, d ? ", " : "[", t.dims[d]);
        if (used < sizeof shape)
            snprintf(shape + used, sizeof shape - used, "]");
        fputs("  ", stdout);
        size_t width = print_escaped(t.name, strlen(t.name), SIZE_MAX);
        printf("%*s %-6s %-22s %12" PRIu64 " bytes\n",
               width < TENSOR_NAME_WIDTH ? (int)(TENSOR_NAME_WIDTH - width) : 0,
               "", t.type, shape, t.file_bytes);
    }
}

static void print_metadata(const dsvk_model *model)
{
    const uint32_t n = dsvk_model_metadata_count(model);
    printf("\nmetadata (%u keys)\n", n);
    for (uint32_t i = 0; i < n; i++) {
        const char *key = dsvk_model_metadata_key(model, i);
        size_t len = 0;
        char *value = metadata_value(model, key, &len);
        fputs("  ", stdout);
        print_escaped(key, strlen(key), SIZE_MAX);
        fputs(" = ", stdout);
        if (value)
            print_escaped(value, len, METADATA_VALUE_MAX);
        else
            fputs("(out of memory)", stdout);
        putchar('\n');
        free(value);
    }
}

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){0};
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-m") == 0 ||
                   strcmp(argv[i], "--model") == 0) {
            if (i + 1 >= argc)
                return cli_error("%s needs a GGUF file", argv[i]);
            o->path = argv[++i];
        } else if (strcmp(argv[i], "--tensors") == 0) {
            o->tensors = true;
        } else if (strcmp(argv[i], "--metadata") == 0) {
            o->metadata = true;
        } else {
            return cli_error("info: unexpected argument '%s' (try dsvk info "
                             "--help)",
                             argv[i]);
        }
    }
    return o->path ? -1 : cli_error("info: no model (-m MODEL)");
}

static void print_report(const options *o, const dsvk_model *model,
                         const dsvk_weight_type_usage *types, uint32_t n_types)
{
    dsvk_model_info info;
    dsvk_model_get_info(model, &info);
    print_general(o->path, model, &info);
    print_attention(&info);
    print_moe(&info);
    print_rope(&info);
    if (info.has_weights) {
        print_weights(&info, types, n_types);
        print_cache(model, &info);
    } else {
        printf("\nweights\n  none: a vocab-only file (parameter counts, "
               "weight memory and cache sizes are printed for full "
               "models)\n");
    }
    print_tokenizer(model, &info);
    if (o->tensors)
        print_tensors(model, &info);
    if (o->metadata)
        print_metadata(model);
}

int cmd_info(int argc, char **argv)
{
    options o;
    int code = parse_args(argc, argv, &o);
    if (code >= 0)
        return code;

    /* Everything is read before anything is printed: the output is either
     * the whole report or one error line. */
    char err[512] = "";
    dsvk_model *model = NULL;
    if (dsvk_model_open(o.path, DSVK_OPEN_MODEL, &model, err, sizeof err) !=
        DSVK_OK)
        return cli_error("%s", err);
    uint32_t n_types = 0;
    dsvk_weight_type_usage *types = weight_types(model, &n_types);
    if (!types) {
        code = cli_error("%s: out of memory", o.path);
    } else {
        print_report(&o, model, types, n_types);
        code = fflush(stdout) == 0 ? 0 : cli_error("cannot write the report");
    }
    free(types);
    dsvk_model_destroy(model);
    return code;
}
