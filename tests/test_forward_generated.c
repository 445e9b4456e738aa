/* The GPU forward pass against the CPU reference on models tools/gen-model
 * writes at test time: a DeepSeek-V2-Lite-like shape (softmax gating, no
 * query compression, 2 shared experts) and a V3-like one (sigmoid gating
 * with a choice bias, expert groups, query compression, weights normalised
 * and scaled by 2.5), both attention layouts, every weight type with a GPU
 * decoder. A 40-token sequence, longer than the models' YaRN original
 * context (16), is fed whole, token by token and in chunks of 5.
 *
 * Bound: max |dlogit| <= 1e-3 x max(1, max |reference logit|). Both sides
 * decode the same weights exactly and round the latent cache through f16;
 * they differ by f32 summation order (relative ~1e-6) and by the f16
 * roundings that such differences flip (one f16 ulp, 2^-11 relative, on a
 * cached value), measured below 1e-4 relative. A real error — a wrong
 * position, expert, head or missing term — moves logits by 1e-2 to 1
 * relative. Where the reference's top-2 gap exceeds twice the bound the
 * argmax must agree. A router whose choice differs from the reference's
 * must be at a near tie (reference margin < 1e-3); that position is then
 * left out, as the fixtures' rule does.
 *
 * Shapes the GPU cannot run (an odd latent rank, more experts per token
 * than the router handles) must be refused at load with
 * DSVK_ERROR_UNSUPPORTED and a line saying why. */
#include "test_forward_support.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N_TOKENS 40u
#define N_CTX 64u
#define RELATIVE_BOUND 1e-3

static const char *const v2_lite_like[] = {"--preset",
                                           "tiny",
                                           "--n-embd",
                                           "96",
                                           "--n-vocab",
                                           "700",
                                           "--n-expert",
                                           "12",
                                           "--n-expert-used",
                                           "4",
                                           "--kv-lora-rank",
                                           "64",
                                           "--yarn-original-ctx",
                                           "16",
                                           NULL};
static const char *const v3_like[] = {"--preset",
                                      "tiny-v3",
                                      "--n-embd",
                                      "96",
                                      "--n-vocab",
                                      "600",
                                      "--n-head",
                                      "3",
                                      "--q-lora-rank",
                                      "32",
                                      "--kv-lora-rank",
                                      "64",
                                      "--n-ff",
                                      "160",
                                      "--yarn-original-ctx",
                                      "16",
                                      NULL};

static const struct {
    const char *name;
    const char *const *args;
} shapes[] = {{"v2-lite-like", v2_lite_like}, {"v3-like", v3_like}};
static const char *const layouts[] = {"split", "legacy"};
static const char *const types[] = {"f32", "f16", "bf16", "q8_0"};
static const fwd_mode modes[] = {{"whole", 0}, {"token", 1}, {"chunk5", 5}};

static char out_dir[4096];

/* Writes the model with gen-model; returns false (a failed CHECK) if it
 * could not. */
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

static void check_model(rt_device *dev, const char *path, const char *name)
{
    char err[512];
    fwd_model fm;
    routing_log gpu_log, ref_log;
    dsvk_status status = fwd_open(dev, path, (forward_desc){.n_ctx = N_CTX},
                                  &gpu_log, &ref_log, &fm, err, sizeof err);
    CHECK(status == DSVK_OK, "%s: %s", name, err);
    if (status == DSVK_OK)
        fwd_compare_modes(&fm, &gpu_log, &ref_log, name, modes,
                          sizeof modes / sizeof modes[0], N_TOKENS, 42,
                          RELATIVE_BOUND, true);
    routing_log_free(&gpu_log);
    routing_log_free(&ref_log);
    fwd_close(&fm);
}

/* Models the GPU refuses: each case makes one shape it cannot run. */
static void test_refused_shapes(rt_device *dev)
{
    static const struct {
        const char *file;
        const char *const args[7];
        const char *reason; /* in the error line */
    } cases[] = {
        {"odd-rank.gguf",
         {"--preset", "tiny", "--kv-lora-rank", "33", NULL},
         "must be even"},
        {"nine-used.gguf",
         {"--preset", "tiny", "--n-expert", "16", "--n-expert-used", "9", NULL},
         "9 used per token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4200], err[512] = "";
        snprintf(path, sizeof path, "%s/%s", out_dir, cases[i].file);
        if (!generate(path, cases[i].args, "split", "f32"))
            continue;
        gguf_file *file = NULL;
        model *m = NULL;
        gpu_weights *w = NULL;
        CHECK(gguf_open(path, &file, err, sizeof err) == DSVK_OK, "%s", err);
        if (file)
            CHECK(model_load(file, &m, err, sizeof err) == DSVK_OK, "%s", err);
        if (m) {
            dsvk_status status =
                gpu_weights_create(dev, m, &w, err, sizeof err);
            printf("%s: %s\n", cases[i].file, err);
            CHECK(status == DSVK_ERROR_UNSUPPORTED && !w &&
                      strstr(err, cases[i].reason),
                  "%s: status %d, error '%s'", cases[i].file, (int)status, err);
        }
        gpu_weights_destroy(w);
        model_free(m);
        gguf_close(file);
    }
}

int main(void)
{
    rt_device *dev = test_gpu_device();
    test_gpu_variant_path(out_dir, sizeof out_dir, DSVK_FORWARD_MODELS);
    mkdir(out_dir, 0755);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++)
            for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
                char name[64], path[4200];
                snprintf(name, sizeof name, "%s %s %s", shapes[s].name,
                         layouts[l], types[t]);
                snprintf(path, sizeof path, "%s/%s-%s-%s.gguf", out_dir,
                         shapes[s].name, layouts[l], types[t]);
                if (generate(path, shapes[s].args, layouts[l], types[t]))
                    check_model(dev, path, name);
            }
    test_refused_shapes(dev);
    return test_gpu_finish(dev, "forward_generated");
}
