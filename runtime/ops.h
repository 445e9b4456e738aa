/* Launchers for the generic GPU ops: each appends one or more dispatches to
 * a recorder. Activations are f32, row-major [n_rows][n_cols]. */
#ifndef DSVK_RUNTIME_OPS_H
#define DSVK_RUNTIME_OPS_H

#include "recorder.h"

/* A weight matrix (or a stack of them) in device memory, in its GGUF type.
 * Shape in ggml order: `cols` = ne[0] (row length, the reduction dimension of
 * a product), `rows` = ne[1], `count` = ne[2] (experts or heads; 1 for a
 * plain matrix). Matrix m starts at offset + m * rows * row_bytes. The range
 * may exceed maxStorageBufferRange: launchers split the work so that each
 * dispatch binds at most that much. */
typedef struct rt_weight {
    const rt_buffer *buffer;
    uint64_t offset;
    uint32_t type;      /* DSVK_TYPE_* */
    uint32_t cols;
    uint32_t rows;
    uint32_t count;
    uint64_t row_bytes; /* bytes of one row of `cols` elements */
} rt_weight;

/* An f32 activation tensor: a range of a buffer, row-major. */
typedef struct rt_tensor {
    const rt_buffer *buffer;
    uint64_t offset;
    uint32_t rows;
    uint32_t cols;
} rt_tensor;

#endif
