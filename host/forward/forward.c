/* Forward sessions (forward.h): creation, and the evaluation of tokens as
 * steps of one command buffer each. */
#include "forward_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB(bytes) ((double)(bytes) / (1024.0 * 1024.0))

static dsvk_status fail(forward *f, dsvk_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static dsvk_status fail(forward *f, dsvk_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
    return status;
}

/* A failed runtime call: its detail is the device's last error. */
static dsvk_status fail_device(forward *f, dsvk_status status)
{
    return fail(f, status, "%s", rt_device_error(f->dev));
}

static void set_shapes(forward *f)
{
    const model_hparams *hp = &f->m->hp;
    f->mla = (mla_shape){.n_head = hp->n_head,
                         .qk_nope_head_dim = hp->qk_nope_head_dim,
                         .qk_rope_head_dim = hp->qk_rope_head_dim,
                         .v_head_dim = hp->v_head_dim,
                         .kv_lora_rank = hp->kv_lora_rank};
    /* model_gating and moe_gating share llama.cpp's numbering. */
    f->router = (moe_router){.n_expert = hp->n_expert,
                             .n_expert_used = hp->n_expert_used,
                             .gating = (moe_gating)hp->gating,
                             .n_group = hp->n_expert_groups,
                             .n_group_used = hp->n_group_used,
                             .weights_norm = hp->expert_weights_norm,
                             .weights_scale = hp->expert_weights_scale};
    f->rope = (rt_rope){.freq_base = hp->rope_freq_base,
                        .freq_scale = hp->rope_freq_scale,
                        .n_ctx_orig = hp->rope_orig_ctx ? hp->rope_orig_ctx
                                                        : hp->n_ctx_train,
                        .ext_factor = hp->rope_ext_factor,
                        .beta_fast = 32.0f,
                        .beta_slow = 1.0f};
}

static dsvk_status check_memory(forward *f)
{
    const rt_caps *caps = rt_device_caps(f->dev);
    uint64_t heap = 0;
    for (uint32_t i = 0; i < caps->heap_count; i++)
        if (caps->heaps[i].device_local && caps->heaps[i].size > heap)
            heap = caps->heaps[i].size;
    const uint64_t used = rt_memory_in_use(f->dev);
    const uint64_t left = heap > used ? heap - used : 0;
    const uint64_t needed = f->plan.cache_end + f->plan.end;
    if (needed > left)
        return fail(f, DSVK_ERROR_OUT_OF_DEVICE_MEMORY,
                    "the latent cache (%.1f MiB for %u positions) and "
                    "activations (%.1f MiB) need %.1f MiB of device memory; "
                    "%.1f MiB of the %.1f MiB heap are left",
                    MIB(f->plan.cache_end), f->n_ctx, MIB(f->plan.end),
                    MIB(needed), MIB(left), MIB(heap));
    return DSVK_OK;
}

static dsvk_status create_buffers(forward *f)
{
    const forward_plan *p = &f->plan;
    dsvk_status status =
        rt_buffer_create(f->dev, p->end, RT_MEMORY_DEVICE, &f->activations);
    /* mla_attention's merge counters start at zero. */
    if (status == DSVK_OK)
        status = rt_buffer_zero(f->dev, &f->activations);
    if (status == DSVK_OK)
        status = rt_buffer_create(f->dev, p->cache_end, RT_MEMORY_DEVICE,
                                  &f->latent_cache);
    /* Host-visible: the host writes the ids straight before each submit,
     * so a step needs no upload of its own. */
    if (status == DSVK_OK)
        status = rt_buffer_create(f->dev, (uint64_t)p->max_batch * 4,
                                  RT_MEMORY_READBACK, &f->token_ids);
    if (status == DSVK_OK)
        status = rt_buffer_create(f->dev, p->readback_end, RT_MEMORY_READBACK,
                                  &f->readback);
    if (status == DSVK_OK)
        status = rt_recorder_create(f->dev, &f->rec);
    if (status != DSVK_OK)
        return fail_device(f, status);
    f->ops.rec = f->rec;
    for (uint32_t il = 0; il < f->m->hp.n_layer; il++)
        f->caches[il] = (mla_latent_cache){
            .buffer = &f->latent_cache,
            .latent_offset = p->latent + il * p->latent_layer_bytes,
            .rope_key_offset = p->rope_key + il * p->rope_key_layer_bytes,
            .n_ctx = f->n_ctx,
            .type = f->desc.cache_type};
    return DSVK_OK;
}

dsvk_status forward_create(const gpu_weights *w, const forward_desc *desc,
                           forward **out, char *err, size_t err_size)
{
    *out = NULL;
    forward *f = calloc(1, sizeof *f);
    if (f)
        f->caches = calloc(w->m->hp.n_layer, sizeof *f->caches);
    if (!f || !f->caches) {
        free(f);
        snprintf(err, err_size, "out of host memory creating a session");
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    f->w = w;
    f->m = w->m;
    f->dev = w->dev;
    if (desc)
        f->desc = *desc;
    const model_hparams *hp = &f->m->hp;
    f->n_ctx = f->desc.n_ctx;
    if (!f->n_ctx)
        f->n_ctx = hp->n_ctx_train && hp->n_ctx_train < FORWARD_DEFAULT_MAX_CTX
                       ? hp->n_ctx_train
                       : FORWARD_DEFAULT_MAX_CTX;
    f->ops =
        (rt_ops){.dev = f->dev, .max_binding_range = f->desc.max_binding_range};
    set_shapes(f);
    uint32_t batch =
        f->desc.max_batch ? f->desc.max_batch : FORWARD_DEFAULT_MAX_BATCH;
    dsvk_status status = forward_plan_make(f, batch);
    if (status == DSVK_OK)
        status = check_memory(f);
    if (status == DSVK_OK)
        status = create_buffers(f);
    if (status != DSVK_OK) {
        snprintf(err, err_size, "%s", f->err);
        forward_destroy(f);
        return status;
    }
    *out = f;
    return DSVK_OK;
}

void forward_destroy(forward *f)
{
    if (!f)
        return;
    rt_recorder_destroy(f->rec);
    rt_buffer_destroy(f->dev, &f->activations);
    rt_buffer_destroy(f->dev, &f->latent_cache);
    rt_buffer_destroy(f->dev, &f->token_ids);
    rt_buffer_destroy(f->dev, &f->readback);
    free(f->caches);
    free(f);
}

/* Final RMSNorm (unless the last layer left it in plan.normed for all T
 * rows: `normed`) and output head over the rows `which` asks for, then the
 * copy of the logits and/or their argmax into the readback buffer. */
static dsvk_status record_output(forward *f, uint32_t T, forward_logits which,
                                 bool normed_all, bool want_logits,
                                 bool want_greedy)
{
    const model_hparams *hp = &f->m->hp;
    const forward_plan *p = &f->plan;
    const uint32_t rows = which == FORWARD_LOGITS_ALL ? T : 1;
    const uint32_t first = T - rows;
    const rt_view hidden = forward_rows(
        f, p->hidden + 4ull * first * hp->n_embd, rows, hp->n_embd);
    const rt_view normed = forward_rows(
        f, p->normed + (normed_all ? 4ull * first * hp->n_embd : 0), rows,
        hp->n_embd);
    const rt_view logits = forward_rows(f, p->logits, rows, hp->n_vocab);
    dsvk_status status = DSVK_OK;
    if (!normed_all)
        status = rt_op_rms_norm(&f->ops, hidden, &f->w->output_norm,
                                hp->rms_eps, normed);
    if (status == DSVK_OK)
        status = forward_product(f, &f->w->output, normed, logits,
                                 RT_EPILOGUE_STORE, NULL);
    if (status == DSVK_OK && want_logits)
        rt_record_copy(f->rec, &f->activations, p->logits, &f->readback, 0,
                       4ull * rows * hp->n_vocab);
    if (status == DSVK_OK && want_greedy)
        status =
            rt_op_argmax(&f->ops, logits, &f->readback, p->readback_greedy);
    return status;
}

/* Downloads every MoE layer's routes of the last step and reports them
 * token by token, in the order the CPU reference reports its own. */
static dsvk_status report_routing(forward *f, uint32_t T, uint32_t pos0)
{
    const model_hparams *hp = &f->m->hp;
    const uint32_t k = hp->n_expert_used, first = hp->n_layer_dense_lead;
    const size_t per_layer = (size_t)T * k;
    const size_t n = per_layer * (hp->n_layer - first);
    uint32_t *ids = malloc(n * sizeof *ids);
    float *weights = malloc(n * sizeof *weights);
    dsvk_status status = DSVK_OK;
    if (!ids || !weights)
        status = fail(f, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                      "out of host memory reading routes");
    for (uint32_t il = first; status == DSVK_OK && il < hp->n_layer; il++) {
        const moe_routes routes = forward_layer_routes(f, il, T);
        const size_t at = per_layer * (il - first);
        status = rt_buffer_download(f->dev, &f->activations, routes.ids_offset,
                                    ids + at, 4 * per_layer);
        if (status == DSVK_OK)
            status = rt_buffer_download(f->dev, &f->activations,
                                        routes.weights_offset, weights + at,
                                        4 * per_layer);
        if (status != DSVK_OK)
            fail_device(f, status);
    }
    for (uint32_t t = 0; status == DSVK_OK && t < T; t++)
        for (uint32_t il = first; il < hp->n_layer; il++) {
            const size_t at = per_layer * (il - first) + (size_t)t * k;
            const forward_routing r = {il, pos0 + t, k, ids + at, weights + at};
            f->desc.on_routing(&r, f->desc.user);
        }
    free(ids);
    free(weights);
    return status;
}

/* One step: T <= max_batch tokens as one command buffer and one submit. */
static dsvk_status step(forward *f, const uint32_t *tokens, uint32_t T,
                        forward_logits which, float *logits, uint32_t *greedy)
{
    const model_hparams *hp = &f->m->hp;
    const uint32_t pos0 = f->pos;
    memcpy(f->token_ids.mapped, tokens, 4ull * T);
    dsvk_status status = rt_recorder_begin(f->rec, f->desc.timestamps);
    if (status == DSVK_OK)
        status =
            rt_op_gather_rows(&f->ops, &f->w->token_embd, &f->token_ids, 0,
                              forward_rows(f, f->plan.hidden, T, hp->n_embd));
    /* Each layer's last product may leave the next norm done. */
    bool normed = false;
    for (uint32_t il = 0; status == DSVK_OK && il < hp->n_layer; il++) {
        const rt_weight *next_norm =
            il + 1 < hp->n_layer           ? &f->w->layers[il + 1].attn_norm
            : which != FORWARD_LOGITS_NONE ? &f->w->output_norm
                                           : NULL;
        status = forward_record_layer(f, il, T, pos0, next_norm, &normed);
    }
    if (status == DSVK_OK && which != FORWARD_LOGITS_NONE)
        status =
            record_output(f, T, which, normed, logits != NULL, greedy != NULL);
    /* A launcher's error leaves the recording unsubmitted; the next begin
     * starts over. */
    if (status == DSVK_OK)
        status = rt_recorder_submit(f->rec);
    if (status != DSVK_OK)
        return fail_device(f, status);
    f->pos += T;

    const uint32_t rows = which == FORWARD_LOGITS_ALL ? T : 1;
    const uint8_t *readback = f->readback.mapped;
    if (which != FORWARD_LOGITS_NONE && logits)
        memcpy(logits, readback, 4ull * rows * hp->n_vocab);
    if (which != FORWARD_LOGITS_NONE && greedy)
        memcpy(greedy, readback + f->plan.readback_greedy, 4ull * rows);
    if (f->desc.on_routing && hp->n_layer_dense_lead < hp->n_layer)
        return report_routing(f, T, pos0);
    return DSVK_OK;
}

dsvk_status forward_eval(forward *f, const uint32_t *tokens, uint32_t n,
                         forward_logits which, float *logits, uint32_t *greedy)
{
    const model_hparams *hp = &f->m->hp;
    f->err[0] = '\0';
    if (n == 0)
        return which == FORWARD_LOGITS_LAST
                   ? fail(f, DSVK_ERROR_INVALID_ARGUMENT,
                          "no tokens to take the last logits of")
                   : DSVK_OK;
    for (uint32_t i = 0; i < n; i++)
        if (tokens[i] >= hp->n_vocab)
            return fail(f, DSVK_ERROR_INVALID_ARGUMENT,
                        "token %u (index %u) is outside the vocabulary of %u",
                        tokens[i], i, hp->n_vocab);
    if (n > f->n_ctx - f->pos)
        return fail(f, DSVK_ERROR_CONTEXT_FULL,
                    "context full: %u tokens at position %u exceed the "
                    "context of %u positions",
                    n, f->pos, f->n_ctx);

    const uint32_t B = f->plan.max_batch;
    for (uint32_t at = 0; at < n; at += B) {
        if (f->desc.before_step && !f->desc.before_step(f->desc.user))
            return fail(f, DSVK_ERROR_CANCELLED,
                        "evaluation cancelled after %u of %u tokens", at, n);
        const uint32_t T = n - at < B ? n - at : B;
        const bool last = at + T == n;
        forward_logits rows = which;
        float *step_logits = logits;
        uint32_t *step_greedy = greedy;
        if (which == FORWARD_LOGITS_ALL) {
            step_logits = logits ? logits + (size_t)at * hp->n_vocab : NULL;
            step_greedy = greedy ? greedy + at : NULL;
        } else if (!last) {
            rows = FORWARD_LOGITS_NONE;
        }
        dsvk_status status =
            step(f, tokens + at, T, rows, step_logits, step_greedy);
        if (status != DSVK_OK)
            return status;
    }
    return DSVK_OK;
}

void forward_reset(forward *f)
{
    f->pos = 0;
}

bool forward_rewind(forward *f, uint32_t position)
{
    if (position > f->pos)
        return false;
    f->pos = position;
    return true;
}

uint32_t forward_position(const forward *f)
{
    return f->pos;
}

uint32_t forward_n_ctx(const forward *f)
{
    return f->n_ctx;
}

dsvk_cache_type forward_cache_type(const forward *f)
{
    return f->desc.cache_type;
}

uint32_t forward_max_batch(const forward *f)
{
    return f->plan.max_batch;
}

const char *forward_error(const forward *f)
{
    return f->err;
}

const rt_timing *forward_timings(const forward *f, uint32_t *count)
{
    return rt_recorder_timings(f->rec, count);
}
