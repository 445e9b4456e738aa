#include "reference_run.h"

#include "forward/forward.h"
#include "logits_file.h"

#include <stdio.h>

/* The reference's routes in the public form, which the line format of
 * dsvk logits --dump-routing is written from. */
static void print_routing(const ref_routing *r, void *user)
{
    (void)user;
    const dsvk_routing routing = {.layer = r->layer,
                                  .position = r->position,
                                  .n_used = r->n_used,
                                  .experts = r->chosen,
                                  .weights = r->weights};
    logits_file_print_routing(NULL, &routing);
}

/* dsvk logits' context when --ctx is not given (the model's default of
 * dsvk.h), so that a sequence too long for one is too long for both. */
static uint32_t default_n_ctx(const model *m)
{
    const uint32_t trained = m->hp.n_ctx_train;
    return trained && trained < FORWARD_DEFAULT_MAX_CTX
               ? trained
               : FORWARD_DEFAULT_MAX_CTX;
}

bool reference_run_open(reference_run *run, const char *path, uint32_t n_ctx,
                        bool dump_routing, char *err, size_t err_size)
{
    *run = (reference_run){0};
    if (gguf_open(path, &run->file, err, err_size) != DSVK_OK)
        return false;
    char detail[512] = "";
    if (model_load(run->file, &run->m, detail, sizeof detail) != DSVK_OK) {
        snprintf(err, err_size, "%s: %s", path, detail);
        return false;
    }
    const ref_desc desc = {.n_ctx = n_ctx ? n_ctx : default_n_ctx(run->m),
                           .on_routing = dump_routing ? print_routing : NULL};
    return ref_create(run->m, &desc, &run->r, err, err_size) == DSVK_OK;
}

uint32_t reference_run_n_vocab(const reference_run *run)
{
    return run->m->hp.n_vocab;
}

bool reference_run_eval(void *user, const dsvk_token *tokens, uint32_t n,
                        float *logits, char *err, size_t err_size)
{
    reference_run *run = user;
    /* The ids were checked against the vocabulary, so none is negative;
     * int32_t and uint32_t may alias. */
    return ref_eval(run->r, (const uint32_t *)tokens, n, logits, err,
                    err_size) == DSVK_OK;
}

void reference_run_close(reference_run *run)
{
    ref_destroy(run->r);
    model_free(run->m);
    gguf_close(run->file);
    *run = (reference_run){0};
}
