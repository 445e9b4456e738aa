/* The public context (dsvk.h): the Vulkan device, its lock, device listing
 * and the emulation names. dsvk_context_desc's defaults are resolved here,
 * in to_rt_desc, and nowhere else. */
#include "api_leak_control.h"
#include "api_private.h"

#include "memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dsvk_status dsvk_emulation_from_name(const char *name, dsvk_emulation *out)
{
    rt_emulation emulate;
    if (!name || !out || !rt_emulation_from_name(name, &emulate))
        return DSVK_ERROR_INVALID_ARGUMENT;
    *out = emulate == RT_EMULATE_BASELINE ? DSVK_EMULATION_BASELINE
                                          : DSVK_EMULATION_NONE;
    return DSVK_OK;
}

const char *dsvk_emulation_name(dsvk_emulation emulation)
{
    switch (emulation) {
    case DSVK_EMULATION_NONE:
        return rt_emulation_name(RT_EMULATE_NONE);
    case DSVK_EMULATION_BASELINE:
        return rt_emulation_name(RT_EMULATE_BASELINE);
    }
    return NULL;
}

/* The casts between the public and the runtime kernel classes rely on this. */
_Static_assert((int)DSVK_KERNELS_AUTO == (int)RT_KERNELS_AUTO &&
                   (int)DSVK_KERNELS_GPU == (int)RT_KERNELS_GPU &&
                   (int)DSVK_KERNELS_CPU == (int)RT_KERNELS_CPU,
               "kernel class values differ");

dsvk_status dsvk_kernel_class_from_name(const char *name,
                                        dsvk_kernel_class *out)
{
    rt_kernel_class kernels;
    if (!name || !out || !rt_kernel_class_from_name(name, &kernels))
        return DSVK_ERROR_INVALID_ARGUMENT;
    *out = (dsvk_kernel_class)kernels;
    return DSVK_OK;
}

const char *dsvk_kernel_class_name(dsvk_kernel_class kernels)
{
    return (unsigned)kernels <= DSVK_KERNELS_CPU
               ? rt_kernel_class_name((rt_kernel_class)kernels)
               : NULL;
}

/* The one place where a public desc becomes the runtime's: {0} and NULL
 * mean the best device, unemulated, no validation, cache or logger. */
static dsvk_status to_rt_desc(const dsvk_context_desc *desc, rt_device_desc *rt,
                              char *err, size_t err_size)
{
    static const dsvk_context_desc defaults = {0};
    if (!desc)
        desc = &defaults;
    if (desc->emulation != DSVK_EMULATION_NONE &&
        desc->emulation != DSVK_EMULATION_BASELINE)
        return api_write_line(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                              "unknown emulation profile %d",
                              (int)desc->emulation);
    if ((unsigned)desc->kernels > DSVK_KERNELS_CPU)
        return api_write_line(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                              "unknown kernel class %d", (int)desc->kernels);
    if (desc->device > (uint32_t)INT32_MAX)
        return api_write_line(err, err_size, DSVK_ERROR_NO_DEVICE,
                              "no Vulkan device %u", desc->device - 1);
    *rt = (rt_device_desc){
        .device_index =
            desc->device == DSVK_DEVICE_BEST ? -1 : (int)(desc->device - 1),
        .emulate = desc->emulation == DSVK_EMULATION_BASELINE
                       ? RT_EMULATE_BASELINE
                       : RT_EMULATE_NONE,
        .kernels = (rt_kernel_class)desc->kernels,
        .validation = desc->validation,
        .pipeline_cache_dir = desc->pipeline_cache_dir,
        .log = desc->log,
        .log_user = desc->log_user,
        .memory_limit = desc->device_memory_limit,
    };
    return DSVK_OK;
}

/* The limits and features of a usable device, as the library will use
 * them (after emulation). */
static void device_caps(const rt_caps *in, dsvk_device_caps *out)
{
    _Static_assert(DSVK_MAX_MEMORY_HEAPS >= RT_MAX_HEAPS,
                   "every heap the runtime sees fits the public array");
    *out = (dsvk_device_caps){
        .min_subgroup_size = in->min_subgroup_size,
        .max_subgroup_size = in->max_subgroup_size,
        .subgroup_size_control = in->subgroup_size_control,
        .subgroup_arithmetic = in->subgroup_arithmetic,
        .subgroup_shuffle = in->subgroup_shuffle,
        .max_shared_memory = in->max_shared_memory,
        .max_workgroup_invocations = in->max_workgroup_invocations,
        .max_storage_buffer_range = in->max_storage_buffer_range,
        .min_storage_buffer_offset_alignment =
            in->min_storage_buffer_offset_alignment,
        .max_memory_allocation_count = in->max_memory_allocation_count,
        .max_memory_allocation_size = in->max_memory_allocation_size,
        .heap_count = in->heap_count,
        .shader_float16 = in->shader_float16,
        .shader_int8 = in->shader_int8,
        .storage_16bit = in->storage_16bit,
        .storage_8bit = in->storage_8bit,
        .integer_dot_product = in->integer_dot_product,
        .cooperative_matrix = in->cooperative_matrix,
        .buffer_device_address = in->buffer_device_address,
        .push_descriptors = in->push_descriptors,
        .timestamps = in->timestamps,
        .timestamp_period_ns = in->timestamp_period_ns,
    };
    for (int d = 0; d < 3; d++) {
        out->max_workgroup_size[d] = in->max_workgroup_size[d];
        out->max_workgroup_count[d] = in->max_workgroup_count[d];
    }
    for (uint32_t h = 0; h < in->heap_count && h < RT_MAX_HEAPS; h++)
        out->heaps[h] =
            (dsvk_memory_heap){.size = in->heaps[h].size,
                               .device_local = in->heaps[h].device_local};
}

void api_device_info(const rt_device_info *in, dsvk_device_info *out)
{
    const rt_caps *caps = &in->caps;
    memset(out, 0, sizeof *out);
    out->index = in->index;
    snprintf(out->name, sizeof out->name, "%s", caps->name);
    snprintf(out->driver_name, sizeof out->driver_name, "%s",
             caps->driver_name);
    snprintf(out->driver_info, sizeof out->driver_info, "%s",
             caps->driver_info);
    /* dsvk_device_type copies VkPhysicalDeviceType's numbering. */
    out->type = caps->type <= VK_PHYSICAL_DEVICE_TYPE_CPU
                    ? (dsvk_device_type)caps->type
                    : DSVK_DEVICE_TYPE_OTHER;
    out->vendor_id = caps->vendor_id;
    out->device_id = caps->device_id;
    out->api_version = caps->api_version;
    for (uint32_t i = 0; i < caps->heap_count; i++)
        if (caps->heaps[i].device_local &&
            caps->heaps[i].size > out->device_memory)
            out->device_memory = caps->heaps[i].size;
    out->unified_memory = caps->unified_memory;
    out->subgroup_size = caps->subgroup_size;
    out->usable = in->usable;
    if (!in->usable && in->unusable_reason)
        snprintf(out->unusable_reason, sizeof out->unusable_reason, "%s",
                 in->unusable_reason);
    out->chosen = in->chosen;
    out->kernels = caps->cpu_kernels ? DSVK_KERNELS_CPU : DSVK_KERNELS_GPU;
    if (in->usable)
        device_caps(caps, &out->caps);
}

/* Lists into a heap array of `max` entries (rt_device_info is ~1 KiB). */
static dsvk_status list_rt(const rt_device_desc *rt, rt_device_info **out,
                           uint32_t max, uint32_t *count, char *err,
                           size_t err_size)
{
    *out = calloc(max ? max : 1, sizeof **out);
    if (!*out)
        return api_write_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory listing devices");
    char line[API_ERROR_SIZE] = "";
    dsvk_status status =
        rt_list_devices(rt, *out, max, count, line, sizeof line);
    if (status != DSVK_OK)
        api_write_line(err, err_size, status, "%s", line);
    return status;
}

dsvk_status dsvk_list_devices(const dsvk_context_desc *desc,
                              dsvk_device_info *out, uint32_t capacity,
                              uint32_t *count, char *err, size_t err_size)
{
    rt_device_desc rt;
    *count = 0;
    if (err && err_size)
        err[0] = '\0';
    dsvk_status status = to_rt_desc(desc, &rt, err, err_size);
    if (status != DSVK_OK)
        return status;
    rt_device_info *infos;
    status = list_rt(&rt, &infos, capacity, count, err, err_size);
    /* Devices that cannot be used are listed too (with the reason): a
     * machine whose only GPU is too old should say so, not "no device".
     * err keeps why none is chosen. */
    if (status == DSVK_OK || status == DSVK_ERROR_NO_DEVICE)
        for (uint32_t i = 0; i < *count && i < capacity; i++)
            api_device_info(&infos[i], &out[i]);
    free(infos);
    return status == DSVK_ERROR_NO_DEVICE ? DSVK_OK : status;
}

dsvk_status dsvk_context_create(const dsvk_context_desc *desc,
                                dsvk_context **out, char *err, size_t err_size)
{
    *out = NULL;
    rt_device_desc rt;
    dsvk_status status = to_rt_desc(desc, &rt, err, err_size);
    if (status != DSVK_OK)
        return status;
    dsvk_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return api_write_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory creating a context");
    if (!api_lock_init(&ctx->lock)) {
        free(ctx);
        return api_write_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "cannot create the context's lock");
    }
    char line[API_ERROR_SIZE] = "";
    status = rt_device_create(&rt, &ctx->dev, line, sizeof line);
    if (status != DSVK_OK) {
        api_write_line(err, err_size, status, "%s", line);
        dsvk_context_destroy(ctx);
        return status;
    }
    *out = ctx;
    return DSVK_OK;
}

void dsvk_context_destroy(dsvk_context *ctx)
{
    if (!ctx)
        return;
    rt_device_destroy(ctx->dev);
    api_lock_destroy(&ctx->lock);
#ifdef DSVK_LEAK_CONTROL
    if (ctx->leak_on_destroy)
        return;
#endif
    free(ctx);
}

#ifdef DSVK_LEAK_CONTROL
void api_leak_context_on_destroy(dsvk_context *ctx)
{
    ctx->leak_on_destroy = true;
}
#endif

const char *dsvk_context_error(const dsvk_context *ctx)
{
    return ctx->error;
}

void dsvk_context_device(const dsvk_context *ctx, dsvk_device_info *out)
{
    rt_device_info info = {
        .caps = *rt_device_caps(ctx->dev), .usable = true, .chosen = true};
    api_device_info(&info, out);
    out->index = rt_device_index(ctx->dev);
}

bool dsvk_context_validation_active(const dsvk_context *ctx)
{
    return rt_device_validation_active(ctx->dev);
}

uint32_t dsvk_context_validation_messages(const dsvk_context *ctx)
{
    return rt_device_validation_messages(ctx->dev);
}

uint64_t dsvk_context_memory_used(const dsvk_context *ctx)
{
    dsvk_context *locked = (dsvk_context *)ctx;
    api_lock(locked);
    const uint64_t used = rt_memory_in_use(ctx->dev);
    api_unlock(locked);
    return used;
}
