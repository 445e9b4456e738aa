/* The CPU reference forward pass: plain f32 loops over the model exactly as
 * DESIGN.md §2 writes it, the oracle every GPU test trusts. It values
 * being obviously right over speed: every weight is dequantized to f32 once
 * at creation, so it needs 4 bytes per model parameter (n_params in
 * model_stats) — fine for the tiny test models, far too much for a real
 * DeepSeek model. Tokens are processed one at a time, so feeding a sequence
 * whole, in chunks or token by token gives bit-identical logits.
 *
 * Like the GPU and llama.cpp, it keeps a latent cache (c and kpe per layer
 * and position) whose values are rounded when stored, through f16 or as
 * q8_0 blocks (desc.cache_type). */
#ifndef DSVK_HOST_REFERENCE_H
#define DSVK_HOST_REFERENCE_H

#include "model/model.h"

/* What the router chose for one token in one MoE layer. */
typedef struct ref_routing {
    uint32_t layer;
    uint32_t position;      /* of the token in the sequence */
    uint32_t n_expert;      /* E */
    uint32_t n_used;        /* k */
    const float *probs;     /* [E] router probabilities s, before any bias */
    const uint32_t *chosen; /* [k] expert ids, best choice score first */
    const float *weights;   /* [k] mixing weights, normalised and scaled */
    /* How close the choice came to a tie: the smallest gap between a
     * chosen and an unchosen candidate at any decision (choice score s +
     * bias of the k-th vs the best unchosen expert; with groups, also the
     * score of the worst kept vs the best dropped group). A router whose
     * probabilities all differ from these by less than margin/4 (a group
     * score adds two) chooses the same experts. */
    float margin;
} ref_routing;

/* Called for every token and MoE layer during ref_eval (the tests, and
 * ref-logits --dump-routing); the pointers are valid only during the
 * call. */
typedef void (*ref_routing_fn)(const ref_routing *routing, void *user);

typedef struct ref_desc {
    uint32_t n_ctx; /* positions the cache holds; 0 = the model's context */
    /* How cached values are rounded (host/forward/latent_cache.h); {0}: f16. */
    dsvk_cache_type cache_type;
    ref_routing_fn on_routing; /* optional */
    void *user;                /* passed to on_routing */
} ref_desc;

typedef struct ref ref;

/* Dequantizes the model's weights and allocates the cache. `m` must
 * outlive the ref. desc may be NULL (defaults). */
dsvk_status ref_create(const model *m, const ref_desc *desc, ref **out,
                       char *err, size_t err_size);
void ref_destroy(ref *r); /* accepts NULL */

/* Empties the cache: the next ref_eval starts at position 0. */
void ref_reset(ref *r);
/* Tokens evaluated since creation or the last reset. */
uint32_t ref_position(const ref *r);

/* Evaluates `n` tokens continuing from the current position and writes the
 * logits that follow each of them to logits[n][n_vocab] (NULL: skip the
 * output projection). Fails without evaluating anything when a token is
 * outside the vocabulary (DSVK_ERROR_INVALID_ARGUMENT) or the tokens do
 * not fit in the context (DSVK_ERROR_CONTEXT_FULL). */
dsvk_status ref_eval(ref *r, const uint32_t *tokens, uint32_t n, float *logits,
                     char *err, size_t err_size);

#endif
