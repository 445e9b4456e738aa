#include "open_model.h"

#include "common.h"
#include "progress.h"

#include <time.h>

double open_model_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The library reports the fraction of weight bytes uploaded. */
#define PROGRESS_STEPS 1000u

static bool on_load_progress(void *user, float fraction)
{
    progress_update(user, (uint64_t)(fraction * PROGRESS_STEPS));
    return true;
}

bool open_model_load(open_model *m, const dsvk_context_desc *ctx_desc,
                     const char *path)
{
    *m = (open_model){0};
    char err[512] = "";
    if (dsvk_context_create(ctx_desc, &m->ctx, err, sizeof err) != DSVK_OK) {
        cli_error("%s", err);
        return false;
    }
    progress bar;
    progress_begin(&bar, "loading", PROGRESS_STEPS);
    const dsvk_model_desc desc = {
        .path = path, .progress = on_load_progress, .progress_user = &bar};
    const double start = open_model_now();
    const dsvk_status status = dsvk_model_load(m->ctx, &desc, &m->model);
    m->load_seconds = open_model_now() - start;
    progress_end(&bar);
    if (status != DSVK_OK) {
        cli_error("%s", dsvk_context_error(m->ctx));
        return false;
    }
    dsvk_model_get_info(m->model, &m->info);
    return true;
}

bool open_model_chat_format(const open_model *m, dsvk_chat_format requested,
                            dsvk_chat_format *out)
{
    const dsvk_status status =
        dsvk_chat_resolve_format(m->model, requested, out);
    if (status == DSVK_ERROR_UNSUPPORTED)
        cli_error("%s with --chat-format", dsvk_model_error(m->model));
    else if (status != DSVK_OK)
        cli_error("%s", dsvk_model_error(m->model));
    return status == DSVK_OK;
}

int open_model_close(open_model *m, int code)
{
    const uint32_t messages =
        m->ctx ? dsvk_context_validation_messages(m->ctx) : 0;
    dsvk_model_destroy(m->model);
    dsvk_context_destroy(m->ctx);
    *m = (open_model){0};
    if (messages && code == 0)
        return cli_error("the Vulkan validation layer reported %u problem%s",
                         messages, messages == 1 ? "" : "s");
    return code;
}
