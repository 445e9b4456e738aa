/* tools/gen-model, run at test time. Its tiny presets must reproduce the
 * llama.cpp-written fixtures' metadata and tensor lists exactly (keys,
 * value types, names, shapes, storage types), custom shapes must read back
 * through gguf_open, and the weights must be what the flags promise: the
 * same values in every layout and type for one seed, quantized as ggml
 * does. Usage: test_gguf_gen_model GEN_MODEL_PATH OUTPUT_DIR */
#include "gguf/gguf.h"
#include "model/dequant.h"
#include "model/half.h"
#include "model/model.h"
#include "shared.h"
#include "testlib.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64

static const char *gen_model;
static const char *out_dir;

/* Runs gen-model with args (NULL-terminated) and -o out_dir/file; returns
 * its exit status. Its stderr goes to out_dir/stderr.txt. */
static int run_gen_model(const char *file, const char *const *args)
{
    char output[4096], log[4096];
    snprintf(output, sizeof output, "%s/%s", out_dir, file);
    snprintf(log, sizeof log, "%s/stderr.txt", out_dir);
    const char *argv[MAX_ARGS + 4] = {gen_model, "-o", output};
    int argc = 3;
    for (int i = 0; args[i]; i++) {
        if (argc == MAX_ARGS) {
            CHECK(false, "more than %d arguments", MAX_ARGS);
            return -1;
        }
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        execv(gen_model, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static gguf_file *open_output(const char *file)
{
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", out_dir, file);
    gguf_file *f = NULL;
    CHECK(gguf_open(path, &f, err, sizeof err) == DSVK_OK, "%s", err);
    return f;
}

static gguf_file *generate(const char *file, const char *const *args)
{
    int status = run_gen_model(file, args);
    CHECK(status == 0, "gen-model for %s exited with %d", file, status);
    return status == 0 ? open_output(file) : NULL;
}

static bool kv_values_equal(const gguf_kv *a, const gguf_kv *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case GGUF_TYPE_STRING:
        return a->v.str.len == b->v.str.len &&
               memcmp(a->v.str.data, b->v.str.data, a->v.str.len) == 0;
    case GGUF_TYPE_ARRAY:
        return a->v.arr.type == b->v.arr.type; /* contents differ by design */
    case GGUF_TYPE_FLOAT32:
    case GGUF_TYPE_FLOAT64:
        return a->v.f64 == b->v.f64;
    case GGUF_TYPE_BOOL:
        return a->v.b == b->v.b;
    default:
        return a->v.u64 == b->v.u64;
    }
}

/* Same keys in the same order with equal values (tokenizer arrays: same
 * element type), and the same tensors with equal shapes and types. */
static void check_matches_fixture(const char *file, const char *const *args,
                                  const char *fixture)
{
    gguf_file *ours = generate(file, args);
    char err[512] = "";
    gguf_file *theirs = NULL;
    gguf_open(test_fixture(fixture), &theirs, err, sizeof err);
    CHECK(theirs, "%s", err);
    if (!ours || !theirs) {
        gguf_close(ours);
        gguf_close(theirs);
        return;
    }
    CHECK(gguf_kv_count(ours) == gguf_kv_count(theirs), "%s: %llu keys", file,
          (unsigned long long)gguf_kv_count(ours));
    for (uint64_t i = 0; i < gguf_kv_count(theirs); i++) {
        const gguf_kv *want = gguf_kv_at(theirs, i);
        const gguf_kv *got = gguf_kv_at(ours, i);
        CHECK(got && gguf_str_compare(got->key, want->key) == 0 &&
                  kv_values_equal(got, want),
              "%s: key/value %llu ('%.*s') differs from %s", file,
              (unsigned long long)i, (int)want->key.len, want->key.data,
              fixture);
    }
    CHECK(gguf_tensor_count(ours) == gguf_tensor_count(theirs),
          "%s: %llu tensors", file,
          (unsigned long long)gguf_tensor_count(ours));
    for (uint64_t i = 0; i < gguf_tensor_count(theirs); i++) {
        const gguf_tensor *want = gguf_tensor_at(theirs, i);
        const gguf_tensor *got = gguf_tensor_at(ours, i);
        CHECK(got && gguf_str_compare(got->name, want->name) == 0 &&
                  got->type == want->type && got->n_dims == want->n_dims &&
                  memcmp(got->ne, want->ne, sizeof got->ne) == 0,
              "%s: tensor %llu ('%.*s') differs from %s", file,
              (unsigned long long)i, (int)want->name.len, want->name.data,
              fixture);
    }
    gguf_close(ours);
    gguf_close(theirs);
}

static void test_presets_match_fixtures(void)
{
    check_matches_fixture("tiny-v2.gguf",
                          (const char *const[]){"--name", "tiny-v2", NULL},
                          "models/tiny-v2.gguf");
    check_matches_fixture("tiny-v2-legacy.gguf",
                          (const char *const[]){"--name", "tiny-v2-legacy",
                                                "--layout", "legacy", NULL},
                          "models/tiny-v2-legacy.gguf");
    check_matches_fixture(
        "tiny-v2-q8.gguf",
        (const char *const[]){"--name", "tiny-v2-q8", "--type", "q8_0", NULL},
        "models/tiny-v2-q8.gguf");
    check_matches_fixture(
        "tiny-v3.gguf",
        (const char *const[]){"--preset", "tiny-v3", "--type", "f16", NULL},
        "models/tiny-v3.gguf");
}

/* The quantized formats choose each tensor's type as llama-quantize does.
 * Generated in the shapes of the llama-quantize-written fixtures, every
 * tensor must have the fixture's type and shape (llama-quantize sorts
 * tensors by name, so they are matched by name), general.file_type must
 * be the fixture's, and the file must bind as a model. */
static void check_types_match_fixture(const char *file, const char *const *args,
                                      const char *fixture)
{
    gguf_file *ours = generate(file, args);
    char err[512] = "";
    gguf_file *theirs = NULL;
    gguf_open(test_fixture(fixture), &theirs, err, sizeof err);
    CHECK(theirs, "%s", err);
    if (!ours || !theirs) {
        gguf_close(ours);
        gguf_close(theirs);
        return;
    }
    CHECK(gguf_tensor_count(ours) == gguf_tensor_count(theirs),
          "%s: %llu tensors", file,
          (unsigned long long)gguf_tensor_count(ours));
    for (uint64_t i = 0; i < gguf_tensor_count(theirs); i++) {
        const gguf_tensor *want = gguf_tensor_at(theirs, i);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)want->name.len,
                 want->name.data);
        const gguf_tensor *got = gguf_find_tensor(ours, name);
        CHECK(got && got->type == want->type &&
                  memcmp(got->ne, want->ne, sizeof got->ne) == 0,
              "%s: %s is %s, %s has %s", file, name,
              got ? gguf_type_name(got->type) : "missing", fixture,
              gguf_type_name(want->type));
    }
    uint32_t ours_type = 0, theirs_type = 1;
    gguf_get_u32(ours, "general.file_type", &ours_type);
    gguf_get_u32(theirs, "general.file_type", &theirs_type);
    CHECK(ours_type == theirs_type, "%s: file_type %u, %s has %u", file,
          ours_type, fixture, theirs_type);
    model *m = NULL;
    CHECK(model_load(ours, &m, err, sizeof err) == DSVK_OK, "%s: %s", file,
          err);
    model_free(m);
    gguf_close(ours);
    gguf_close(theirs);
}

static void test_quantized_match_fixtures(void)
{
    check_types_match_fixture(
        "tiny-v2-k-q4_0.gguf",
        (const char *const[]){"--preset", "tiny-v2-k", "--type", "q4_0", NULL},
        "models/tiny-v2-q4_0.gguf");
    check_types_match_fixture("tiny-v2-k-q4_k_m.gguf",
                              (const char *const[]){"--preset", "tiny-v2-k",
                                                    "--type", "q4_k_m", NULL},
                              "models/tiny-v2-q4_k_m.gguf");
    check_types_match_fixture(
        "tiny-v3-k-q6_k.gguf",
        (const char *const[]){"--preset", "tiny-v3-k", "--type", "q6_k", NULL},
        "models/tiny-v3-q6_k.gguf");
}

/* Every quantized format holds the f32 file's values (same seed) as its
 * quantizer rounds them: on these uniform weights the NMSE stays within
 * 1.2x that of plain round-to-nearest with the format's step (see
 * tests/test_quant_encode.c, which checks the quantizers element by
 * element), and the file binds as a model. A smaller tiny-v2-k keeps the
 * files small; values depend only on the seed, name and index. */
static void test_quantized_values(void)
{
#define SMALL_K "--preset", "tiny-v2-k", "--n-layer", "2", "--n-expert", "2"
    static const struct {
        const char *type;
        uint32_t storage;
        double uniform_nmse;
    } formats[] = {
        {"q4_0", DSVK_TYPE_Q4_0, 1.0 / 256},
        {"q4_1", DSVK_TYPE_Q4_1, 1.0 / 225},
        {"q5_0", DSVK_TYPE_Q5_0, 1.0 / 1024},
        {"q5_1", DSVK_TYPE_Q5_1, 1.0 / 961},
        {"q4_k", DSVK_TYPE_Q4_K, 1.0 / 225},
        {"q5_k", DSVK_TYPE_Q5_K, 1.0 / 961},
        {"q6_k", DSVK_TYPE_Q6_K, 1.0 / 4096},
    };
    const char *name = "blk.1.ffn_up_exps.weight";
    gguf_file *ref =
        generate("small-k-f32.gguf", (const char *const[]){SMALL_K, NULL});
    const gguf_tensor *t32 = ref ? gguf_find_tensor(ref, name) : NULL;
    CHECK(t32 && t32->type == DSVK_TYPE_F32, "f32 %s", name);
    uint64_t n = t32 ? t32->n_elements : 0;
    float *expected = malloc(n * sizeof *expected);
    float *values = malloc(n * sizeof *values);
    bool ready = t32 && expected && values &&
                 dequant_row(DSVK_TYPE_F32, t32->data, expected, n);
    for (size_t i = 0; ready && i < sizeof formats / sizeof formats[0]; i++) {
        char file[64];
        snprintf(file, sizeof file, "small-k-%s.gguf", formats[i].type);
        gguf_file *q =
            generate(file, (const char *const[]){SMALL_K, "--type",
                                                 formats[i].type, NULL});
        const gguf_tensor *t = q ? gguf_find_tensor(q, name) : NULL;
        CHECK(t && t->type == formats[i].storage && t->n_elements == n &&
                  dequant_row(t->type, t->data, values, n),
              "%s: %s", file, name);
        if (t && t->type == formats[i].storage) {
            double nmse = test_nmse(values, expected, n);
            printf("%s: %s nmse %.3g\n", file, name, nmse);
            CHECK(nmse <= 1.2 * formats[i].uniform_nmse,
                  "%s: nmse %g against the f32 file", file, nmse);
        }
        char err[512] = "";
        model *m = NULL;
        CHECK(q && model_load(q, &m, err, sizeof err) == DSVK_OK, "%s: %s",
              file, err);
        model_free(m);
        gguf_close(q);
    }
    free(expected);
    free(values);
    gguf_close(ref);
#undef SMALL_K
}

/* A shape unlike any preset: every flag read back from its key. */
static void test_custom_shape(void)
{
    static const char *const args[] = {"--preset",
                                       "tiny-v3",
                                       "--type",
                                       "bf16",
                                       "--layout",
                                       "legacy",
                                       "--n-vocab",
                                       "300",
                                       "--n-embd",
                                       "96",
                                       "--n-layer",
                                       "2",
                                       "--n-layer-dense-lead",
                                       "0",
                                       "--n-expert",
                                       "6",
                                       "--n-expert-used",
                                       "3",
                                       "--n-expert-shared",
                                       "2",
                                       "--n-ff-exp",
                                       "40",
                                       "--n-head",
                                       "3",
                                       "--q-lora-rank",
                                       "40",
                                       "--kv-lora-rank",
                                       "24",
                                       "--qk-nope-head-dim",
                                       "8",
                                       "--qk-rope-head-dim",
                                       "4",
                                       "--v-head-dim",
                                       "12",
                                       "--expert-group-count",
                                       "3",
                                       "--expert-group-used-count",
                                       "2",
                                       "--yarn-factor",
                                       "1",
                                       "--rope-freq-base",
                                       "50000",
                                       "--context-length",
                                       "1024",
                                       "--expert-weights-scale",
                                       "1.5",
                                       NULL};
    gguf_file *f = generate("custom.gguf", args);
    if (!f)
        return;
    static const struct {
        const char *key;
        uint32_t value;
    } expected[] = {
        {"deepseek2.vocab_size", 300},
        {"deepseek2.embedding_length", 96},
        {"deepseek2.block_count", 2},
        {"deepseek2.leading_dense_block_count", 0},
        {"deepseek2.expert_count", 6},
        {"deepseek2.expert_used_count", 3},
        {"deepseek2.expert_shared_count", 2},
        {"deepseek2.expert_feed_forward_length", 40},
        {"deepseek2.attention.head_count", 3},
        {"deepseek2.attention.head_count_kv", 3}, /* legacy layout */
        {"deepseek2.attention.q_lora_rank", 40},
        {"deepseek2.attention.kv_lora_rank", 24},
        {"deepseek2.attention.key_length", 12},
        {"deepseek2.attention.value_length", 12},
        {"deepseek2.rope.dimension_count", 4},
        {"deepseek2.expert_group_count", 3},
        {"deepseek2.expert_group_used_count", 2},
        {"deepseek2.expert_gating_func", 2},
        {"deepseek2.context_length", 1024},
        {"general.file_type", 32},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        uint32_t v = 0;
        CHECK(gguf_get_u32(f, expected[i].key, &v) && v == expected[i].value,
              "%s = %u, expected %u", expected[i].key, v, expected[i].value);
    }
    float base = 0, scale = 0;
    CHECK(gguf_get_f32(f, "deepseek2.rope.freq_base", &base) &&
              base == 50000.0f,
          "freq_base %g", base);
    CHECK(gguf_get_f32(f, "deepseek2.expert_weights_scale", &scale) &&
              scale == 1.5f,
          "expert_weights_scale %g", scale);
    CHECK(!gguf_find_kv(f, "deepseek2.rope.scaling.type"),
          "no YaRN keys at factor 1");
    CHECK(!gguf_find_kv(f, "deepseek2.attention.key_length_mla"),
          "no *_mla keys in the legacy layout");
    const gguf_kv *tokens = gguf_find_kv(f, "tokenizer.ggml.tokens");
    CHECK(tokens && tokens->v.arr.count == 300, "token count");
    /* Shapes that follow from the flags: q_b [rq, H*(dn+dr)], kv_b
     * [r, H*(dn+dv)], expert stacks [d, n_ff_exp, E], shared experts
     * [d, shared*n_ff_exp]; every layer is MoE. */
    const gguf_tensor *q_b = gguf_find_tensor(f, "blk.1.attn_q_b.weight");
    const gguf_tensor *kv_b = gguf_find_tensor(f, "blk.1.attn_kv_b.weight");
    const gguf_tensor *up = gguf_find_tensor(f, "blk.0.ffn_up_exps.weight");
    const gguf_tensor *sh = gguf_find_tensor(f, "blk.0.ffn_gate_shexp.weight");
    const gguf_tensor *bias = gguf_find_tensor(f, "blk.0.exp_probs_b.bias");
    CHECK(q_b && q_b->ne[0] == 40 && q_b->ne[1] == 36, "attn_q_b shape");
    CHECK(kv_b && kv_b->ne[0] == 24 && kv_b->ne[1] == 60 &&
              kv_b->type == DSVK_TYPE_BF16,
          "attn_kv_b");
    CHECK(up && up->ne[0] == 96 && up->ne[1] == 40 && up->ne[2] == 6,
          "ffn_up_exps shape");
    CHECK(sh && sh->ne[0] == 96 && sh->ne[1] == 80, "ffn_gate_shexp shape");
    CHECK(bias && bias->type == DSVK_TYPE_F32 && bias->ne[0] == 6,
          "exp_probs_b");
    CHECK(!gguf_find_tensor(f, "blk.0.ffn_gate.weight"), "no dense layer");
    gguf_close(f);
}

static float f32_at(const gguf_tensor *t, uint64_t i)
{
    float v;
    memcpy(&v, t->data + 4 * i, sizeof v);
    return v;
}

static uint16_t u16_at(const gguf_tensor *t, uint64_t i)
{
    return (uint16_t)(t->data[2 * i] | t->data[2 * i + 1] << 8);
}

/* attn_k_b / attn_v_b of the split file are slices of the legacy file's
 * attn_kv_b (see DESIGN.md §2): k_b[h][j][i] = kv_b[h*(dn+dv) + i][j],
 * v_b[h][i][j] = kv_b[h*(dn+dv) + dn + i][j]. */
static void test_layouts_agree(void)
{
    gguf_file *split = open_output("tiny-v2.gguf");
    gguf_file *legacy = open_output("tiny-v2-legacy.gguf");
    const uint64_t dn = 16, dv = 16, r = 32, H = 4;
    const gguf_tensor *k_b =
        split ? gguf_find_tensor(split, "blk.1.attn_k_b.weight") : NULL;
    const gguf_tensor *v_b =
        split ? gguf_find_tensor(split, "blk.1.attn_v_b.weight") : NULL;
    const gguf_tensor *kv_b =
        legacy ? gguf_find_tensor(legacy, "blk.1.attn_kv_b.weight") : NULL;
    CHECK(k_b && v_b && kv_b, "tensors present");
    uint64_t mismatches = 0;
    for (uint64_t h = 0; k_b && v_b && kv_b && h < H; h++) {
        for (uint64_t j = 0; j < r; j++) {
            for (uint64_t i = 0; i < dn; i++)
                mismatches += f32_at(k_b, (h * r + j) * dn + i) !=
                              f32_at(kv_b, (h * (dn + dv) + i) * r + j);
            for (uint64_t i = 0; i < dv; i++)
                mismatches += f32_at(v_b, (h * dv + i) * r + j) !=
                              f32_at(kv_b, (h * (dn + dv) + dn + i) * r + j);
        }
    }
    CHECK(mismatches == 0, "%llu split values differ from attn_kv_b",
          (unsigned long long)mismatches);
    const gguf_tensor *a =
        split ? gguf_find_tensor(split, "output.weight") : NULL;
    const gguf_tensor *b =
        legacy ? gguf_find_tensor(legacy, "output.weight") : NULL;
    CHECK(a && b && memcmp(a->data, b->data, a->n_bytes) == 0,
          "other tensors identical across layouts");
    gguf_close(split);
    gguf_close(legacy);
}

/* The f16, bf16 and q8_0 files hold the f32 file's values rounded as ggml
 * rounds them (round-to-nearest-even; q8_0 as quantize_row_q8_0_ref:
 * d = max|x|/127 stored as f16, quants roundf(x * (1/d)) with the f32 d). */
static void test_types_agree(void)
{
    static const char *const f16[] = {"--type", "f16", NULL};
    static const char *const bf16[] = {"--type", "bf16", NULL};
    gguf_file *ref = open_output("tiny-v2.gguf");
    gguf_file *h = generate("tiny-f16.gguf", f16);
    gguf_file *b = generate("tiny-bf16.gguf", bf16);
    gguf_file *q = open_output("tiny-v2-q8.gguf");
    if (!ref || !h || !b || !q)
        goto done;
    const char *name = "blk.2.ffn_down_exps.weight";
    const gguf_tensor *t32 = gguf_find_tensor(ref, name);
    const gguf_tensor *t16 = gguf_find_tensor(h, name);
    const gguf_tensor *tb = gguf_find_tensor(b, name);
    const gguf_tensor *t8 = gguf_find_tensor(q, name);
    CHECK(t32 && t16 && tb && t8 && t16->type == DSVK_TYPE_F16 &&
              tb->type == DSVK_TYPE_BF16 && t8->type == DSVK_TYPE_Q8_0,
          "%s types", name);
    if (!t32 || !t16 || !tb || !t8)
        goto done;
    uint64_t bad16 = 0, bad_bf16 = 0, bad8 = 0;
    for (uint64_t i = 0; i < t32->n_elements; i++) {
        float x = f32_at(t32, i);
        bad16 += u16_at(t16, i) != f32_to_half(x);
        bad_bf16 += u16_at(tb, i) != f32_to_bf16(x);
    }
    for (uint64_t block = 0; block < t32->n_elements / 32; block++) {
        const uint8_t *p = t8->data + 34 * block;
        float amax = 0;
        for (int j = 0; j < 32; j++)
            amax = fmaxf(amax, fabsf(f32_at(t32, block * 32 + j)));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        bad8 += (uint16_t)(p[0] | p[1] << 8) != f32_to_half(d);
        for (int j = 0; j < 32; j++)
            bad8 += (int8_t)p[2 + j] !=
                    (int8_t)roundf(f32_at(t32, block * 32 + j) * id);
    }
    CHECK(bad16 == 0 && bad_bf16 == 0 && bad8 == 0,
          "values differing from the f32 file: f16 %llu, bf16 %llu, q8_0 "
          "%llu",
          (unsigned long long)bad16, (unsigned long long)bad_bf16,
          (unsigned long long)bad8);
done:
    gguf_close(ref);
    gguf_close(h);
    gguf_close(b);
    gguf_close(q);
}

/* Norms 1 +- 0.1; matrices with standard deviation 1/sqrt(fan_in). */
static void test_value_scales(void)
{
    gguf_file *f = open_output("tiny-v2.gguf");
    if (!f)
        return;
    const gguf_tensor *norm = gguf_find_tensor(f, "blk.0.attn_norm.weight");
    const gguf_tensor *up = gguf_find_tensor(f, "blk.1.ffn_up_exps.weight");
    for (uint64_t i = 0; norm && i < norm->n_elements; i++)
        CHECK(fabsf(f32_at(norm, i) - 1.0f) <= 0.1f, "norm[%llu] = %g",
              (unsigned long long)i, f32_at(norm, i));
    double sum = 0, sum_sq = 0;
    for (uint64_t i = 0; up && i < up->n_elements; i++) {
        sum += f32_at(up, i);
        sum_sq += (double)f32_at(up, i) * f32_at(up, i);
    }
    double n = up ? (double)up->n_elements : 1;
    double std = sqrt(sum_sq / n - (sum / n) * (sum / n));
    /* 16384 samples: the estimate is within a few percent. */
    CHECK(up && fabs(std * sqrt(64.0) - 1.0) < 0.05 && fabs(sum / n) < 0.01,
          "ffn_up_exps std %g (expected 1/8)", std);
    gguf_close(f);
}

static void test_seeds(void)
{
    static const char *const seed2[] = {"--seed", "2", NULL};
    gguf_file *a = open_output("tiny-v2.gguf");
    gguf_file *b = generate("tiny-seed2.gguf", seed2);
    const gguf_tensor *ta = a ? gguf_find_tensor(a, "output.weight") : NULL;
    const gguf_tensor *tb = b ? gguf_find_tensor(b, "output.weight") : NULL;
    CHECK(ta && tb && memcmp(ta->data, tb->data, ta->n_bytes) != 0,
          "another seed gives other weights");
    gguf_close(a);
    gguf_close(b);
}

static bool output_exists(const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, file);
    return access(path, F_OK) == 0;
}

/* Bad flags: exit code 2, one line naming the problem, no file. */
static void test_rejected_flags(void)
{
    static const struct {
        const char *args[8];
        const char *message;
    } cases[] = {
        {{"--n-expert-used", "9", NULL}, "--n-expert-used 9 must be 1 to"},
        {{"--type", "q4_9", NULL}, "--type: invalid value 'q4_9'"},
        {{"--n-vocab", "100", NULL}, "--n-vocab 100 is too small"},
        {{"--qk-rope-head-dim", "7", NULL}, "must be even"},
        {{"--n-embd", "12x", NULL}, "--n-embd: invalid value '12x'"},
        {{"--n-embd", "4294967296", NULL}, "invalid value"},
        {{"--preset", "v9", NULL}, "unknown preset 'v9'"},
        {{"--expert-group-count", "3", NULL}, "not a multiple of"},
        {{"--bogus", NULL}, "unknown flag"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = run_gen_model("rejected.gguf", cases[i].args);
        char path[4096];
        snprintf(path, sizeof path, "%s/stderr.txt", out_dir);
        char *log = test_read_file(path, NULL);
        CHECK(status == 2 && log && strstr(log, cases[i].message) &&
                  strchr(log, '\n') == log + strlen(log) - 1,
              "case %zu: status %d, stderr '%s'", i, status,
              log ? log : "(none)");
        free(log);
        CHECK(!output_exists("rejected.gguf"), "case %zu wrote a file", i);
    }
}

/* Starts from an empty output folder: a gen-model run killed midway in an
 * earlier test run (Ctrl-C, a time limit) may have left a temporary file,
 * which test_no_temporary_files would blame on this run. */
static void empty_output_dir(void)
{
    mkdir(out_dir, 0755);
    DIR *dir = opendir(out_dir);
    CHECK(dir != NULL, "cannot open %s", out_dir);
    struct dirent *entry;
    while (dir && (entry = readdir(dir))) {
        if (entry->d_name[0] == '.' &&
            (!entry->d_name[1] || strcmp(entry->d_name, "..") == 0))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", out_dir, entry->d_name);
        CHECK(unlink(path) == 0, "cannot remove %s", path);
    }
    if (dir)
        closedir(dir);
}

/* Temporary files are renamed or removed: only finished models remain. */
static void test_no_temporary_files(void)
{
    DIR *dir = opendir(out_dir);
    struct dirent *entry;
    while (dir && (entry = readdir(dir)))
        CHECK(!strstr(entry->d_name, ".tmp-"), "left behind: %s",
              entry->d_name);
    if (dir)
        closedir(dir);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s GEN_MODEL OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    gen_model = argv[1];
    out_dir = argv[2];
    empty_output_dir();
    test_presets_match_fixtures();
    test_quantized_match_fixtures();
    test_quantized_values();
    test_custom_shape();
    test_layouts_agree();
    test_types_agree();
    test_value_scales();
    test_seeds();
    test_rejected_flags();
    test_no_temporary_files();
    return test_finish("gguf_gen_model");
}
