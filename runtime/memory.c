/* Device memory: a few large blocks, each one VkDeviceMemory bound to one
 * VkBuffer, handed out as aligned ranges from a per-block free list. Large
 * requests get a block of their own. */
#include "memory.h"
#include "device_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Big enough that a model's activations fit in one or two blocks, small
 * enough that a tiny test does not reserve much memory. */
#define RT_BLOCK_BYTES (64ull << 20)

#define MIB(bytes) ((double)(bytes) / (1024.0 * 1024.0))

typedef struct free_range {
    uint64_t offset;
    uint64_t size;
} free_range;

typedef struct memory_block {
    VkDeviceMemory memory; /* VK_NULL_HANDLE: slot unused */
    VkBuffer buffer;
    uint64_t size;
    void *mapped;
    rt_memory_kind kind;
    bool dedicated; /* holds one large request; released when freed */
    uint32_t heap;
    uint64_t used;
    free_range *free; /* sorted by offset, neighbours merged */
    uint32_t n_free, cap_free;
} memory_block;

struct rt_allocator {
    memory_block *blocks;
    uint32_t n_blocks;
    uint32_t live_blocks;
    uint64_t heap_used[RT_MAX_HEAPS];
};

static uint64_t align_up(uint64_t value, uint64_t alignment)
{
    return (value + alignment - 1) / alignment * alignment;
}

dsvk_status rt_allocator_init(rt_device *dev)
{
    dev->allocator = calloc(1, sizeof *dev->allocator);
    if (!dev->allocator)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory creating the allocator");
    return DSVK_OK;
}

static void release_block(rt_device *dev, memory_block *block)
{
    if (block->buffer)
        dev->vk.vkDestroyBuffer(dev->device, block->buffer, NULL);
    if (block->memory) {
        dev->vk.vkFreeMemory(dev->device, block->memory, NULL);
        dev->allocator->heap_used[block->heap] -= block->size;
        dev->allocator->live_blocks--;
    }
    free(block->free);
    memset(block, 0, sizeof *block);
}

void rt_allocator_destroy(rt_device *dev)
{
    rt_allocator *alloc = dev->allocator;
    if (!alloc)
        return;
    for (uint32_t i = 0; i < alloc->n_blocks; i++)
        release_block(dev, &alloc->blocks[i]);
    free(alloc->blocks);
    free(alloc);
    dev->allocator = NULL;
}

/* The memory type for `kind` among `type_bits`: all `required` flags, then
 * as many `preferred` flags and as few `avoided` ones as possible; ties go
 * to the lower index, which drivers order by preference. */
static int choose_memory_type(const rt_device *dev, uint32_t type_bits,
                              rt_memory_kind kind, bool *map)
{
    VkMemoryPropertyFlags required, preferred = 0, avoided = 0;
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    if (kind == RT_MEMORY_READBACK) {
        required = host;
        preferred = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
        *map = true;
    } else if (dev->caps.unified_memory) {
        required = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | host;
        *map = true;
    } else {
        /* Host-visible device memory is often a small BAR window: keep it
         * for what really needs it. */
        required = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
        avoided = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
        *map = false;
    }
    const VkPhysicalDeviceMemoryProperties *props = &dev->memory_properties;
    int best = -1, best_score = -1;
    for (uint32_t i = 0; i < props->memoryTypeCount; i++) {
        VkMemoryPropertyFlags flags = props->memoryTypes[i].propertyFlags;
        if (!(type_bits & (1u << i)) || (flags & required) != required)
            continue;
        int score = __builtin_popcount(flags & preferred) * 2 +
                    ((flags & avoided) ? 0 : 1);
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    return best;
}

static dsvk_status out_of_memory(rt_device *dev, uint64_t needed, uint32_t heap,
                                 const char *what)
{
    const rt_allocator *alloc = dev->allocator;
    uint64_t heap_size = dev->memory_properties.memoryHeaps[heap].size;
    return rt_fail(dev, DSVK_ERROR_OUT_OF_DEVICE_MEMORY,
                   "out of device memory%s: needed %.1f MiB, heap has %.1f "
                   "MiB (%.1f MiB in use by dsvk)",
                   what, MIB(needed), MIB(heap_size),
                   MIB(alloc->heap_used[heap]));
}

static memory_block *free_slot(rt_device *dev)
{
    rt_allocator *alloc = dev->allocator;
    for (uint32_t i = 0; i < alloc->n_blocks; i++)
        if (!alloc->blocks[i].memory)
            return &alloc->blocks[i];
    memory_block *grown =
        realloc(alloc->blocks, (alloc->n_blocks + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    alloc->blocks = grown;
    memory_block *slot = &alloc->blocks[alloc->n_blocks++];
    memset(slot, 0, sizeof *slot);
    return slot;
}

/* Creates a block of at least `need` bytes (exactly `need` if dedicated). */
static dsvk_status create_block(rt_device *dev, uint64_t need,
                                rt_memory_kind kind, bool dedicated,
                                memory_block **out)
{
    rt_allocator *alloc = dev->allocator;
    const rt_caps *caps = &dev->caps;
    uint64_t size = dedicated ? need : RT_BLOCK_BYTES;
    if (size > caps->max_memory_allocation_size)
        size = caps->max_memory_allocation_size;
    if (need > size)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_DEVICE_MEMORY,
                       "out of device memory: needed %.1f MiB in one "
                       "allocation, the device allows at most %.1f MiB",
                       MIB(need), MIB(caps->max_memory_allocation_size));
    if (alloc->live_blocks >= caps->max_memory_allocation_count)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_DEVICE_MEMORY,
                       "out of device memory: all %u allocations the device "
                       "allows are in use",
                       caps->max_memory_allocation_count);

    memory_block *block = free_slot(dev);
    if (!block)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory allocating a memory block");
    VkBufferCreateInfo buffer_info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                 VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult result =
        dev->vk.vkCreateBuffer(dev->device, &buffer_info, NULL, &block->buffer);
    if (result != VK_SUCCESS) {
        release_block(dev, block);
        return rt_fail_vk(dev, "vkCreateBuffer", result);
    }
    VkMemoryRequirements req;
    dev->vk.vkGetBufferMemoryRequirements(dev->device, block->buffer, &req);
    bool map;
    int type = choose_memory_type(dev, req.memoryTypeBits, kind, &map);
    if (type < 0) {
        release_block(dev, block);
        return rt_fail(dev, DSVK_ERROR_UNSUPPORTED,
                       "no memory type fits %s buffers",
                       kind == RT_MEMORY_READBACK ? "readback" : "device");
    }
    uint32_t heap = dev->memory_properties.memoryTypes[type].heapIndex;
    /* Checked here rather than left to the driver: some (lavapipe) would
     * try to allocate whatever is asked and thrash the host instead. */
    if (alloc->heap_used[heap] + req.size >
        dev->memory_properties.memoryHeaps[heap].size) {
        release_block(dev, block);
        return out_of_memory(dev, need, heap, "");
    }
    VkMemoryAllocateInfo alloc_info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type};
    result = dev->vk.vkAllocateMemory(dev->device, &alloc_info, NULL,
                                      &block->memory);
    if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
        result == VK_ERROR_OUT_OF_HOST_MEMORY) {
        release_block(dev, block);
        return out_of_memory(dev, need, heap, " (vkAllocateMemory)");
    }
    if (result != VK_SUCCESS) {
        release_block(dev, block);
        return rt_fail_vk(dev, "vkAllocateMemory", result);
    }
    block->size = req.size;
    block->heap = heap;
    alloc->heap_used[heap] += req.size;
    alloc->live_blocks++;
    result = dev->vk.vkBindBufferMemory(dev->device, block->buffer,
                                        block->memory, 0);
    if (result == VK_SUCCESS && map)
        result = dev->vk.vkMapMemory(dev->device, block->memory, 0,
                                     VK_WHOLE_SIZE, 0, &block->mapped);
    block->free = malloc(sizeof *block->free);
    if (result != VK_SUCCESS || !block->free) {
        release_block(dev, block);
        return result != VK_SUCCESS
                   ? rt_fail_vk(dev, map ? "vkMapMemory" : "vkBindBufferMemory",
                                result)
                   : rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                             "out of host memory allocating a memory block");
    }
    /* The buffer covers `size` bytes; the allocation may be larger. */
    block->free[0] = (free_range){0, size};
    block->n_free = 1;
    block->cap_free = 1;
    block->kind = kind;
    block->dedicated = dedicated;
    *out = block;
    return DSVK_OK;
}

/* First fit: takes `size` bytes from the first free range that holds them
 * (offsets stay aligned because every range size is a multiple of the
 * alignment). */
static bool take_range(memory_block *block, uint64_t size, uint64_t *offset)
{
    for (uint32_t i = 0; i < block->n_free; i++) {
        free_range *range = &block->free[i];
        if (range->size < size)
            continue;
        *offset = range->offset;
        range->offset += size;
        range->size -= size;
        if (range->size == 0) {
            memmove(range, range + 1, (block->n_free - i - 1) * sizeof *range);
            block->n_free--;
        }
        block->used += size;
        return true;
    }
    return false;
}

static bool give_range(memory_block *block, uint64_t offset, uint64_t size)
{
    uint32_t i = 0;
    while (i < block->n_free && block->free[i].offset < offset)
        i++;
    bool joins_prev =
        i > 0 && block->free[i - 1].offset + block->free[i - 1].size == offset;
    bool joins_next =
        i < block->n_free && offset + size == block->free[i].offset;
    block->used -= size;
    if (joins_prev && joins_next) {
        block->free[i - 1].size += size + block->free[i].size;
        memmove(&block->free[i], &block->free[i + 1],
                (block->n_free - i - 1) * sizeof *block->free);
        block->n_free--;
    } else if (joins_prev) {
        block->free[i - 1].size += size;
    } else if (joins_next) {
        block->free[i].offset = offset;
        block->free[i].size += size;
    } else {
        if (block->n_free == block->cap_free) {
            uint32_t cap = block->cap_free * 2;
            free_range *grown = realloc(block->free, cap * sizeof *grown);
            if (!grown)
                return false;
            block->free = grown;
            block->cap_free = cap;
        }
        memmove(&block->free[i + 1], &block->free[i],
                (block->n_free - i) * sizeof *block->free);
        block->free[i] = (free_range){offset, size};
        block->n_free++;
    }
    return true;
}

dsvk_status rt_buffer_create(rt_device *dev, uint64_t size, rt_memory_kind kind,
                             rt_buffer *out)
{
    memset(out, 0, sizeof *out);
    if (size == 0)
        return rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "a buffer of 0 bytes was requested");
    rt_allocator *alloc = dev->allocator;
    /* Rounding every range to the alignment keeps all offsets aligned and
     * lets vkCmdFillBuffer cover whole 4-byte words. */
    uint64_t need =
        align_up(size, dev->caps.min_storage_buffer_offset_alignment);
    memory_block *block = NULL;
    uint64_t offset = 0;
    bool dedicated = need > RT_BLOCK_BYTES / 2;
    for (uint32_t i = 0; i < alloc->n_blocks && !dedicated; i++) {
        memory_block *b = &alloc->blocks[i];
        if (b->memory && !b->dedicated && b->kind == kind &&
            take_range(b, need, &offset)) {
            block = b;
            break;
        }
    }
    if (!block) {
        dsvk_status status = create_block(dev, need, kind, dedicated, &block);
        if (status != DSVK_OK)
            return status;
        take_range(block, need, &offset);
    }
    out->buffer = block->buffer;
    out->offset = offset;
    out->size = size;
    out->mapped = block->mapped ? (char *)block->mapped + offset : NULL;
    out->block = (uint32_t)(block - alloc->blocks);
    return DSVK_OK;
}

/* An empty block is released, except the last regular block of its kind:
 * keeping one avoids a new vkAllocateMemory for every small temporary. */
static bool keep_empty_block(const rt_allocator *alloc,
                             const memory_block *block)
{
    if (block->dedicated)
        return false;
    for (uint32_t i = 0; i < alloc->n_blocks; i++) {
        const memory_block *other = &alloc->blocks[i];
        if (other != block && other->memory && !other->dedicated &&
            other->kind == block->kind)
            return false;
    }
    return true;
}

void rt_buffer_destroy(rt_device *dev, rt_buffer *buf)
{
    if (!buf || !buf->buffer)
        return;
    rt_allocator *alloc = dev->allocator;
    memory_block *block = &alloc->blocks[buf->block];
    uint64_t need =
        align_up(buf->size, dev->caps.min_storage_buffer_offset_alignment);
    /* If the free list cannot grow the range is lost until the block goes:
     * a leak, but never a double use. */
    if (!give_range(block, buf->offset, need))
        rt_device_log(dev, "out of host memory freeing a buffer range");
    if (block->used == 0 && !keep_empty_block(alloc, block))
        release_block(dev, block);
    memset(buf, 0, sizeof *buf);
}

static dsvk_status check_range(rt_device *dev, const rt_buffer *buf,
                               uint64_t offset, uint64_t size)
{
    if (!buf->buffer || offset > buf->size || size > buf->size - offset)
        return rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "range [%llu, +%llu) is outside a buffer of %llu bytes",
                       (unsigned long long)offset, (unsigned long long)size,
                       (unsigned long long)buf->size);
    return DSVK_OK;
}

dsvk_status rt_buffer_upload(rt_device *dev, const rt_buffer *buf,
                             uint64_t offset, const void *src, uint64_t size)
{
    dsvk_status status = check_range(dev, buf, offset, size);
    if (status != DSVK_OK || size == 0)
        return status;
    if (buf->mapped) {
        memcpy((char *)buf->mapped + offset, src, size);
        return DSVK_OK;
    }
    return rt_staging_upload(dev, buf->buffer, buf->offset + offset, src, size);
}

dsvk_status rt_buffer_download(rt_device *dev, const rt_buffer *buf,
                               uint64_t offset, void *dst, uint64_t size)
{
    dsvk_status status = check_range(dev, buf, offset, size);
    if (status != DSVK_OK || size == 0)
        return status;
    if (buf->mapped) {
        memcpy(dst, (const char *)buf->mapped + offset, size);
        return DSVK_OK;
    }
    return rt_staging_download(dev, buf->buffer, buf->offset + offset, dst,
                               size);
}

dsvk_status rt_buffer_zero(rt_device *dev, const rt_buffer *buf)
{
    dsvk_status status = check_range(dev, buf, 0, buf->size);
    if (status != DSVK_OK)
        return status;
    if (buf->mapped) {
        memset(buf->mapped, 0, buf->size);
        return DSVK_OK;
    }
    /* The range reserved for the buffer is rounded up to the alignment, so
     * rounding the fill up to whole words stays inside it. */
    return rt_staging_fill_zero(dev, buf->buffer, buf->offset,
                                align_up(buf->size, 4));
}

uint64_t rt_memory_in_use(const rt_device *dev)
{
    const rt_allocator *alloc = dev->allocator;
    uint64_t total = 0;
    for (uint32_t i = 0;
         i < dev->memory_properties.memoryHeapCount && i < RT_MAX_HEAPS; i++)
        if (dev->memory_properties.memoryHeaps[i].flags &
            VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            total += alloc->heap_used[i];
    return total;
}
