/* dsvk run: a prompt in, its continuation streamed out. Built on the public
 * API only (include/dsvk.h), as an application would embed dsvk. Without
 * -m it runs the demo model (demo_model.h). */
#include "commands.h"
#include "common.h"
#include "demo_model.h"
#include "interrupt.h"
#include "open_model.h"
#include "sampling_flags.h"
#include "stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_DEFAULT_N_PREDICT 128u
#define DEMO_PROMPT "In the beginning"

/* The demo model writes better with a little repeat penalty: a small
 * byte-level model otherwise loops on common words. */
static dsvk_sampler_settings demo_sampling(void)
{
    dsvk_sampler_settings s = dsvk_sampler_defaults();
    s.temperature = 0.8f;
    s.repeat_penalty = 1.1f;
    return s;
}

static void usage(FILE *out)
{
    fputs("usage: dsvk run -m MODEL (-p TEXT | -f FILE) [options]\n"
          "       dsvk run [options]          (the demo model)\n"
          "\n"
          "Continues the prompt and streams the text to stdout, then a "
          "newline; the\n"
          "load time and the prompt and generation speeds go to stderr at "
          "the end.\n"
          "Without -m it runs the demo model, a small model trained on the "
          "King James\n"
          "Bible, on the\nprompt \"" DEMO_PROMPT
          "\" with --temp 0.8 --repeat-penalty 1.1.\n"
          "\n"
          "options:\n"
          "  -m, --model FILE       GGUF model (deepseek2)\n"
          "  -p, --prompt TEXT      the prompt\n"
          "  -f, --file FILE        read the prompt from FILE (- reads "
          "stdin)\n"
          "  -n, --n-predict N      most tokens to generate; 0: until the "
          "model ends\n"
          "                         the text or the context is full "
          "(default 128)\n"
          "  --ctx N                context length (default: the model's, at "
          "most 4096)\n" CLI_CACHE_TYPE_USAGE
          "  --chat                 send the prompt as a user message in the "
          "model's\n"
          "                         chat format; print the reply\n"
          "  --system TEXT          system prompt (with --chat)\n"
          "  --chat-format NAME     deepseek2 or deepseek3 (with --chat; "
          "default: the\n"
          "                         model's chat template)\n"
          "  --no-bos               do not start the prompt with the BOS "
          "token\n"
          "  --device N             Vulkan device (see dsvk devices)\n"
          "  -v, --verbose          print the model, seed and token counts to "
          "stderr\n"
          "  -h, --help             show this help\n"
          "\n"
          "Ctrl-C stops the prompt's evaluation or the generation at the "
          "next step: the\n"
          "text so far stays, and the exit status is 130.\n"
          "\n"
          "sampling (as llama.cpp; applied in this order):\n",
          out);
    const dsvk_sampler_settings defaults = dsvk_sampler_defaults();
    sampling_flags_usage(out, &defaults);
}

typedef struct options {
    const char *model;
    const char *prompt;
    const char *prompt_file;
    const char *system;
    dsvk_chat_format chat_format;
    uint32_t n_predict;
    uint32_t n_ctx; /* 0: the model's default */
    dsvk_cache_type cache_type;
    bool chat;
    bool no_bos;
    bool verbose;
    sampling_flags sampling;
    dsvk_context_desc device;
} options;

static bool takes_value(const char *a)
{
    static const char *const names[] = {
        "-m",    "--model",      "-p",       "--prompt",
        "-f",    "--file",       "-n",       "--n-predict",
        "--ctx", "--cache-type", "--system", "--chat-format",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(a, names[i]) == 0)
            return true;
    return false;
}

/* Stores the value of an option that takes_value. Returns -1 to go on,
 * else the exit code of an error. */
static int parse_value(const char *a, const char *value, options *o)
{
    if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0)
        o->model = value;
    else if (strcmp(a, "-p") == 0 || strcmp(a, "--prompt") == 0)
        o->prompt = value;
    else if (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0)
        o->prompt_file = value;
    else if (strcmp(a, "--system") == 0)
        o->system = value;
    else if (strcmp(a, "--chat-format") == 0) {
        if (dsvk_chat_format_from_name(value, &o->chat_format) != DSVK_OK ||
            o->chat_format == DSVK_CHAT_FORMAT_AUTO)
            return cli_error("run: --chat-format is deepseek2 or deepseek3, "
                             "not '%s'",
                             value);
    } else if (strcmp(a, "--cache-type") == 0) {
        if (!cli_parse_cache_type(value, &o->cache_type))
            return cli_error("run: --cache-type is f16 or q8_0, not '%s'",
                             value);
    } else if (strcmp(a, "--ctx") == 0) {
        if (!cli_parse_count(value, false, &o->n_ctx))
            return cli_error("run: --ctx needs a positive number, not '%s'",
                             value);
    } else if (!cli_parse_count(value, true, &o->n_predict)) {
        return cli_error("run: %s needs a number of tokens, not '%s'", a,
                         value);
    }
    return -1;
}

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.n_predict = RUN_DEFAULT_N_PREDICT};
    if (!cli_device_desc(&o->device))
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool ok;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (cli_device_option(argc, argv, &i, &o->device, &ok) ||
                   sampling_flags_parse(&o->sampling, "run", argc, argv, &i,
                                        &ok)) {
            if (!ok)
                return 1;
        } else if (strcmp(a, "--chat") == 0) {
            o->chat = true;
        } else if (strcmp(a, "--no-bos") == 0) {
            o->no_bos = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (takes_value(a)) {
            if (i + 1 >= argc)
                return cli_error("run: %s needs a value", a);
            const int code = parse_value(a, argv[++i], o);
            if (code >= 0)
                return code;
        } else {
            return cli_error("run: unknown option '%s' (try dsvk run --help)",
                             a);
        }
    }
    if (o->prompt && o->prompt_file)
        return cli_error("run: give -p TEXT or -f FILE, not both");
    if (o->model && !o->prompt && !o->prompt_file)
        return cli_error("run: no prompt (-p TEXT or -f FILE)");
    if ((o->system || o->chat_format) && !o->chat)
        return cli_error("run: --system and --chat-format need --chat");
    if (o->chat && o->no_bos)
        return cli_error("run: --no-bos does not go with --chat (the chat "
                         "format decides)");
    return -1;
}

/* The prompt's tokens into *out (malloc'd): the text itself, or with
 * --chat the conversation (system prompt, user message) with the
 * generation prompt. False after printing the error. */
static bool prompt_tokens(const options *o, const open_model *m,
                          const char *text, size_t len, dsvk_token **out,
                          size_t *n)
{
    const dsvk_chat_message messages[2] = {
        {DSVK_ROLE_SYSTEM, o->system ? o->system : ""},
        {DSVK_ROLE_USER, text},
    };
    const dsvk_chat_message *first = o->system ? messages : messages + 1;
    const size_t n_messages = o->system ? 2 : 1;
    const bool add_bos = m->info.add_bos && !o->no_bos;
    dsvk_chat_format format = DSVK_CHAT_FORMAT_AUTO;
    if (o->chat && !open_model_chat_format(m, o->chat_format, &format))
        return false;
    /* The first call asks the size, the second fills the buffer. */
    dsvk_token *tokens = NULL;
    for (size_t capacity = 0;; capacity = *n) {
        const dsvk_status status =
            o->chat ? dsvk_chat_tokenize(m->model, format, first, n_messages, 0,
                                         true, tokens, capacity, n)
                    : dsvk_tokenize(m->model, text, len, add_bos, true, tokens,
                                    capacity, n);
        if (status == DSVK_OK && *n == 0) {
            cli_error("run: the prompt is empty");
            break;
        }
        if (status == DSVK_OK) {
            *out = tokens;
            return true;
        }
        if (status != DSVK_ERROR_BUFFER_TOO_SMALL || capacity) {
            cli_error("%s", dsvk_model_error(m->model));
            break;
        }
        tokens = malloc(*n * sizeof *tokens);
        if (!tokens) {
            cli_error("out of memory for %zu prompt tokens", *n);
            return false;
        }
    }
    free(tokens);
    return false;
}

static double per_second(uint32_t n, double seconds)
{
    return seconds > 0 ? n / seconds : 0;
}

static const char *stop_reason(dsvk_stop stop)
{
    switch (stop) {
    case DSVK_STOP_EOG:
        return "end of text";
    case DSVK_STOP_MAX_TOKENS:
        return "-n reached";
    case DSVK_STOP_CALLBACK:
        return "stopped";
    case DSVK_STOP_CONTEXT_FULL:
        return "context full (--ctx)";
    }
    return "?";
}

/* Says how far a run stopped by Ctrl-C got; returns its exit code. */
static int interrupted(const dsvk_generate_result *g, size_t n_tokens)
{
    if (g->n_generated == 0)
        cli_error("interrupted after %u of %zu prompt tokens", g->n_prompt,
                  n_tokens);
    else
        cli_error("interrupted after %u generated tokens", g->n_generated);
    return INTERRUPT_EXIT_CODE;
}

/* Evaluates and generates; returns the exit code. */
static int generate(const options *o, const open_model *m,
                    const dsvk_token *tokens, size_t n_tokens,
                    dsvk_sampler *sampler, uint64_t seed)
{
    /* From here on Ctrl-C stops the run cleanly; while the model loads it
     * still ends the process at once. */
    interrupt_arm();
    dsvk_session *session = NULL;
    const dsvk_session_desc session_desc = {.n_ctx = o->n_ctx,
                                            .cache_type = o->cache_type};
    if (dsvk_session_create(m->model, &session_desc, &session) != DSVK_OK)
        return cli_error("%s", dsvk_model_error(m->model));
    if (o->verbose) {
        dsvk_session_info info;
        dsvk_session_get_info(session, &info);
        fprintf(stderr,
                "context %u tokens, steps of %u, prompt %zu tokens, seed "
                "%" PRIu64 "\n",
                info.n_ctx, info.max_batch, n_tokens, seed);
    }
    const stream_desc desc = {.sampler = sampler, .max_tokens = o->n_predict};
    stream_result r;
    int code = 0;
    dsvk_status status =
        n_tokens > UINT32_MAX
            ? DSVK_ERROR_CONTEXT_FULL
            : stream_generate(session, tokens, (uint32_t)n_tokens, &desc, &r);
    if (status == DSVK_ERROR_CONTEXT_FULL)
        code = cli_error("%s (--ctx)", dsvk_session_error(session));
    else if (status != DSVK_OK)
        code = 1;
    else {
        /* The text ends with a newline, so the report starts a line. */
        if (r.last_byte != '\n')
            putchar('\n');
        fflush(stdout);
        const dsvk_generate_result *g = &r.gen;
        if (r.interrupted)
            code = interrupted(g, n_tokens);
        else
            fprintf(stderr,
                    "load %.2f s, prompt %u tokens in %.3f s (%.1f tokens/s), "
                    "generated %u tokens in %.3f s (%.1f tokens/s): %s\n",
                    m->load_seconds, g->n_prompt, g->prompt_seconds,
                    per_second(g->n_prompt, g->prompt_seconds), g->n_generated,
                    g->generate_seconds,
                    per_second(g->n_generated, g->generate_seconds),
                    stop_reason(g->stop));
    }
    dsvk_session_destroy(session);
    return code;
}

int cmd_run(int argc, char **argv)
{
    options o;
    int code = parse_args(argc, argv, &o);
    if (code >= 0)
        return code;

    /* Settings are checked before anything slow happens. */
    const dsvk_sampler_settings settings = sampling_flags_apply(
        &o.sampling, o.model ? dsvk_sampler_defaults() : demo_sampling());
    char err[512] = "";
    dsvk_sampler *sampler = NULL;
    if (dsvk_sampler_create(&settings, &sampler, err, sizeof err) != DSVK_OK)
        return cli_error("run: %s", err);

    demo_model demo;
    const char *path = o.model;
    if (!path && demo_model_find(&demo)) {
        path = demo.path;
        if (!o.prompt && !o.prompt_file)
            o.prompt = DEMO_PROMPT;
    }
    size_t len = o.prompt ? strlen(o.prompt) : 0;
    char *file_text = NULL;
    if (path && o.prompt_file) {
        file_text = cli_read_file(o.prompt_file, &len);
        if (!file_text)
            cli_error("cannot read %s: %s", o.prompt_file, strerror(errno));
    }
    const char *text = file_text ? file_text : o.prompt;

    open_model m = {0};
    code = 1;
    if (path && text && open_model_load(&m, &o.device, path)) {
        if (o.verbose)
            fprintf(stderr, "model %s: %s, %" PRIu64 " parameters\n", path,
                    m.info.name, m.info.n_params);
        size_t n_tokens = 0;
        dsvk_token *tokens = NULL;
        if (prompt_tokens(&o, &m, text, len, &tokens, &n_tokens)) {
            /* The demo shows its prompt, so the output reads as one text
             * (with -m, stdout stays the continuation alone). */
            if (!o.model)
                fputs(text, stdout);
            code = generate(&o, &m, tokens, n_tokens, sampler, settings.seed);
        }
        free(tokens);
    }
    free(file_text);
    dsvk_sampler_destroy(sampler);
    return open_model_close(&m, code);
}
