#include "completion.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void buffer_append(text_buffer *b, const char *s, size_t n)
{
    if (n == 0 || b->out_of_memory)
        return;
    if (b->len + n > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 256;
        while (capacity < b->len + n)
            capacity *= 2;
        char *data = realloc(b->data, capacity);
        if (!data) {
            b->out_of_memory = true;
            return;
        }
        b->data = data;
        b->capacity = capacity;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* A request without a seed gets a different one each time, as OpenAI's
 * API promises nothing repeatable then. */
static uint64_t fresh_seed(void)
{
    static atomic_uint_fast64_t counter;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t x = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
    x ^= atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15u;
    /* splitmix64's finaliser spreads the clock's few changing bits. */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static bool tokenize(completion *c, serve_error *err)
{
    const serve_request *req = c->req;
    dsvk_chat_message *messages = NULL;
    if (req->endpoint == SERVE_CHAT) {
        if (!c->m->has_chat_format)
            return serve_fail(err, 400, "invalid_request_error", "messages",
                              "%s", c->m->chat_format_error);
        messages = malloc(req->n_messages * sizeof *messages);
        if (!messages)
            return serve_fail(err, 500, "server_error", "",
                              "out of memory for the conversation");
        for (size_t i = 0; i < req->n_messages; i++)
            messages[i] = (dsvk_chat_message){req->messages[i].role,
                                              req->messages[i].content};
    }
    size_t n = 0;
    dsvk_status status = DSVK_OK;
    /* The first call asks the size, the second fills the buffer. */
    for (size_t capacity = 0;; capacity = n) {
        status = req->endpoint == SERVE_CHAT
                     ? dsvk_chat_tokenize(c->m->model, c->m->chat_format,
                                          messages, req->n_messages, 0, true,
                                          c->prompt, capacity, &n)
                     : dsvk_tokenize(c->m->model, req->prompt, req->prompt_len,
                                     c->m->info.add_bos, true, c->prompt,
                                     capacity, &n);
        if (status != DSVK_ERROR_BUFFER_TOO_SMALL || c->prompt)
            break;
        if (n > UINT32_MAX || !(c->prompt = malloc(n * sizeof *c->prompt))) {
            free(messages);
            return serve_fail(err, 500, "server_error", "",
                              "out of memory for %zu prompt tokens", n);
        }
    }
    free(messages);
    if (status != DSVK_OK)
        return serve_fail(err, 400, "invalid_request_error",
                          req->endpoint == SERVE_CHAT ? "messages" : "prompt",
                          "%s", dsvk_model_error(c->m->model));
    c->n_prompt = (uint32_t)n;
    return true;
}

bool completion_prepare(completion *c, const serve_model *m,
                        const serve_request *req, uint32_t n_ctx,
                        serve_error *err)
{
    *c = (completion){.m = m, .req = req};
    if (!tokenize(c, err))
        return false;
    if (c->n_prompt == 0)
        return serve_fail(err, 400, "invalid_request_error", "prompt",
                          "the prompt is empty");
    if (c->n_prompt > n_ctx) {
        serve_fail(err, 400, "invalid_request_error",
                   req->endpoint == SERVE_CHAT ? "messages" : "prompt",
                   "the prompt is %u tokens, more than the context of %u "
                   "(start the server with a larger --ctx)",
                   c->n_prompt, n_ctx);
        err->code = "context_length_exceeded";
        return false;
    }
    dsvk_sampler_settings settings = req->sampling;
    if (!req->has_seed)
        settings.seed = fresh_seed();
    char detail[256];
    if (dsvk_sampler_create(&settings, &c->sampler, detail, sizeof detail) !=
        DSVK_OK)
        return serve_fail(err, 400, "invalid_request_error", "", "%s", detail);
    c->piece_size = m->info.max_piece_bytes + 4;
    c->logits = malloc((size_t)m->info.n_vocab * sizeof *c->logits);
    c->piece = malloc(c->piece_size);
    if (!c->logits || !c->piece ||
        !(c->stop_ready = stop_match_init(&c->stop, req->stop, req->n_stop)))
        return serve_fail(err, 500, "server_error", "",
                          "out of memory for a generation");
    return true;
}

/* Where a failed evaluation's status becomes the client's error. */
static bool eval_failed(completion *c, dsvk_status status, serve_error *err)
{
    if (status == DSVK_ERROR_CANCELLED)
        return serve_fail(err, 503, "unavailable_error", "",
                          "the generation was stopped");
    return serve_fail(err, 500, "server_error", "", "%s",
                      dsvk_session_error(c->slot->session));
}

bool completion_prefill(completion *c, slot *s, serve_error *err)
{
    c->slot = s;
    const double start = now_ms();
    const dsvk_status status = slot_prefill(
        s, c->prompt, c->n_prompt, c->logits, c->m->info.n_vocab, &c->n_reused);
    c->prompt_ms = now_ms() - start;
    if (status != DSVK_OK)
        return eval_failed(c, status, err);
    /* The penalties see the whole prompt, as dsvk_generate shows it. */
    for (uint32_t i = 0; i < c->n_prompt; i++)
        dsvk_sampler_accept(c->sampler, c->prompt[i]);
    return true;
}

static void on_decided(void *user, bool is_reasoning, const char *s, size_t n)
{
    completion *c = user;
    buffer_append(is_reasoning ? &c->reasoning : &c->content, s, n);
}

/* Text past the stop strings: a chat reply loses the format's lead-in
 * (deepseek2's space after "Assistant:"), then splits off its reasoning. */
static void on_released(void *user, const char *s, size_t n)
{
    completion *c = user;
    if (c->req->endpoint != SERVE_CHAT) {
        buffer_append(&c->content, s, n);
        return;
    }
    if (!c->reply_started && n > 0) {
        const size_t skip = dsvk_chat_reply_start(c->m->chat_format, s, n);
        s += skip;
        n -= skip;
        c->reply_started = true;
    }
    think_push(&c->think, s, n, on_decided, c);
}

static void finish(completion *c, const char *reason)
{
    char held[4];
    const size_t n_held = dsvk_text_stream_flush(&c->text, held);
    stop_match_push(&c->stop, held, n_held, on_released, c);
    stop_match_finish(&c->stop, on_released, c);
    if (c->req->endpoint == SERVE_CHAT)
        think_finish(&c->think, on_decided, c);
    c->done = true;
    c->finish_reason = reason;
}

bool completion_step(completion *c, serve_error *err)
{
    const double start = now_ms();
    dsvk_token token;
    dsvk_status status =
        dsvk_sampler_sample(c->sampler, c->logits, c->m->info.n_vocab, &token);
    if (status != DSVK_OK)
        return serve_fail(err, 500, "server_error", "", "%s",
                          dsvk_sampler_error(c->sampler));
    if (dsvk_token_is_eog(c->m->model, token)) {
        finish(c, "stop");
        c->predicted_ms += now_ms() - start;
        return true;
    }
    c->n_generated++;
    size_t len = 0;
    status = dsvk_text_stream_push(&c->text, c->m->model, token, false,
                                   c->piece, c->piece_size, &len);
    if (status != DSVK_OK)
        return serve_fail(err, 500, "server_error", "",
                          "cannot decode token %d", (int)token);
    if (stop_match_push(&c->stop, c->piece, len, on_released, c))
        finish(c, "stop");
    else if (c->req->max_tokens && c->n_generated >= c->req->max_tokens)
        finish(c, "length");
    else if (c->slot->n_cached >= c->slot->n_ctx)
        finish(c, "length");
    else if ((status = slot_eval(c->slot, token, c->logits,
                                 c->m->info.n_vocab)) != DSVK_OK) {
        c->predicted_ms += now_ms() - start;
        return eval_failed(c, status, err);
    }
    c->predicted_ms += now_ms() - start;
    if (c->content.out_of_memory || c->reasoning.out_of_memory)
        return serve_fail(err, 500, "server_error", "",
                          "out of memory for the reply");
    return true;
}

void completion_take(completion *c)
{
    c->content.len = 0;
    c->reasoning.len = 0;
}

void completion_free(completion *c)
{
    free(c->prompt);
    free(c->logits);
    free(c->piece);
    free(c->content.data);
    free(c->reasoning.data);
    dsvk_sampler_destroy(c->sampler);
    if (c->stop_ready)
        stop_match_free(&c->stop);
    *c = (completion){0};
}
