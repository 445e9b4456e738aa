/* The parsed form of a GGUF file, shared by the parser (gguf.c) and the
 * lookups (gguf_lookup.c). Everything points into the file's bytes, which
 * stay mapped (or caller-owned) for the life of the gguf_file. */
#ifndef DSVK_HOST_GGUF_PRIVATE_H
#define DSVK_HOST_GGUF_PRIVATE_H

#include "gguf.h"

struct gguf_file {
    const uint8_t *bytes;
    uint64_t size;
    bool mapped; /* munmap on close (false for gguf_open_memory) */
    uint32_t version;
    uint64_t alignment;   /* general.alignment, default 32 */
    uint64_t data_offset; /* start of the tensor data section */
    uint64_t n_kv;
    gguf_kv *kvs; /* in file order */
    uint64_t n_tensors;
    gguf_tensor *tensors; /* in file order */
    /* Sorted by name for binary search (and duplicate detection). */
    const gguf_kv **kvs_by_key;
    const gguf_tensor **tensors_by_name;
};

#endif
