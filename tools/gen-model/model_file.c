/* Plans the tensors, writes the metadata and streams each tensor's values
 * through its encoder, a slice of rows at a time, so memory stays small
 * whatever the model size. */
#include "model_file.h"
#include "gguf/gguf.h"
#include "gguf_writer.h"
#include "metadata.h"
#include "tensors.h"
#include "tokenizer.h"
#include "weight_format.h"

#include <stdio.h>
#include <stdlib.h>

/* Values generated per slice (whole rows, at least one). */
#define SLICE_ELEMENTS (1u << 20)

typedef struct tensor_stream {
    const model_config *cfg;
    const tensor_plan *plan;
    float *values;    /* slice_elements floats */
    uint8_t *encoded; /* slice_elements * 4 bytes: no type is wider */
    uint64_t slice_elements;
} tensor_stream;

static bool write_tensor(void *ctx, uint64_t index, uint64_t n_bytes, FILE *out,
                         char *err, size_t err_size)
{
    tensor_stream *s = ctx;
    const planned_tensor *t = &s->plan->tensors[index];
    encode_row_fn encode = weight_encoder(t->type);
    uint64_t row = t->ne[0];
    uint64_t rows = n_bytes / gguf_row_bytes(t->type, row);
    uint64_t rows_per_slice = s->slice_elements / row;
    for (uint64_t first = 0; first < rows; first += rows_per_slice) {
        uint64_t n =
            rows - first < rows_per_slice ? rows - first : rows_per_slice;
        tensor_values(s->cfg, t, first * row, n * row, s->values);
        uint64_t row_bytes = gguf_row_bytes(t->type, row);
        for (uint64_t r = 0; r < n; r++)
            encode(s->values + r * row, row, s->encoded + r * row_bytes);
        if (fwrite(s->encoded, 1, n * row_bytes, out) != n * row_bytes) {
            snprintf(err, err_size, "%s: write failed", t->name);
            return false;
        }
    }
    return true;
}

static bool add_tensors(gguf_writer *w, const tensor_plan *plan,
                        model_file_stats *stats, char *err, size_t err_size)
{
    for (uint64_t i = 0; i < plan->count; i++) {
        const planned_tensor *t = &plan->tensors[i];
        if (!weight_encoder(t->type)) {
            snprintf(err, err_size, "%s: gen-model cannot write %s", t->name,
                     gguf_type_name(t->type));
            return false;
        }
        if (!writer_tensor(w, t->name, t->n_dims, t->ne, t->type, err,
                           err_size))
            return false;
        uint64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        /* No overflow: every type takes at least a byte per element, and
         * writer_tensor checked that the byte total fits. */
        stats->n_params += n;
    }
    stats->n_tensors = plan->count;
    return true;
}

bool model_file_write(const model_config *cfg, const char *path,
                      model_file_stats *stats, char *err, size_t err_size)
{
    vocabulary vocab;
    tensor_plan plan = {0};
    gguf_writer w;
    writer_init(&w);
    *stats = (model_file_stats){0};
    bool ok = vocabulary_build(cfg->n_vocab, &vocab, err, err_size);
    if (!ok)
        return false;
    ok = tensor_plan_build(cfg, &plan, err, err_size);
    if (ok) {
        metadata_write(&w, cfg, &vocab);
        ok = add_tensors(&w, &plan, stats, err, err_size);
    }
    /* Slices hold whole rows, so one must fit the longest row. */
    uint64_t slice = SLICE_ELEMENTS;
    for (uint64_t i = 0; ok && i < plan.count; i++)
        if (plan.tensors[i].ne[0] > slice)
            slice = plan.tensors[i].ne[0];
    tensor_stream stream = {cfg, &plan, NULL, NULL, slice};
    if (ok) {
        stream.values = malloc(slice * sizeof *stream.values);
        stream.encoded = malloc(slice * sizeof(float));
        if (!stream.values || !stream.encoded || w.out_of_memory) {
            snprintf(err, err_size, "out of memory");
            ok = false;
        }
    }
    if (ok) {
        stats->n_bytes = writer_file_size(&w);
        ok = writer_save(&w, path, write_tensor, &stream, err, err_size);
    }
    free(stream.values);
    free(stream.encoded);
    writer_free(&w);
    tensor_plan_free(&plan);
    vocabulary_free(&vocab);
    return ok;
}
