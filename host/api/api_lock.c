/* The context's lock (api_private.h): a recursive ticket lock. Each
 * thread that finds it held takes a ticket and waits for its turn, so the
 * lock passes in the order it was asked for. */
#include "api_private.h"

bool api_lock_init(api_fair_lock *lock)
{
    *lock = (api_fair_lock){0};
    if (mtx_init(&lock->guard, mtx_plain) != thrd_success)
        return false;
    if (cnd_init(&lock->turn) != thrd_success) {
        mtx_destroy(&lock->guard);
        return false;
    }
    return true;
}

void api_lock_destroy(api_fair_lock *lock)
{
    cnd_destroy(&lock->turn);
    mtx_destroy(&lock->guard);
}

/* mtx_lock and cnd_wait fail only for an invalid object: an internal
 * invariant, as the context outlives every call made on it. */
void api_lock(dsvk_context *ctx)
{
    api_fair_lock *l = &ctx->lock;
    const thrd_t self = thrd_current();
    mtx_lock(&l->guard);
    if (l->depth && thrd_equal(l->owner, self)) {
        l->depth++;
    } else {
        const uint64_t ticket = l->next++;
        while (l->serving != ticket || l->depth)
            cnd_wait(&l->turn, &l->guard);
        l->owner = self;
        l->depth = 1;
    }
    mtx_unlock(&l->guard);
}

void api_unlock(dsvk_context *ctx)
{
    api_fair_lock *l = &ctx->lock;
    mtx_lock(&l->guard);
    if (--l->depth == 0) {
        l->serving++;
        cnd_broadcast(&l->turn);
    }
    mtx_unlock(&l->guard);
}
