/* The JSON bodies dsvk serve sends: completions, streamed chunks, the model
 * list and errors, in the shapes the OpenAI API and llama-server use. Each
 * builder returns a malloc'd, NUL-terminated string (NULL when out of
 * memory) that the caller frees. */
#ifndef DSVK_SERVE_REPLY_H
#define DSVK_SERVE_REPLY_H

#include "request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One reply, whole or a streamed piece of one. Text fields are UTF-8 of the
 * given length (not NUL-terminated; may be NULL when the length is 0). */
typedef struct serve_reply {
    serve_endpoint endpoint;
    const char *id;    /* "chatcmpl-..." / "cmpl-...": the same in every
                          chunk of a stream */
    const char *model; /* the model's id */
    int64_t created;   /* Unix seconds */
    const char *content;
    size_t content_len;
    /* SERVE_CHAT: the text of a <think>...</think> block
     * ("reasoning_content"); left out when reasoning_len is 0. */
    const char *reasoning;
    size_t reasoning_len;
    /* "stop" or "length"; NULL in the chunks before the last. */
    const char *finish_reason;
    /* Streaming, chat: the first chunk's delta carries "role":"assistant". */
    bool first;
    bool usage; /* add "usage" and "timings" with the counts below */
    uint32_t prompt_tokens, completion_tokens;
    /* Prompt tokens the slot's cache already held: usage's
     * "prompt_tokens_details":{"cached_tokens"}, and prompt_tokens minus
     * this is "timings":{"prompt_n"} (llama-server's names). */
    uint32_t cached_tokens;
    double prompt_ms, predicted_ms; /* "timings": prefill and generation */
} serve_reply;

/* The whole response of a request without "stream". */
char *serve_reply_body(const serve_reply *r);

/* One streamed chunk's JSON (the caller frames it as "data: ...\n\n").
 * With usage set and no text or finish_reason, it is the final usage chunk:
 * "choices" is empty. */
char *serve_reply_chunk(const serve_reply *r);

/* GET /v1/models: one model with this id, created at `created`. */
char *serve_reply_models(const char *model_id, int64_t created);

/* An error body. */
char *serve_reply_error(const serve_error *err);

#endif
