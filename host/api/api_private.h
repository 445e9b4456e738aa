/* The inside of the public API's objects (include/dsvk.h), shared by the
 * files of host/api/ only. Each object wraps the internal pieces it owns; the
 * context's lock serializes everything that touches the rt_device,
 * which is single-threaded (runtime/device.h). */
#ifndef DSVK_HOST_API_PRIVATE_H
#define DSVK_HOST_API_PRIVATE_H

#include "dsvk.h"

#include "device.h"
#include "forward/forward.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "model/weights_gpu.h"
#include "text/sampler.h"
#include "text/tokenizer.h"

#include <threads.h>

#define API_ERROR_SIZE 512

/* The context's lock: recursive, so that a callback run under it (load
 * progress, the logger) may call back into the library on the same
 * thread, and first come, first served, so that sessions evaluating on
 * several threads take turns step by step (a plain mutex lets the thread
 * that just unlocked take it straight back). Fields are api_lock.c's. */
typedef struct api_fair_lock {
    mtx_t guard;      /* protects the fields below; held only briefly */
    cnd_t turn;       /* signalled when `serving` moves on */
    uint64_t next;    /* the ticket the next waiter takes */
    uint64_t serving; /* the ticket that may hold the lock */
    thrd_t owner;
    unsigned depth; /* 0: free */
} api_fair_lock;

/* False when the system cannot make the lock. */
bool api_lock_init(api_fair_lock *lock);
void api_lock_destroy(api_fair_lock *lock);

struct dsvk_context {
    rt_device *dev;
    /* Held around every call into the device (api_lock). */
    api_fair_lock lock;
    char error[API_ERROR_SIZE];
#ifdef DSVK_LEAK_CONTROL
    bool leak_on_destroy; /* see api_leak_context_on_destroy */
#endif
};

#ifdef DSVK_LEAK_CONTROL
/* Sanitizer builds only: makes dsvk_context_destroy forget to free the
 * context, one real allocation of libdsvk's. tests/leaks uses it to show
 * that LeakSanitizer, with the suppressions the tests use, still reports a
 * leak in libdsvk. */
void api_leak_context_on_destroy(dsvk_context *ctx);
#endif

/* One weight type's share of a model (dsvk_model_weight_types). */
typedef struct api_type_usage {
    uint32_t type;
    uint32_t n_tensors;
    uint64_t n_params;
    uint64_t file_bytes;
} api_type_usage;

struct dsvk_model {
    dsvk_context *ctx;
    gguf_file *file; /* mapped for the model's life: model points into it */
    model *m;
    tok *vocab;
    gpu_weights *weights;
    uint32_t n_ctx; /* sessions' default */
    api_type_usage *types;
    uint32_t n_types;
    /* Written by failing calls on a const model (see "Threads" in dsvk.h),
     * under the context's lock. */
    char error[API_ERROR_SIZE];
};

struct dsvk_session {
    const dsvk_model *model;
    forward *f;
    float *logits; /* [n_vocab], for sampling during dsvk_generate */
    bool timestamps;
    dsvk_cancel_fn cancel; /* the desc's, or NULL */
    void *cancel_user;
    char error[API_ERROR_SIZE];
};

struct dsvk_sampler {
    sampler *s;
    sampler_settings settings; /* as resolved from the public settings */
};

void api_lock(dsvk_context *ctx);
void api_unlock(dsvk_context *ctx);

/* Formats one line into an object's error string and returns status. The
 * model's is written under its context's lock. */
dsvk_status api_context_fail(dsvk_context *ctx, dsvk_status status,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
dsvk_status api_model_fail(const dsvk_model *model, dsvk_status status,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
dsvk_status api_session_fail(dsvk_session *session, dsvk_status status,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes one line into a caller's buffer (NULL or size 0: nothing) and
 * returns status. */
dsvk_status api_write_line(char *err, size_t err_size, dsvk_status status,
                           const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The public device description of a runtime one. */
void api_device_info(const rt_device_info *in, dsvk_device_info *out);

/* Checks that every id is in the model's vocabulary; the failure names the
 * first one that is not (for the session's error). */
dsvk_status api_check_tokens(dsvk_session *session, const dsvk_token *tokens,
                             uint32_t n);

/* Evaluates tokens under the context's lock; errors go to the session. */
dsvk_status api_eval(dsvk_session *session, const dsvk_token *tokens,
                     uint32_t n, forward_logits which, float *logits,
                     uint32_t *greedy);

#endif
