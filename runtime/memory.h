/* Device memory: few large blocks, sub-allocated; uploads and downloads
 * through a reusable staging ring, or directly where device-local memory is
 * host-visible (lavapipe, integrated and mobile GPUs). */
#ifndef DSVK_RUNTIME_MEMORY_H
#define DSVK_RUNTIME_MEMORY_H

#include "device.h"

typedef enum rt_memory_kind {
    RT_MEMORY_DEVICE = 0, /* device-local; fastest for shaders */
    RT_MEMORY_READBACK,   /* host-visible and cached, for results the host
                             reads after every step (logits, sampled ids) */
} rt_memory_kind;

/* A sub-allocation: a range of one VkBuffer. `mapped` is non-NULL when the
 * range is host-visible (then the host may read/write it directly between
 * submits). Offsets are aligned to minStorageBufferOffsetAlignment. */
typedef struct rt_buffer {
    VkBuffer buffer;
    uint64_t offset;
    uint64_t size;
    void *mapped;
    uint32_t block; /* allocator bookkeeping */
} rt_buffer;

/* Allocates `size` bytes. Running out of device memory returns
 * DSVK_ERROR_OUT_OF_DEVICE_MEMORY with how much was asked vs. available. */
dsvk_status rt_buffer_create(rt_device *dev, uint64_t size, rt_memory_kind kind,
                             rt_buffer *out);
void rt_buffer_destroy(rt_device *dev, rt_buffer *buf); /* zeroed buf ok */

/* Copies host data into the buffer at `offset`, waiting until it is done. */
dsvk_status rt_buffer_upload(rt_device *dev, const rt_buffer *buf,
                             uint64_t offset, const void *src, uint64_t size);
/* Copies buffer contents to the host, waiting until it is done. */
dsvk_status rt_buffer_download(rt_device *dev, const rt_buffer *buf,
                               uint64_t offset, void *dst, uint64_t size);
/* Fills with zero bytes. */
dsvk_status rt_buffer_zero(rt_device *dev, const rt_buffer *buf);

/* Total bytes currently allocated from device-local heaps. */
uint64_t rt_memory_in_use(const rt_device *dev);

#endif
