/* A GGUF (version 3) writer: collect key/values and tensor infos, then
 * stream the tensor data through a callback into a temporary file that is
 * renamed into place only when complete. */
#ifndef GEN_MODEL_GGUF_WRITER_H
#define GEN_MODEL_GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct byte_buffer {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
} byte_buffer;

typedef struct gguf_writer {
    byte_buffer key_values; /* serialized, in insertion order */
    uint64_t n_kv;
    byte_buffer tensor_infos;
    uint64_t *tensor_bytes; /* data size of each tensor */
    uint64_t n_tensors;
    uint64_t tensor_capacity;
    uint64_t data_size; /* data section so far, each tensor padded */
    bool out_of_memory;
} gguf_writer;

/* Writes tensor `index`'s n_bytes of data to out; false on failure (with a
 * message in err). */
typedef bool (*writer_data_fn)(void *ctx, uint64_t index, uint64_t n_bytes,
                               FILE *out, char *err, size_t err_size);

void writer_init(gguf_writer *w);
void writer_free(gguf_writer *w);

void writer_kv_str(gguf_writer *w, const char *key, const char *value);
void writer_kv_u32(gguf_writer *w, const char *key, uint32_t value);
void writer_kv_f32(gguf_writer *w, const char *key, float value);
void writer_kv_bool(gguf_writer *w, const char *key, bool value);
void writer_kv_str_array(gguf_writer *w, const char *key,
                         const char *const *items, uint64_t count);
void writer_kv_i32_array(gguf_writer *w, const char *key, const int32_t *items,
                         uint64_t count);

/* Adds a tensor info; false (with err) if its size or offset overflows or
 * the type is unknown. */
bool writer_tensor(gguf_writer *w, const char *name, uint32_t n_dims,
                   const uint64_t *ne, uint32_t type, char *err,
                   size_t err_size);

/* Total file size the writer will produce. */
uint64_t writer_file_size(const gguf_writer *w);

/* Writes the file atomically (temporary file + rename). */
bool writer_save(gguf_writer *w, const char *path, writer_data_fn data,
                 void *ctx, char *err, size_t err_size);

#endif
