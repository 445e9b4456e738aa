/* dsvk chat: a conversation with a model in its chat format, one line of
 * stdin per user turn (a terminal or a pipe), each reply streamed to
 * stdout. The session keeps the latent cache of every earlier turn, so a
 * turn evaluates only its own new tokens. Built on the public API. */
#include "commands.h"
#include "common.h"
#include "interrupt.h"
#include "open_model.h"
#include "sampling_flags.h"
#include "stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("usage: dsvk chat -m MODEL [options]\n"
          "\n"
          "Chats with the model: each line read from stdin is a user "
          "message, and the\n"
          "model's reply is streamed to stdout, then a newline. Earlier "
          "turns stay in\n"
          "the session's latent cache: a turn evaluates only its new "
          "tokens.\n"
          "A line \"/reset\" starts a new conversation; end of input "
          "(Ctrl-D) exits.\n"
          "Ctrl-C stops a reply at the next step and returns to the prompt: "
          "the reply so\n"
          "far stays in the conversation (before the reply began, the line "
          "is dropped).\n"
          "At the prompt, Ctrl-C ends the chat with exit status 130.\n"
          "\n"
          "options:\n"
          "  -m, --model FILE       GGUF model (deepseek2)\n"
          "  --system TEXT          system prompt\n"
          "  --chat-format NAME     deepseek2 or deepseek3 (default: the "
          "model's chat\n"
          "                         template)\n"
          "  -n, --n-predict N      most tokens per reply; 0: until the "
          "reply ends or\n"
          "                         the context is full (default 0)\n"
          "  --ctx N                context length of the whole conversation\n"
          "                         (default: the model's, at most "
          "4096)\n" CLI_CACHE_TYPE_USAGE
          "  --device N             Vulkan device (see dsvk devices)\n"
          "  -v, --verbose          after each reply, print to stderr how "
          "many tokens\n"
          "                         the turn evaluated and where\n"
          "  -h, --help             show this help\n"
          "\n"
          "sampling (as llama.cpp; applied in this order):\n",
          out);
    const dsvk_sampler_settings defaults = dsvk_sampler_defaults();
    sampling_flags_usage(out, &defaults);
}

typedef struct options {
    const char *model;
    const char *system;
    dsvk_chat_format chat_format; /* AUTO: the model's template */
    uint32_t n_predict;           /* 0: no limit */
    uint32_t n_ctx;               /* 0: the model's default */
    dsvk_cache_type cache_type;
    bool verbose;
    sampling_flags sampling;
    dsvk_context_desc device;
} options;

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){0};
    if (!cli_device_desc(&o->device))
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (cli_device_option(argc, argv, &i, &o->device, &ok) ||
                   sampling_flags_parse(&o->sampling, "chat", argc, argv, &i,
                                        &ok)) {
            if (!ok)
                return 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0 ||
                   strcmp(a, "--system") == 0 ||
                   strcmp(a, "--chat-format") == 0 || strcmp(a, "-n") == 0 ||
                   strcmp(a, "--n-predict") == 0 || strcmp(a, "--ctx") == 0 ||
                   strcmp(a, "--cache-type") == 0) {
            if (!value)
                return cli_error("chat: %s needs a value", a);
            i++;
            if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0)
                o->model = value;
            else if (strcmp(a, "--system") == 0)
                o->system = value;
            else if (strcmp(a, "--chat-format") == 0 &&
                     (dsvk_chat_format_from_name(value, &o->chat_format) !=
                          DSVK_OK ||
                      o->chat_format == DSVK_CHAT_FORMAT_AUTO))
                return cli_error("chat: --chat-format is deepseek2 or "
                                 "deepseek3, not '%s'",
                                 value);
            else if (strcmp(a, "--cache-type") == 0 &&
                     !cli_parse_cache_type(value, &o->cache_type))
                return cli_error("chat: --cache-type is f16 or q8_0, not '%s'",
                                 value);
            else if (strcmp(a, "--ctx") == 0 &&
                     !cli_parse_count(value, false, &o->n_ctx))
                return cli_error("chat: --ctx needs a positive number, not "
                                 "'%s'",
                                 value);
            else if ((strcmp(a, "-n") == 0 || strcmp(a, "--n-predict") == 0) &&
                     !cli_parse_count(value, true, &o->n_predict))
                return cli_error("chat: %s needs a number of tokens, not '%s'",
                                 a, value);
        } else {
            return cli_error("chat: unknown option '%s' (try dsvk chat "
                             "--help)",
                             a);
        }
    }
    if (!o->model)
        return cli_error("chat: no model (-m FILE)");
    return -1;
}

/* The conversation and what of it the session's cache holds. */
typedef struct conversation {
    dsvk_chat_message *messages; /* contents malloc'd */
    size_t n, capacity;
    size_t n_evaluated; /* messages whose rendering is in the cache */
    /* Tokens the cache still owes the rendering of the last reply: the
     * reply's last token (dsvk_generate leaves it unevaluated) and, when
     * the reply was cut short, the EOS the format puts after a reply. */
    dsvk_token owed[2];
    uint32_t n_owed;
} conversation;

static bool conversation_add(conversation *c, dsvk_role role, const char *text,
                             size_t len)
{
    if (c->n == c->capacity) {
        const size_t capacity = c->capacity ? 2 * c->capacity : 8;
        dsvk_chat_message *grown =
            realloc(c->messages, capacity * sizeof *grown);
        if (!grown)
            return false;
        c->messages = grown;
        c->capacity = capacity;
    }
    char *content = malloc(len + 1);
    if (!content)
        return false;
    memcpy(content, text, len);
    content[len] = '\0';
    c->messages[c->n++] = (dsvk_chat_message){role, content};
    return true;
}

static void conversation_pop(conversation *c)
{
    free((char *)c->messages[--c->n].content);
}

/* Keeps only a leading system message: a new conversation. */
static void conversation_reset(conversation *c)
{
    const size_t keep = c->n && c->messages[0].role == DSVK_ROLE_SYSTEM;
    while (c->n > keep)
        conversation_pop(c);
    c->n_evaluated = 0;
    c->n_owed = 0;
}

static void conversation_free(conversation *c)
{
    while (c->n)
        conversation_pop(c);
    free(c->messages);
}

typedef struct chat {
    const options *o;
    open_model *m;
    dsvk_chat_format format; /* resolved */
    dsvk_session *session;
    dsvk_sampler *sampler;
    dsvk_sampler_settings settings;
    conversation conv;
    uint32_t turn;
} chat;

/* The tokens of the user's new turn into *out (malloc'd): what the cache
 * owes, then the rendering of the messages it does not hold yet, with the
 * generation prompt. False after printing the error. */
static bool turn_tokens(chat *c, dsvk_token **out, size_t *n)
{
    const conversation *v = &c->conv;
    /* The first call asks the size, the second fills the buffer. */
    size_t n_new = 0;
    dsvk_status status =
        dsvk_chat_tokenize(c->m->model, c->format, v->messages, v->n,
                           v->n_evaluated, true, NULL, 0, &n_new);
    dsvk_token *tokens = NULL;
    if (status == DSVK_ERROR_BUFFER_TOO_SMALL) {
        tokens = malloc((v->n_owed + n_new) * sizeof *tokens);
        if (!tokens) {
            cli_error("out of memory");
            return false;
        }
        memcpy(tokens, v->owed, v->n_owed * sizeof *tokens);
        status = dsvk_chat_tokenize(c->m->model, c->format, v->messages, v->n,
                                    v->n_evaluated, true, tokens + v->n_owed,
                                    n_new, &n_new);
    }
    /* DSVK_OK from the size query would mean an empty rendering, which
     * the generation prompt rules out. */
    if (!tokens || status != DSVK_OK) {
        free(tokens);
        cli_error("%s", dsvk_model_error(c->m->model));
        return false;
    }
    *out = tokens;
    *n = v->n_owed + n_new;
    return true;
}

/* Stores the reply and what the cache owes for it. */
static bool finish_turn(chat *c, const stream_result *r)
{
    const char *text = r->text ? r->text : "";
    const size_t start = dsvk_chat_reply_start(c->format, text, r->text_len);
    if (!conversation_add(&c->conv, DSVK_ROLE_ASSISTANT, text + start,
                          r->text_len - start)) {
        cli_error("out of memory");
        return false;
    }
    conversation *v = &c->conv;
    v->n_evaluated = v->n;
    v->n_owed = 0;
    if (r->gen.pending != DSVK_TOKEN_NONE)
        v->owed[v->n_owed++] = r->gen.pending;
    /* A reply cut short (-n, full context) has no end token yet. */
    if (r->gen.stop != DSVK_STOP_EOG && c->m->info.eos != DSVK_TOKEN_NONE)
        v->owed[v->n_owed++] = c->m->info.eos;
    return true;
}

/* One user line: returns 0 to go on, else the exit code. */
static int user_turn(chat *c, const char *line, size_t len)
{
    if (!conversation_add(&c->conv, DSVK_ROLE_USER, line, len))
        return cli_error("out of memory");
    dsvk_token *tokens = NULL;
    size_t n_tokens = 0;
    if (!turn_tokens(c, &tokens, &n_tokens))
        return 1;
    const uint32_t start = dsvk_session_position(c->session);
    const stream_desc desc = {.sampler = c->sampler,
                              .max_tokens = c->o->n_predict,
                              .keep_text = true};
    stream_result r;
    const dsvk_status status =
        stream_generate(c->session, tokens, (uint32_t)n_tokens, &desc, &r);
    int code = 0;
    if (status == DSVK_ERROR_CONTEXT_FULL) {
        /* Nothing was evaluated: the conversation is as before the line. */
        cli_error("%s; /reset starts a new conversation",
                  dsvk_session_error(c->session));
        conversation_pop(&c->conv);
    } else if (status != DSVK_OK) {
        code = 1;
    } else if (r.interrupted && r.gen.n_generated == 0) {
        /* Ctrl-C during the prompt's steps: the turn never happened. The
         * cache goes back to where it was (what the last reply owed is
         * owed again) and the sampler has seen none of the prompt. */
        interrupt_arm();
        fputs("(interrupted)\n", stderr);
        dsvk_session_rewind(c->session, start);
        conversation_pop(&c->conv);
    } else {
        if (r.last_byte != '\n')
            putchar('\n');
        fflush(stdout);
        /* Ctrl-C during the reply: the reply so far is kept as the
         * assistant's turn, as when -n cuts it, so the model sees the
         * conversation the user saw; finish_turn owes the EOS the format
         * expects after it. Armed again first, so that the next Ctrl-C
         * counts from here on (at the prompt it ends the chat). */
        if (r.interrupted) {
            interrupt_arm();
            fputs("(interrupted)\n", stderr);
        }
        c->turn++;
        const uint32_t n_owed = c->conv.n_owed;
        if (!finish_turn(c, &r))
            code = 1;
        else if (c->o->verbose)
            fprintf(stderr,
                    "turn %u: prefill %u tokens (%u owed by the last reply) "
                    "at position %u, generated %u, position now %u\n",
                    c->turn, r.gen.n_prompt, n_owed, start, r.gen.n_generated,
                    dsvk_session_position(c->session));
    }
    free(r.text);
    free(tokens);
    return code;
}

static int reset(chat *c)
{
    conversation_reset(&c->conv);
    dsvk_session_rewind(c->session, 0);
    /* A new conversation starts with an empty penalty window. */
    dsvk_sampler_destroy(c->sampler);
    c->sampler = NULL;
    char err[512] = "";
    if (dsvk_sampler_create(&c->settings, &c->sampler, err, sizeof err) !=
        DSVK_OK)
        return cli_error("chat: %s", err);
    fputs("(new conversation)\n", stderr);
    return 0;
}

/* Reads lines until end of input or Ctrl-C at the prompt; returns the
 * exit code. */
static int chat_loop(chat *c)
{
    const bool interactive = isatty(STDIN_FILENO) == 1;
    /* Unbuffered, so that a line read ahead into stdio's buffer never
     * waits behind interrupt_wait_readable, which sees only the file. */
    setvbuf(stdin, NULL, _IONBF, 0);
    interrupt_arm();
    if (interactive)
        fprintf(stderr,
                "chatting with %s (%s format); /reset starts over, Ctrl-C "
                "stops a reply, Ctrl-D ends\n",
                c->m->info.name[0] ? c->m->info.name : c->o->model,
                dsvk_chat_format_name(c->format));
    char *line = NULL;
    size_t line_cap = 0;
    int code = 0;
    while (code == 0) {
        if (interactive)
            fputs("> ", stderr);
        if (!interrupt_wait_readable(STDIN_FILENO)) {
            if (interactive)
                fputc('\n', stderr);
            code = INTERRUPT_EXIT_CODE;
            break;
        }
        ssize_t len = getline(&line, &line_cap, stdin);
        if (len < 0)
            break;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        code = strcmp(line, "/reset") == 0 ? reset(c)
                                           : user_turn(c, line, (size_t)len);
    }
    free(line);
    return code;
}

/* Resolves the format, makes the sampler, session and system prompt, and
 * chats; returns the exit code. */
static int start_chat(chat *c)
{
    const dsvk_session_desc session_desc = {.n_ctx = c->o->n_ctx,
                                            .cache_type = c->o->cache_type};
    if (!open_model_chat_format(c->m, c->o->chat_format, &c->format))
        return 1;
    if (dsvk_session_create(c->m->model, &session_desc, &c->session) != DSVK_OK)
        return cli_error("%s", dsvk_model_error(c->m->model));
    if (c->o->system && !conversation_add(&c->conv, DSVK_ROLE_SYSTEM,
                                          c->o->system, strlen(c->o->system)))
        return cli_error("out of memory");
    return chat_loop(c);
}

int cmd_chat(int argc, char **argv)
{
    options o;
    int code = parse_args(argc, argv, &o);
    if (code >= 0)
        return code;

    open_model m;
    chat c = {.o = &o,
              .m = &m,
              .settings =
                  sampling_flags_apply(&o.sampling, dsvk_sampler_defaults())};
    /* Settings are checked before anything slow happens. */
    char err[512] = "";
    if (dsvk_sampler_create(&c.settings, &c.sampler, err, sizeof err) !=
        DSVK_OK)
        return cli_error("chat: %s", err);
    if (o.verbose)
        fprintf(stderr, "seed %" PRIu64 "\n", c.settings.seed);
    code = open_model_load(&m, &o.device, o.model) ? start_chat(&c) : 1;
    conversation_free(&c.conv);
    dsvk_session_destroy(c.session);
    dsvk_sampler_destroy(c.sampler);
    return open_model_close(&m, code);
}
