/* What every dsvk subcommand shares: the DSVK_* environment and --device
 * mapped onto the device desc (in this one place), and error printing. */
#ifndef DSVK_CLI_COMMON_H
#define DSVK_CLI_COMMON_H

#include "dsvk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prints "dsvk: <message>" to stderr; returns 1, the exit code for errors. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fills desc from DSVK_DEVICE (index), DSVK_EMULATE (none|baseline),
 * DSVK_KERNELS (auto|gpu|cpu), DSVK_VALIDATION (1 = on), the pipeline
 * cache directory ($XDG_CACHE_HOME/dsvk, else ~/.cache/dsvk) and a logger
 * that prints "dsvk: <line>" to stderr. The program's one mapping of its
 * environment onto the library's options (dsvk serve uses it too). False
 * with the reason in err on a malformed variable. */
bool cli_context_desc(dsvk_context_desc *desc, char *err, size_t err_size);

/* cli_context_desc, printing the reason with cli_error on failure. */
bool cli_device_desc(dsvk_context_desc *desc);

/* Parses a device index as dsvk devices prints it into *device
 * (DSVK_DEVICE_INDEX encoding); false when text is not one. */
bool cli_parse_device(const char *text, uint32_t *device);

/* If argv[*i] is "--device", reads the index after it into desc, advances
 * *i past it and returns true; *ok is false (error printed) if the index is
 * missing or malformed. */
bool cli_device_option(int argc, char **argv, int *i, dsvk_context_desc *desc,
                       bool *ok);

/* Reads a whole file (or stdin for "-") into malloc'd memory with a NUL
 * after its *size bytes; NULL (errno set) when it cannot be read. */
char *cli_read_file(const char *path, size_t *size);

/* Parses a decimal count (no sign, at most UINT32_MAX; 0 only when
 * zero_ok) into *out; false when text is not one. */
bool cli_parse_count(const char *text, bool zero_ok, uint32_t *out);

/* Parses --cache-type's value (f16 or q8_0) into *out; false when it is
 * neither. */
bool cli_parse_cache_type(const char *text, dsvk_cache_type *out);

/* The --cache-type line of every command's usage. */
#define CLI_CACHE_TYPE_USAGE                                                   \
    "  --cache-type T         latent cache: f16 (default) or q8_0 (half the\n" \
    "                         memory per token; logits move by ~1 %)\n"

/* Whether argv[i] asks for help (-h or --help). */
bool cli_is_help(const char *arg);

#endif
