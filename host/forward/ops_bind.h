/* Binding helper shared by the model-op launchers (ops_mla.c, ops_moe.c,
 * ops_indexed.c) for arrays that are not f32 rows: the latent cache (f16
 * pairs as uint), expert ids and spans, softmax statistics. */
#ifndef DSVK_HOST_OPS_BIND_H
#define DSVK_HOST_OPS_BIND_H

#include "op_launch.h"

#include <assert.h>

/* Binds `size` bytes at `offset` of buf (see op_bind_bytes) for a shader
 * array of `unit`-byte elements and returns the array index of `offset`
 * in *base. Callers keep offsets multiples of `unit`; with bindings
 * starting at multiples of 4 (op_binding_alignment), units of 4 always
 * divide, and units of 8 do for offsets on a multiple of 16. */
static inline dsvk_status bind_elements(const rt_ops *ops, const char *op,
                                        const char *what, const rt_buffer *buf,
                                        uint64_t offset, uint64_t size,
                                        uint32_t unit, bool written,
                                        rt_span *span, uint32_t *base)
{
    uint32_t bytes;
    dsvk_status status =
        op_bind_bytes(ops, op, what, buf, offset, size, written, span, &bytes);
    if (status != DSVK_OK)
        return status;
    assert(bytes % unit == 0);
    *base = bytes / unit;
    return DSVK_OK;
}

#endif
