/* The command line that `dsvk logits` (the GPU, through dsvk.h) and the
 * developer tool ref-logits (the CPU reference) share, so that the same
 * arguments ask both for the same file: the options and the token list.
 * On include/dsvk.h alone; errors are written into err, and each program
 * prints them with its own name. */
#ifndef DSVK_CLI_LOGITS_ARGS_H
#define DSVK_CLI_LOGITS_ARGS_H

#include "dsvk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct logits_args {
    const char *model;
    const char *tokens_text; /* ids separated by spaces or commas */
    const char *out;
    uint32_t chunk; /* tokens per evaluation; 0: the whole sequence */
    uint32_t n_ctx; /* 0: the model's default */
    bool dump_routing;
} logits_args;

/* The usage lines of the options logits_args_take reads. */
#define LOGITS_ARGS_USAGE                                                      \
    "  -m, --model FILE   GGUF model (deepseek2)\n"                            \
    "  --tokens IDS       token ids separated by spaces or commas\n"           \
    "  -o, --out FILE     where to write the logits: float32, little "         \
    "endian,\n"                                                                \
    "                     row-major [n_tokens][n_vocab]\n"                     \
    "  --chunk N          feed N tokens per evaluation (1: token by token;\n"  \
    "                     default: the whole sequence at once)\n"              \
    "  --ctx N            context length (default: the model's, at most "      \
    "4096)\n"                                                                  \
    "  --dump-routing     print the experts chosen per MoE layer and token\n"  \
    "                     to stderr\n"

typedef enum logits_arg {
    LOGITS_ARG_OTHER, /* not one of the shared options */
    LOGITS_ARG_TAKEN, /* read into args */
    LOGITS_ARG_BAD,   /* a shared option with a missing or bad value */
} logits_arg;

/* Reads argv[*i] into args when it is one of the shared options, moving *i
 * past its value. LOGITS_ARG_BAD comes with the reason in err. */
logits_arg logits_args_take(logits_args *args, int argc, char **argv, int *i,
                            char *err, size_t err_size);

/* False, naming the missing option in err, unless the model, the tokens
 * and the output file were given. */
bool logits_args_complete(const logits_args *args, char *err, size_t err_size);

/* Parses args->tokens_text into a malloc'd array of *count ids (at least
 * one), each below n_vocab. False with the reason in err. */
bool logits_args_tokens(const logits_args *args, uint32_t n_vocab,
                        dsvk_token **tokens, uint32_t *count, char *err,
                        size_t err_size);

#endif
