/* dsvk serve: options, the context and model, the slots, then the HTTP
 * daemon until SIGINT or SIGTERM. Uses only the public API, as an
 * application embedding dsvk would. */
#include "serve.h"
#include "server.h"

#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out)
{
    fputs("usage: dsvk serve -m MODEL [options]\n"
          "\n"
          "Serves the model over the OpenAI HTTP API: POST "
          "/v1/chat/completions and\n"
          "/v1/completions (with \"stream\": true for server-sent events), "
          "GET /v1/models\n"
          "and GET /health. Runs until SIGINT (Ctrl-C) or SIGTERM.\n"
          "\n"
          "options:\n"
          "  -m, --model FILE     GGUF model (deepseek2)\n"
          "  --host ADDRESS       address to listen on (default 127.0.0.1)\n"
          "  --port N             TCP port; 0 lets the system pick one "
          "(default 8080)\n"
          "  --parallel N         slots: requests generated at once; more "
          "wait in a\n"
          "                       queue (default 1)\n"
          "  --ctx N              context length of each slot (default: the "
          "model's,\n"
          "                       at most 4096)\n"
          "  --cache-type TYPE    latent cache: f16 or q8_0 (default f16)\n"
          "  --chat-format NAME   deepseek2 or deepseek3 (default: the "
          "model's chat\n"
          "                       template)\n"
          "  --api-key KEY        ask every /v1 request for "
          "\"Authorization: Bearer KEY\"\n"
          "  --max-body BYTES     largest request body (default 1048576)\n"
          "  --device N           Vulkan device (see dsvk devices)\n"
          "  -h, --help           show this help\n",
          out);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    serve_vlog(fmt, args);
    va_end(args);
    return 1;
}

static bool parse_number(const char *text, uint64_t min, uint64_t max,
                         uint64_t *out)
{
    if (!text || *text < '0' || *text > '9')
        return false;
    char *end;
    errno = 0;
    const unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end || value < min || value > max)
        return false;
    *out = value;
    return true;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, serve_options *o)
{
    *o = (serve_options){.host = "127.0.0.1",
                         .port = 8080,
                         .n_parallel = 1,
                         .max_body = 1u << 20};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value)
            return fail("%s needs a value (try dsvk serve --help)", a);
        i++;
        uint64_t n;
        if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) {
            o->model_path = value;
        } else if (strcmp(a, "--host") == 0) {
            o->host = value;
        } else if (strcmp(a, "--api-key") == 0) {
            if (!*value)
                return fail("--api-key is empty");
            o->api_key = value;
        } else if (strcmp(a, "--port") == 0) {
            if (!parse_number(value, 0, 65535, &n))
                return fail("--port needs a port number (0 to 65535), not "
                            "'%s'",
                            value);
            o->port = (uint16_t)n;
        } else if (strcmp(a, "--parallel") == 0) {
            if (!parse_number(value, 1, 64, &n))
                return fail("--parallel needs a number of slots (1 to 64), "
                            "not '%s'",
                            value);
            o->n_parallel = (uint32_t)n;
        } else if (strcmp(a, "--ctx") == 0) {
            if (!parse_number(value, 1, UINT32_MAX, &n))
                return fail("--ctx needs a positive number, not '%s'", value);
            o->n_ctx = (uint32_t)n;
        } else if (strcmp(a, "--max-body") == 0) {
            if (!parse_number(value, 1, UINT64_MAX, &n))
                return fail("--max-body needs a positive number of bytes, not "
                            "'%s'",
                            value);
            o->max_body = n;
        } else if (strcmp(a, "--device") == 0) {
            if (!cli_parse_device(value, &o->device))
                return fail("--device needs a device index (see dsvk "
                            "devices), not '%s'",
                            value);
        } else if (strcmp(a, "--cache-type") == 0) {
            if (dsvk_cache_type_from_name(value, &o->cache_type) != DSVK_OK)
                return fail("--cache-type is f16 or q8_0, not '%s'", value);
        } else if (strcmp(a, "--chat-format") == 0) {
            if (dsvk_chat_format_from_name(value, &o->chat_format) != DSVK_OK ||
                o->chat_format == DSVK_CHAT_FORMAT_AUTO)
                return fail("--chat-format is deepseek2 or deepseek3, not "
                            "'%s'",
                            value);
        } else {
            return fail("unknown option '%s' (try dsvk serve --help)", a);
        }
    }
    if (!o->model_path)
        return fail("no model (-m FILE)");
    return -1;
}

static void log_line(void *user, const char *message)
{
    (void)user;
    serve_log("%s", message);
}

/* The environment the other subcommands read too (see dsvk --help), with
 * --device over DSVK_DEVICE and the server's own log lines. */
static bool context_desc_from_env(const serve_options *o,
                                  dsvk_context_desc *desc)
{
    char err[512];
    if (!cli_context_desc(desc, err, sizeof err)) {
        fail("%s", err);
        return false;
    }
    if (o->device)
        desc->device = o->device;
    desc->log = log_line;
    return true;
}

static bool load_model(server *srv)
{
    const serve_options *o = &srv->options;
    serve_model *m = &srv->model;
    const dsvk_model_desc desc = {.path = o->model_path, .n_ctx = o->n_ctx};
    if (dsvk_model_load(srv->ctx, &desc, &m->model) != DSVK_OK) {
        fail("%s", dsvk_context_error(srv->ctx));
        return false;
    }
    dsvk_model_get_info(m->model, &m->info);
    const char *slash = strrchr(o->model_path, '/');
    m->id = slash ? slash + 1 : o->model_path;
    m->created = (int64_t)time(NULL);
    if (dsvk_chat_resolve_format(m->model, o->chat_format, &m->chat_format) ==
        DSVK_OK) {
        m->has_chat_format = true;
    } else {
        snprintf(m->chat_format_error, sizeof m->chat_format_error,
                 "the server has no chat format for this model: %s",
                 dsvk_model_error(m->model));
        serve_log("chat requests will fail: %s", dsvk_model_error(m->model));
    }
    return true;
}

int serve_main(int argc, char **argv)
{
    server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return fail("out of memory");
    int code = parse_args(argc, argv, &srv->options);
    if (code >= 0) {
        free(srv);
        return code;
    }
    code = 1;
    dsvk_context_desc desc;
    char err[512];
    if (!context_desc_from_env(&srv->options, &desc))
        goto done;
    if (dsvk_context_create(&desc, &srv->ctx, err, sizeof err) != DSVK_OK) {
        fail("%s", err);
        goto done;
    }
    if (!load_model(srv))
        goto done;
    if (!slot_pool_init(&srv->slots, srv->model.model, srv->options.n_parallel,
                        srv->options.n_ctx, srv->options.cache_type, err,
                        sizeof err)) {
        fail("%s", err);
        goto done;
    }
    /* The daemon's threads inherit this mask, so the signals reach only
     * sigwait below. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    /* A client that closes early must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (!http_start(srv, err, sizeof err)) {
        fail("%s", err);
        goto done;
    }
    serve_log("%s: %u slot%s of %u positions, %s cache", srv->model.id,
              srv->options.n_parallel, srv->options.n_parallel == 1 ? "" : "s",
              srv->slots.n_ctx, dsvk_cache_type_name(srv->options.cache_type));
    serve_log("listening on http://%s%s%s:%u",
              strchr(srv->options.host, ':') ? "[" : "", srv->options.host,
              strchr(srv->options.host, ':') ? "]" : "", (unsigned)srv->port);
    int received = 0;
    sigwait(&signals, &received);
    serve_log("%s: stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&srv->stopping, true);
    http_stop(srv);
    code = 0;
    if (dsvk_context_validation_messages(srv->ctx) > 0) {
        fail("the Vulkan validation layer reported %u messages",
             dsvk_context_validation_messages(srv->ctx));
        code = 1;
    }
done:
    http_stop(srv);
    slot_pool_free(&srv->slots);
    dsvk_model_destroy(srv->model.model);
    dsvk_context_destroy(srv->ctx);
    free(srv);
    return code;
}
