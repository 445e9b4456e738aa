/* GGUF reader (versions 2 and 3), memory-mapped. Every count, length,
 * dimension, offset and size read from the file is bounds- and
 * overflow-checked; a malformed file gives one clear error line, never a
 * crash. Safe on untrusted input. */
#ifndef DSVK_HOST_GGUF_H
#define DSVK_HOST_GGUF_H

#include "dsvk.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GGUF_MAX_DIMS 4

typedef enum gguf_value_type {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
} gguf_value_type;

/* A string inside the mapped file: not NUL-terminated. */
typedef struct gguf_str {
    const char *data;
    uint64_t len;
} gguf_str;

typedef struct gguf_kv {
    gguf_str key;
    gguf_value_type type;
    /* Scalars are decoded; strings point into the mapping; arrays keep their
     * element type, count and a pointer to the raw little-endian elements
     * (for string arrays, the first serialized string; use gguf_array_str). */
    union {
        uint64_t u64;
        int64_t i64;
        double f64;
        bool b;
        gguf_str str;
        struct {
            gguf_value_type type;
            uint64_t count;
            const uint8_t *data;
            const gguf_str *strings; /* decoded index for string arrays */
        } arr;
    } v;
} gguf_kv;

typedef struct gguf_tensor {
    gguf_str name;
    uint32_t type; /* DSVK_TYPE_* (GGML numbering) */
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ggml order: ne[0] is the row length */
    uint64_t n_elements;
    uint64_t n_bytes;
    const uint8_t *data;  /* inside the mapping, in bounds */
    uint64_t file_offset; /* absolute offset of data in the file */
} gguf_tensor;

typedef struct gguf_file gguf_file;

/* Opens and validates a file. On failure *out is NULL and err holds one
 * line such as "model.gguf: tensor 'blk.0.attn_q.weight' data (offset
 * 123456, 4096 bytes) runs past the end of the file (100000 bytes)". */
dsvk_status gguf_open(const char *path, gguf_file **out, char *err,
                      size_t err_size);
/* Same on a caller-owned buffer (fuzzing, embedded models); the buffer must
 * outlive the gguf_file. */
dsvk_status gguf_open_memory(const void *data, size_t size, gguf_file **out,
                             char *err, size_t err_size);
void gguf_close(gguf_file *f); /* accepts NULL */

uint32_t gguf_version(const gguf_file *f);
uint64_t gguf_kv_count(const gguf_file *f);
const gguf_kv *gguf_kv_at(const gguf_file *f, uint64_t i);
const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key);
uint64_t gguf_tensor_count(const gguf_file *f);
const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/* Typed getters: false when the key is absent or of an incompatible type
 * (integers of any width convert when the value fits). */
bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out);
bool gguf_get_f32(const gguf_file *f, const char *key, float *out);
bool gguf_get_bool(const gguf_file *f, const char *key, bool *out);
bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out);
/* Element i of a string array kv; {NULL, 0} when kv is not a string array
 * or i is out of range. */
gguf_str gguf_array_str(const gguf_kv *kv, uint64_t i);
/* Element i of a numeric array kv: integers of any width (and bool) as
 * int64 (false for a u64 above INT64_MAX), floats of either width as f32.
 * False when kv is not such an array or i is out of range. */
bool gguf_array_int(const gguf_kv *kv, uint64_t i, int64_t *out);
bool gguf_array_f32(const gguf_kv *kv, uint64_t i, float *out);

/* Bytes one row of `n` elements of `type` occupies, 0 for an unknown type
 * or when n is not a multiple of the type's block size. */
uint64_t gguf_row_bytes(uint32_t type, uint64_t n);
/* Elements per block and bytes per block; false for unknown types. */
bool gguf_type_block(uint32_t type, uint32_t *block_elements,
                     uint32_t *block_bytes);
const char *gguf_type_name(uint32_t type); /* "Q4_K", or "unknown" */

bool gguf_str_eq(gguf_str s, const char *cstr);
/* A string from the file as error messages show it: printable ASCII only
 * (other bytes become '?', so the message stays one line), at most
 * GGUF_QUOTE_MAX bytes and "..." after a longer one. Returns buf. */
#define GGUF_QUOTE_MAX 64
const char *gguf_quote(gguf_str s, char buf[GGUF_QUOTE_MAX + 4]);
/* Orders two strings bytewise, shorter first on a common prefix. */
int gguf_str_compare(gguf_str a, gguf_str b);

#endif
