#include "logits_args.h"

#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_option(const char *arg, const char *short_name,
                      const char *long_name)
{
    return (short_name && strcmp(arg, short_name) == 0) ||
           strcmp(arg, long_name) == 0;
}

/* Stores an option's value; false with the reason in err. */
static bool take_value(logits_args *args, const char *option, const char *value,
                       char *err, size_t err_size)
{
    if (is_option(option, "-m", "--model"))
        args->model = value;
    else if (is_option(option, NULL, "--tokens"))
        args->tokens_text = value;
    else if (is_option(option, "-o", "--out"))
        args->out = value;
    else if (!cli_parse_count(value, false,
                              is_option(option, NULL, "--chunk")
                                  ? &args->chunk
                                  : &args->n_ctx)) {
        snprintf(err, err_size, "%s needs a positive number, not '%s'", option,
                 value);
        return false;
    }
    return true;
}

logits_arg logits_args_take(logits_args *args, int argc, char **argv, int *i,
                            char *err, size_t err_size)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--dump-routing") == 0) {
        args->dump_routing = true;
        return LOGITS_ARG_TAKEN;
    }
    if (!is_option(arg, "-m", "--model") && !is_option(arg, NULL, "--tokens") &&
        !is_option(arg, "-o", "--out") && !is_option(arg, NULL, "--chunk") &&
        !is_option(arg, NULL, "--ctx"))
        return LOGITS_ARG_OTHER;
    if (*i + 1 >= argc) {
        snprintf(err, err_size, "%s needs a value", arg);
        return LOGITS_ARG_BAD;
    }
    *i += 1;
    return take_value(args, arg, argv[*i], err, err_size) ? LOGITS_ARG_TAKEN
                                                          : LOGITS_ARG_BAD;
}

bool logits_args_complete(const logits_args *args, char *err, size_t err_size)
{
    if (!args->model)
        snprintf(err, err_size, "no model (--model FILE)");
    else if (!args->tokens_text)
        snprintf(err, err_size, "no tokens (--tokens \"ID ID ...\")");
    else if (!args->out)
        snprintf(err, err_size, "no output file (--out FILE)");
    return args->model && args->tokens_text && args->out;
}

static bool is_separator(char c)
{
    return c == ' ' || c == ',' || c == '\t' || c == '\n';
}

/* Reads the id at *p and moves *p past it; false with the reason in err. */
static bool parse_token(const char **p, uint32_t index, uint32_t n_vocab,
                        dsvk_token *out, char *err, size_t err_size)
{
    const char *text = *p;
    char *end = (char *)text;
    errno = 0;
    unsigned long long v = 0;
    if (*text >= '0' && *text <= '9')
        v = strtoull(text, &end, 10);
    if (end == text || errno || (*end && !is_separator(*end))) {
        snprintf(err, err_size, "'%.20s' is not a token id", text);
        return false;
    }
    if (v >= n_vocab) {
        snprintf(err, err_size,
                 "token %llu (index %u) is outside the vocabulary of %u", v,
                 index, n_vocab);
        return false;
    }
    *out = (dsvk_token)v;
    *p = end;
    return true;
}

bool logits_args_tokens(const logits_args *args, uint32_t n_vocab,
                        dsvk_token **tokens, uint32_t *count, char *err,
                        size_t err_size)
{
    const char *p = args->tokens_text;
    /* Every id takes at least one digit and one separator. */
    dsvk_token *ids = malloc((strlen(p) / 2 + 1) * sizeof *ids);
    if (!ids) {
        snprintf(err, err_size, "out of memory for the token ids");
        return false;
    }
    uint32_t n = 0;
    for (;;) {
        while (is_separator(*p))
            p++;
        if (!*p)
            break;
        if (!parse_token(&p, n, n_vocab, &ids[n], err, err_size)) {
            free(ids);
            return false;
        }
        n++;
    }
    if (n == 0) {
        free(ids);
        snprintf(err, err_size, "no token ids in --tokens");
        return false;
    }
    *tokens = ids;
    *count = n;
    return true;
}
