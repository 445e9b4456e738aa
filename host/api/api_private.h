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

/* One weight type's share of a model (dsvk_model_weight_types). */
typedef struct api_type_usage {
    uint32_t type;
    uint32_t n_tensors;
    uint64_t n_params;
    uint64_t file_bytes;
} api_type_usage;

struct dsvk_model {
    dsvk_context *ctx; /* NULL: opened on the host (dsvk_model_open) */
    gguf_file *file;   /* mapped for the model's life: model points into it */
    /* With has_weights, every tensor bound (model_load); without, the
     * hyperparameters alone (model_read_hparams, or all 0 for
     * DSVK_OPEN_VOCAB) and no tensor, so only m->hp may be read. */
    model *m;
    bool has_weights;
    tok *vocab;
    gpu_weights *weights; /* NULL unless loaded onto ctx's device */
    uint32_t n_ctx;       /* sessions' default */
    api_type_usage *types;
    uint32_t n_types;
    /* NUL-terminated copies of the file's tensor names, then of its
     * metadata keys, in file order (the file's own strings are not
     * terminated): n_tensors + n_keys pointers into one allocation. */
    const char **names;
    uint32_t n_tensors, n_keys;
    /* Written by failing calls on a const model (see "Threads" in dsvk.h),
     * under error_lock: a model opened on the host has no context lock. */
    mtx_t error_lock;
    char error[API_ERROR_SIZE];
};

struct dsvk_session {
    const dsvk_model *model;
    forward *f;
    float *logits; /* [n_vocab], for sampling during dsvk_generate */
    bool timestamps;
    dsvk_cancel_fn cancel; /* the desc's, or NULL */
    void *cancel_user;
    dsvk_routing_fn on_routing; /* the desc's, or NULL */
    void *routing_user;
    char error[API_ERROR_SIZE];
};

struct dsvk_sampler {
    sampler *s;
    sampler_settings settings; /* as resolved from the public settings */
};

void api_lock(dsvk_context *ctx);
void api_unlock(dsvk_context *ctx);

/* Formats one line into an object's error string and returns status. The
 * context's is written under its lock, the model's under its error_lock. */
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

/* Builds a new model's tables of weight types, tensor names and metadata
 * keys (api_inspect.c). DSVK_ERROR_OUT_OF_HOST_MEMORY, or DSVK_ERROR_BAD_FILE
 * for more tensors or keys than a uint32_t counts; err receives one line. */
dsvk_status api_model_index(dsvk_model *model, char *err, size_t err_size);

/* DSVK_OK for a model loaded onto a device; for one opened on the host,
 * DSVK_ERROR_UNSUPPORTED with the model's error saying so (for
 * dsvk_session_create). */
dsvk_status api_model_require_device(const dsvk_model *model);

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
