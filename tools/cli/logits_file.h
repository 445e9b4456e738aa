/* What `dsvk logits` and the developer tool ref-logits make, the same way
 * so that their outputs compare byte for byte: the logits file, from the
 * token list evaluated in chunks, and the --dump-routing lines. On
 * include/dsvk.h alone. */
#ifndef DSVK_CLI_LOGITS_FILE_H
#define DSVK_CLI_LOGITS_FILE_H

#include "logits_args.h"

/* Evaluates n tokens at the evaluator's position into logits[n][n_vocab];
 * false with the reason in err. */
typedef bool (*logits_eval_fn)(void *user, const dsvk_token *tokens, uint32_t n,
                               float *logits, char *err, size_t err_size);

/* Parses args' tokens (each below n_vocab), feeds them to eval from the
 * first in evaluations of args->chunk tokens (all at once when 0) and
 * writes the logits after every token to args->out: float32 little endian
 * whatever the host's byte order, row-major [n_tokens][n_vocab]. False
 * with the reason in err; then no file is written, unless writing it
 * failed. */
bool logits_file_make(const logits_args *args, uint32_t n_vocab,
                      logits_eval_fn eval, void *user, char *err,
                      size_t err_size);

/* Prints one MoE layer's choice for one token to stderr:
 * "routing layer 1 position 3: 5 (0.6120) 2 (0.3880)". A dsvk_routing_fn
 * (user is not read), so that it serves as a session's on_routing. */
void logits_file_print_routing(void *user, const dsvk_routing *routing);

#endif
