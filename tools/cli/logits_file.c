#include "logits_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool feed(const logits_args *args, const dsvk_token *tokens, uint32_t n,
                 uint32_t n_vocab, float *logits, logits_eval_fn eval,
                 void *user, char *err, size_t err_size)
{
    const uint32_t chunk = args->chunk ? args->chunk : n;
    for (uint32_t at = 0; at < n; at += chunk) {
        const uint32_t count = n - at < chunk ? n - at : chunk;
        if (!eval(user, tokens + at, count, logits + (size_t)at * n_vocab, err,
                  err_size))
            return false;
    }
    return true;
}

static bool write_floats(const char *path, const float *values, size_t n,
                         char *err, size_t err_size)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, err_size, "cannot create %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], 4);
        const unsigned char bytes[4] = {bits & 0xff, (bits >> 8) & 0xff,
                                        (bits >> 16) & 0xff, bits >> 24};
        ok = fwrite(bytes, 1, 4, f) == 4;
    }
    ok = fclose(f) == 0 && ok;
    if (!ok)
        snprintf(err, err_size, "cannot write %s", path);
    return ok;
}

bool logits_file_make(const logits_args *args, uint32_t n_vocab,
                      logits_eval_fn eval, void *user, char *err,
                      size_t err_size)
{
    dsvk_token *tokens = NULL;
    uint32_t n = 0;
    if (!logits_args_tokens(args, n_vocab, &tokens, &n, err, err_size))
        return false;
    const size_t n_values = (size_t)n * n_vocab;
    float *logits = malloc(n_values * sizeof *logits);
    bool ok = false;
    if (!logits)
        snprintf(err, err_size, "out of memory for %u x %u logits", n, n_vocab);
    else
        ok =
            feed(args, tokens, n, n_vocab, logits, eval, user, err, err_size) &&
            write_floats(args->out, logits, n_values, err, err_size);
    free(logits);
    free(tokens);
    return ok;
}

void logits_file_print_routing(void *user, const dsvk_routing *routing)
{
    (void)user;
    fprintf(stderr, "routing layer %u position %u:", routing->layer,
            routing->position);
    for (uint32_t i = 0; i < routing->n_used; i++)
        fprintf(stderr, " %u (%.4f)", routing->experts[i], routing->weights[i]);
    fputc('\n', stderr);
}
