/* dsvk logits: token ids -> the raw logits after each of them, as one
 * sequence from position 0, on the GPU through the public API. For
 * comparisons between implementations (the developer tool ref-logits
 * writes the CPU reference's in the same format) and between feeding
 * patterns; the output is plain float32 so any tool can read it. */
#include "commands.h"
#include "common.h"
#include "logits_file.h"
#include "open_model.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: dsvk logits --model FILE --tokens \"ID ID ...\" --out FILE "
          "[options]\n"
          "\n"
          "Evaluates the token ids as one sequence from position 0 on the "
          "GPU and\n"
          "writes the logits after every token to the output file. The "
          "developer\n"
          "tool ref-logits writes the CPU reference's in the same format.\n"
          "\n"
          "options:\n" LOGITS_ARGS_USAGE
          "  --device N         Vulkan device (see dsvk devices)\n"
          "  -h, --help         show this help\n",
          out);
}

typedef struct options {
    logits_args args;
    dsvk_context_desc device;
} options;

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){0};
    if (!cli_device_desc(&o->device))
        return 1;
    char err[512] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool ok;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        }
        /* The CPU reference needs the library's internals, which the
         * user-facing program does not use. */
        if (strcmp(a, "--reference") == 0)
            return cli_error("logits: --reference moved to the developer "
                             "tool ref-logits");
        if (cli_device_option(argc, argv, &i, &o->device, &ok)) {
            if (!ok)
                return 1;
            continue;
        }
        const logits_arg taken =
            logits_args_take(&o->args, argc, argv, &i, err, sizeof err);
        if (taken == LOGITS_ARG_BAD)
            return cli_error("logits: %s", err);
        if (taken == LOGITS_ARG_OTHER)
            return cli_error("logits: unknown option '%s' (try dsvk logits "
                             "--help)",
                             a);
    }
    if (!logits_args_complete(&o->args, err, sizeof err))
        return cli_error("logits: %s", err);
    return -1;
}

typedef struct session_run {
    dsvk_session *session;
    uint32_t n_vocab;
} session_run;

static bool eval_on_session(void *user, const dsvk_token *tokens, uint32_t n,
                            float *logits, char *err, size_t err_size)
{
    session_run *run = user;
    if (dsvk_session_eval(run->session, tokens, n, DSVK_LOGITS_ALL, logits,
                          (size_t)n * run->n_vocab) == DSVK_OK)
        return true;
    snprintf(err, err_size, "%s", dsvk_session_error(run->session));
    return false;
}

/* One session with the session defaults, so that --chunk cuts the sequence
 * into the same GPU steps as any application's evaluations would. */
static int run(const options *o, const open_model *m)
{
    const dsvk_session_desc desc = {
        .n_ctx = o->args.n_ctx,
        .on_routing = o->args.dump_routing ? logits_file_print_routing : NULL};
    session_run run = {.n_vocab = m->info.n_vocab};
    if (dsvk_session_create(m->model, &desc, &run.session) != DSVK_OK)
        return cli_error("%s", dsvk_model_error(m->model));
    char err[512] = "";
    const bool ok = logits_file_make(&o->args, m->info.n_vocab, eval_on_session,
                                     &run, err, sizeof err);
    dsvk_session_destroy(run.session);
    return ok ? 0 : cli_error("logits: %s", err);
}

int cmd_logits(int argc, char **argv)
{
    options o;
    const int code = parse_args(argc, argv, &o);
    if (code >= 0)
        return code;
    open_model m;
    if (!open_model_load(&m, &o.device, o.args.model))
        return open_model_close(&m, 1);
    return open_model_close(&m, run(&o, &m));
}
