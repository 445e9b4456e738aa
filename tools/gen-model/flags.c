/* Command-line flags. One table drives parsing and --help, so every flag
 * is documented. --preset applies first wherever it appears; the other
 * flags then override single fields. */
#include "flags.h"
#include "weight_format.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum flag_kind {
    FLAG_U32,    /* uint32_t field */
    FLAG_F32,    /* float field */
    FLAG_F64,    /* double field */
    FLAG_ON_OFF, /* bool field */
    FLAG_PRESET,
    FLAG_GATING,
    FLAG_LAYOUT,
    FLAG_TYPE,
    FLAG_SEED,
    FLAG_NAME,
    FLAG_OUTPUT,
    FLAG_HELP,
} flag_kind;

typedef struct flag {
    const char *name;
    const char *arg; /* NULL: takes no argument */
    flag_kind kind;
    size_t field; /* offsetof(model_config, ...) for the first four kinds */
    const char *help;
} flag;

#define FIELD(f) offsetof(model_config, f)

static const flag flags[] = {
    {"preset", "NAME", FLAG_PRESET, 0,
     "start from a preset (default tiny; list below)"},
    {"output", "FILE", FLAG_OUTPUT, 0, "file to write (required; also -o)"},
    {"type", "TYPE", FLAG_TYPE, 0,
     "weight type (default f32; list below): norms, router and expert "
     "bias stay f32; quantized types choose per tensor as llama-quantize "
     "does (output q6_k, q4_k_m's q6_k/q5_k tensors) and fall back where "
     "blocks do not divide a row (q4_k to q5_0, q5_k to q5_1, q6_k to "
     "q8_0, others to f16)"},
    {"layout", "split|legacy", FLAG_LAYOUT, 0,
     "attn_k_b + attn_v_b (default) or one attn_kv_b; same weights for the "
     "same seed"},
    {"seed", "N", FLAG_SEED, 0, "random seed (default 1)"},
    {"name", "TEXT", FLAG_NAME, 0, "general.name (default: the preset's)"},
    {"n-vocab", "N", FLAG_U32, FIELD(n_vocab), "vocabulary size (>= 258)"},
    {"n-embd", "N", FLAG_U32, FIELD(n_embd), "model width d"},
    {"n-layer", "N", FLAG_U32, FIELD(n_layer), "number of layers"},
    {"n-layer-dense-lead", "N", FLAG_U32, FIELD(n_layer_dense_lead),
     "leading layers with a dense FFN instead of experts"},
    {"n-ff", "N", FLAG_U32, FIELD(n_ff), "dense FFN width"},
    {"n-expert", "N", FLAG_U32, FIELD(n_expert), "routed experts per layer"},
    {"n-expert-used", "N", FLAG_U32, FIELD(n_expert_used),
     "experts chosen per token"},
    {"n-expert-shared", "N", FLAG_U32, FIELD(n_expert_shared),
     "shared experts (>= 1)"},
    {"n-ff-exp", "N", FLAG_U32, FIELD(n_ff_exp), "width of one expert"},
    {"n-head", "N", FLAG_U32, FIELD(n_head), "attention heads"},
    {"q-lora-rank", "N", FLAG_U32, FIELD(q_lora_rank),
     "query compression rank (0 = none: one attn_q)"},
    {"kv-lora-rank", "N", FLAG_U32, FIELD(kv_lora_rank),
     "latent (KV compression) rank"},
    {"qk-nope-head-dim", "N", FLAG_U32, FIELD(qk_nope_head_dim),
     "per-head query/key size without RoPE"},
    {"qk-rope-head-dim", "N", FLAG_U32, FIELD(qk_rope_head_dim),
     "per-head RoPE size (even)"},
    {"v-head-dim", "N", FLAG_U32, FIELD(v_head_dim), "per-head value size"},
    {"gating", "softmax|sigmoid", FLAG_GATING, 0,
     "router scoring: V2 softmax or V3 sigmoid"},
    {"exp-probs-b", "on|off", FLAG_ON_OFF, FIELD(exp_probs_b),
     "per-expert choice bias tensor (V3)"},
    {"expert-weights-norm", "on|off", FLAG_ON_OFF, FIELD(expert_weights_norm),
     "normalise the chosen experts' weights to sum 1"},
    {"expert-weights-scale", "F", FLAG_F32, FIELD(expert_weights_scale),
     "factor on the experts' weights"},
    {"expert-group-count", "N", FLAG_U32, FIELD(expert_group_count),
     "expert groups for group-limited routing (0 or 1 = off)"},
    {"expert-group-used-count", "N", FLAG_U32, FIELD(expert_group_used_count),
     "groups kept per token"},
    {"rms-eps", "F", FLAG_F32, FIELD(rms_eps), "RMSNorm epsilon"},
    {"rope-freq-base", "F", FLAG_F32, FIELD(rope_freq_base), "RoPE base"},
    {"yarn-factor", "F", FLAG_F32, FIELD(yarn_factor),
     "YaRN context scaling factor (<= 1: no rope scaling keys)"},
    {"yarn-original-ctx", "N", FLAG_U32, FIELD(yarn_original_context),
     "YaRN original context length"},
    {"yarn-mscale-all-dim", "F", FLAG_F64, FIELD(yarn_mscale_all_dim),
     "YaRN mscale_all_dim (stored as yarn_log_multiplier = 0.1 x F)"},
    {"context-length", "N", FLAG_U32, FIELD(context_length),
     "training context length"},
    {"help", NULL, FLAG_HELP, 0, "show this help (also -h)"},
};

#define N_FLAGS (sizeof flags / sizeof flags[0])

static const flag *flag_of_kind(flag_kind kind)
{
    for (size_t i = 0; i < N_FLAGS; i++)
        if (flags[i].kind == kind)
            return &flags[i];
    return NULL;
}

static void print_help(void)
{
    printf("usage: gen-model [flags] -o FILE\n"
           "Writes a random-weight deepseek2 GGUF model (with a small "
           "byte-level BPE\ntokenizer) of any shape, for tests.\n\n");
    for (size_t i = 0; i < N_FLAGS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", flags[i].name,
                 flags[i].arg ? " " : "", flags[i].arg ? flags[i].arg : "");
        printf("  %-34s %s\n", left, flags[i].help);
    }
    printf("\npresets: %s\ntypes: %s\n", config_preset_names(),
           weight_format_names());
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static bool apply(const flag *f, const char *value, model_config *cfg,
                  const char **output, char *err, size_t err_size)
{
    char *base = (char *)cfg;
    uint64_t u;
    switch (f->kind) {
    case FLAG_U32:
        if (!parse_u64(value, UINT32_MAX, &u))
            break;
        *(uint32_t *)(base + f->field) = (uint32_t)u;
        return true;
    case FLAG_F32: {
        char *end;
        errno = 0;
        float v = strtof(value, &end);
        if (errno || end == value || *end || !isfinite(v))
            break;
        *(float *)(base + f->field) = v;
        return true;
    }
    case FLAG_F64: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v))
            break;
        *(double *)(base + f->field) = v;
        return true;
    }
    case FLAG_ON_OFF:
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
            break;
        *(bool *)(base + f->field) = strcmp(value, "on") == 0;
        return true;
    case FLAG_GATING:
        if (strcmp(value, "softmax") != 0 && strcmp(value, "sigmoid") != 0)
            break;
        cfg->gating =
            strcmp(value, "softmax") == 0 ? GATING_SOFTMAX : GATING_SIGMOID;
        return true;
    case FLAG_LAYOUT:
        if (strcmp(value, "split") != 0 && strcmp(value, "legacy") != 0)
            break;
        cfg->layout =
            strcmp(value, "split") == 0 ? LAYOUT_SPLIT : LAYOUT_LEGACY;
        return true;
    case FLAG_TYPE:
        cfg->format = weight_format_find(value);
        if (!cfg->format)
            break;
        return true;
    case FLAG_SEED:
        if (!parse_u64(value, UINT64_MAX, &cfg->seed))
            break;
        return true;
    case FLAG_NAME:
        cfg->name = value;
        return true;
    case FLAG_OUTPUT:
        *output = value;
        return true;
    case FLAG_PRESET:
    case FLAG_HELP:
        return true; /* handled in the first pass */
    }
    snprintf(err, err_size, "--%s: invalid value '%s' (expected %s%s%s)",
             f->name, value, f->arg, f->kind == FLAG_TYPE ? ": " : "",
             f->kind == FLAG_TYPE ? weight_format_names() : "");
    return false;
}

flags_result flags_parse(int argc, char **argv, model_config *cfg,
                         const char **output, char *err, size_t err_size)
{
    struct option options[N_FLAGS + 1];
    for (size_t i = 0; i < N_FLAGS; i++)
        options[i] = (struct option){
            flags[i].name, flags[i].arg ? required_argument : no_argument, NULL,
            (int)(256 + i)};
    options[N_FLAGS] = (struct option){0};

    *output = NULL;
    memset(cfg, 0, sizeof *cfg);
    cfg->format = weight_format_find("f32");
    cfg->layout = LAYOUT_SPLIT;
    cfg->seed = 1;
    config_preset("tiny", cfg);

    /* Pass 1: --help and --preset; pass 2: everything else. */
    for (int pass = 1; pass <= 2; pass++) {
        optind = 0; /* glibc: 0 also resets getopt's internal state */
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
            if (c == '?' || c == ':') {
                snprintf(err, err_size,
                         "unknown flag or missing value: %s "
                         "(see --help)",
                         argv[optind - 1]);
                return FLAGS_ERROR;
            }
            const flag *f = c == 'h'   ? flag_of_kind(FLAG_HELP)
                            : c == 'o' ? flag_of_kind(FLAG_OUTPUT)
                                       : &flags[c - 256];
            if (pass == 1 && f->kind == FLAG_HELP) {
                print_help();
                return FLAGS_HELP;
            }
            if (pass == 1 && f->kind == FLAG_PRESET &&
                !config_preset(optarg, cfg)) {
                snprintf(err, err_size, "unknown preset '%s' (presets: %s)",
                         optarg, config_preset_names());
                return FLAGS_ERROR;
            }
            if (pass == 2 && !apply(f, optarg, cfg, output, err, err_size))
                return FLAGS_ERROR;
        }
    }
    if (optind < argc) {
        snprintf(err, err_size, "unexpected argument '%s' (see --help)",
                 argv[optind]);
        return FLAGS_ERROR;
    }
    if (!*output) {
        snprintf(err, err_size, "no output file: use -o FILE (see --help)");
        return FLAGS_ERROR;
    }
    return FLAGS_RUN;
}
