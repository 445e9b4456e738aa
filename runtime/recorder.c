/* The recorder: dispatches and copies into one command buffer, a barrier
 * only where hazard tracking finds one is needed, one submit, one wait. */
#include "recorder.h"
#include "device_private.h"

#include <stdlib.h>
#include <string.h>

#define RT_SETS_PER_POOL 256
#define RT_QUERIES_PER_POOL 256 /* two per timed dispatch */

/* A byte range one command reads or writes: absolute offsets in a VkBuffer. */
typedef struct tracked_range {
    VkBuffer buffer;
    uint64_t begin, end;
} tracked_range;

typedef struct range_list {
    tracked_range *items;
    uint32_t count, capacity;
} range_list;

/* What one command touches, before it is recorded. */
typedef struct command_access {
    /* The storage bindings, then the uniform one if there is one. */
    tracked_range ranges[DSVK_MAX_BINDINGS + 1];
    bool writes[DSVK_MAX_BINDINGS + 1];
    uint32_t count;
    VkPipelineStageFlags stage;
    VkAccessFlags read_access, write_access;
} command_access;

struct rt_recorder {
    rt_device *dev;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    bool recording;
    dsvk_status status; /* first failure since begin; sticky */
    char error[512];

    /* Hazard tracking since the last barrier. */
    range_list reads, writes;
    VkPipelineStageFlags pending_stages;
    VkAccessFlags pending_write_access;
    /* Every write of the recording, for the final barrier to the host. */
    VkPipelineStageFlags all_write_stages;
    VkAccessFlags all_write_access;
    uint32_t barriers;
    VkPipeline bound;

    /* Pooled descriptor sets, used when push descriptors are not. */
    VkDescriptorPool *descriptor_pools;
    uint32_t n_descriptor_pools, current_pool;

    bool timing;
    VkQueryPool *query_pools;
    uint32_t n_query_pools;
    const char **labels;
    uint32_t n_timed, cap_timed;
    rt_timing *timings;
    uint32_t n_timings;
};

static void fail(rt_recorder *rec, dsvk_status status)
{
    if (rec->status != DSVK_OK)
        return;
    rec->status = status;
    memcpy(rec->error, rec->dev->error, sizeof rec->error);
}

static void fail_vk(rt_recorder *rec, const char *call, VkResult result)
{
    fail(rec, rt_fail_vk(rec->dev, call, result));
}

dsvk_status rt_recorder_create(rt_device *dev, rt_recorder **out)
{
    *out = NULL;
    rt_recorder *rec = calloc(1, sizeof *rec);
    if (!rec)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory creating a recorder");
    rec->dev = dev;
    VkCommandPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = dev->queue_family};
    VkResult result =
        dev->vk.vkCreateCommandPool(dev->device, &pool_info, NULL, &rec->pool);
    VkCommandBufferAllocateInfo cmd_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = rec->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1};
    const char *call = "vkCreateCommandPool";
    if (result == VK_SUCCESS) {
        call = "vkAllocateCommandBuffers";
        result =
            dev->vk.vkAllocateCommandBuffers(dev->device, &cmd_info, &rec->cmd);
    }
    if (result == VK_SUCCESS) {
        call = "vkCreateFence";
        VkFenceCreateInfo fence_info = {
            .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        result =
            dev->vk.vkCreateFence(dev->device, &fence_info, NULL, &rec->fence);
    }
    if (result != VK_SUCCESS) {
        dsvk_status status = rt_fail_vk(dev, call, result);
        rt_recorder_destroy(rec);
        return status;
    }
    *out = rec;
    return DSVK_OK;
}

void rt_recorder_destroy(rt_recorder *rec)
{
    if (!rec)
        return;
    rt_device *dev = rec->dev;
    for (uint32_t i = 0; i < rec->n_descriptor_pools; i++)
        dev->vk.vkDestroyDescriptorPool(dev->device, rec->descriptor_pools[i],
                                        NULL);
    for (uint32_t i = 0; i < rec->n_query_pools; i++)
        dev->vk.vkDestroyQueryPool(dev->device, rec->query_pools[i], NULL);
    if (rec->fence)
        dev->vk.vkDestroyFence(dev->device, rec->fence, NULL);
    if (rec->pool)
        dev->vk.vkDestroyCommandPool(dev->device, rec->pool, NULL);
    free(rec->descriptor_pools);
    free(rec->query_pools);
    free(rec->labels);
    free(rec->timings);
    free(rec->reads.items);
    free(rec->writes.items);
    free(rec);
}

dsvk_status rt_recorder_begin(rt_recorder *rec, bool timestamps)
{
    rt_device *dev = rec->dev;
    rec->status = DSVK_OK;
    rec->error[0] = '\0';
    rec->recording = false;
    rec->reads.count = rec->writes.count = 0;
    rec->pending_stages = 0;
    rec->pending_write_access = 0;
    rec->all_write_stages = 0;
    rec->all_write_access = 0;
    rec->barriers = 0;
    rec->bound = VK_NULL_HANDLE;
    rec->current_pool = 0;
    rec->n_timed = 0;
    rec->n_timings = 0;
    rec->timing = timestamps && dev->caps.timestamps;

    VkResult result = dev->vk.vkResetCommandPool(dev->device, rec->pool, 0);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkResetCommandPool", result);
    for (uint32_t i = 0; i < rec->n_descriptor_pools; i++) {
        result = dev->vk.vkResetDescriptorPool(dev->device,
                                               rec->descriptor_pools[i], 0);
        if (result != VK_SUCCESS)
            return rt_fail_vk(dev, "vkResetDescriptorPool", result);
    }
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    result = dev->vk.vkBeginCommandBuffer(rec->cmd, &begin);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkBeginCommandBuffer", result);
    if (rec->timing)
        for (uint32_t i = 0; i < rec->n_query_pools; i++)
            dev->vk.vkCmdResetQueryPool(rec->cmd, rec->query_pools[i], 0,
                                        RT_QUERIES_PER_POOL);
    rec->recording = true;
    return DSVK_OK;
}

static bool overlaps(const range_list *list, const tracked_range *r)
{
    for (uint32_t i = 0; i < list->count; i++) {
        const tracked_range *t = &list->items[i];
        if (t->buffer == r->buffer && t->begin < r->end && r->begin < t->end)
            return true;
    }
    return false;
}

static bool append(range_list *list, const tracked_range *r)
{
    if (list->count == list->capacity) {
        uint32_t capacity = list->capacity ? list->capacity * 2 : 64;
        tracked_range *grown = realloc(list->items, capacity * sizeof *grown);
        if (!grown)
            return false;
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count++] = *r;
    return true;
}

/* Inserts a barrier if this command reads what an earlier one wrote (RAW),
 * or writes what an earlier one read (WAR) or wrote (WAW), since the last
 * barrier; then notes what this command touches. */
static void track(rt_recorder *rec, const command_access *access)
{
    bool hazard = false;
    for (uint32_t i = 0; i < access->count && !hazard; i++)
        hazard =
            overlaps(&rec->writes, &access->ranges[i]) ||
            (access->writes[i] && overlaps(&rec->reads, &access->ranges[i]));
    if (hazard) {
        /* One global barrier from everything since the last one to this
         * command: a WAR needs only the execution dependency, a RAW or WAW
         * also makes the earlier writes visible. */
        VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                   .srcAccessMask = rec->pending_write_access,
                                   .dstAccessMask = access->read_access |
                                                    access->write_access};
        rec->dev->vk.vkCmdPipelineBarrier(rec->cmd, rec->pending_stages,
                                          access->stage, 0, 1, &barrier, 0,
                                          NULL, 0, NULL);
        rec->barriers++;
        rec->reads.count = rec->writes.count = 0;
        rec->pending_stages = 0;
        rec->pending_write_access = 0;
    }
    rec->pending_stages |= access->stage;
    for (uint32_t i = 0; i < access->count; i++) {
        range_list *list = access->writes[i] ? &rec->writes : &rec->reads;
        if (!append(list, &access->ranges[i])) {
            fail(rec, rt_fail(rec->dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory tracking hazards"));
            return;
        }
        if (access->writes[i]) {
            rec->pending_write_access |= access->write_access;
            rec->all_write_stages |= access->stage;
            rec->all_write_access |= access->write_access;
        }
    }
}

/* Resolves a span to absolute buffer offsets, checking what the device
 * demands of a storage-buffer descriptor (or of a uniform-buffer one). */
static bool resolve_span(rt_recorder *rec, const rt_span *span, uint32_t index,
                         bool uniform, const char *label, tracked_range *out)
{
    rt_device *dev = rec->dev;
    const rt_caps *caps = &dev->caps;
    const char *kind = uniform ? "uniform" : "storage";
    const uint64_t alignment = uniform
                                   ? caps->min_uniform_buffer_offset_alignment
                                   : caps->min_storage_buffer_offset_alignment;
    const uint64_t max_range = uniform ? caps->max_uniform_buffer_range
                                       : caps->max_storage_buffer_range;
    const rt_buffer *buf = span->buffer;
    if (!buf || !buf->buffer) {
        fail(rec, rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                          "%s: binding %u has no buffer", label, index));
        return false;
    }
    uint64_t size = span->size ? span->size : buf->size - span->offset;
    if (span->offset >= buf->size || size > buf->size - span->offset) {
        fail(rec,
             rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                     "%s: binding %u range [%llu, +%llu) is outside its "
                     "buffer of %llu bytes",
                     label, index, (unsigned long long)span->offset,
                     (unsigned long long)size, (unsigned long long)buf->size));
        return false;
    }
    uint64_t offset = buf->offset + span->offset;
    if (offset % alignment != 0) {
        fail(rec, rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                          "%s: binding %u offset %llu is not a multiple of "
                          "the device's %s buffer alignment %llu",
                          label, index, (unsigned long long)span->offset, kind,
                          (unsigned long long)alignment));
        return false;
    }
    if (size > max_range) {
        fail(rec, rt_fail(dev, DSVK_ERROR_UNSUPPORTED,
                          "%s: binding %u covers %llu bytes, more than the "
                          "device's %s buffer range %llu",
                          label, index, (unsigned long long)size, kind,
                          (unsigned long long)max_range));
        return false;
    }
    *out = (tracked_range){buf->buffer, offset, offset + size};
    return true;
}

static VkDescriptorSet allocate_set(rt_recorder *rec)
{
    rt_device *dev = rec->dev;
    VkDescriptorSetLayout layout = rt_descriptor_set_layout(dev);
    for (;;) {
        if (rec->current_pool == rec->n_descriptor_pools) {
            const VkDescriptorPoolSize sizes[2] = {
                {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                 RT_SETS_PER_POOL * DSVK_MAX_BINDINGS},
                {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, RT_SETS_PER_POOL}};
            VkDescriptorPoolCreateInfo info = {
                .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                .maxSets = RT_SETS_PER_POOL,
                .poolSizeCount = 2,
                .pPoolSizes = sizes};
            VkDescriptorPool *grown =
                realloc(rec->descriptor_pools,
                        (rec->n_descriptor_pools + 1) * sizeof *grown);
            if (!grown) {
                fail(rec, rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                                  "out of host memory adding a descriptor "
                                  "pool"));
                return VK_NULL_HANDLE;
            }
            rec->descriptor_pools = grown;
            VkResult result = dev->vk.vkCreateDescriptorPool(
                dev->device, &info, NULL, &grown[rec->n_descriptor_pools]);
            if (result != VK_SUCCESS) {
                fail_vk(rec, "vkCreateDescriptorPool", result);
                return VK_NULL_HANDLE;
            }
            rec->n_descriptor_pools++;
        }
        VkDescriptorSetAllocateInfo info = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = rec->descriptor_pools[rec->current_pool],
            .descriptorSetCount = 1,
            .pSetLayouts = &layout};
        VkDescriptorSet set;
        VkResult result =
            dev->vk.vkAllocateDescriptorSets(dev->device, &info, &set);
        if (result == VK_SUCCESS)
            return set;
        if (result != VK_ERROR_OUT_OF_POOL_MEMORY &&
            result != VK_ERROR_FRAGMENTED_POOL) {
            fail_vk(rec, "vkAllocateDescriptorSets", result);
            return VK_NULL_HANDLE;
        }
        rec->current_pool++; /* this pool is full: move to the next */
    }
}

/* ranges: the storage bindings', then the uniform binding's if d has one
 * (n_ranges in all). */
static void bind_descriptors(rt_recorder *rec, const rt_dispatch *d,
                             const tracked_range *ranges, uint32_t n_ranges)
{
    rt_device *dev = rec->dev;
    if (n_ranges == 0)
        return; /* Vulkan forbids pushing an empty descriptor set */
    VkDescriptorBufferInfo infos[DSVK_MAX_BINDINGS + 1];
    VkWriteDescriptorSet writes[DSVK_MAX_BINDINGS + 1];
    for (uint32_t i = 0; i < n_ranges; i++) {
        const bool uniform = i == d->n_bindings;
        infos[i] = (VkDescriptorBufferInfo){ranges[i].buffer, ranges[i].begin,
                                            ranges[i].end - ranges[i].begin};
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstBinding = uniform ? DSVK_UNIFORM_BINDING : i,
            .descriptorCount = 1,
            .descriptorType = uniform ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
                                      : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &infos[i]};
    }
    VkPipelineLayout layout = rt_pipeline_layout(dev);
    if (dev->caps.push_descriptors) {
        dev->vk.vkCmdPushDescriptorSetKHR(rec->cmd,
                                          VK_PIPELINE_BIND_POINT_COMPUTE,
                                          layout, 0, n_ranges, writes);
        return;
    }
    VkDescriptorSet set = allocate_set(rec);
    if (!set)
        return;
    for (uint32_t i = 0; i < n_ranges; i++)
        writes[i].dstSet = set;
    dev->vk.vkUpdateDescriptorSets(dev->device, n_ranges, writes, 0, NULL);
    dev->vk.vkCmdBindDescriptorSets(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE,
                                    layout, 0, 1, &set, 0, NULL);
}

/* Returns the query index for this dispatch's start, or -1 when untimed. */
static int64_t begin_timing(rt_recorder *rec, const char *label)
{
    rt_device *dev = rec->dev;
    if (!rec->timing)
        return -1;
    uint32_t query = rec->n_timed * 2;
    uint32_t pool = query / RT_QUERIES_PER_POOL;
    if (pool == rec->n_query_pools) {
        VkQueryPool *grown =
            realloc(rec->query_pools, (rec->n_query_pools + 1) * sizeof *grown);
        if (!grown) {
            fail(rec, rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory adding a query pool"));
            return -1;
        }
        rec->query_pools = grown;
        VkQueryPoolCreateInfo info = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = RT_QUERIES_PER_POOL};
        VkResult result = dev->vk.vkCreateQueryPool(dev->device, &info, NULL,
                                                    &grown[rec->n_query_pools]);
        if (result != VK_SUCCESS) {
            fail_vk(rec, "vkCreateQueryPool", result);
            return -1;
        }
        /* Queries must be reset before use; older pools were reset at
         * begin. */
        dev->vk.vkCmdResetQueryPool(rec->cmd, grown[rec->n_query_pools], 0,
                                    RT_QUERIES_PER_POOL);
        rec->n_query_pools++;
    }
    if (rec->n_timed == rec->cap_timed) {
        uint32_t capacity = rec->cap_timed ? rec->cap_timed * 2 : 64;
        const char **grown = realloc(rec->labels, capacity * sizeof *grown);
        if (!grown) {
            fail(rec, rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory recording timings"));
            return -1;
        }
        rec->labels = grown;
        rec->cap_timed = capacity;
    }
    rec->labels[rec->n_timed++] = label;
    /* Bottom of pipe: written once all earlier commands have finished. */
    dev->vk.vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                                rec->query_pools[pool],
                                query % RT_QUERIES_PER_POOL);
    return query;
}

static void end_timing(rt_recorder *rec, int64_t query)
{
    if (query < 0)
        return;
    uint32_t end = (uint32_t)query + 1;
    rec->dev->vk.vkCmdWriteTimestamp(
        rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
        rec->query_pools[end / RT_QUERIES_PER_POOL], end % RT_QUERIES_PER_POOL);
}

static bool usable(rt_recorder *rec, const char *what)
{
    if (rec->status != DSVK_OK)
        return false;
    if (!rec->recording) {
        fail(rec, rt_fail(rec->dev, DSVK_ERROR_INVALID_ARGUMENT,
                          "%s called outside rt_recorder_begin/submit", what));
        return false;
    }
    return true;
}

void rt_record_dispatch(rt_recorder *rec, const rt_dispatch *d)
{
    if (!usable(rec, "rt_record_dispatch"))
        return;
    rt_device *dev = rec->dev;
    const char *label = d->label ? d->label : "dispatch";
    if (!d->pipeline || d->n_bindings > DSVK_MAX_BINDINGS ||
        d->push_size > DSVK_PUSH_CONSTANT_BYTES || (d->push_size && !d->push)) {
        fail(rec, rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                          "%s: needs a pipeline, at most %d bindings and %d "
                          "bytes of push constants",
                          label, DSVK_MAX_BINDINGS, DSVK_PUSH_CONSTANT_BYTES));
        return;
    }
    for (int i = 0; i < 3; i++)
        if (d->groups[i] > dev->caps.max_workgroup_count[i]) {
            fail(rec, rt_fail(dev, DSVK_ERROR_UNSUPPORTED,
                              "%s: %u workgroups in dimension %d, the device "
                              "allows %u",
                              label, d->groups[i], i,
                              dev->caps.max_workgroup_count[i]));
            return;
        }
    command_access access = {.count = d->n_bindings,
                             .stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                             .read_access = VK_ACCESS_SHADER_READ_BIT,
                             .write_access = VK_ACCESS_SHADER_WRITE_BIT};
    for (uint32_t i = 0; i < d->n_bindings; i++) {
        if (!resolve_span(rec, &d->bindings[i], i, false, label,
                          &access.ranges[i]))
            return;
        access.writes[i] = d->bindings[i].written;
    }
    if (d->uniform.buffer) {
        if (!resolve_span(rec, &d->uniform, DSVK_UNIFORM_BINDING, true, label,
                          &access.ranges[access.count]))
            return;
        access.writes[access.count++] = false;
        access.read_access |= VK_ACCESS_UNIFORM_READ_BIT;
    }
    track(rec, &access);

    VkPipeline pipeline = rt_pipeline_handle(d->pipeline);
    if (pipeline != rec->bound) {
        dev->vk.vkCmdBindPipeline(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE,
                                  pipeline);
        rec->bound = pipeline;
    }
    bind_descriptors(rec, d, access.ranges, access.count);
    if (d->push_size) {
        /* Push sizes must be multiples of 4: pad with zeros. */
        uint8_t push[DSVK_PUSH_CONSTANT_BYTES] = {0};
        memcpy(push, d->push, d->push_size);
        dev->vk.vkCmdPushConstants(rec->cmd, rt_pipeline_layout(dev),
                                   VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                   (d->push_size + 3) & ~3u, push);
    }
    int64_t query = begin_timing(rec, label);
    dev->vk.vkCmdDispatch(rec->cmd, d->groups[0], d->groups[1], d->groups[2]);
    end_timing(rec, query);
}

void rt_record_copy(rt_recorder *rec, const rt_buffer *src, uint64_t src_offset,
                    const rt_buffer *dst, uint64_t dst_offset, uint64_t size)
{
    if (!usable(rec, "rt_record_copy"))
        return;
    if (!src || !dst || !src->buffer || !dst->buffer || size == 0 ||
        src_offset > src->size || size > src->size - src_offset ||
        dst_offset > dst->size || size > dst->size - dst_offset) {
        fail(rec, rt_fail(rec->dev, DSVK_ERROR_INVALID_ARGUMENT,
                          "rt_record_copy: %llu bytes do not fit the source "
                          "or destination range",
                          (unsigned long long)size));
        return;
    }
    VkBufferCopy region = {.srcOffset = src->offset + src_offset,
                           .dstOffset = dst->offset + dst_offset,
                           .size = size};
    if (src->buffer == dst->buffer &&
        region.srcOffset < region.dstOffset + size &&
        region.dstOffset < region.srcOffset + size) {
        fail(rec, rt_fail(rec->dev, DSVK_ERROR_INVALID_ARGUMENT,
                          "rt_record_copy: source and destination overlap"));
        return;
    }
    command_access access = {.count = 2,
                             .stage = VK_PIPELINE_STAGE_TRANSFER_BIT,
                             .read_access = VK_ACCESS_TRANSFER_READ_BIT,
                             .write_access = VK_ACCESS_TRANSFER_WRITE_BIT};
    access.ranges[0] =
        (tracked_range){src->buffer, region.srcOffset, region.srcOffset + size};
    access.ranges[1] =
        (tracked_range){dst->buffer, region.dstOffset, region.dstOffset + size};
    access.writes[1] = true;
    track(rec, &access);
    rec->dev->vk.vkCmdCopyBuffer(rec->cmd, src->buffer, dst->buffer, 1,
                                 &region);
}

static dsvk_status read_timings(rt_recorder *rec)
{
    rt_device *dev = rec->dev;
    if (!rec->n_timed)
        return DSVK_OK;
    rt_timing *timings = realloc(rec->timings, rec->n_timed * sizeof *timings);
    uint64_t *ticks = malloc(rec->n_timed * 2 * sizeof *ticks);
    if (timings)
        rec->timings = timings;
    if (!timings || !ticks) {
        free(ticks);
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory reading timings");
    }
    uint32_t queries = rec->n_timed * 2;
    for (uint32_t pool = 0; pool * RT_QUERIES_PER_POOL < queries; pool++) {
        uint32_t first = pool * RT_QUERIES_PER_POOL;
        uint32_t count = queries - first < RT_QUERIES_PER_POOL
                             ? queries - first
                             : RT_QUERIES_PER_POOL;
        VkResult result = dev->vk.vkGetQueryPoolResults(
            dev->device, rec->query_pools[pool], 0, count,
            count * sizeof *ticks, ticks + first, sizeof *ticks,
            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (result != VK_SUCCESS) {
            free(ticks);
            return rt_fail_vk(dev, "vkGetQueryPoolResults", result);
        }
    }
    uint64_t mask = dev->timestamp_valid_bits >= 64
                        ? ~0ull
                        : (1ull << dev->timestamp_valid_bits) - 1;
    for (uint32_t i = 0; i < rec->n_timed; i++) {
        uint64_t delta = (ticks[2 * i + 1] - ticks[2 * i]) & mask;
        rec->timings[i].label = rec->labels[i];
        rec->timings[i].microseconds =
            (double)delta * dev->caps.timestamp_period_ns / 1000.0;
    }
    rec->n_timings = rec->n_timed;
    free(ticks);
    return DSVK_OK;
}

dsvk_status rt_recorder_submit(rt_recorder *rec)
{
    rt_device *dev = rec->dev;
    if (rec->status == DSVK_OK && !rec->recording)
        return rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "rt_recorder_submit called without rt_recorder_begin");
    if (rec->recording && rec->status == DSVK_OK && rec->all_write_stages) {
        /* The fence alone does not make device writes visible to the host
         * (READBACK buffers, timings aside). */
        VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                   .srcAccessMask = rec->all_write_access,
                                   .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
        dev->vk.vkCmdPipelineBarrier(rec->cmd, rec->all_write_stages,
                                     VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host,
                                     0, NULL, 0, NULL);
    }
    if (rec->recording) {
        rec->recording = false;
        VkResult result = dev->vk.vkEndCommandBuffer(rec->cmd);
        if (result != VK_SUCCESS)
            fail_vk(rec, "vkEndCommandBuffer", result);
    }
    if (rec->status != DSVK_OK)
        return rt_fail(dev, rec->status, "%s", rec->error);

    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &rec->cmd};
    VkResult result = dev->vk.vkQueueSubmit(dev->queue, 1, &submit, rec->fence);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkQueueSubmit", result);
    result = dev->vk.vkWaitForFences(dev->device, 1, &rec->fence, VK_TRUE,
                                     RT_FENCE_TIMEOUT_NS);
    if (result == VK_TIMEOUT)
        return rt_fail(dev, DSVK_ERROR_VULKAN,
                       "the GPU did not finish a step within 60 s (hung or "
                       "far too slow)");
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkWaitForFences", result);
    result = dev->vk.vkResetFences(dev->device, 1, &rec->fence);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkResetFences", result);
    return read_timings(rec);
}

const rt_timing *rt_recorder_timings(const rt_recorder *rec, uint32_t *count)
{
    *count = rec->n_timings;
    return rec->timings;
}

uint32_t rt_recorder_barriers(const rt_recorder *rec)
{
    return rec->barriers;
}
