/* dsvk tokenize: text -> token ids with a model's tokenizer. Works on full
 * models and on vocab-only GGUF files of any architecture; needs no GPU
 * (dsvk_model_open reads the tokenizer alone). */
#include "commands.h"
#include "common.h"
#include "dsvk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: dsvk tokenize -m MODEL [options] [--] TEXT\n"
          "       dsvk tokenize -m MODEL [options] -f FILE\n"
          "\n"
          "Prints the token ids of TEXT (or of FILE's bytes; - reads stdin)\n"
          "on one line, separated by spaces.\n"
          "\n"
          "options:\n"
          "  -m, --model MODEL  GGUF file (a full model or vocab only)\n"
          "  -f, --file FILE    tokenize the contents of FILE\n"
          "  --bos              start with the BOS token\n"
          "  --no-special       tokenize control tokens written in the text\n"
          "                     (e.g. <｜User｜>) as plain text\n"
          "  -h, --help         show this help\n",
          out);
}

typedef struct options {
    const char *model;
    const char *file;
    const char *text;
    bool bos;
    bool parse_special;
} options;

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.parse_special = true};
    bool only_text = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!only_text && cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!only_text && strcmp(a, "--") == 0) {
            only_text = true;
        } else if (!only_text &&
                   (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0)) {
            if (!has_value)
                return cli_error("%s needs a GGUF file", a);
            o->model = argv[++i];
        } else if (!only_text &&
                   (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0)) {
            if (!has_value)
                return cli_error("%s needs a file name", a);
            o->file = argv[++i];
        } else if (!only_text && strcmp(a, "--bos") == 0) {
            o->bos = true;
        } else if (!only_text && strcmp(a, "--no-special") == 0) {
            o->parse_special = false;
        } else if (!only_text && a[0] == '-' && a[1] != '\0') {
            return cli_error("tokenize: unknown option '%s' (try dsvk "
                             "tokenize --help)",
                             a);
        } else if (o->text) {
            return cli_error("tokenize: more than one TEXT argument (quote "
                             "the text)");
        } else {
            o->text = a;
        }
    }
    if (!o->model)
        return cli_error("tokenize: no model (-m MODEL)");
    if (!o->text == !o->file)
        return cli_error("tokenize: give either TEXT or -f FILE");
    return -1;
}

static int print_ids(const dsvk_token *ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        printf(i ? " %d" : "%d", (int)ids[i]);
    putchar('\n');
    return fflush(stdout) == 0 ? 0 : cli_error("cannot write the ids");
}

/* The ids of the text, malloc'd (the caller frees them); NULL with the
 * error printed on failure. */
static dsvk_token *tokenize(const dsvk_model *model, const char *text,
                            size_t len, const options *o, size_t *count)
{
    /* Asked for the size first: capacity 0 fails unless the text needs no
     * ids. */
    dsvk_status status = dsvk_tokenize(model, text, len, o->bos,
                                       o->parse_special, NULL, 0, count);
    dsvk_token *ids = NULL;
    if (status == DSVK_OK || status == DSVK_ERROR_BUFFER_TOO_SMALL) {
        ids = malloc((*count ? *count : 1) * sizeof *ids);
        if (!ids) {
            cli_error("out of memory for %zu token ids", *count);
            return NULL;
        }
        status = dsvk_tokenize(model, text, len, o->bos, o->parse_special, ids,
                               *count, count);
    }
    if (status != DSVK_OK) {
        cli_error("%s", dsvk_model_error(model));
        free(ids);
        return NULL;
    }
    return ids;
}

int cmd_tokenize(int argc, char **argv)
{
    options o;
    int code = parse_args(argc, argv, &o);
    if (code >= 0)
        return code;

    size_t len = o.text ? strlen(o.text) : 0;
    char *contents = NULL;
    if (o.file) {
        contents = cli_read_file(o.file, &len);
        if (!contents)
            return cli_error("cannot read %s", o.file);
    }
    const char *text = o.file ? contents : o.text;

    char err[512] = "";
    dsvk_model *model = NULL;
    code = 1;
    if (dsvk_model_open(o.model, DSVK_OPEN_VOCAB, &model, err, sizeof err) !=
        DSVK_OK) {
        cli_error("%s", err);
    } else {
        size_t count = 0;
        dsvk_token *ids = tokenize(model, text, len, &o, &count);
        if (ids)
            code = print_ids(ids, count);
        free(ids);
    }
    dsvk_model_destroy(model);
    free(contents);
    return code;
}
