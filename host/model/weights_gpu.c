/* Uploading a model's weights (weights_gpu.h): first a plan of every
 * tensor's device form, checked as the ops will check it; then one
 * allocation per tensor, or per pair of tensors that one dispatch reads
 * together, and one upload per tensor. */
#include "weights_gpu.h"

#include "dequant.h"
#include "forward/ops_moe.h"
#include "op_launch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB(bytes) ((double)(bytes) / (1024.0 * 1024.0))

/* How a tensor's device bytes come from the file. */
typedef enum source_kind {
    SOURCE_AS_IS,      /* the file's bytes */
    SOURCE_F32_VECTOR, /* dequantized to F32 (vectors the ops read as F32) */
    SOURCE_K_B,        /* legacy attn_kv_b -> per head W_UK_h^T */
    SOURCE_V_B,        /* legacy attn_kv_b -> per head W_UV_h */
} source_kind;

typedef struct upload {
    rt_weight *slot;
    const gguf_tensor *tensor;
    source_kind kind;
    /* The upload whose buffer holds this tensor (its own index unless it
     * was paired), the offset there, and for a buffer's owner the bytes
     * of the whole buffer. */
    uint32_t buffer;
    uint64_t offset;
    uint64_t buffer_bytes;
} upload;

typedef struct loader {
    rt_device *dev;
    const model *m;
    gpu_weights *w;
    upload *uploads; /* [capacity] */
    uint32_t n_uploads, capacity;
    uint64_t needed; /* bytes of every planned upload */
    gpu_weights_progress_fn progress;
    void *progress_user;
    char *err;
    size_t err_size;
} loader;

static dsvk_status fail(loader *l, dsvk_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static dsvk_status fail(loader *l, dsvk_status status, const char *fmt, ...)
{
    if (l->err && l->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->err, l->err_size, fmt, ap);
        va_end(ap);
    }
    return status;
}

static uint64_t weight_bytes(const rt_weight *w)
{
    return (uint64_t)w->rows * w->count * w->row_bytes;
}

/* Plans the device form of tensor t into *slot (t NULL: leaves the slot
 * empty). The buffer pointer is the upload's, created later. */
static void plan(loader *l, rt_weight *slot, const gguf_tensor *t,
                 source_kind kind)
{
    if (!t)
        return;
    const model_hparams *hp = &l->m->hp;
    upload *u = &l->uploads[l->n_uploads];
    *u = (upload){slot, t, kind, l->n_uploads, 0, 0};
    rt_weight w = {.buffer = &l->w->buffers[l->n_uploads++],
                   .type = t->type,
                   .cols = (uint32_t)t->ne[0],
                   .rows = (uint32_t)t->ne[1],
                   .count = (uint32_t)t->ne[2]};
    switch (kind) {
    case SOURCE_AS_IS:
        break;
    case SOURCE_F32_VECTOR:
        if (t->type != DSVK_TYPE_F32)
            w.type = DSVK_TYPE_F32;
        else
            u->kind = SOURCE_AS_IS;
        break;
    case SOURCE_K_B: {
        bool element = t->type == DSVK_TYPE_F32 || t->type == DSVK_TYPE_F16 ||
                       t->type == DSVK_TYPE_BF16;
        w.type = element ? t->type : DSVK_TYPE_F32;
        w.cols = hp->qk_nope_head_dim;
        w.rows = hp->kv_lora_rank;
        w.count = hp->n_head;
        break;
    }
    case SOURCE_V_B:
        w.cols = hp->kv_lora_rank;
        w.rows = hp->v_head_dim;
        w.count = hp->n_head;
        break;
    }
    w.row_bytes = rt_weight_row_bytes(w.type, w.cols);
    *slot = w;
    u->buffer_bytes = weight_bytes(slot);
}

/* Pairs in one buffer are 256-byte aligned apart: the largest
 * minStorageBufferOffsetAlignment, and 16-byte rows for the wide kernels. */
#define PAIR_ALIGN 256u

/* Puts `second` into the buffer of `first` (of the tensor whose buffer
 * `first` shares), after what it holds, so that one binding covers them and
 * one dispatch reads both (rt_op_matvec_pair: the query beside the
 * latent, gate beside up; the shared experts beside the routed ones). Only
 * where both exist, have one type, and fit one binding and one allocation
 * together. Returns whether it did. */
static bool join_buffer(loader *l, const rt_weight *first, rt_weight *second)
{
    if (!first->buffer || !second->buffer || first->type != second->type)
        return false;
    upload *owner = &l->uploads[first->buffer - l->w->buffers];
    upload *b = &l->uploads[second->buffer - l->w->buffers];
    const rt_caps *caps = rt_device_caps(l->dev);
    uint64_t offset =
        (owner->buffer_bytes + PAIR_ALIGN - 1) / PAIR_ALIGN * PAIR_ALIGN;
    uint64_t total = offset + b->buffer_bytes;
    uint64_t limit = caps->max_storage_buffer_range;
    if (caps->max_memory_allocation_size &&
        caps->max_memory_allocation_size < limit)
        limit = caps->max_memory_allocation_size;
    if (total + PAIR_ALIGN > limit)
        return false;
    b->buffer = owner->buffer;
    b->offset = offset;
    b->buffer_bytes = 0;
    owner->buffer_bytes = total;
    second->buffer = first->buffer;
    second->offset = offset;
    return true;
}

static void plan_layer(loader *l, const model_layer *ml, gpu_layer *g)
{
    plan(l, &g->attn_norm, ml->attn_norm, SOURCE_F32_VECTOR);
    plan(l, &g->attn_q, ml->attn_q, SOURCE_AS_IS);
    plan(l, &g->attn_q_a, ml->attn_q_a, SOURCE_AS_IS);
    plan(l, &g->attn_q_a_norm, ml->attn_q_a_norm, SOURCE_F32_VECTOR);
    plan(l, &g->attn_q_b, ml->attn_q_b, SOURCE_AS_IS);
    plan(l, &g->attn_kv_a_mqa, ml->attn_kv_a_mqa, SOURCE_AS_IS);
    plan(l, &g->attn_kv_a_norm, ml->attn_kv_a_norm, SOURCE_F32_VECTOR);
    if (l->m->kv_layout == MODEL_KV_SPLIT) {
        plan(l, &g->attn_k_b, ml->attn_k_b, SOURCE_AS_IS);
        plan(l, &g->attn_v_b, ml->attn_v_b, SOURCE_AS_IS);
    } else {
        plan(l, &g->attn_k_b, ml->attn_kv_b, SOURCE_K_B);
        plan(l, &g->attn_v_b, ml->attn_kv_b, SOURCE_V_B);
    }
    plan(l, &g->attn_output, ml->attn_output, SOURCE_AS_IS);
    plan(l, &g->ffn_norm, ml->ffn_norm, SOURCE_F32_VECTOR);
    plan(l, &g->ffn_gate, ml->ffn_gate, SOURCE_AS_IS);
    plan(l, &g->ffn_up, ml->ffn_up, SOURCE_AS_IS);
    plan(l, &g->ffn_down, ml->ffn_down, SOURCE_AS_IS);
    plan(l, &g->ffn_gate_inp, ml->ffn_gate_inp, SOURCE_AS_IS);
    plan(l, &g->exp_probs_b, ml->exp_probs_b, SOURCE_F32_VECTOR);
    plan(l, &g->ffn_gate_exps, ml->ffn_gate_exps, SOURCE_AS_IS);
    plan(l, &g->ffn_up_exps, ml->ffn_up_exps, SOURCE_AS_IS);
    plan(l, &g->ffn_down_exps, ml->ffn_down_exps, SOURCE_AS_IS);
    plan(l, &g->ffn_gate_shexp, ml->ffn_gate_shexp, SOURCE_AS_IS);
    plan(l, &g->ffn_up_shexp, ml->ffn_up_shexp, SOURCE_AS_IS);
    plan(l, &g->ffn_down_shexp, ml->ffn_down_shexp, SOURCE_AS_IS);
    join_buffer(l, ml->attn_q_a ? &g->attn_q_a : &g->attn_q, &g->attn_kv_a_mqa);
    join_buffer(l, &g->ffn_gate, &g->ffn_up);
    /* The shared experts run in the routed ones' dispatches where all
     * four gate and up tensors share a buffer (and both downs). */
    bool routed = join_buffer(l, &g->ffn_gate_exps, &g->ffn_up_exps);
    if (!routed || !join_buffer(l, &g->ffn_gate_exps, &g->ffn_gate_shexp) ||
        !join_buffer(l, &g->ffn_gate_exps, &g->ffn_up_shexp))
        join_buffer(l, &g->ffn_gate_shexp, &g->ffn_up_shexp);
    join_buffer(l, &g->ffn_down_exps, &g->ffn_down_shexp);
}

/* Limits of the MLA and MoE shaders that depend on the model's shape. */
static dsvk_status check_shape(loader *l)
{
    const model_hparams *hp = &l->m->hp;
    /* The latent cache stores f16 pairs in 32-bit words. */
    if (hp->kv_lora_rank % 2 || hp->qk_rope_head_dim % 2)
        return fail(l, DSVK_ERROR_UNSUPPORTED,
                    "kv_lora_rank %u and rope dimension %u must be even for "
                    "the GPU latent cache",
                    hp->kv_lora_rank, hp->qk_rope_head_dim);
    bool has_moe = hp->n_layer_dense_lead < hp->n_layer;
    if (has_moe && (hp->n_expert > MOE_MAX_EXPERTS ||
                    hp->n_expert_used > MOE_MAX_EXPERTS_USED))
        return fail(l, DSVK_ERROR_UNSUPPORTED,
                    "%u experts with %u used per token: the GPU router "
                    "handles up to %u experts and %u used",
                    hp->n_expert, hp->n_expert_used, MOE_MAX_EXPERTS,
                    MOE_MAX_EXPERTS_USED);
    return DSVK_OK;
}

/* Checks every planned weight as the launchers will, so that an
 * unsupported type is reported before any upload, naming the tensor. */
static dsvk_status check_weights(loader *l)
{
    rt_ops ops = {.dev = l->dev};
    for (uint32_t i = 0; i < l->n_uploads; i++) {
        const upload *u = &l->uploads[i];
        const gguf_str name = u->tensor->name;
        const op_weight_type *type;
        dsvk_status status = op_check_weight(&ops, "load", u->slot, &type);
        if (status == DSVK_ERROR_UNSUPPORTED)
            return fail(l, status,
                        "tensor '%.*s' has type %s, which has no GPU decoder "
                        "in this version",
                        (int)name.len, name.data,
                        gguf_type_name(u->tensor->type));
        if (status != DSVK_OK)
            return fail(l, status, "tensor '%.*s': %s", (int)name.len,
                        name.data, rt_device_error(l->dev));
    }
    return DSVK_OK;
}

static dsvk_status check_memory(loader *l, uint64_t needed)
{
    const rt_caps *caps = rt_device_caps(l->dev);
    uint64_t largest = 0;
    for (uint32_t i = 0; i < caps->heap_count; i++)
        if (caps->heaps[i].device_local && caps->heaps[i].size > largest)
            largest = caps->heaps[i].size;
    if (needed > largest)
        return fail(l, DSVK_ERROR_OUT_OF_DEVICE_MEMORY,
                    "the weights need %.1f MiB of device memory; the largest "
                    "device-local heap of %s has %.1f MiB",
                    MIB(needed), caps->name, MIB(largest));
    return DSVK_OK;
}

/* attn_kv_b rows: per head h, dn rows of W_UK_h then dv rows of W_UV_h,
 * each of r elements. */
static uint64_t kv_b_row(const model_hparams *hp, uint32_t h, uint32_t i)
{
    return (uint64_t)h * (hp->qk_nope_head_dim + hp->v_head_dim) + i;
}

/* out[h][j][i] = W_UK_h[i][j] in the planned type: element types moved
 * as they are, quantized rows dequantized to F32. */
static bool transpose_k_b(const model_hparams *hp, const gguf_tensor *kv_b,
                          const rt_weight *w, uint8_t *out)
{
    const uint32_t H = hp->n_head, r = hp->kv_lora_rank;
    const uint32_t dn = hp->qk_nope_head_dim;
    const uint64_t row_bytes = gguf_row_bytes(kv_b->type, r);
    const bool quantized = w->type != kv_b->type;
    const size_t es = w->type == DSVK_TYPE_F32 ? 4 : 2;
    float *row = quantized ? malloc((size_t)r * sizeof *row) : NULL;
    if (quantized && !row)
        return false;
    for (uint32_t h = 0; h < H; h++)
        for (uint32_t i = 0; i < dn; i++) {
            const uint8_t *src = kv_b->data + kv_b_row(hp, h, i) * row_bytes;
            if (quantized) {
                dequant_row(kv_b->type, src, row, r);
                src = (const uint8_t *)row;
            }
            for (uint32_t j = 0; j < r; j++)
                memcpy(out + (((uint64_t)h * r + j) * dn + i) * es,
                       src + (uint64_t)j * es, es);
        }
    free(row);
    return true;
}

/* out[h] = the dv rows of W_UV_h, in the device layout of their type. */
static void slice_v_b(const model_hparams *hp, const gguf_tensor *kv_b,
                      const rt_weight *w, uint8_t *out)
{
    const uint64_t head_bytes = (uint64_t)w->rows * w->row_bytes;
    const uint64_t file_row_bytes = gguf_row_bytes(w->type, w->cols);
    for (uint32_t h = 0; h < hp->n_head; h++)
        rt_weight_pack_rows(w->type, w->cols, w->rows,
                            kv_b->data + kv_b_row(hp, h, hp->qk_nope_head_dim) *
                                             file_row_bytes,
                            out + h * head_bytes);
}

/* The device bytes of one planned tensor: the file's own or converted into
 * *owned (freed by the caller). NULL when out of host memory. */
static const void *device_bytes(loader *l, const upload *u, void **owned)
{
    const gguf_tensor *t = u->tensor;
    const rt_weight *w = u->slot;
    *owned = NULL;
    if (u->kind == SOURCE_AS_IS)
        return t->data;
    uint8_t *out = malloc(weight_bytes(w));
    if (!out)
        return NULL;
    *owned = out;
    switch (u->kind) {
    case SOURCE_F32_VECTOR:
        /* model_load checked the type decodes rows of this length. */
        dequant_row(t->type, t->data, (float *)out, t->n_elements);
        break;
    case SOURCE_K_B:
        if (!transpose_k_b(&l->m->hp, t, w, out))
            return NULL;
        break;
    case SOURCE_V_B:
        slice_v_b(&l->m->hp, t, w, out);
        break;
    case SOURCE_AS_IS:
        break;
    }
    return out;
}

static dsvk_status report_progress(loader *l)
{
    if (l->progress && !l->progress(l->progress_user, l->w->bytes, l->needed))
        return fail(l, DSVK_ERROR_CANCELLED, "loading the weights cancelled");
    return DSVK_OK;
}

/* Rows of a tensor whose device layout is not the file's (rt_weight_pack_
 * rows), converted and uploaded a slice at a time: an expert stack can be
 * gigabytes, and a host copy of it all would double the peak memory. */
#define PACK_SLICE_BYTES (16u << 20)

static dsvk_status upload_packed(loader *l, const upload *u, rt_buffer *buf)
{
    const rt_weight *w = u->slot;
    const uint64_t rows = (uint64_t)w->rows * w->count;
    const uint64_t file_row_bytes = gguf_row_bytes(w->type, w->cols);
    uint64_t slice_rows = PACK_SLICE_BYTES / w->row_bytes;
    if (slice_rows == 0)
        slice_rows = 1;
    if (slice_rows > rows)
        slice_rows = rows;
    uint8_t *packed = malloc(slice_rows * w->row_bytes);
    if (!packed)
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    dsvk_status status = DSVK_OK;
    for (uint64_t first = 0; first < rows && status == DSVK_OK;
         first += slice_rows) {
        uint64_t n = rows - first < slice_rows ? rows - first : slice_rows;
        rt_weight_pack_rows(w->type, w->cols, n,
                            u->tensor->data + first * file_row_bytes, packed);
        status = rt_buffer_upload(l->dev, buf, u->offset + first * w->row_bytes,
                                  packed, n * w->row_bytes);
    }
    free(packed);
    return status;
}

/* Uploads one planned tensor into its place in buf. */
static dsvk_status upload_tensor(loader *l, const upload *u, rt_buffer *buf)
{
    if (u->kind == SOURCE_AS_IS && !rt_weight_layout_is_file(u->slot->type))
        return upload_packed(l, u, buf);
    void *owned;
    const void *bytes = device_bytes(l, u, &owned);
    if (!bytes) {
        free(owned);
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    dsvk_status status =
        rt_buffer_upload(l->dev, buf, u->offset, bytes, weight_bytes(u->slot));
    free(owned);
    return status;
}

static dsvk_status upload_all(loader *l)
{
    for (uint32_t i = 0; i < l->n_uploads; i++) {
        dsvk_status status = report_progress(l);
        if (status != DSVK_OK)
            return status;
        const upload *u = &l->uploads[i];
        const gguf_str name = u->tensor->name;
        rt_buffer *buf = &l->w->buffers[u->buffer];
        /* Paired tensors follow their buffer's owner in the plan. */
        if (u->buffer == i) {
            status = rt_buffer_create(l->dev, u->buffer_bytes, RT_MEMORY_DEVICE,
                                      buf);
            if (status != DSVK_OK)
                return fail(l, status, "allocating '%.*s': %s", (int)name.len,
                            name.data, rt_device_error(l->dev));
            l->w->n_buffers = i + 1;
        }
        l->w->bytes += weight_bytes(u->slot);
        status = upload_tensor(l, u, buf);
        if (status == DSVK_ERROR_OUT_OF_HOST_MEMORY)
            return fail(l, status, "out of host memory converting '%.*s'",
                        (int)name.len, name.data);
        if (status != DSVK_OK)
            return fail(l, status, "uploading '%.*s': %s", (int)name.len,
                        name.data, rt_device_error(l->dev));
    }
    return report_progress(l);
}

dsvk_status gpu_weights_create(rt_device *dev, const model *m,
                               gpu_weights **out, char *err, size_t err_size)
{
    return gpu_weights_create_with_progress(dev, m, NULL, NULL, out, err,
                                            err_size);
}

dsvk_status gpu_weights_create_with_progress(rt_device *dev, const model *m,
                                             gpu_weights_progress_fn progress,
                                             void *user, gpu_weights **out,
                                             char *err, size_t err_size)
{
    *out = NULL;
    loader l = {.dev = dev,
                .m = m,
                .progress = progress,
                .progress_user = user,
                .err = err,
                .err_size = err_size};
    /* At most one upload per gpu_layer slot and 3 global ones. */
    l.capacity = m->hp.n_layer * (sizeof(gpu_layer) / sizeof(rt_weight)) + 3;
    gpu_weights *w = calloc(1, sizeof *w);
    l.w = w;
    if (w) {
        w->m = m;
        w->dev = dev;
        w->layers = calloc(m->hp.n_layer, sizeof *w->layers);
        w->buffers = calloc(l.capacity, sizeof *w->buffers);
    }
    l.uploads = calloc(l.capacity, sizeof *l.uploads);
    if (!w || !w->layers || !w->buffers || !l.uploads) {
        free(l.uploads);
        gpu_weights_destroy(w);
        return fail(&l, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                    "out of host memory planning the weights");
    }

    plan(&l, &w->token_embd, m->token_embd, SOURCE_AS_IS);
    plan(&l, &w->output_norm, m->output_norm, SOURCE_F32_VECTOR);
    if (m->output_tied)
        w->output = w->token_embd;
    else
        plan(&l, &w->output, m->output, SOURCE_AS_IS);
    for (uint32_t i = 0; i < m->hp.n_layer; i++)
        plan_layer(&l, &m->layers[i], &w->layers[i]);

    for (uint32_t i = 0; i < l.n_uploads; i++)
        l.needed += weight_bytes(l.uploads[i].slot);
    dsvk_status status = check_shape(&l);
    if (status == DSVK_OK)
        status = check_weights(&l);
    if (status == DSVK_OK)
        status = check_memory(&l, l.needed);
    if (status == DSVK_OK)
        status = upload_all(&l);
    free(l.uploads);
    if (status != DSVK_OK) {
        gpu_weights_destroy(w);
        return status;
    }
    *out = w;
    return DSVK_OK;
}

void gpu_weights_destroy(gpu_weights *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->n_buffers; i++)
        rt_buffer_destroy(w->dev, &w->buffers[i]);
    free(w->buffers);
    free(w->layers);
    free(w);
}
