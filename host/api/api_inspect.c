/* What a public model (dsvk.h) says about itself: its shape, its weight
 * types, its tensors and its metadata, from the tables built when it was
 * read (api_model_index) and from the mapped file. */
#include "api_private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((int)DSVK_ROPE_SCALING_NONE == (int)MODEL_ROPE_SCALING_NONE &&
                   (int)DSVK_ROPE_SCALING_LINEAR ==
                       (int)MODEL_ROPE_SCALING_LINEAR &&
                   (int)DSVK_ROPE_SCALING_YARN == (int)MODEL_ROPE_SCALING_YARN,
               "public and internal rope scalings share their numbering");
_Static_assert(sizeof((dsvk_tensor_info *)0)->dims ==
                   sizeof((gguf_tensor *)0)->ne,
               "dsvk_tensor_info holds every GGUF dimension");

/* Most bytes first; equal ones by type id, so that the order is the same
 * on every C library. */
static int by_bytes_desc(const void *a, const void *b)
{
    const api_type_usage *x = a, *y = b;
    if (x->file_bytes != y->file_bytes)
        return x->file_bytes < y->file_bytes ? 1 : -1;
    return (x->type > y->type) - (x->type < y->type);
}

/* Tallies the weight types of every tensor in the file. */
static bool count_types(dsvk_model *model)
{
    const uint64_t n = gguf_tensor_count(model->file);
    model->types = calloc(n ? n : 1, sizeof *model->types);
    if (!model->types)
        return false;
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
    return true;
}

/* Name i of the table: tensor names first, then metadata keys. */
static gguf_str name_at(const dsvk_model *model, uint64_t i)
{
    return i < model->n_tensors
               ? gguf_tensor_at(model->file, i)->name
               : gguf_kv_at(model->file, i - model->n_tensors)->key;
}

/* One allocation: the pointers, then every name with its NUL. Lengths come
 * from the file, so the sum is checked although the mapping bounds it. */
static bool copy_names(dsvk_model *model)
{
    const uint64_t n = (uint64_t)model->n_tensors + model->n_keys;
    uint64_t bytes = n * sizeof *model->names;
    for (uint64_t i = 0; i < n; i++)
        if (__builtin_add_overflow(bytes, name_at(model, i).len + 1, &bytes))
            return false;
    if (bytes > SIZE_MAX)
        return false;
    model->names = malloc(bytes ? (size_t)bytes : 1);
    if (!model->names)
        return false;
    char *text = (char *)(model->names + n);
    for (uint64_t i = 0; i < n; i++) {
        const gguf_str s = name_at(model, i);
        if (s.len)
            memcpy(text, s.data, s.len);
        text[s.len] = '\0';
        model->names[i] = text;
        text += s.len + 1;
    }
    return true;
}

dsvk_status api_model_index(dsvk_model *model, char *err, size_t err_size)
{
    const uint64_t n_tensors = gguf_tensor_count(model->file);
    const uint64_t n_keys = gguf_kv_count(model->file);
    if (n_tensors > UINT32_MAX || n_keys > UINT32_MAX)
        return api_write_line(err, err_size, DSVK_ERROR_BAD_FILE,
                              "%" PRIu64 " tensors and %" PRIu64
                              " metadata keys, more than dsvk counts",
                              n_tensors, n_keys);
    model->n_tensors = (uint32_t)n_tensors;
    model->n_keys = (uint32_t)n_keys;
    if (!count_types(model) || !copy_names(model))
        return api_write_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory");
    return DSVK_OK;
}

/* The shape, as llama.cpp's deepseek2 loader reads it (host/model). */
static void get_shape(const model_hparams *hp, dsvk_model_info *out)
{
    out->n_ctx_train = hp->n_ctx_train;
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
    out->expert_weights_norm = hp->expert_weights_norm;
    out->expert_weights_scale = hp->expert_weights_scale;
    out->rms_norm_eps = hp->rms_eps;
    out->attention_scale = hp->attn_scale;
    out->rope_freq_base = hp->rope_freq_base;
    out->rope_scaling = (dsvk_rope_scaling)hp->rope_scaling;
    out->rope_scaling_factor = hp->rope_factor;
    out->rope_original_context =
        hp->rope_scaling == MODEL_ROPE_SCALING_NONE ? 0 : hp->rope_orig_ctx;
    out->yarn_log_multiplier = hp->yarn_log_multiplier;
    out->yarn_ramp[0] = hp->yarn_corr_dims[0];
    out->yarn_ramp[1] = hp->yarn_corr_dims[1];
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
    get_shape(hp, out);
    /* vocab_size is optional: a file without weights (no embedding to
     * count) then has the tokenizer's. */
    out->n_vocab = hp->n_vocab ? hp->n_vocab : tok_vocab_size(model->vocab);
    out->n_ctx = model->n_ctx;
    /* Without weights the stats are 0 (hparams_only in api_model.c). */
    out->n_params = st->n_params;
    out->n_params_active = st->n_params_active;
    out->weight_bytes = model->weights ? model->weights->bytes : 0;
    out->cache_bytes_per_token = st->latent_cache_bytes_per_token;
    out->mha_cache_bytes_per_token = st->mha_cache_bytes_per_token;
    out->bos = tok_bos(model->vocab);
    out->eos = tok_eos(model->vocab);
    out->add_bos = tok_wants_bos(model->vocab);
    out->max_piece_bytes = tok_max_piece_len(model->vocab);
    out->gguf_version = gguf_version(model->file);
    out->has_weights = model->has_weights;
    out->on_device = model->weights != NULL;
    out->n_tensors = model->n_tensors;
    out->kv_b_split =
        model->has_weights && model->m->kv_layout == MODEL_KV_SPLIT;
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

dsvk_status dsvk_model_tensor(const dsvk_model *model, uint32_t index,
                              dsvk_tensor_info *out)
{
    if (index >= model->n_tensors)
        return api_model_fail(model, DSVK_ERROR_INVALID_ARGUMENT,
                              "tensor %u: the model has %u tensors", index,
                              model->n_tensors);
    const gguf_tensor *t = gguf_tensor_at(model->file, index);
    *out = (dsvk_tensor_info){.name = model->names[index],
                              .type = gguf_type_name(t->type),
                              .n_dims = t->n_dims,
                              .n_elements = t->n_elements,
                              .file_bytes = t->n_bytes};
    memcpy(out->dims, t->ne, sizeof out->dims);
    return DSVK_OK;
}

uint32_t dsvk_model_metadata_count(const dsvk_model *model)
{
    return model->n_keys;
}

const char *dsvk_model_metadata_key(const dsvk_model *model, uint32_t index)
{
    return index < model->n_keys ? model->names[model->n_tensors + index]
                                 : NULL;
}

/* The names of GGUF's value types, as dsvk_model_metadata writes an
 * array's element type. */
static const char *value_type_name(gguf_value_type type)
{
    static const char *const names[] = {
        [GGUF_TYPE_UINT8] = "uint8",     [GGUF_TYPE_INT8] = "int8",
        [GGUF_TYPE_UINT16] = "uint16",   [GGUF_TYPE_INT16] = "int16",
        [GGUF_TYPE_UINT32] = "uint32",   [GGUF_TYPE_INT32] = "int32",
        [GGUF_TYPE_FLOAT32] = "float32", [GGUF_TYPE_BOOL] = "bool",
        [GGUF_TYPE_STRING] = "string",   [GGUF_TYPE_ARRAY] = "array",
        [GGUF_TYPE_UINT64] = "uint64",   [GGUF_TYPE_INT64] = "int64",
        [GGUF_TYPE_FLOAT64] = "float64",
    };
    return (unsigned)type < sizeof names / sizeof names[0] ? names[type]
                                                           : "unknown";
}

/* Points *text at the value's text and returns its length: a string in the
 * mapping as it is (NULs included), anything else formatted into scratch,
 * which is long enough for every number and array header. */
static uint64_t value_text(const gguf_kv *kv, char scratch[64],
                           const char **text)
{
    *text = scratch;
    switch (kv->type) {
    case GGUF_TYPE_STRING:
        *text = kv->v.str.data;
        return kv->v.str.len;
    case GGUF_TYPE_BOOL:
        *text = kv->v.b ? "true" : "false";
        return strlen(*text);
    case GGUF_TYPE_ARRAY:
        snprintf(scratch, 64, "[%" PRIu64 " %s]", kv->v.arr.count,
                 value_type_name(kv->v.arr.type));
        break;
    case GGUF_TYPE_FLOAT32:
    case GGUF_TYPE_FLOAT64:
        snprintf(scratch, 64, "%g", kv->v.f64);
        break;
    case GGUF_TYPE_INT8:
    case GGUF_TYPE_INT16:
    case GGUF_TYPE_INT32:
    case GGUF_TYPE_INT64:
        snprintf(scratch, 64, "%" PRId64, kv->v.i64);
        break;
    default: /* unsigned integers; the parser refuses unknown types */
        snprintf(scratch, 64, "%" PRIu64, kv->v.u64);
        break;
    }
    return strlen(scratch);
}

dsvk_status dsvk_model_metadata(const dsvk_model *model, const char *key,
                                char *out, size_t out_size, size_t *len)
{
    *len = 0;
    const gguf_kv *kv = gguf_find_kv(model->file, key);
    if (!kv)
        return api_model_fail(model, DSVK_ERROR_NOT_FOUND,
                              "the file has no metadata key '%s'", key);
    char scratch[64];
    const char *text;
    /* A value lies inside the mapping, so its length fits a size_t. */
    *len = (size_t)value_text(kv, scratch, &text);
    if (*len >= out_size)
        return api_model_fail(model, DSVK_ERROR_BUFFER_TOO_SMALL,
                              "the value of '%s' needs %zu bytes with its "
                              "NUL, the buffer holds %zu",
                              key, *len + 1, out_size);
    if (*len)
        memcpy(out, text, *len);
    out[*len] = '\0';
    return DSVK_OK;
}
