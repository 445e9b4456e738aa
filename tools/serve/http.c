/* The HTTP side of dsvk serve on libmicrohttpd: one thread per connection
 * (a generation blocks its thread for as long as it runs, and the slots'
 * fair lock lets the sessions take turns on the GPU), bodies gathered up
 * to --max-body, routes, the API key, CORS for browser front-ends and one
 * log line per request. */
#include "exchange.h"
#include "reply.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

void serve_vlog(const char *fmt, va_list args)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, args);
    /* One call per line: lines of threads do not interleave. */
    fprintf(stderr, "dsvk serve: %s\n", line);
}

void serve_log(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    serve_vlog(fmt, args);
    va_end(args);
}

double serve_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

bool exchange_should_stop(void *user)
{
    exchange *x = user;
    if (atomic_load(&x->srv->stopping))
        return true;
    if (x->disconnected)
        return true;
    /* libmicrohttpd looks at the socket only between our calls, and a
     * prefill is one long call: peek at it. End of stream (0) means the
     * client closed; no data yet (EAGAIN) or more data means it is there. */
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(x->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info) {
        char byte;
        const ssize_t n =
            recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0)
            x->disconnected = true;
    }
    return x->disconnected;
}

static void add_common_headers(struct MHD_Response *r)
{
    /* Browser front-ends on another origin call the API too. */
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
}

enum MHD_Result exchange_reply_json(exchange *x, unsigned status, char *body)
{
    static const char oom[] = "{\"error\":{\"message\":\"out of memory\","
                              "\"type\":\"server_error\",\"param\":null,"
                              "\"code\":null}}";
    struct MHD_Response *r =
        body ? MHD_create_response_from_buffer(strlen(body), body,
                                               MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                               MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (!body)
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    add_common_headers(r);
    if (x->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, x->allow);
    x->status = status;
    const enum MHD_Result queued = MHD_queue_response(x->conn, status, r);
    MHD_destroy_response(r);
    return queued;
}

enum MHD_Result exchange_reply_error(exchange *x, const serve_error *err)
{
    /* A request that ended because its client went away (in the queue or
     * mid-generation) is nobody's error: no one reads the reply, and the
     * log shows nginx's 499 "client closed request", not a fault. */
    if (x->disconnected)
        return MHD_NO;
    return exchange_reply_json(x, (unsigned)err->http_status,
                               serve_reply_error(err));
}

static enum MHD_Result reply_fail(exchange *x, int status, const char *type,
                                  const char *message)
{
    serve_error err;
    serve_fail(&err, status, type, "", "%s", message);
    return exchange_reply_error(x, &err);
}

static enum MHD_Result reply_preflight(exchange *x)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    add_common_headers(r);
    MHD_add_response_header(r, "Access-Control-Allow-Methods",
                            "GET, POST, OPTIONS");
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            "Authorization, Content-Type");
    x->status = MHD_HTTP_NO_CONTENT;
    const enum MHD_Result queued =
        MHD_queue_response(x->conn, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return queued;
}

/* Compares without stopping at the first difference, so that the time a
 * wrong key takes does not tell how much of it was right. */
static bool same_secret(const char *a, const char *b)
{
    const size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (nb ? nb : 1)];
    return diff == 0;
}

static bool authorized(const exchange *x)
{
    const char *key = x->srv->options.api_key;
    if (!key)
        return true;
    const char *auth = MHD_lookup_connection_value(
        x->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    static const char bearer[] = "Bearer ";
    return auth && strncmp(auth, bearer, sizeof bearer - 1) == 0 &&
           same_secret(auth + sizeof bearer - 1, key);
}

typedef enum route {
    ROUTE_NONE,
    ROUTE_HEALTH,
    ROUTE_MODELS,
    ROUTE_CHAT,
    ROUTE_COMPLETION,
} route;

/* The OpenAI paths, and llama-server's aliases without /v1. */
static route find_route(const char *path, const char **method)
{
    static const struct {
        const char *path;
        route route;
        const char *method;
    } routes[] = {
        {"/health", ROUTE_HEALTH, "GET"},
        {"/v1/health", ROUTE_HEALTH, "GET"},
        {"/v1/models", ROUTE_MODELS, "GET"},
        {"/models", ROUTE_MODELS, "GET"},
        {"/v1/chat/completions", ROUTE_CHAT, "POST"},
        {"/chat/completions", ROUTE_CHAT, "POST"},
        {"/v1/completions", ROUTE_COMPLETION, "POST"},
        {"/completions", ROUTE_COMPLETION, "POST"},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(path, routes[i].path) == 0) {
            *method = routes[i].method;
            return routes[i].route;
        }
    return ROUTE_NONE;
}

static enum MHD_Result dispatch(exchange *x)
{
    if (strcmp(x->method, "OPTIONS") == 0)
        return reply_preflight(x);
    const char *method = NULL;
    const route route = find_route(x->path, &method);
    if (route == ROUTE_NONE)
        return reply_fail(x, 404, "not_found_error", "no such endpoint");
    if (strcmp(x->method, method) != 0) {
        char message[192];
        snprintf(message, sizeof message, "%s needs %s, not %s", x->path,
                 method, x->method);
        x->allow = method;
        return reply_fail(x, 405, "invalid_request_error", message);
    }
    if (route == ROUTE_HEALTH)
        return exchange_reply_json(x, 200, strdup("{\"status\":\"ok\"}"));
    if (!authorized(x))
        return reply_fail(x, 401, "authentication_error",
                          "missing or wrong API key (Authorization: Bearer "
                          "KEY)");
    if (x->body_too_large) {
        char message[96];
        snprintf(message, sizeof message,
                 "the body is larger than %llu bytes (--max-body)",
                 (unsigned long long)x->srv->options.max_body);
        return reply_fail(x, 413, "invalid_request_error", message);
    }
    if (route == ROUTE_MODELS)
        return exchange_reply_json(
            x, 200,
            serve_reply_models(x->srv->model.id, x->srv->model.created));
    return exchange_generate(x, route == ROUTE_CHAT ? SERVE_CHAT
                                                    : SERVE_COMPLETION);
}

static bool gather_body(exchange *x, const char *data, size_t n)
{
    if (x->body_too_large || x->body.len + n > x->srv->options.max_body) {
        x->body_too_large = true;
        return true;
    }
    if (x->body.len + n > x->body.capacity) {
        size_t capacity = x->body.capacity ? x->body.capacity : 4096;
        while (capacity < x->body.len + n)
            capacity *= 2;
        char *grown = realloc(x->body.data, capacity);
        if (!grown)
            return false;
        x->body.data = grown;
        x->body.capacity = capacity;
    }
    memcpy(x->body.data + x->body.len, data, n);
    x->body.len += n;
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    (void)version;
    server *srv = cls;
    exchange *x = *state;
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x)
            return MHD_NO;
        x->srv = srv;
        x->conn = conn;
        x->start_ms = serve_now_ms();
        snprintf(x->method, sizeof x->method, "%s", method);
        snprintf(x->path, sizeof x->path, "%s", url);
        *state = x;
        /* A declared body over the limit is refused before it is read. */
        const char *length = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > srv->options.max_body) {
            x->body_too_large = true;
            return dispatch(x);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        const bool ok = gather_body(x, upload, *upload_size);
        *upload_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    return dispatch(x);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode how)
{
    (void)cls;
    (void)conn;
    exchange *x = *state;
    if (!x)
        return;
    if (how != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        x->disconnected = true;
    if (x->disconnected && !x->status)
        x->status = 499;
    char detail[256] = "";
    if (x->comp.m)
        snprintf(detail, sizeof detail,
                 ", prompt %u tokens (%u cached) in %.1f ms, generated %u "
                 "tokens in %.1f ms%s%s",
                 x->comp.n_prompt, x->comp.n_reused, x->comp.prompt_ms,
                 x->comp.n_generated, x->comp.predicted_ms,
                 x->comp.finish_reason ? ", finish " : "",
                 x->comp.finish_reason ? x->comp.finish_reason : "");
    serve_log("%s %s %u %.1f ms%s%s", x->method, x->path, x->status,
              serve_now_ms() - x->start_ms, detail,
              x->disconnected ? ", client disconnected" : "");
    exchange_end_generation(x);
    completion_free(&x->comp);
    serve_request_free(&x->req);
    free(x->body.data);
    free(x->events.data);
    free(x);
    *state = NULL;
}

static void log_daemon_error(void *cls, const char *fmt, va_list args)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, args);
    line[strcspn(line, "\n")] = '\0';
    serve_log("http: %s", line);
}

bool http_start(server *srv, char *err, size_t err_size)
{
    struct sockaddr_storage address = {0};
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address;
    if (inet_pton(AF_INET, srv->options.host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(srv->options.port);
    } else if (inet_pton(AF_INET6, srv->options.host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(srv->options.port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, err_size, "--host %s is not an IPv4 or IPv6 address",
                 srv->options.host);
        return false;
    }
    srv->daemon = MHD_start_daemon(
        flags, srv->options.port, NULL, NULL, on_request, srv,
        /* The logger first, so that it gets the other options' errors. */
        MHD_OPTION_EXTERNAL_LOGGER, log_daemon_error, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&address, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        srv,
        /* Each connection is a thread, so their number is bounded. No
         * idle timeout: a long prefill is one call of ours without socket
         * activity, and must not count as idle. */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, err_size, "cannot listen on %s port %u (in use?)",
                 srv->options.host, (unsigned)srv->options.port);
        return false;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : srv->options.port;
    return true;
}

void http_stop(server *srv)
{
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}
