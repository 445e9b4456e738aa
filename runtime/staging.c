/* Transfers to and from memory the host cannot map: through a host-visible
 * staging ring of two halves, so the host fills (or drains) one half while
 * the GPU copies the other. */
#include "device_private.h"
#include "memory.h"

#include <stdlib.h>
#include <string.h>

#define RT_STAGING_BYTES (16ull << 20)
#define RT_STAGING_SLOTS 2

typedef struct staging_slot {
    VkCommandBuffer cmd;
    VkFence fence;
    bool pending;      /* submitted, fence not yet waited for */
    void *download_to; /* host destination filled once the copy is done */
    uint64_t download_bytes;
} staging_slot;

struct rt_staging {
    VkCommandPool pool;
    rt_buffer ring; /* created on first use: unified devices never need it */
    staging_slot slots[RT_STAGING_SLOTS];
};

static uint64_t slot_bytes(void)
{
    return RT_STAGING_BYTES / RT_STAGING_SLOTS;
}

dsvk_status rt_staging_init(rt_device *dev)
{
    rt_staging *staging = calloc(1, sizeof *staging);
    if (!staging)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory creating the staging ring");
    dev->staging = staging;
    VkCommandPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = dev->queue_family};
    VkResult result = dev->vk.vkCreateCommandPool(dev->device, &pool_info, NULL,
                                                  &staging->pool);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkCreateCommandPool", result);
    VkCommandBuffer cmds[RT_STAGING_SLOTS];
    VkCommandBufferAllocateInfo cmd_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = staging->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = RT_STAGING_SLOTS};
    result = dev->vk.vkAllocateCommandBuffers(dev->device, &cmd_info, cmds);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkAllocateCommandBuffers", result);
    for (int i = 0; i < RT_STAGING_SLOTS; i++) {
        staging->slots[i].cmd = cmds[i];
        VkFenceCreateInfo fence_info = {
            .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        result = dev->vk.vkCreateFence(dev->device, &fence_info, NULL,
                                       &staging->slots[i].fence);
        if (result != VK_SUCCESS)
            return rt_fail_vk(dev, "vkCreateFence", result);
    }
    return DSVK_OK;
}

void rt_staging_destroy(rt_device *dev)
{
    rt_staging *staging = dev->staging;
    if (!staging)
        return;
    for (int i = 0; i < RT_STAGING_SLOTS; i++)
        if (staging->slots[i].fence)
            dev->vk.vkDestroyFence(dev->device, staging->slots[i].fence, NULL);
    if (staging->pool)
        dev->vk.vkDestroyCommandPool(dev->device, staging->pool, NULL);
    rt_buffer_destroy(dev, &staging->ring);
    free(staging);
    dev->staging = NULL;
}

static char *slot_memory(rt_staging *staging, int slot)
{
    return (char *)staging->ring.mapped + (uint64_t)slot * slot_bytes();
}

/* Waits for the slot's copy, then hands a download its bytes. */
static dsvk_status finish_slot(rt_device *dev, int index)
{
    staging_slot *slot = &dev->staging->slots[index];
    if (!slot->pending)
        return DSVK_OK;
    slot->pending = false;
    VkResult result = dev->vk.vkWaitForFences(dev->device, 1, &slot->fence,
                                              VK_TRUE, RT_FENCE_TIMEOUT_NS);
    if (result == VK_TIMEOUT)
        return rt_fail(dev, DSVK_ERROR_VULKAN,
                       "a staging copy did not finish within 60 s (GPU hung)");
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkWaitForFences", result);
    result = dev->vk.vkResetFences(dev->device, 1, &slot->fence);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkResetFences", result);
    if (slot->download_to)
        memcpy(slot->download_to, slot_memory(dev->staging, index),
               slot->download_bytes);
    slot->download_to = NULL;
    return DSVK_OK;
}

/* Waits for every slot; the first failure wins. */
static dsvk_status finish_all(rt_device *dev, dsvk_status status)
{
    for (int i = 0; i < RT_STAGING_SLOTS; i++) {
        dsvk_status slot_status = finish_slot(dev, i);
        if (status == DSVK_OK)
            status = slot_status;
    }
    return status;
}

static dsvk_status begin_slot(rt_device *dev, int index, bool needs_ring)
{
    rt_staging *staging = dev->staging;
    if (needs_ring && !staging->ring.buffer) {
        dsvk_status status = rt_buffer_create(
            dev, RT_STAGING_BYTES, RT_MEMORY_READBACK, &staging->ring);
        if (status != DSVK_OK)
            return status;
    }
    dsvk_status status = finish_slot(dev, index);
    if (status != DSVK_OK)
        return status;
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VkResult result =
        dev->vk.vkBeginCommandBuffer(staging->slots[index].cmd, &begin);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkBeginCommandBuffer", result);
    return DSVK_OK;
}

static dsvk_status submit_slot(rt_device *dev, int index)
{
    staging_slot *slot = &dev->staging->slots[index];
    VkResult result = dev->vk.vkEndCommandBuffer(slot->cmd);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkEndCommandBuffer", result);
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &slot->cmd};
    result = dev->vk.vkQueueSubmit(dev->queue, 1, &submit, slot->fence);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkQueueSubmit", result);
    slot->pending = true;
    return DSVK_OK;
}

dsvk_status rt_staging_upload(rt_device *dev, VkBuffer dst, uint64_t offset,
                              const void *src, uint64_t size)
{
    rt_staging *staging = dev->staging;
    dsvk_status status = DSVK_OK;
    for (uint64_t done = 0, chunk = 0; done < size && status == DSVK_OK;
         chunk++) {
        int index = (int)(chunk % RT_STAGING_SLOTS);
        uint64_t bytes =
            size - done < slot_bytes() ? size - done : slot_bytes();
        if ((status = begin_slot(dev, index, true)) != DSVK_OK)
            break;
        /* vkQueueSubmit makes these host writes visible to the copy. */
        memcpy(slot_memory(staging, index), (const char *)src + done, bytes);
        VkBufferCopy region = {.srcOffset = (uint64_t)index * slot_bytes(),
                               .dstOffset = offset + done,
                               .size = bytes};
        dev->vk.vkCmdCopyBuffer(staging->slots[index].cmd, staging->ring.buffer,
                                dst, 1, &region);
        status = submit_slot(dev, index);
        done += bytes;
    }
    return finish_all(dev, status);
}

dsvk_status rt_staging_download(rt_device *dev, VkBuffer src, uint64_t offset,
                                void *dst, uint64_t size)
{
    rt_staging *staging = dev->staging;
    dsvk_status status = DSVK_OK;
    for (uint64_t done = 0, chunk = 0; done < size && status == DSVK_OK;
         chunk++) {
        int index = (int)(chunk % RT_STAGING_SLOTS);
        uint64_t bytes =
            size - done < slot_bytes() ? size - done : slot_bytes();
        if ((status = begin_slot(dev, index, true)) != DSVK_OK)
            break;
        VkCommandBuffer cmd = staging->slots[index].cmd;
        VkBufferCopy region = {.srcOffset = offset + done,
                               .dstOffset = (uint64_t)index * slot_bytes(),
                               .size = bytes};
        dev->vk.vkCmdCopyBuffer(cmd, src, staging->ring.buffer, 1, &region);
        /* The fence alone does not make device writes visible to the host. */
        VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                   .srcAccessMask =
                                       VK_ACCESS_TRANSFER_WRITE_BIT,
                                   .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
        dev->vk.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                     VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host,
                                     0, NULL, 0, NULL);
        staging->slots[index].download_to = (char *)dst + done;
        staging->slots[index].download_bytes = bytes;
        status = submit_slot(dev, index);
        done += bytes;
    }
    return finish_all(dev, status);
}

dsvk_status rt_staging_fill_zero(rt_device *dev, VkBuffer dst, uint64_t offset,
                                 uint64_t size)
{
    dsvk_status status = begin_slot(dev, 0, false);
    if (status != DSVK_OK)
        return status;
    dev->vk.vkCmdFillBuffer(dev->staging->slots[0].cmd, dst, offset, size, 0);
    return finish_all(dev, submit_slot(dev, 0));
}
