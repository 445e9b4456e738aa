/* One HTTP request of dsvk serve, from its first byte to its log line:
 * what the connection thread of libmicrohttpd keeps between its calls. */
#ifndef DSVK_SERVE_EXCHANGE_H
#define DSVK_SERVE_EXCHANGE_H

#include "completion.h"
#include "server.h"

#include <microhttpd.h>
#include <stdbool.h>

typedef struct exchange {
    server *srv;
    struct MHD_Connection *conn;
    char method[16];
    char path[128]; /* the URL as logged (cut) */
    double start_ms;
    unsigned status;   /* of the response queued */
    const char *allow; /* a 405's Allow header: a static string */
    text_buffer body;
    bool body_too_large;
    bool disconnected; /* the client went away before the end */

    /* A generation. */
    serve_request req;
    completion comp;
    slot *slot;
    char id[48]; /* "chatcmpl-..." */
    /* Streaming: the server-sent events made and not yet read by MHD. */
    text_buffer events;
    size_t events_sent;
    bool sent_first, sent_finish, sent_done;
} exchange;

/* Whether the request should stop: the server is stopping or the client
 * has closed its connection. For slot_acquire and the session's cancel. */
bool exchange_should_stop(void *exchange);

/* POST /v1/chat/completions and /v1/completions: runs the generation and
 * queues its response (a whole body, or a stream of events). */
enum MHD_Result exchange_generate(exchange *x, serve_endpoint endpoint);

/* Queues a JSON response that takes ownership of body (NULL: out of
 * memory, answered with a 500). */
enum MHD_Result exchange_reply_json(exchange *x, unsigned status, char *body);

/* Queues an OpenAI error. */
enum MHD_Result exchange_reply_error(exchange *x, const serve_error *err);

/* Hands back the slot, if held. */
void exchange_end_generation(exchange *x);

double serve_now_ms(void);

#endif
