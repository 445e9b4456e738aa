/* The OpenAI request bodies dsvk serve accepts, parsed from JSON into plain
 * C values. No I/O and no model: the HTTP layer hands it the body, and a
 * fuzz target (tools/fuzz/fuzz_serve_request.c) hands it anything. Every
 * refusal is an OpenAI-style error: an HTTP status, a type, the offending
 * parameter and one readable line. */
#ifndef DSVK_SERVE_REQUEST_H
#define DSVK_SERVE_REQUEST_H

#include "dsvk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum serve_endpoint {
    SERVE_CHAT = 0,       /* POST /v1/chat/completions */
    SERVE_COMPLETION = 1, /* POST /v1/completions */
} serve_endpoint;

/* The most stop strings a request may give, as OpenAI allows. */
#define SERVE_MAX_STOP 4

typedef struct serve_message {
    dsvk_role role; /* "developer" is read as system */
    char *content;  /* NUL-terminated UTF-8; text parts joined */
} serve_message;

typedef struct serve_request {
    serve_endpoint endpoint;
    serve_message *messages; /* SERVE_CHAT: at least one */
    size_t n_messages;
    char *prompt;      /* SERVE_COMPLETION: NUL-terminated UTF-8 */
    size_t prompt_len; /* bytes, without the NUL (the text holds none) */
    char *model;       /* the request's "model", or NULL: only echoed */
    bool stream;
    bool include_usage; /* stream_options.include_usage */
    /* temperature, top_p, top_k, min_p, presence_penalty,
     * frequency_penalty, seed; dsvk_sampler_defaults() for the fields the
     * request leaves out. */
    dsvk_sampler_settings sampling;
    bool has_seed;       /* the request gave one; else the server picks */
    uint32_t max_tokens; /* max_tokens or max_completion_tokens; 0: none */
    char *stop[SERVE_MAX_STOP]; /* non-empty strings */
    size_t n_stop;
} serve_request;

/* An OpenAI error body: {"error":{"message","type","param","code"}}. */
typedef struct serve_error {
    int http_status;   /* 400, 401, 404, 413, 503, ... */
    const char *type;  /* "invalid_request_error", ...: a static string */
    const char *code;  /* "context_length_exceeded", ...: static; NULL
                          gives "code":null */
    char param[64];    /* the field at fault, or "" */
    char message[256]; /* one line */
} serve_error;

/* Parses len bytes of JSON (not NUL-terminated) as a request for
 * `endpoint`. On success fills *out (free it with serve_request_free) and
 * returns true; otherwise *out is empty, *err says why (status 400) and
 * it returns false. Refuses a body that is not UTF-8 or holds a control
 * character JSON does not allow, or a NUL even as \u0000, which the C
 * strings above could not hold. Safe on any bytes. */
bool serve_request_parse(serve_endpoint endpoint, const char *body, size_t len,
                         serve_request *out, serve_error *err);

/* Frees what parse allocated and empties *r. Accepts an empty request. */
void serve_request_free(serve_request *r);

/* Fills *err (code NULL: set it afterwards where one applies); returns
 * false, so a caller can `return serve_fail(...)`. */
bool serve_fail(serve_error *err, int http_status, const char *type,
                const char *param, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
