/* The CPU reference (host/reference/reference.h) on one model file, as
 * ref-logits runs it: the file opened and the weights dequantized, the
 * evaluation of tokens, and the routing printed as dsvk logits prints the
 * GPU's. */
#ifndef DSVK_REF_LOGITS_REFERENCE_RUN_H
#define DSVK_REF_LOGITS_REFERENCE_RUN_H

#include "gguf/gguf.h"
#include "model/model.h"
#include "reference/reference.h"

typedef struct reference_run {
    gguf_file *file;
    model *m;
    ref *r;
} reference_run;

/* Opens path and creates the reference with n_ctx positions (0: the
 * default dsvk logits has, the trained context up to 4096); with
 * dump_routing, every MoE layer's choice for every token goes to stderr.
 * False with the reason in err; run may be closed either way. */
bool reference_run_open(reference_run *run, const char *path, uint32_t n_ctx,
                        bool dump_routing, char *err, size_t err_size);

/* The model's vocabulary size, the width of a row of logits. */
uint32_t reference_run_n_vocab(const reference_run *run);

/* A logits_eval_fn (user: the reference_run): evaluates n tokens at the
 * reference's position; false with the reason in err. */
bool reference_run_eval(void *user, const dsvk_token *tokens, uint32_t n,
                        float *logits, char *err, size_t err_size);

void reference_run_close(reference_run *run);

#endif
