/* The public model (dsvk.h): loading a GGUF onto a context's device, and
 * what a loaded model says about itself. */
#include "api_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Progress of the weights' upload, passed to the caller's callback. */
typedef struct load_progress {
    dsvk_progress_fn fn;
    void *user;
} load_progress;

static bool report_upload(void *user, uint64_t done, uint64_t total)
{
    const load_progress *p = user;
    return p->fn(p->user, total ? (float)((double)done / (double)total) : 1.0f);
}

static int by_bytes_desc(const void *a, const void *b)
{
    const api_type_usage *x = a, *y = b;
    return x->file_bytes < y->file_bytes ? 1 : x->file_bytes > y->file_bytes;
}

/* Tallies the weight types of every tensor in the file. */
static dsvk_status count_types(dsvk_model *model)
{
    const uint64_t n = gguf_tensor_count(model->file);
    model->types = calloc(n ? n : 1, sizeof *model->types);
    if (!model->types)
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint64_t i = 0; i < n; i++) {
        const gguf_tensor *t = gguf_tensor_at(model->file, i);
        uint32_t k = 0;
        while (k < model->n_types && model->types[k].type != t->type)
            k++;
        if (k == model->n_types)
            model->types[model->n_types++].type = t->type;
        model->types[k].n_tensors++;
        model->types[k].n_params += t->n_elements;
        model->types[k].file_bytes += t->n_bytes;
    }
    qsort(model->types, model->n_types, sizeof *model->types, by_bytes_desc);
    return DSVK_OK;
}

/* The session context when neither the model desc nor the session says:
 * the trained context, at most FORWARD_DEFAULT_MAX_CTX. */
static uint32_t default_n_ctx(const model_hparams *hp, uint32_t asked)
{
    if (asked)
        return asked;
    return hp->n_ctx_train && hp->n_ctx_train < FORWARD_DEFAULT_MAX_CTX
               ? hp->n_ctx_train
               : FORWARD_DEFAULT_MAX_CTX;
}

/* The model and tokenizer of an open file, and its weight types. */
static dsvk_status bind_model(dsvk_model *model, char *err, size_t err_size)
{
    dsvk_status status = model_load(model->file, &model->m, err, err_size);
    if (status == DSVK_OK)
        status = tok_load(model->file, &model->vocab, err, err_size);
    if (status == DSVK_OK && count_types(model) != DSVK_OK)
        return api_write_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory");
    return status;
}

dsvk_status dsvk_model_load(dsvk_context *ctx, const dsvk_model_desc *desc,
                            dsvk_model **out)
{
    *out = NULL;
    if (!desc || !desc->path)
        return api_context_fail(ctx, DSVK_ERROR_INVALID_ARGUMENT,
                                "dsvk_model_load needs a desc with a path");
    dsvk_model *model = calloc(1, sizeof *model);
    if (!model)
        return api_context_fail(ctx, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                                "out of host memory loading %s", desc->path);
    model->ctx = ctx;
    char err[API_ERROR_SIZE] = "";
    /* gguf_open's lines start with the path already; the others get it. */
    dsvk_status status = gguf_open(desc->path, &model->file, err, sizeof err);
    if (status != DSVK_OK) {
        dsvk_model_destroy(model);
        return api_context_fail(ctx, status, "%s", err);
    }
    status = bind_model(model, err, sizeof err);
    if (status != DSVK_OK) {
        dsvk_model_destroy(model);
        return api_context_fail(ctx, status, "%s: %s", desc->path, err);
    }
    model->n_ctx = default_n_ctx(&model->m->hp, desc->n_ctx);
    load_progress progress = {desc->progress, desc->progress_user};
    api_lock(ctx);
    status = gpu_weights_create_with_progress(
        ctx->dev, model->m, desc->progress ? report_upload : NULL, &progress,
        &model->weights, err, sizeof err);
    api_unlock(ctx);
    if (status != DSVK_OK) {
        dsvk_model_destroy(model);
        return api_context_fail(ctx, status, "%s: %s", desc->path, err);
    }
    *out = model;
    return DSVK_OK;
}

void dsvk_model_destroy(dsvk_model *model)
{
    if (!model)
        return;
    if (model->weights) {
        api_lock(model->ctx);
        gpu_weights_destroy(model->weights);
        api_unlock(model->ctx);
    }
    tok_free(model->vocab);
    model_free(model->m);
    gguf_close(model->file);
    free(model->types);
    free(model);
}

const char *dsvk_model_error(const dsvk_model *model)
{
    return model->error;
}

void dsvk_model_get_info(const dsvk_model *model, dsvk_model_info *out)
{
    const model_hparams *hp = &model->m->hp;
    const model_stats *st = &model->m->stats;
    memset(out, 0, sizeof *out);
    gguf_str name;
    if (gguf_get_str(model->file, "general.name", &name))
        snprintf(out->name, sizeof out->name, "%.*s",
                 name.len < sizeof out->name ? (int)name.len
                                             : (int)sizeof out->name - 1,
                 name.data);
    out->n_vocab = hp->n_vocab;
    out->n_ctx_train = hp->n_ctx_train;
    out->n_ctx = model->n_ctx;
    out->n_embd = hp->n_embd;
    out->n_layer = hp->n_layer;
    out->n_layer_dense = hp->n_layer_dense_lead < hp->n_layer
                             ? hp->n_layer_dense_lead
                             : hp->n_layer;
    out->n_head = hp->n_head;
    out->n_ff = hp->n_ff;
    out->q_lora_rank = hp->q_lora_rank;
    out->kv_lora_rank = hp->kv_lora_rank;
    out->qk_nope_head_dim = hp->qk_nope_head_dim;
    out->qk_rope_head_dim = hp->qk_rope_head_dim;
    out->v_head_dim = hp->v_head_dim;
    out->n_expert = hp->n_expert;
    out->n_expert_used = hp->n_expert_used;
    out->n_expert_shared = hp->n_expert_shared;
    out->n_ff_exp = hp->n_ff_exp;
    out->n_expert_groups = hp->n_expert_groups;
    out->n_expert_groups_used = hp->n_group_used;
    /* model_gating and dsvk_gating share llama.cpp's numbering. */
    out->gating = (dsvk_gating)hp->gating;
    out->rope_freq_base = hp->rope_freq_base;
    out->rope_scaling_factor = hp->rope_factor;
    out->rope_original_context =
        hp->rope_scaling == MODEL_ROPE_SCALING_NONE ? 0 : hp->rope_orig_ctx;
    out->n_params = st->n_params;
    out->n_params_active = st->n_params_active;
    out->weight_bytes = model->weights->bytes;
    out->cache_bytes_per_token = st->latent_cache_bytes_per_token;
    out->mha_cache_bytes_per_token = st->mha_cache_bytes_per_token;
    out->bos = tok_bos(model->vocab);
    out->eos = tok_eos(model->vocab);
    out->add_bos = tok_wants_bos(model->vocab);
    out->max_piece_bytes = tok_max_piece_len(model->vocab);
}

void dsvk_model_weight_types(const dsvk_model *model,
                             dsvk_weight_type_usage *out, uint32_t capacity,
                             uint32_t *count)
{
    *count = model->n_types;
    for (uint32_t i = 0; i < model->n_types && i < capacity; i++)
        out[i] = (dsvk_weight_type_usage){
            .type = gguf_type_name(model->types[i].type),
            .n_tensors = model->types[i].n_tensors,
            .n_params = model->types[i].n_params,
            .file_bytes = model->types[i].file_bytes};
}
