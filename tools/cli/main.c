/* dsvk: runs DeepSeek-architecture models on any Vulkan GPU. This file only
 * dispatches to the subcommands of commands.h. */
#include "commands.h"
#include "common.h"
#include "serve.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run, "continue a prompt, streaming the text (no -m: demo)"},
    {"chat", cmd_chat, "chat with a model in its chat format"},
    {"serve", serve_main, "an OpenAI-compatible HTTP server for applications"},
    {"bench", cmd_bench, "prompt and generation tokens/s, GPU time per op"},
    {"devices", cmd_devices, "list Vulkan devices and their capabilities"},
    {"tokenize", cmd_tokenize, "print the token ids of a text"},
    {"info", cmd_info, "hyperparameters, sizes, weight types, tokenizer"},
    {"logits", cmd_logits, "raw float32 logits of token ids (comparisons)"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("usage: dsvk <command> [options]   (dsvk <command> --help for "
          "more)\n\ncommands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nenvironment:\n"
          "  DSVK_DEVICE=N          use Vulkan device N (as --device N)\n"
          "  DSVK_EMULATE=baseline  behave like the weakest Vulkan 1.2 "
          "device\n"
          "  DSVK_KERNELS=gpu|cpu   force the products' kernel class "
          "(default auto)\n"
          "  DSVK_VALIDATION=1      enable the Khronos validation layer\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    return cli_error("unknown command '%s' (try dsvk --help)", argv[1]);
}
