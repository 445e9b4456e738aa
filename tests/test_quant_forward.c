/* The GPU forward pass on quantized models tools/gen-model writes at test
 * time, against the CPU reference (host/reference/reference.c). Shapes whose
 * rows are multiples of 256, so the K-quants apply: q4_0:          Q4_0, output
 * Q6_K; q4_k_m:        Q4_K, Q5_K attn_output (8 experts), Q6_K output and
 *                  last-layer ffn_down, Q5_0 attn_k_b (rows of 32);
 *   q4_k_m legacy: the same with one attn_kv_b (Q4_K), whose W_UK part the
 *                  loader turns into F16;
 *   q6_k v3:       V3 routing, query compression; Q6_K, Q8_0 attn_k_b.
 * A 24-token sequence, past the models' YaRN original context (16), is fed
 * whole (matmul products) and token by token (matvec products).
 *
 * Bound, as tests/test_forward_generated.c argues for the float types:
 * max |dlogit| <= 1e-3 x max(1, max |reference logit|). The GPU decodes
 * every block to the same f32 values as host/model/dequant.c (the op tests
 * check this bit for bit), so quantization error is in both sides alike; they
 * differ by f32 summation order and the f16 latent cache roundings it
 * flips. The argmax must agree wherever the reference's top-2 gap exceeds
 * twice the bound; a router choice may differ only at a near tie
 * (reference margin < 1e-3), and that position is left out. */
#include "test_forward_support.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N_TOKENS 24u
#define N_CTX 32u
#define RELATIVE_BOUND 1e-3

static const char *const v2_k[] = {
    "--preset", "tiny-v2-k", "--n-vocab",           "300", "--n-layer", "2",
    "--n-ff",   "256",       "--yarn-original-ctx", "16",  NULL};
static const char *const v3_k[] = {
    "--preset", "tiny-v3-k", "--n-vocab", "300", "--yarn-original-ctx",
    "16",       NULL};

static const struct {
    const char *name;
    const char *const *shape;
    const char *layout;
    const char *type;
    /* Types the file must hold, so each model tests what it claims. */
    uint32_t expected_types[5];
} models[] = {
    {"q4_0", v2_k, "split", "q4_0", {DSVK_TYPE_Q4_0, DSVK_TYPE_Q6_K}},
    {"q4_k_m",
     v2_k,
     "split",
     "q4_k_m",
     {DSVK_TYPE_Q4_K, DSVK_TYPE_Q5_K, DSVK_TYPE_Q6_K, DSVK_TYPE_Q5_0}},
    {"q4_k_m legacy", v2_k, "legacy", "q4_k_m", {DSVK_TYPE_Q4_K}},
    {"q6_k v3", v3_k, "split", "q6_k", {DSVK_TYPE_Q6_K, DSVK_TYPE_Q8_0}},
};
static const fwd_mode modes[] = {{"whole", 0}, {"token", 1}};

static char out_dir[4096];

static bool generate(const char *path, const char *const *shape,
                     const char *layout, const char *type)
{
    const char *argv[64] = {DSVK_GEN_MODEL, "-o",     path, "--layout",
                            layout,         "--type", type};
    int argc = 7;
    for (int i = 0; shape[i] && argc < 63; i++)
        argv[argc++] = shape[i];
    char log[4200];
    snprintf(log, sizeof log, "%s/gen-model.log", out_dir);
    int status = fwd_run(argv, log);
    CHECK(status == 0, "gen-model for %s exited with %d (see %s)", path, status,
          log);
    return status == 0;
}

static bool holds_type(const gguf_file *f, uint32_t type)
{
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++)
        if (gguf_tensor_at(f, i)->type == type)
            return true;
    return false;
}

static void check_model(rt_device *dev, size_t index, const char *path)
{
    const char *name = models[index].name;
    char err[512];
    fwd_model fm;
    routing_log gpu_log, ref_log;
    dsvk_status status = fwd_open(dev, path, (forward_desc){.n_ctx = N_CTX},
                                  &gpu_log, &ref_log, &fm, err, sizeof err);
    CHECK(status == DSVK_OK, "%s: %s", name, err);
    for (int i = 0; fm.file && i < 5 && models[index].expected_types[i]; i++)
        CHECK(holds_type(fm.file, models[index].expected_types[i]),
              "%s: no %s tensor", name,
              gguf_type_name(models[index].expected_types[i]));
    if (status == DSVK_OK)
        fwd_compare_modes(&fm, &gpu_log, &ref_log, name, modes,
                          sizeof modes / sizeof modes[0], N_TOKENS, 7,
                          RELATIVE_BOUND, false);
    routing_log_free(&gpu_log);
    routing_log_free(&ref_log);
    fwd_close(&fm);
}

int main(void)
{
    rt_device *dev = test_gpu_device();
    test_gpu_variant_path(out_dir, sizeof out_dir, DSVK_QUANT_MODELS);
    mkdir(out_dir, 0755);
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s-%s.gguf", out_dir, models[i].type,
                 models[i].layout);
        if (generate(path, models[i].shape, models[i].layout, models[i].type))
            check_model(dev, i, path);
    }
    return test_gpu_finish(dev, "quant_forward");
}
