/* One request's generation on a slot, a token at a time, so that the HTTP
 * layer can pull it: a whole reply for a plain request, a chunk per read
 * for a stream. The text goes through the stop strings, then (chat) the
 * <think> splitter, into the content and reasoning buffers, which the
 * caller empties as it sends them. */
#ifndef DSVK_SERVE_COMPLETION_H
#define DSVK_SERVE_COMPLETION_H

#include "request.h"
#include "slots.h"
#include "stop.h"
#include "think.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The loaded model as the server shows it. Read-only once serving. */
typedef struct serve_model {
    dsvk_model *model;
    dsvk_model_info info;
    const char *id;  /* the file's name: what /v1/models lists */
    int64_t created; /* when the server loaded it, Unix seconds */
    /* The chat format; when the model has no known template and none was
     * named, chat requests fail with chat_format_error. */
    bool has_chat_format;
    dsvk_chat_format chat_format;
    char chat_format_error[256];
} serve_model;

typedef struct text_buffer {
    char *data;
    size_t len, capacity;
    bool out_of_memory;
} text_buffer;

typedef struct completion {
    const serve_model *m;
    const serve_request *req;
    dsvk_token *prompt;
    uint32_t n_prompt;
    slot *slot;
    dsvk_sampler *sampler;
    float *logits;
    char *piece; /* one token's text */
    size_t piece_size;
    dsvk_text_stream text;
    stop_match stop;
    bool stop_ready; /* stop was initialised */
    think_split think;
    bool reply_started; /* the format's lead-in before the reply is gone */
    uint32_t n_reused;  /* prompt tokens the slot's cache already held */
    uint32_t n_generated;
    bool done;
    const char *finish_reason; /* "stop" or "length" once done */
    double prompt_ms, predicted_ms;
    text_buffer content, reasoning; /* decided, not yet taken */
} completion;

/* Tokenizes the request's prompt or conversation, checks that it fits in
 * n_ctx positions and makes its sampler. False with *err (400) when the
 * request cannot run; completion_free it either way. */
bool completion_prepare(completion *c, const serve_model *m,
                        const serve_request *req, uint32_t n_ctx,
                        serve_error *err);

/* Evaluates the prompt on the slot (reusing its cache's common prefix).
 * False with *err on a device error or when the slot's stop function
 * stopped it. */
bool completion_prefill(completion *c, slot *s, serve_error *err);

/* Chooses and evaluates one token; sets done at the end. False with *err
 * on a device error or a stop. */
bool completion_step(completion *c, serve_error *err);

/* Empties the decided text (after the caller has sent it). */
void completion_take(completion *c);

void completion_free(completion *c);

#endif
