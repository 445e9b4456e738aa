/* The server's slots: --parallel sessions on one model, each with its own
 * latent cache, and the queue of requests waiting for one. A slot
 * remembers the tokens its cache holds, so that a request resending a
 * conversation reuses the longest common prefix and evaluates only what
 * is new (llama-server's prompt cache). */
#ifndef DSVK_SERVE_SLOTS_H
#define DSVK_SERVE_SLOTS_H

#include "dsvk.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Asked while a request waits and before every GPU step it runs: true
 * stops it (its client went away, or the server is stopping). */
typedef bool (*slot_stop_fn)(void *user);

typedef struct slot {
    uint32_t index;
    dsvk_session *session;
    /* The tokens in the session's cache, in order: cached[0..n_cached). */
    dsvk_token *cached;
    uint32_t n_cached;
    uint32_t n_ctx;
    uint64_t last_used; /* a tick of the pool: picks the least recent */
    bool busy;
    /* The request that holds the slot: the session's cancel callback asks
     * it. Set and cleared by acquire and release. */
    slot_stop_fn stop;
    void *stop_user;
} slot;

typedef struct slot_waiter slot_waiter;

typedef struct slot_pool {
    slot *slots;
    uint32_t n_slots;
    uint32_t n_ctx; /* of every session */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    slot_waiter *head, *tail; /* FIFO of waiting requests */
    uint64_t tick;
} slot_pool;

/* Creates n sessions of n_ctx positions (0: the model's) with `cache`.
 * On failure writes one line to err and leaves nothing allocated. */
bool slot_pool_init(slot_pool *pool, const dsvk_model *model, uint32_t n,
                    uint32_t n_ctx, dsvk_cache_type cache, char *err,
                    size_t err_size);
void slot_pool_free(slot_pool *pool);

/* Waits its turn (first come, first served) for a free slot, then takes
 * the free one whose cache tokens[0..n) continues (see best_free_slot),
 * else the least recently used. NULL when stop() said so while waiting. */
slot *slot_acquire(slot_pool *pool, const dsvk_token *tokens, uint32_t n,
                   slot_stop_fn stop, void *user);

/* Hands the slot back; its cache stays for the next request. */
void slot_release(slot_pool *pool, slot *s);

/* Requests waiting for a slot now. */
uint32_t slot_queue_length(slot_pool *pool);

/* Brings the slot's cache to tokens[0..n): keeps the common prefix (at
 * most n - 1 tokens, so that at least one is evaluated and gives the
 * logits of the next token), evaluates the rest and writes those logits
 * (n_vocab floats). *reused receives the prefix kept. On an error the
 * slot still knows what its cache holds. */
dsvk_status slot_prefill(slot *s, const dsvk_token *tokens, uint32_t n,
                         float *logits, uint32_t n_vocab, uint32_t *reused);

/* Evaluates one token after the cache and writes the next logits. */
dsvk_status slot_eval(slot *s, dsvk_token token, float *logits,
                      uint32_t n_vocab);

#endif
