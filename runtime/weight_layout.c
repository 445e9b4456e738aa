/* The device layout of weights (ops.h) and the table of the types
 * shaders/weights.glsl decodes. */
#include "op_launch.h"

#include <string.h>

/* `wide_cols`: the columns of weights.glsl's weight_dot_wide for the types
 * in DSVK_WIDE_WEIGHT_TYPES (shaders/shaders.cmake), 0 for the others.
 * Q6_K's 210-byte GGUF blocks are padded to 224 bytes on the device: 14
 * whole 16-byte words, so its rows can take the wide kernels, and its
 * fields are aligned words everywhere. Its unaligned reads had made it the
 * slowest type by far (on lavapipe, a Q6_K matvec took 4x the time of a
 * Q4_K one of the same shape); 6.7 % more memory for those tensors buys
 * that back. */
static const op_weight_type weight_types[] = {
    {DSVK_TYPE_F32, "f32", 1, 4, 4, 32},
    {DSVK_TYPE_F16, "f16", 1, 2, 2, 32},
    {DSVK_TYPE_BF16, "bf16", 1, 2, 2, 32},
    {DSVK_TYPE_Q8_0, "q8_0", 32, 34, 34, 256},
    {DSVK_TYPE_Q4_0, "q4_0", 32, 18, 18, 0},
    {DSVK_TYPE_Q4_1, "q4_1", 32, 20, 20, 0},
    {DSVK_TYPE_Q5_0, "q5_0", 32, 22, 22, 0},
    {DSVK_TYPE_Q5_1, "q5_1", 32, 24, 24, 0},
    {DSVK_TYPE_Q4_K, "q4_k", 256, 144, 144, 256},
    {DSVK_TYPE_Q5_K, "q5_k", 256, 176, 176, 256},
    {DSVK_TYPE_Q6_K, "q6_k", 256, 224, 210, 256},
};

const op_weight_type *op_weight_type_find(uint32_t type)
{
    for (size_t i = 0; i < sizeof weight_types / sizeof weight_types[0]; i++)
        if (weight_types[i].type == type)
            return &weight_types[i];
    return NULL;
}

uint64_t rt_weight_row_bytes(uint32_t type, uint32_t cols)
{
    const op_weight_type *t = op_weight_type_find(type);
    if (!t || cols == 0 || cols % t->block)
        return 0;
    return (uint64_t)cols / t->block * t->block_bytes;
}

bool rt_weight_layout_is_file(uint32_t type)
{
    const op_weight_type *t = op_weight_type_find(type);
    return !t || t->block_bytes == t->file_block_bytes;
}

void rt_weight_pack_rows(uint32_t type, uint32_t cols, uint64_t rows,
                         const void *src, void *dst)
{
    const op_weight_type *t = op_weight_type_find(type);
    if (!t)
        return;
    const uint64_t blocks = (uint64_t)cols / t->block * rows;
    const uint8_t *in = src;
    uint8_t *out = dst;
    if (t->block_bytes == t->file_block_bytes) {
        memcpy(out, in, blocks * t->block_bytes);
        return;
    }
    for (uint64_t b = 0; b < blocks; b++) {
        memcpy(out + b * t->block_bytes, in + b * t->file_block_bytes,
               t->file_block_bytes);
        memset(out + b * t->block_bytes + t->file_block_bytes, 0,
               t->block_bytes - t->file_block_bytes);
    }
}
