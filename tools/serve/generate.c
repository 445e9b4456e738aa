/* POST /v1/chat/completions and /v1/completions: parse, tokenize, wait for
 * a slot, prefill, then generate, either whole into one body or pulled by
 * libmicrohttpd a server-sent event at a time. */
#include "exchange.h"
#include "reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void exchange_end_generation(exchange *x)
{
    if (x->slot)
        slot_release(&x->srv->slots, x->slot);
    x->slot = NULL;
}

static serve_reply reply_of(const exchange *x)
{
    const completion *c = &x->comp;
    return (serve_reply){
        .endpoint = x->req.endpoint,
        .id = x->id,
        .model = x->srv->model.id,
        .created = (int64_t)time(NULL),
        .content = c->content.data,
        .content_len = c->content.len,
        .reasoning = c->reasoning.data,
        .reasoning_len = c->reasoning.len,
        .finish_reason = c->done ? c->finish_reason : NULL,
        .prompt_tokens = c->n_prompt,
        .completion_tokens = c->n_generated,
        .cached_tokens = c->n_reused,
        .prompt_ms = c->prompt_ms,
        .predicted_ms = c->predicted_ms,
    };
}

static bool append_event(exchange *x, const char *json)
{
    text_buffer *b = &x->events;
    const size_t n = strlen(json) + 8; /* "data: " ... "\n\n" */
    if (b->len + n + 1 > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 1024;
        while (capacity < b->len + n + 1)
            capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (!grown)
            return false;
        b->data = grown;
        b->capacity = capacity;
    }
    b->len += (size_t)snprintf(b->data + b->len, b->capacity - b->len,
                               "data: %s\n\n", json);
    return true;
}

static bool append_chunk(exchange *x, serve_reply *r)
{
    char *json = serve_reply_chunk(r);
    const bool ok = json && append_event(x, json);
    free(json);
    return ok;
}

/* Makes the next events: generates until there is text to send or the
 * reply ends; after the last chunk, the usage chunk when asked and
 * [DONE]. False: nothing more can be sent (an error was sent instead,
 * or memory ran out). */
static bool next_events(exchange *x)
{
    completion *c = &x->comp;
    serve_error err;
    while (!c->done && c->content.len == 0 && c->reasoning.len == 0)
        if (!completion_step(c, &err)) {
            /* Headers are gone: the error travels as an event. */
            char *json = serve_reply_error(&err);
            if (json)
                append_event(x, json);
            free(json);
            x->sent_done = true;
            exchange_end_generation(x);
            return json != NULL;
        }
    serve_reply r = reply_of(x);
    r.first = !x->sent_first;
    x->sent_first = true;
    if (!append_chunk(x, &r))
        return false;
    completion_take(c);
    if (!c->done)
        return true;
    x->sent_finish = true;
    exchange_end_generation(x);
    if (x->req.include_usage) {
        serve_reply usage = reply_of(x);
        usage.usage = true;
        usage.finish_reason = NULL;
        if (!append_chunk(x, &usage))
            return false;
    }
    x->sent_done = true;
    return append_event(x, "[DONE]");
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    exchange *x = cls;
    if (x->events_sent == x->events.len) {
        x->events.len = x->events_sent = 0;
        if (x->sent_done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (exchange_should_stop(x) || !next_events(x))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = x->events.len - x->events_sent;
    if (n > max)
        n = max;
    memcpy(buf, x->events.data + x->events_sent, n);
    x->events_sent += n;
    return (ssize_t)n;
}

static enum MHD_Result reply_stream(exchange *x)
{
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, read_events, x, NULL);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    x->status = 200;
    const enum MHD_Result queued = MHD_queue_response(x->conn, 200, r);
    MHD_destroy_response(r);
    return queued;
}

enum MHD_Result exchange_generate(exchange *x, serve_endpoint endpoint)
{
    server *srv = x->srv;
    serve_error err;
    if (!serve_request_parse(endpoint, x->body.data, x->body.len, &x->req,
                             &err) ||
        !completion_prepare(&x->comp, &srv->model, &x->req, srv->slots.n_ctx,
                            &err))
        return exchange_reply_error(x, &err);
    snprintf(x->id, sizeof x->id, "%s-%" PRIx64 "%08" PRIx64,
             endpoint == SERVE_CHAT ? "chatcmpl" : "cmpl",
             (uint64_t)srv->model.created,
             (uint64_t)atomic_fetch_add(&srv->n_requests, 1));
    x->slot = slot_acquire(&srv->slots, x->comp.prompt, x->comp.n_prompt,
                           exchange_should_stop, x);
    if (!x->slot) {
        serve_fail(&err, 503, "unavailable_error", "",
                   "the server is stopping");
        return exchange_reply_error(x, &err);
    }
    if (!completion_prefill(&x->comp, x->slot, &err)) {
        exchange_end_generation(x);
        return exchange_reply_error(x, &err);
    }
    if (x->req.stream)
        return reply_stream(x);
    while (!x->comp.done)
        if (!completion_step(&x->comp, &err)) {
            exchange_end_generation(x);
            return exchange_reply_error(x, &err);
        }
    exchange_end_generation(x);
    const serve_reply r = reply_of(x);
    return exchange_reply_json(x, 200, serve_reply_body(&r));
}
