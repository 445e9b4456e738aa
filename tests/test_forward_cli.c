/* `dsvk logits` as a user runs it, on the tiny-v3 fixture, with the
 * developer tool ref-logits (the CPU reference) as its oracle: the output
 * file holds [n_tokens][n_vocab] float32 whatever the feeding; whole,
 * --chunk 1 and --chunk 5 are bit for bit what forward_eval gives fed the
 * same way (dsvk logits runs on the public API, and must evaluate as the
 * internal path did) and agree with ref-logits within 1e-3 of the logits'
 * scale (the bound test_forward_generated.c states); --dump-routing
 * reports the same experts on both; bad input ends with exit code 1 and
 * one "dsvk: ..." (or "ref-logits: ...") line, and --reference points at
 * ref-logits. Usage: test_forward_cli DSVK REF_LOGITS OUTPUT_DIR */
#include "test_forward_support.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N_VOCAB 512u /* tiny-v3 */
#define TOKENS "0 17 301 5 99 42 7 256 13 1 88 400"
#define N_TOKENS 12u
#define RELATIVE_BOUND 1e-3

/* TOKENS as ids, for the in-process forward pass. */
static const uint32_t token_ids[N_TOKENS] = {0, 17,  301, 5, 99, 42,
                                             7, 256, 13,  1, 88, 400};

static const char *dsvk;
static const char *ref_logits;
static char model_path[4096];
static char out_dir[4096];

static const char *path_in(const char *name)
{
    static char paths[8][8192];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", out_dir, name);
    return p;
}

/* Runs `dsvk logits` (or, with reference, ref-logits) with args
 * (NULL-terminated); what it prints goes to <out_dir>/<name>.err. */
static int run_tool(bool reference, const char *name, const char *const *args)
{
    const char *argv[32] = {dsvk, "logits"};
    int argc = 2;
    if (reference) {
        argv[0] = ref_logits;
        argc = 1;
    }
    for (int i = 0; args[i] && argc < 31; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char err_name[128];
    snprintf(err_name, sizeof err_name, "%s.err", name);
    return fwd_run(argv, path_in(err_name));
}

static char *read_output(const char *name, size_t *size)
{
    char err_name[128];
    snprintf(err_name, sizeof err_name, "%s.err", name);
    return test_read_file(path_in(err_name), size);
}

/* The logits file of run `name`, checked for its size. */
static float *read_logits(const char *name)
{
    char file[128];
    snprintf(file, sizeof file, "%s.bin", name);
    size_t size = 0;
    char *data = test_read_file(path_in(file), &size);
    CHECK(data && size == (size_t)N_TOKENS * N_VOCAB * 4,
          "%s: %zu bytes of logits, expected %u", name, size,
          N_TOKENS * N_VOCAB * 4);
    if (data && size == (size_t)N_TOKENS * N_VOCAB * 4)
        return (float *)data;
    free(data);
    return NULL;
}

/* Runs dsvk logits (or ref-logits) with the model, TOKENS, an output file
 * and up to 3 more args. */
static void run_ok(bool reference, const char *name, const char *extra1,
                   const char *extra2, const char *extra3)
{
    char file[128];
    snprintf(file, sizeof file, "%s.bin", name);
    const char *args[] = {"--model", model_path,    "--tokens", TOKENS,
                          "--out",   path_in(file), extra1,     extra2,
                          extra3,    NULL};
    int status = run_tool(reference, name, args);
    size_t size;
    char *err = read_output(name, &size);
    CHECK(status == 0, "%s (%s) exited with %d: %s",
          reference ? "ref-logits" : "dsvk logits", name, status,
          err ? err : "");
    free(err);
}

/* What forward_eval gives for TOKENS fed in chunks of `chunk` (0: whole),
 * on a device made from the same environment as the programs'. */
static float *internal_logits(rt_device *dev, uint32_t chunk)
{
    char err[512] = "";
    fwd_model fm;
    float *logits = malloc(sizeof(float) * N_TOKENS * N_VOCAB);
    const dsvk_status status = fwd_open(dev, model_path, (forward_desc){0},
                                        NULL, NULL, &fm, err, sizeof err);
    CHECK(status == DSVK_OK, "fwd_open: %s", err);
    bool ok =
        logits && status == DSVK_OK &&
        fwd_eval_gpu(fm.f, N_VOCAB, token_ids, N_TOKENS, chunk, logits, NULL);
    fwd_close(&fm);
    if (ok)
        return logits;
    free(logits);
    return NULL;
}

static void test_feeding_agrees(rt_device *dev)
{
    run_ok(false, "whole", NULL, NULL, NULL);
    run_ok(false, "chunk1", "--chunk", "1", NULL);
    run_ok(false, "chunk5", "--chunk", "5", NULL);
    run_ok(true, "reference", NULL, NULL, NULL);
    run_ok(true, "reference_chunk5", "--chunk", "5", NULL);
    float *reference = read_logits("reference");
    float *reference_chunk5 = read_logits("reference_chunk5");
    const size_t n = (size_t)N_TOKENS * N_VOCAB;
    /* The reference takes one token at a time whatever the feeding. */
    CHECK(reference && reference_chunk5 &&
              memcmp(reference, reference_chunk5, n * sizeof(float)) == 0,
          "ref-logits --chunk 5 differs from ref-logits whole");
    const char *const gpu_runs[] = {"whole", "chunk1", "chunk5"};
    const uint32_t chunks[] = {0, 1, 5};
    for (size_t i = 0; reference && i < 3; i++) {
        float *logits = read_logits(gpu_runs[i]);
        float *internal = internal_logits(dev, chunks[i]);
        if (logits && internal)
            CHECK(memcmp(logits, internal, n * sizeof(float)) == 0,
                  "dsvk logits %s differs from forward_eval's (max %g)",
                  gpu_runs[i], test_max_abs_diff(logits, internal, n));
        if (!logits) {
            free(internal);
            continue;
        }
        double bound = RELATIVE_BOUND * fmax(1.0, fwd_max_abs(reference, n));
        double d = test_max_abs_diff(logits, reference, n);
        printf("dsvk logits %-7s vs ref-logits: max |dlogit| %.2e (<= "
               "%.2e)\n",
               gpu_runs[i], d, bound);
        CHECK(d <= bound, "%s differs from ref-logits by %.3g", gpu_runs[i], d);
        free(logits);
        free(internal);
    }
    free(reference);
    free(reference_chunk5);
}

/* Drops the " (weight)" parts of routing lines, which may differ in the
 * last printed digit between the paths. */
static void strip_weights(char *text)
{
    char *out = text;
    for (char *in = text; *in; in++) {
        if (*in == ' ' && in[1] == '(') {
            while (*in && *in != ')')
                in++;
            continue;
        }
        *out++ = *in;
    }
    *out = '\0';
}

static void test_dump_routing(void)
{
    /* In chunks of 5: routes of several steps, reported in order. */
    run_ok(false, "routes_gpu", "--dump-routing", "--chunk", "5");
    run_ok(true, "routes_ref", "--dump-routing", NULL, NULL);
    size_t a_size, b_size;
    char *gpu = read_output("routes_gpu", &a_size);
    char *ref = read_output("routes_ref", &b_size);
    if (gpu && ref) {
        strip_weights(gpu);
        strip_weights(ref);
        uint32_t lines = 0;
        for (char *p = gpu; (p = strstr(p, "routing layer")); p++)
            lines++;
        /* tiny-v3: blocks 1 and 2 are MoE. */
        CHECK(lines == 2 * N_TOKENS, "%u routing lines", lines);
        CHECK(strcmp(gpu, ref) == 0, "routing differs:\n%s\nvs\n%s", gpu, ref);
    }
    free(gpu);
    free(ref);
}

/* Exit code 1 and exactly one line, "<program>: " and `expected` in it. */
static void expect_tool_error(bool reference, const char *name,
                              const char *const *args, const char *expected)
{
    int status = run_tool(reference, name, args);
    size_t size = 0;
    char *err = read_output(name, &size);
    const char *text = err ? err : "";
    const char *newline = strchr(text, '\n');
    const char *prefix = reference ? "ref-logits: " : "dsvk: ";
    CHECK(status == 1, "%s: exit code %d", name, status);
    CHECK(strncmp(text, prefix, strlen(prefix)) == 0 &&
              strstr(text, expected) && newline && newline[1] == '\0',
          "%s: stderr '%s' is not one line with '%s'", name, text, expected);
    printf("%-12s -> %s", name, text);
    free(err);
}

static void expect_error(const char *name, const char *const *args,
                         const char *expected)
{
    expect_tool_error(false, name, args, expected);
}

/* --help prints the usage that starts with `expected` and exits with 0. */
static void expect_help(bool reference, const char *name, const char *expected)
{
    const char *help[] = {"--help", NULL};
    CHECK(run_tool(reference, name, help) == 0, "%s: --help failed", name);
    size_t size;
    char *usage = read_output(name, &size);
    CHECK(usage && strncmp(usage, expected, strlen(expected)) == 0,
          "%s: --help printed %s", name, usage ? usage : "nothing");
    free(usage);
}

static void test_errors(void)
{
    const char *out = path_in("error.bin");
    const char *bad_token[] = {"--model", model_path, "--tokens", "1 2 512",
                               "--out",   out,        NULL};
    expect_error("bad_token", bad_token, "outside the vocabulary");
    const char *not_a_token[] = {"--model", model_path, "--tokens", "1 -2",
                                 "--out",   out,        NULL};
    expect_error("not_a_token", not_a_token, "not a token id");
    const char *missing[] = {
        "--model", path_in("missing.gguf"), "--tokens", "1", "--out", out,
        NULL};
    expect_error("missing", missing, "missing.gguf");
    const char *small_ctx[] = {"--model", model_path, "--tokens",
                               TOKENS,    "--ctx",    "4",
                               "--out",   out,        NULL};
    expect_error("small_ctx", small_ctx, "context full");
    const char *bad_chunk[] = {"--model", model_path, "--tokens",
                               "1",       "--chunk",  "0",
                               "--out",   out,        NULL};
    expect_error("bad_chunk", bad_chunk, "--chunk");
    const char *no_out[] = {"--model", model_path, "--tokens", "1", NULL};
    expect_error("no_out", no_out, "--out");
    const char *unknown[] = {"--model", model_path, "--bogus", NULL};
    expect_error("unknown", unknown, "--bogus");
    const char *reference[] = {"--model", model_path, "--tokens",    "1",
                               "--out",   out,        "--reference", NULL};
    expect_error("reference", reference,
                 "logits: --reference moved to the developer tool ref-logits");
    expect_help(false, "help", "usage: dsvk logits");

    expect_help(true, "ref_help", "usage: ref-logits");
    expect_tool_error(true, "ref_unknown", unknown, "unknown option '--bogus'");
    expect_tool_error(true, "ref_bad_token", bad_token,
                      "outside the vocabulary");
}

/* Where the layer is missing and may be (DSVK_VALIDATION_OPTIONAL, a lent
 * GPU machine), the commands run without asking for it: otherwise their
 * stderr starts with the runtime's notice, and the checks of their own
 * lines fail. */
static void drop_missing_validation(const rt_device *dev)
{
    if (!rt_device_validation_active(dev))
        unsetenv("DSVK_VALIDATION");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DSVK REF_LOGITS OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    dsvk = argv[1];
    ref_logits = argv[2];
    snprintf(out_dir, sizeof out_dir, "%s", argv[3]);
    snprintf(model_path, sizeof model_path, "%s",
             test_fixture("models/tiny-v3.gguf"));
    mkdir(out_dir, 0755);
    rt_device *dev = test_gpu_device();
    drop_missing_validation(dev);
    test_feeding_agrees(dev);
    test_dump_routing();
    test_errors();
    const uint32_t messages = rt_device_validation_messages(dev);
    CHECK(messages == 0, "the validation layer reported %u messages", messages);
    rt_device_destroy(dev);
    return test_finish("forward_cli");
}
