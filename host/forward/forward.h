/* The Vulkan forward pass of a DeepSeek model (DESIGN.md §2, §3): one
 * sequence's latent cache and activations, and the evaluation of tokens
 * against it. A step (a chunk of up to max_batch tokens) is recorded as one
 * command buffer — embedding lookup, every layer with its routing on the
 * GPU, output head — submitted once; the host waits once per step, for the
 * logits it asked for.
 *
 * Typical use:
 *     gpu_weights *w;  gpu_weights_create(dev, m, &w, err, sizeof err);
 *     forward *f;      forward_create(w, NULL, &f, err, sizeof err);
 *     forward_eval(f, prompt, n, FORWARD_LOGITS_LAST, logits, NULL);
 *     then one token at a time:
 *     forward_eval(f, &token, 1, FORWARD_LOGITS_LAST, logits, &next);
 *
 * Threads: a forward session is used by one thread at a time, and by the
 * thread that uses its device (rt_device is single-threaded). */
#ifndef DSVK_HOST_FORWARD_H
#define DSVK_HOST_FORWARD_H

#include "model/weights_gpu.h"
#include "recorder.h"

/* The context a session gets when the caller does not say: DeepSeek's
 * trained contexts (163840) would cost gigabytes of latent cache. */
#define FORWARD_DEFAULT_MAX_CTX 4096u
/* Tokens per step when the caller does not say. */
#define FORWARD_DEFAULT_MAX_BATCH 64u

/* What the router chose for one token in one MoE layer (on_routing). */
typedef struct forward_routing {
    uint32_t layer;
    uint32_t position;      /* of the token in the sequence */
    uint32_t n_used;        /* k */
    const uint32_t *chosen; /* [k] expert ids, best choice score first */
    const float *weights;   /* [k] mixing weights, normalised and scaled */
} forward_routing;

/* Called for every token and MoE layer after each step; the pointers are
 * valid only during the call. */
typedef void (*forward_routing_fn)(const forward_routing *routing, void *user);

typedef struct forward_desc {
    /* Positions the latent cache holds; 0: the model's context_length, at
     * most FORWARD_DEFAULT_MAX_CTX. */
    uint32_t n_ctx;
    /* Most tokens recorded in one step; 0: FORWARD_DEFAULT_MAX_BATCH.
     * Lowered where one step's activations would not fit a storage-buffer
     * binding (forward_max_batch says what was chosen). Longer evaluations
     * run as several steps. */
    uint32_t max_batch;
    /* Time every dispatch on the GPU (forward_timings). */
    bool timestamps;
    /* How the latent cache stores its values (host/forward/latent_cache.h). */
    dsvk_cache_type cache_type;
    /* Most bytes one binding may cover; 0: the device's
     * maxStorageBufferRange. Tests lower it to split weights on small
     * models. */
    uint64_t max_binding_range;
    /* When set, the chosen experts are downloaded after every step and
     * reported (dsvk_session_desc.on_routing, and through it dsvk logits
     * --dump-routing). Costs one wait per MoE layer and step. */
    forward_routing_fn on_routing;
    void *user; /* passed to on_routing and before_step */
    /* Called before each step of forward_eval; false stops the evaluation
     * there with DSVK_ERROR_CANCELLED, the steps before staying in the
     * cache. The API uses it to let other sessions' steps in between and
     * to poll the application's cancel callback. NULL: every step runs. */
    bool (*before_step)(void *user);
} forward_desc;

typedef struct forward forward;

/* Allocates the latent cache and the activations for one sequence, at
 * position 0. `w` must outlive the session; desc may be NULL (defaults).
 * Fails with DSVK_ERROR_UNSUPPORTED when one layer's latent cache for
 * n_ctx positions exceeds a storage-buffer binding or the model's shape
 * cannot be stored as desc's cache type, and with
 * DSVK_ERROR_OUT_OF_DEVICE_MEMORY (needed vs available) when the memory
 * is not there. On failure *out is NULL and err holds one line. */
dsvk_status forward_create(const gpu_weights *w, const forward_desc *desc,
                           forward **out, char *err, size_t err_size);
void forward_destroy(forward *f); /* accepts NULL */

/* Which logits an evaluation returns. */
typedef enum forward_logits {
    FORWARD_LOGITS_NONE, /* none: the tokens only fill the cache */
    FORWARD_LOGITS_LAST, /* the row after the last token */
    FORWARD_LOGITS_ALL,  /* one row after each token */
} forward_logits;

/* Evaluates n tokens continuing from the current position, in steps of at
 * most forward_max_batch tokens. With FORWARD_LOGITS_ALL, logits receives
 * [n][n_vocab] floats and greedy [n] argmax ids; with FORWARD_LOGITS_LAST
 * [n_vocab] and [1]; either pointer may be NULL (greedy's argmax is taken
 * on the GPU, so asking only for it downloads 4 bytes per row). Fails
 * without evaluating anything when a token is outside the vocabulary
 * (DSVK_ERROR_INVALID_ARGUMENT) or the tokens do not fit in the context
 * (DSVK_ERROR_CONTEXT_FULL). When a later step fails (a device error), the
 * steps before it stay evaluated: forward_position says how far it got. */
dsvk_status forward_eval(forward *f, const uint32_t *tokens, uint32_t n,
                         forward_logits which, float *logits, uint32_t *greedy);

/* Empties the cache: the next evaluation starts at position 0. */
void forward_reset(forward *f);
/* Moves the position back to `position` (at most the current one): the
 * cache is positional and attention reads only positions before the
 * current one, so dropping the tokens from `position` on is just this;
 * later evaluations overwrite them. False (and nothing changes) when
 * position is past the current one. */
bool forward_rewind(forward *f, uint32_t position);
/* Tokens evaluated since creation or the last reset. */
uint32_t forward_position(const forward *f);
uint32_t forward_n_ctx(const forward *f);
dsvk_cache_type forward_cache_type(const forward *f);
uint32_t forward_max_batch(const forward *f);

/* One line describing the last failure ("" when none). */
const char *forward_error(const forward *f);

/* Per-dispatch GPU times of the last step, in recording order, labelled by
 * the launchers with the op's name ("matvec", "matmul", "mla_attention",
 * "moe_route", "moe_gate", ...); empty unless desc.timestamps was set and
 * the device supports timestamps. Valid until the next evaluation. */
const rt_timing *forward_timings(const forward *f, uint32_t *count);

#endif
