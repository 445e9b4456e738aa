/* What the parts of dsvk serve share: its options, the loaded model, the
 * slots and the HTTP daemon. */
#ifndef DSVK_SERVE_SERVER_H
#define DSVK_SERVE_SERVER_H

#include "completion.h"
#include "slots.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct serve_options {
    const char *model_path;
    const char *host;    /* "127.0.0.1" */
    uint16_t port;       /* 8080; 0: the system picks one */
    uint32_t n_parallel; /* slots: 1 */
    uint32_t n_ctx;      /* per slot; 0: the model's default */
    const char *api_key; /* NULL: no key asked */
    uint64_t max_body;   /* bytes of a request body: 1 MiB */
    dsvk_cache_type cache_type;
    dsvk_chat_format chat_format; /* AUTO: the model's template */
    uint32_t device;              /* DSVK_DEVICE_BEST or an index */
} serve_options;

typedef struct server {
    serve_options options;
    dsvk_context *ctx;
    serve_model model;
    slot_pool slots;
    struct MHD_Daemon *daemon;
    uint16_t port;        /* bound */
    atomic_bool stopping; /* SIGINT/SIGTERM: requests end at the next step */
    atomic_uint_fast64_t n_requests; /* for response ids */
} server;

/* Starts the daemon on options.host:options.port, which serves on its own
 * threads (one per connection) until http_stop. */
bool http_start(server *srv, char *err, size_t err_size);
void http_stop(server *srv);

/* Writes one line to stderr ("dsvk serve: " and the text). */
void serve_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serve_vlog(const char *fmt, va_list args)
    __attribute__((format(printf, 1, 0)));

#endif
