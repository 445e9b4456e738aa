/* ref-logits: the logits of the plain CPU reference forward pass
 * (host/reference/reference.h) for token ids, in the file format of
 * `dsvk logits`, so that the GPU's can be checked against it. A developer
 * tool: the reference dequantizes every weight to f32 (4 bytes per
 * parameter), which suits test models, not real DeepSeek ones. */
#include "logits_file.h"
#include "reference_run.h"

#include "common.h"

#include <stdarg.h>
#include <stdio.h>

/* Prints "ref-logits: <message>" to stderr; returns 1, the exit code for
 * errors. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("ref-logits: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    return 1;
}

static void usage(FILE *out)
{
    fputs("usage: ref-logits --model FILE --tokens \"ID ID ...\" --out FILE "
          "[options]\n"
          "\n"
          "Evaluates the token ids as one sequence from position 0 on the "
          "plain CPU\n"
          "reference forward pass and writes the logits after every token to "
          "the\n"
          "output file, as dsvk logits does for the GPU. The reference keeps "
          "every\n"
          "weight as f32: for test models. Its logits do not depend on "
          "--chunk.\n"
          "\n"
          "options:\n" LOGITS_ARGS_USAGE
          "  -h, --help         show this help\n",
          out);
}

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, logits_args *args)
{
    *args = (logits_args){0};
    char err[512] = "";
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        const logits_arg taken =
            logits_args_take(args, argc, argv, &i, err, sizeof err);
        if (taken == LOGITS_ARG_BAD)
            return fail("%s", err);
        if (taken == LOGITS_ARG_OTHER)
            return fail("unknown option '%s' (try ref-logits --help)", argv[i]);
    }
    return logits_args_complete(args, err, sizeof err) ? -1 : fail("%s", err);
}

int main(int argc, char **argv)
{
    logits_args args;
    const int code = parse_args(argc, argv, &args);
    if (code >= 0)
        return code;
    char err[512] = "";
    reference_run ref_run;
    const bool ok =
        reference_run_open(&ref_run, args.model, args.n_ctx, args.dump_routing,
                           err, sizeof err) &&
        logits_file_make(&args, reference_run_n_vocab(&ref_run),
                         reference_run_eval, &ref_run, err, sizeof err);
    reference_run_close(&ref_run);
    return ok ? 0 : fail("%s", err);
}
