/* Failures of the public API (dsvk.h): files that are missing or not
 * models, loading cancelled by the progress callback, device memory that
 * runs out, and loading, failing and unloading many times without leaking
 * device memory. Host leaks: in a DSVK_SANITIZE build LeakSanitizer checks
 * this program at exit (api.cmake labels it `leaks`).
 *
 * Usage: test_api_errors [ITERATIONS]   (default 100 load cycles) */
#include "test_api_support.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static const char *model_path(void)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s", test_fixture("models/tiny-v2.gguf"));
    return path;
}

static dsvk_status load(dsvk_context *ctx, const dsvk_model_desc *desc,
                        dsvk_model **model)
{
    /* Not NULL before the call, so the tests see it reset on failure. */
    static char sentinel;
    *model = (dsvk_model *)&sentinel;
    return dsvk_model_load(ctx, desc, model);
}

static void test_bad_files(dsvk_context *ctx)
{
    dsvk_model *model;
    const char *missing = "/nonexistent/dir/model.gguf";
    dsvk_status status = load(ctx, &(dsvk_model_desc){.path = missing}, &model);
    CHECK(status == DSVK_ERROR_IO && !model, "missing file: %s",
          dsvk_status_string(status));
    CHECK(strstr(dsvk_context_error(ctx), missing) &&
              strstr(dsvk_context_error(ctx), "cannot open"),
          "error '%s'", dsvk_context_error(ctx));

    /* A text file: not GGUF. */
    const char *readme = test_fixture("models/README.md");
    status = load(ctx, &(dsvk_model_desc){.path = readme}, &model);
    CHECK(status == DSVK_ERROR_BAD_FILE && !model, "README.md: %s",
          dsvk_status_string(status));
    CHECK(strstr(dsvk_context_error(ctx), "README.md"), "error '%s'",
          dsvk_context_error(ctx));

    /* Valid GGUF without weights: not a model dsvk runs. */
    const char *vocab = test_fixture("tokenizer/ggml-vocab-deepseek-v3.gguf");
    status = load(ctx, &(dsvk_model_desc){.path = vocab}, &model);
    CHECK(status == DSVK_ERROR_BAD_MODEL && !model, "vocab-only: %s",
          dsvk_status_string(status));
    CHECK(strstr(dsvk_context_error(ctx), "ggml-vocab-deepseek-v3.gguf: "),
          "error '%s'", dsvk_context_error(ctx));

    CHECK(dsvk_model_load(ctx, NULL, &model) == DSVK_ERROR_INVALID_ARGUMENT &&
              !model,
          "NULL desc");
}

/* Records every fraction and cancels at call number cancel_at (0: never). */
typedef struct progress_log {
    float fractions[512];
    uint32_t calls;
    uint32_t cancel_at;
} progress_log;

static bool on_progress(void *user, float fraction)
{
    progress_log *p = user;
    if (p->calls < 512)
        p->fractions[p->calls] = fraction;
    p->calls++;
    return p->cancel_at == 0 || p->calls < p->cancel_at;
}

static void test_progress(dsvk_context *ctx, uint64_t baseline)
{
    progress_log full = {0};
    dsvk_model *model;
    dsvk_model_desc desc = {
        .path = model_path(), .progress = on_progress, .progress_user = &full};
    CHECK(load(ctx, &desc, &model) == DSVK_OK, "load: %s",
          dsvk_context_error(ctx));
    bool rising = full.calls > 2 && full.calls <= 512 &&
                  full.fractions[0] == 0.0f &&
                  full.fractions[full.calls - 1] == 1.0f;
    for (uint32_t i = 1; rising && i < full.calls; i++)
        rising = full.fractions[i] >= full.fractions[i - 1];
    CHECK(rising, "%u progress reports, not rising from 0 to 1", full.calls);
    dsvk_model_destroy(model);

    /* Cancelled halfway through the upload: everything uploaded is freed. */
    progress_log half = {.cancel_at = full.calls / 2};
    desc.progress_user = &half;
    dsvk_status status = load(ctx, &desc, &model);
    CHECK(status == DSVK_ERROR_CANCELLED && !model &&
              half.calls == full.calls / 2,
          "cancel: %s after %u calls", dsvk_status_string(status), half.calls);
    CHECK(strstr(dsvk_context_error(ctx), "cancelled"), "error '%s'",
          dsvk_context_error(ctx));
    CHECK(dsvk_context_memory_used(ctx) == baseline,
          "%llu bytes in use after a cancelled load, %llu before",
          (unsigned long long)dsvk_context_memory_used(ctx),
          (unsigned long long)baseline);
}

/* A context limited to less device memory than the model's weights: the
 * load is refused before anything is allocated, with needed vs available.
 * Then a context with room for the weights only: a session that would
 * need a new memory block fails inside the allocator, halfway through its
 * allocations, and what it had is freed. */
static void test_device_memory(const dsvk_context_desc *base,
                               uint64_t used_with_model)
{
    dsvk_context_desc desc = *base;
    desc.device_memory_limit = 256 << 10; /* the F32 weights are 1 MiB */
    dsvk_context *small = test_api_context(&desc);
    dsvk_model *model;
    dsvk_status status =
        load(small, &(dsvk_model_desc){.path = model_path()}, &model);
    CHECK(status == DSVK_ERROR_OUT_OF_DEVICE_MEMORY && !model,
          "weights above the limit: %s", dsvk_status_string(status));
    const char *err = dsvk_context_error(small);
    CHECK(strstr(err, "need 1.0 MiB") && strstr(err, "has 0.2 MiB"),
          "error '%s'", err);
    dsvk_device_info device;
    dsvk_context_device(small, &device);
    CHECK(device.device_memory == desc.device_memory_limit,
          "limited device reports %llu bytes",
          (unsigned long long)device.device_memory);
    CHECK(dsvk_context_memory_used(small) == 0, "memory used after refusal");
    dsvk_context_destroy(small);

    desc.device_memory_limit = used_with_model + (1 << 20);
    dsvk_context *tight = test_api_context(&desc);
    model = test_api_load(tight, model_path());
    const uint64_t before = dsvk_context_memory_used(tight);
    CHECK(before == used_with_model, "%llu bytes after the same load, not %llu",
          (unsigned long long)before, (unsigned long long)used_with_model);
    dsvk_session *session;
    status = dsvk_session_create(model, NULL, &session);
    dsvk_context_device(tight, &device);
    if (device.unified_memory && device.type != DSVK_DEVICE_TYPE_DISCRETE_GPU) {
        /* Host-visible readback memory comes from the same (limited) heap
         * on unified-memory devices such as lavapipe. A discrete GPU whose
         * whole heap is host-visible (resizable BAR, as on an H200) still
         * has system memory beside it, where readback goes. */
        CHECK(status == DSVK_ERROR_OUT_OF_DEVICE_MEMORY && !session,
              "session past the limit: %s", dsvk_status_string(status));
        CHECK(strstr(dsvk_model_error(model), "out of device memory"),
              "error '%s'", dsvk_model_error(model));
    } else {
        printf("note: readback memory is not device-local here\n");
        dsvk_session_destroy(session);
    }
    CHECK(dsvk_context_memory_used(tight) == before,
          "%llu bytes in use after a failed session, %llu before",
          (unsigned long long)dsvk_context_memory_used(tight),
          (unsigned long long)before);

    /* A context too long for what is left: refused before allocating. */
    status = dsvk_session_create(model, &(dsvk_session_desc){.n_ctx = 1u << 20},
                                 &session);
    CHECK(status == DSVK_ERROR_OUT_OF_DEVICE_MEMORY && !session,
          "1M-position session: %s", dsvk_status_string(status));
    CHECK(strstr(dsvk_model_error(model), "latent cache"), "error '%s'",
          dsvk_model_error(model));
    dsvk_model_destroy(model);
    dsvk_context_destroy(tight);
}

/* Loads, evaluates, fails in every way and unloads, `iterations` times;
 * device memory ends where it started. */
static void test_cycles(dsvk_context *ctx, uint64_t baseline, int iterations)
{
    const dsvk_token tokens[] = {0, 5, 9};
    float logits[512];
    int failures = 0;
    for (int i = 0; i < iterations && failures == 0; i++) {
        dsvk_model *model;
        dsvk_session *session = NULL;
        if (load(ctx, &(dsvk_model_desc){.path = model_path()}, &model) ||
            dsvk_session_create(model, NULL, &session) ||
            dsvk_session_eval(session, tokens, 3, DSVK_LOGITS_LAST, logits,
                              512))
            failures++;
        dsvk_session_destroy(session);
        dsvk_model_destroy(model);
        progress_log cancel = {.cancel_at = 2 + i % 5};
        if (load(ctx, &(dsvk_model_desc){.path = "/nonexistent.gguf"},
                 &model) != DSVK_ERROR_IO ||
            load(ctx,
                 &(dsvk_model_desc){.path = model_path(),
                                    .progress = on_progress,
                                    .progress_user = &cancel},
                 &model) != DSVK_ERROR_CANCELLED)
            failures++;
    }
    CHECK(failures == 0, "a load cycle failed: %s", dsvk_context_error(ctx));
    CHECK(dsvk_context_memory_used(ctx) == baseline,
          "%llu bytes in use after %d cycles, %llu before",
          (unsigned long long)dsvk_context_memory_used(ctx), iterations,
          (unsigned long long)baseline);
}

int main(int argc, char **argv)
{
    const int iterations = argc > 1 ? atoi(argv[1]) : 100;
    const dsvk_context_desc desc = test_api_desc();

    char err[256] = "";
    dsvk_context *none;
    dsvk_context_desc bad = desc;
    bad.emulation = (dsvk_emulation)9;
    CHECK(dsvk_context_create(&bad, &none, err, sizeof err) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              !none && strstr(err, "emulation"),
          "emulation 9: '%s'", err);
    uint32_t n_devices = 0;
    dsvk_device_info devices[8];
    CHECK(dsvk_list_devices(&desc, devices, 8, &n_devices, err, sizeof err) ==
              DSVK_OK,
          "list: %s", err);
    uint32_t n_chosen = 0;
    for (uint32_t i = 0; i < n_devices && i < 8; i++)
        n_chosen += devices[i].chosen;
    CHECK(n_devices >= 1 && n_chosen == 1, "%u devices, %u chosen", n_devices,
          n_chosen);
    bad = desc;
    bad.device = DSVK_DEVICE_INDEX(n_devices);
    CHECK(dsvk_context_create(&bad, &none, err, sizeof err) ==
                  DSVK_ERROR_NO_DEVICE &&
              !none,
          "device %u of %u: '%s'", n_devices, n_devices, err);

    dsvk_context *ctx = test_api_context(&desc);
    /* The allocator keeps one empty block of each kind (device-local,
     * readback) once it has made one: load, make a session and unload
     * once so that the baseline includes them. */
    dsvk_model *model = test_api_load(ctx, model_path());
    const uint64_t used_with_model = dsvk_context_memory_used(ctx);
    dsvk_session *session = NULL;
    CHECK(dsvk_session_create(model, NULL, &session) == DSVK_OK, "session: %s",
          dsvk_model_error(model));
    dsvk_session_destroy(session);
    dsvk_model_destroy(model);
    const uint64_t baseline = dsvk_context_memory_used(ctx);

    test_bad_files(ctx);
    test_progress(ctx, baseline);
    test_device_memory(&desc, used_with_model);
    test_cycles(ctx, baseline, iterations);
    return test_api_finish(ctx, "api_errors");
}
