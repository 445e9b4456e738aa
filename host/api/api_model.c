/* The public model (dsvk.h): reading a GGUF file into a model, on the host
 * (dsvk_model_open) or onto a context's device as well (dsvk_model_load).
 * What a model says about itself is api_inspect.c's. */
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

/* A model with its hyperparameters and no tensor bound (see m in
 * api_private.h); model_free frees it. */
static dsvk_status hparams_only(dsvk_model *model, const model_hparams *hp,
                                char *err, size_t err_size)
{
    model->m = calloc(1, sizeof *model->m);
    if (!model->m)
        return api_write_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory");
    model->m->file = model->file;
    model->m->hp = *hp;
    return DSVK_OK;
}

/* The model part of the file: every tensor bound and checked, or, where
 * vocab_only_ok and the file has no tensors, its hyperparameters alone. */
static dsvk_status read_model(dsvk_model *model, bool vocab_only_ok, char *err,
                              size_t err_size)
{
    if (!vocab_only_ok || gguf_tensor_count(model->file) > 0) {
        dsvk_status status = model_load(model->file, &model->m, err, err_size);
        model->has_weights = status == DSVK_OK;
        return status;
    }
    model_hparams hp;
    dsvk_status status = model_read_hparams(model->file, &hp, err, err_size);
    return status == DSVK_OK ? hparams_only(model, &hp, err, err_size) : status;
}

/* Reads the file at path into model, as `mode` says; a model of a context
 * must have weights. Tokenizer errors name the tokenizer when the file was
 * read as a model too. On failure err has one line naming the file. */
static dsvk_status read_file(dsvk_model *model, const char *path,
                             dsvk_open_mode mode, char *err, size_t err_size)
{
    /* gguf_open's lines start with the path already; the others get it. */
    dsvk_status status = gguf_open(path, &model->file, err, err_size);
    if (status != DSVK_OK)
        return status;
    char detail[API_ERROR_SIZE] = "";
    status =
        mode == DSVK_OPEN_VOCAB
            ? hparams_only(model, &(model_hparams){0}, detail, sizeof detail)
            : read_model(model, !model->ctx, detail, sizeof detail);
    if (status != DSVK_OK)
        return api_write_line(err, err_size, status, "%s: %s", path, detail);
    status = tok_load(model->file, &model->vocab, detail, sizeof detail);
    if (status != DSVK_OK)
        return api_write_line(err, err_size, status, "%s: %s%s", path,
                              mode == DSVK_OPEN_MODEL ? "tokenizer: " : "",
                              detail);
    status = api_model_index(model, detail, sizeof detail);
    if (status != DSVK_OK)
        return api_write_line(err, err_size, status, "%s: %s", path, detail);
    return DSVK_OK;
}

/* A new model of ctx (NULL: on the host) read from path; on failure *out
 * is NULL, nothing stays allocated and err names the file. */
static dsvk_status create(dsvk_context *ctx, const char *path,
                          dsvk_open_mode mode, dsvk_model **out, char *err,
                          size_t err_size)
{
    *out = NULL;
    dsvk_model *model = calloc(1, sizeof *model);
    if (model && mtx_init(&model->error_lock, mtx_plain) != thrd_success) {
        free(model);
        model = NULL;
    }
    if (!model)
        return api_write_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "%s: out of host memory", path);
    model->ctx = ctx;
    dsvk_status status = read_file(model, path, mode, err, err_size);
    if (status != DSVK_OK) {
        dsvk_model_destroy(model);
        return status;
    }
    *out = model;
    return DSVK_OK;
}

dsvk_status dsvk_model_load(dsvk_context *ctx, const dsvk_model_desc *desc,
                            dsvk_model **out)
{
    *out = NULL;
    if (!desc || !desc->path)
        return api_context_fail(ctx, DSVK_ERROR_INVALID_ARGUMENT,
                                "dsvk_model_load needs a desc with a path");
    dsvk_model *model;
    char err[API_ERROR_SIZE] = "";
    dsvk_status status =
        create(ctx, desc->path, DSVK_OPEN_MODEL, &model, err, sizeof err);
    if (status != DSVK_OK)
        return api_context_fail(ctx, status, "%s", err);
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

dsvk_status dsvk_model_open(const char *path, dsvk_open_mode mode,
                            dsvk_model **out, char *err, size_t err_size)
{
    *out = NULL;
    if (!path)
        return api_write_line(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                              "dsvk_model_open needs a path");
    if (mode != DSVK_OPEN_MODEL && mode != DSVK_OPEN_VOCAB)
        return api_write_line(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                              "%s: unknown open mode %d", path, (int)mode);
    dsvk_status status = create(NULL, path, mode, out, err, err_size);
    /* A tokenizer alone has no context length. */
    if (status == DSVK_OK && mode == DSVK_OPEN_MODEL)
        (*out)->n_ctx = default_n_ctx(&(*out)->m->hp, 0);
    return status;
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
    free(model->names);
    mtx_destroy(&model->error_lock);
    free(model);
}

const char *dsvk_model_error(const dsvk_model *model)
{
    return model->error;
}

dsvk_status api_model_require_device(const dsvk_model *model)
{
    if (model->weights)
        return DSVK_OK;
    return api_model_fail(model, DSVK_ERROR_UNSUPPORTED,
                          "creating a session: the model was opened on the "
                          "host with dsvk_model_open; load it with "
                          "dsvk_model_load to evaluate it");
}
