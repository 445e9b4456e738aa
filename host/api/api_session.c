/* The public session (dsvk.h): one sequence's latent cache on a shared
 * model, and the evaluation of tokens against it (host/forward/forward.h). */
#include "api_private.h"

#include <stdlib.h>
#include <string.h>

static const char *const cache_type_names[] = {
    [DSVK_CACHE_F16] = "f16",
    [DSVK_CACHE_Q8_0] = "q8_0",
};
#define N_CACHE_TYPES (sizeof cache_type_names / sizeof cache_type_names[0])

const char *dsvk_cache_type_name(dsvk_cache_type type)
{
    return (unsigned)type < N_CACHE_TYPES ? cache_type_names[type] : NULL;
}

dsvk_status dsvk_cache_type_from_name(const char *name, dsvk_cache_type *out)
{
    for (unsigned i = 0; name && i < N_CACHE_TYPES; i++)
        if (strcmp(name, cache_type_names[i]) == 0) {
            *out = (dsvk_cache_type)i;
            return DSVK_OK;
        }
    return DSVK_ERROR_INVALID_ARGUMENT;
}

uint64_t dsvk_cache_bytes_per_token(const dsvk_model *model,
                                    dsvk_cache_type type)
{
    return dsvk_cache_type_name(type)
               ? model_latent_bytes_per_token(&model->m->hp, type)
               : 0;
}

/* Between two steps of one evaluation: lets the steps of other sessions in
 * (the context's lock serves waiters in order) and asks the application
 * whether to go on. */
static bool before_step(void *user)
{
    dsvk_session *s = user;
    api_unlock(s->model->ctx);
    const bool cancel = s->cancel && s->cancel(s->cancel_user);
    api_lock(s->model->ctx);
    return !cancel;
}

/* Forward reports each step's routes token by token, layers in order,
 * from inside the step: under the context's lock (api_eval holds it). */
static void report_routing(const forward_routing *r, void *user)
{
    const dsvk_session *s = user;
    const dsvk_routing routing = {.layer = r->layer,
                                  .position = r->position,
                                  .n_used = r->n_used,
                                  .experts = r->chosen,
                                  .weights = r->weights};
    s->on_routing(s->routing_user, &routing);
}

dsvk_status dsvk_session_create(const dsvk_model *model,
                                const dsvk_session_desc *desc,
                                dsvk_session **out)
{
    static const dsvk_session_desc defaults = {0};
    *out = NULL;
    dsvk_status refused = api_model_require_device(model);
    if (refused != DSVK_OK)
        return refused;
    if (!desc)
        desc = &defaults;
    dsvk_session *s = calloc(1, sizeof *s);
    if (s)
        s->logits = malloc(sizeof(float) * model->m->hp.n_vocab);
    if (!s || !s->logits) {
        free(s);
        return api_model_fail(model, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory creating a session");
    }
    s->model = model;
    s->cancel = desc->cancel;
    s->cancel_user = desc->cancel_user;
    s->on_routing = desc->on_routing;
    s->routing_user = desc->routing_user;
    if (!dsvk_cache_type_name(desc->cache_type)) {
        dsvk_session_destroy(s);
        return api_model_fail(model, DSVK_ERROR_INVALID_ARGUMENT,
                              "creating a session: unknown cache type %d",
                              (int)desc->cache_type);
    }
    /* Defaults: the model desc's n_ctx; forward's own for max_batch. */
    const forward_desc fd = {.n_ctx = desc->n_ctx ? desc->n_ctx : model->n_ctx,
                             .max_batch = desc->max_batch,
                             .timestamps = desc->timestamps,
                             .cache_type = desc->cache_type,
                             .on_routing =
                                 desc->on_routing ? report_routing : NULL,
                             .user = s,
                             .before_step = before_step};
    char err[API_ERROR_SIZE] = "";
    api_lock(model->ctx);
    dsvk_status status =
        forward_create(model->weights, &fd, &s->f, err, sizeof err);
    api_unlock(model->ctx);
    if (status != DSVK_OK) {
        dsvk_session_destroy(s);
        return api_model_fail(model, status, "creating a session: %s", err);
    }
    s->timestamps =
        desc->timestamps && rt_device_caps(model->ctx->dev)->timestamps;
    *out = s;
    return DSVK_OK;
}

void dsvk_session_destroy(dsvk_session *session)
{
    if (!session)
        return;
    if (session->f) {
        api_lock(session->model->ctx);
        forward_destroy(session->f);
        api_unlock(session->model->ctx);
    }
    free(session->logits);
    free(session);
}

const char *dsvk_session_error(const dsvk_session *session)
{
    return session->error;
}

void dsvk_session_get_info(const dsvk_session *session, dsvk_session_info *out)
{
    const uint32_t n_ctx = forward_n_ctx(session->f);
    const dsvk_cache_type type = forward_cache_type(session->f);
    *out = (dsvk_session_info){
        .n_ctx = n_ctx,
        .max_batch = forward_max_batch(session->f),
        .position = forward_position(session->f),
        .cache_bytes = dsvk_cache_bytes_per_token(session->model, type) * n_ctx,
        .cache_type = type,
        .timestamps = session->timestamps};
}

dsvk_status api_check_tokens(dsvk_session *session, const dsvk_token *tokens,
                             uint32_t n)
{
    const uint32_t n_vocab = session->model->m->hp.n_vocab;
    for (uint32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab)
            return api_session_fail(
                session, DSVK_ERROR_INVALID_ARGUMENT,
                "token %d (index %u) is outside the vocabulary of %u",
                (int)tokens[i], i, n_vocab);
    return DSVK_OK;
}

dsvk_status api_eval(dsvk_session *session, const dsvk_token *tokens,
                     uint32_t n, forward_logits which, float *logits,
                     uint32_t *greedy)
{
    dsvk_status status = api_check_tokens(session, tokens, n);
    if (status != DSVK_OK)
        return status;
    api_lock(session->model->ctx);
    /* Checked non-negative above; int32_t and uint32_t may alias. */
    status = forward_eval(session->f, (const uint32_t *)tokens, n, which,
                          logits, greedy);
    if (status != DSVK_OK)
        api_session_fail(session, status, "%s", forward_error(session->f));
    api_unlock(session->model->ctx);
    return status;
}

dsvk_status dsvk_session_eval(dsvk_session *session, const dsvk_token *tokens,
                              uint32_t n_tokens, dsvk_logits which,
                              float *logits, size_t capacity)
{
    const size_t n_vocab = session->model->m->hp.n_vocab;
    size_t needed = 0;
    forward_logits rows = FORWARD_LOGITS_NONE;
    switch (which) {
    case DSVK_LOGITS_NONE:
        break;
    case DSVK_LOGITS_LAST:
        rows = FORWARD_LOGITS_LAST;
        needed = n_vocab;
        break;
    case DSVK_LOGITS_ALL:
        rows = FORWARD_LOGITS_ALL;
        needed = n_vocab * n_tokens;
        break;
    default:
        return api_session_fail(session, DSVK_ERROR_INVALID_ARGUMENT,
                                "unknown dsvk_logits value %d", (int)which);
    }
    if (needed && (!logits || capacity < needed))
        return api_session_fail(session, DSVK_ERROR_BUFFER_TOO_SMALL,
                                "the logits need %zu floats, the buffer holds "
                                "%zu",
                                needed, logits ? capacity : 0);
    return api_eval(session, tokens, n_tokens, rows, logits, NULL);
}

uint32_t dsvk_session_position(const dsvk_session *session)
{
    return forward_position(session->f);
}

dsvk_status dsvk_session_rewind(dsvk_session *session, uint32_t position)
{
    if (!forward_rewind(session->f, position))
        return api_session_fail(session, DSVK_ERROR_INVALID_ARGUMENT,
                                "cannot rewind to position %u: the session "
                                "is at %u",
                                position, forward_position(session->f));
    return DSVK_OK;
}

void dsvk_session_timings(const dsvk_session *session, dsvk_op_timing *out,
                          uint32_t capacity, uint32_t *count)
{
    const rt_timing *timings = forward_timings(session->f, count);
    for (uint32_t i = 0; i < *count && i < capacity; i++)
        out[i] = (dsvk_op_timing){.op = timings[i].label,
                                  .microseconds = timings[i].microseconds};
}
