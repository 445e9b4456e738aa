#include "slots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot_waiter {
    slot_waiter *next;
};

/* The session asks this before every GPU step. */
static bool slot_cancel(void *user)
{
    const slot *s = user;
    return s->stop && s->stop(s->stop_user);
}

bool slot_pool_init(slot_pool *pool, const dsvk_model *model, uint32_t n,
                    uint32_t n_ctx, dsvk_cache_type cache, char *err,
                    size_t err_size)
{
    *pool = (slot_pool){0};
    pool->slots = calloc(n, sizeof *pool->slots);
    if (!pool->slots) {
        snprintf(err, err_size, "out of memory for %u slots", n);
        return false;
    }
    pool->n_slots = n;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->changed, NULL);
    for (uint32_t i = 0; i < n; i++) {
        slot *s = &pool->slots[i];
        s->index = i;
        const dsvk_session_desc desc = {.n_ctx = n_ctx,
                                        .cache_type = cache,
                                        .cancel = slot_cancel,
                                        .cancel_user = s};
        if (dsvk_session_create(model, &desc, &s->session) != DSVK_OK) {
            snprintf(err, err_size, "slot %u: %s", i, dsvk_model_error(model));
            slot_pool_free(pool);
            return false;
        }
        dsvk_session_info info;
        dsvk_session_get_info(s->session, &info);
        pool->n_ctx = info.n_ctx;
        s->n_ctx = info.n_ctx;
        s->cached = malloc((size_t)info.n_ctx * sizeof *s->cached);
        if (!s->cached) {
            snprintf(err, err_size, "out of memory for slot %u", i);
            slot_pool_free(pool);
            return false;
        }
    }
    return true;
}

void slot_pool_free(slot_pool *pool)
{
    if (!pool->slots)
        return;
    for (uint32_t i = 0; i < pool->n_slots; i++) {
        dsvk_session_destroy(pool->slots[i].session);
        free(pool->slots[i].cached);
    }
    free(pool->slots);
    pthread_cond_destroy(&pool->changed);
    pthread_mutex_destroy(&pool->lock);
    *pool = (slot_pool){0};
}

static uint32_t common_prefix(const slot *s, const dsvk_token *tokens,
                              uint32_t n)
{
    uint32_t i = 0;
    while (i < n && i < s->n_cached && s->cached[i] == tokens[i])
        i++;
    return i;
}

/* The free slot that continues what its cache holds: the longest common
 * prefix, counted only where it keeps at least half of that cache. A
 * request that would keep less (another conversation that shares a few
 * lead-in tokens) goes to the least recently used slot instead, empty ones
 * first, so that it does not evict a conversation likely to come back. */
static slot *best_free_slot(slot_pool *pool, const dsvk_token *tokens,
                            uint32_t n)
{
    slot *continued = NULL, *oldest = NULL;
    uint32_t best_prefix = 0;
    for (uint32_t i = 0; i < pool->n_slots; i++) {
        slot *s = &pool->slots[i];
        if (s->busy)
            continue;
        const uint32_t prefix = common_prefix(s, tokens, n);
        if (prefix > 0 && 2 * (uint64_t)prefix >= s->n_cached &&
            prefix > best_prefix) {
            continued = s;
            best_prefix = prefix;
        }
        if (!oldest || s->last_used < oldest->last_used)
            oldest = s;
    }
    return continued ? continued : oldest;
}

static void unlink_waiter(slot_pool *pool, slot_waiter *w)
{
    slot_waiter **p = &pool->head;
    slot_waiter *prev = NULL;
    while (*p != w) {
        prev = *p;
        p = &(*p)->next;
    }
    *p = w->next;
    if (pool->tail == w)
        pool->tail = prev;
}

slot *slot_acquire(slot_pool *pool, const dsvk_token *tokens, uint32_t n,
                   slot_stop_fn stop, void *user)
{
    slot_waiter me = {0};
    slot *chosen = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->tail)
        pool->tail->next = &me;
    else
        pool->head = &me;
    pool->tail = &me;
    for (;;) {
        if (pool->head == &me &&
            (chosen = best_free_slot(pool, tokens, n)) != NULL)
            break;
        if (stop(user))
            break;
        /* A disconnect is noticed by polling: nothing signals the pool
         * when a client goes away. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pool->changed, &pool->lock, &until);
    }
    unlink_waiter(pool, &me);
    if (chosen) {
        chosen->busy = true;
        chosen->last_used = ++pool->tick;
        chosen->stop = stop;
        chosen->stop_user = user;
    }
    /* The next in line may now be first. */
    pthread_cond_broadcast(&pool->changed);
    pthread_mutex_unlock(&pool->lock);
    return chosen;
}

void slot_release(slot_pool *pool, slot *s)
{
    pthread_mutex_lock(&pool->lock);
    s->busy = false;
    s->stop = NULL;
    s->stop_user = NULL;
    pthread_cond_broadcast(&pool->changed);
    pthread_mutex_unlock(&pool->lock);
}

uint32_t slot_queue_length(slot_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    uint32_t n = 0;
    for (const slot_waiter *w = pool->head; w; w = w->next)
        n++;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

dsvk_status slot_prefill(slot *s, const dsvk_token *tokens, uint32_t n,
                         float *logits, uint32_t n_vocab, uint32_t *reused)
{
    uint32_t keep = common_prefix(s, tokens, n);
    if (keep == n)
        keep = n - 1;
    *reused = keep;
    dsvk_status status = dsvk_session_rewind(s->session, keep);
    if (status != DSVK_OK)
        return status;
    memcpy(s->cached + keep, tokens + keep,
           (size_t)(n - keep) * sizeof *tokens);
    status = dsvk_session_eval(s->session, tokens + keep, n - keep,
                               DSVK_LOGITS_LAST, logits, n_vocab);
    /* Cancelled or failed midway: whole steps before stay evaluated. */
    s->n_cached = dsvk_session_position(s->session);
    return status;
}

dsvk_status slot_eval(slot *s, dsvk_token token, float *logits,
                      uint32_t n_vocab)
{
    if (s->n_cached >= s->n_ctx)
        return DSVK_ERROR_CONTEXT_FULL;
    s->cached[s->n_cached] = token;
    const dsvk_status status = dsvk_session_eval(
        s->session, &token, 1, DSVK_LOGITS_LAST, logits, n_vocab);
    s->n_cached = dsvk_session_position(s->session);
    return status;
}
