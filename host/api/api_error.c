/* Error strings of the public API (api_private.h). */
#include "api_private.h"

#include <stdarg.h>
#include <stdio.h>

dsvk_status api_write_line(char *err, size_t err_size, dsvk_status status,
                           const char *fmt, ...)
{
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return status;
}

dsvk_status api_context_fail(dsvk_context *ctx, dsvk_status status,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    api_lock(ctx);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    api_unlock(ctx);
    va_end(ap);
    return status;
}

dsvk_status api_model_fail(const dsvk_model *model, dsvk_status status,
                           const char *fmt, ...)
{
    /* The model is const to its users (it is shared between threads); its
     * error string is the one part that changes, under its own lock. */
    dsvk_model *m = (dsvk_model *)model;
    va_list ap;
    va_start(ap, fmt);
    mtx_lock(&m->error_lock);
    vsnprintf(m->error, sizeof m->error, fmt, ap);
    mtx_unlock(&m->error_lock);
    va_end(ap);
    return status;
}

dsvk_status api_session_fail(dsvk_session *session, dsvk_status status,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(session->error, sizeof session->error, fmt, ap);
    va_end(ap);
    return status;
}
