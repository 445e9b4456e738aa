/* Capability probing: what a physical device can do, and the weaker profile
 * the runtime pretends it has under emulation (DESIGN.md §4). */
#include "device_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_extension(const VkExtensionProperties *exts, uint32_t n,
                          const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(exts[i].extensionName, name) == 0)
            return true;
    return false;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The compute queue: prefer a family that can also time its work. */
static bool choose_queue_family(VkPhysicalDevice physical, uint32_t *family,
                                uint32_t *timestamp_bits)
{
    VkQueueFamilyProperties families[32];
    uint32_t n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &n, families);
    bool found = false;
    for (uint32_t i = 0; i < n; i++) {
        if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT))
            continue;
        bool better = !found || (*timestamp_bits == 0 &&
                                 families[i].timestampValidBits > 0);
        if (better) {
            *family = i;
            *timestamp_bits = families[i].timestampValidBits;
            found = true;
        }
    }
    return found;
}

static void probe_memory(VkPhysicalDevice physical, rt_caps *caps)
{
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(physical, &mem);
    caps->heap_count = min_u32(mem.memoryHeapCount, RT_MAX_HEAPS);
    uint32_t largest_local = UINT32_MAX;
    for (uint32_t i = 0; i < caps->heap_count; i++) {
        caps->heaps[i].size = mem.memoryHeaps[i].size;
        caps->heaps[i].device_local =
            mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
        if (caps->heaps[i].device_local &&
            (largest_local == UINT32_MAX ||
             caps->heaps[i].size > caps->heaps[largest_local].size))
            largest_local = i;
    }
    /* Unified: the main device-local heap is also host-visible and coherent,
     * so weights can be written in place (lavapipe, integrated GPUs; not a
     * discrete GPU's small BAR window, which is a separate, smaller heap). */
    const VkMemoryPropertyFlags unified = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                          VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                          VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    caps->unified_memory = false;
    for (uint32_t i = 0; i < mem.memoryTypeCount; i++)
        if ((mem.memoryTypes[i].propertyFlags & unified) == unified &&
            mem.memoryTypes[i].heapIndex == largest_local)
            caps->unified_memory = true;
}

/* The weakest conformant Vulkan 1.2 compute device: the spec's minimum
 * limits, no optional feature, and memory the host cannot map (so the
 * staging path runs too). */
static void apply_baseline(rt_caps *caps)
{
    caps->subgroup_size_control = false;
    caps->subgroup_arithmetic = false;
    caps->subgroup_shuffle = false;
    caps->min_subgroup_size = caps->max_subgroup_size = caps->subgroup_size;

    caps->max_shared_memory = min_u32(caps->max_shared_memory, 16384);
    caps->max_workgroup_invocations =
        min_u32(caps->max_workgroup_invocations, 128);
    const uint32_t size[3] = {128, 128, 64};
    for (int i = 0; i < 3; i++) {
        caps->max_workgroup_size[i] =
            min_u32(caps->max_workgroup_size[i], size[i]);
        caps->max_workgroup_count[i] =
            min_u32(caps->max_workgroup_count[i], 65535);
    }
    caps->max_storage_buffer_range =
        min_u64(caps->max_storage_buffer_range, 134217728);
    /* 256 is the largest alignment the spec allows a device to demand. */
    if (caps->min_storage_buffer_offset_alignment < 256)
        caps->min_storage_buffer_offset_alignment = 256;
    caps->max_uniform_buffer_range =
        min_u64(caps->max_uniform_buffer_range, 16384);
    if (caps->min_uniform_buffer_offset_alignment < 256)
        caps->min_uniform_buffer_offset_alignment = 256;
    caps->max_push_constants_size = 128;
    caps->max_memory_allocation_count =
        min_u32(caps->max_memory_allocation_count, 4096);
    caps->max_memory_allocation_size =
        min_u64(caps->max_memory_allocation_size, 1ull << 30);
    caps->unified_memory = false;

    caps->shader_float16 = false;
    caps->shader_int64 = false;
    caps->shader_int8 = false;
    caps->storage_16bit = false;
    caps->storage_8bit = false;
    caps->integer_dot_product = false;
    caps->cooperative_matrix = false;
    caps->buffer_device_address = false;
    caps->push_descriptors = false;
    /* Timestamps are optional too (timestampValidBits may be 0). */
    caps->timestamps = false;
}

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

bool rt_caps_probe(VkPhysicalDevice physical, const rt_device_desc *desc,
                   rt_caps *caps, uint32_t *queue_family,
                   uint32_t *timestamp_valid_bits, const char **why)
{
    memset(caps, 0, sizeof *caps);
    VkPhysicalDeviceProperties basic;
    vkGetPhysicalDeviceProperties(physical, &basic);
    copy_name(caps->name, sizeof caps->name, basic.deviceName);
    caps->vendor_id = basic.vendorID;
    caps->device_id = basic.deviceID;
    caps->api_version = basic.apiVersion;
    caps->driver_version = basic.driverVersion;
    caps->type = basic.deviceType;
    caps->cpu_kernels = desc->kernels == RT_KERNELS_CPU ||
                        (desc->kernels == RT_KERNELS_AUTO &&
                         basic.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU);
    if (basic.apiVersion < VK_API_VERSION_1_2) {
        *why = "it supports only Vulkan 1.0/1.1, dsvk needs 1.2";
        return false;
    }
    *timestamp_valid_bits = 0;
    if (!choose_queue_family(physical, queue_family, timestamp_valid_bits)) {
        *why = "it has no compute queue";
        return false;
    }

    uint32_t n_ext = 0;
    vkEnumerateDeviceExtensionProperties(physical, NULL, &n_ext, NULL);
    VkExtensionProperties *exts = calloc(n_ext ? n_ext : 1, sizeof *exts);
    if (!exts) {
        *why = "out of host memory";
        return false;
    }
    vkEnumerateDeviceExtensionProperties(physical, NULL, &n_ext, exts);
    bool has_size_control =
        has_extension(exts, n_ext, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
    bool has_dot = has_extension(
        exts, n_ext, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
    bool has_coop =
        has_extension(exts, n_ext, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
    caps->push_descriptors =
        has_extension(exts, n_ext, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    free(exts);

    /* Properties: structs of extensions the device lacks stay out of the
     * chain (chaining them is invalid usage). */
    VkPhysicalDeviceSubgroupSizeControlPropertiesEXT size_props = {
        .sType =
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
    VkPhysicalDeviceVulkan12Properties props12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES,
        .pNext = has_size_control ? &size_props : NULL};
    VkPhysicalDeviceVulkan11Properties props11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES,
        .pNext = &props12};
    VkPhysicalDeviceProperties2 props = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
        .pNext = &props11};
    vkGetPhysicalDeviceProperties2(physical, &props);

    VkPhysicalDeviceCooperativeMatrixFeaturesNV coop_features = {
        .sType =
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dot_features = {
        .sType =
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR,
        .pNext = has_coop ? &coop_features : NULL};
    VkPhysicalDeviceSubgroupSizeControlFeaturesEXT size_features = {
        .sType =
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT,
        .pNext = has_dot    ? (void *)&dot_features
                 : has_coop ? (void *)&coop_features
                            : NULL};
    VkPhysicalDeviceVulkan12Features features12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = has_size_control ? &size_features : size_features.pNext};
    VkPhysicalDeviceVulkan11Features features11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
        .pNext = &features12};
    VkPhysicalDeviceFeatures2 features = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &features11};
    vkGetPhysicalDeviceFeatures2(physical, &features);

    copy_name(caps->driver_name, sizeof caps->driver_name, props12.driverName);
    copy_name(caps->driver_info, sizeof caps->driver_info, props12.driverInfo);

    caps->subgroup_size = props11.subgroupSize;
    caps->min_subgroup_size = caps->max_subgroup_size = props11.subgroupSize;
    if (has_size_control && size_features.subgroupSizeControl &&
        (size_props.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT)) {
        caps->subgroup_size_control = true;
        caps->min_subgroup_size = size_props.minSubgroupSize;
        caps->max_subgroup_size = size_props.maxSubgroupSize;
    }
    bool compute_subgroups =
        props11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT;
    VkSubgroupFeatureFlags ops = props11.subgroupSupportedOperations;
    caps->subgroup_arithmetic =
        compute_subgroups && (ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    caps->subgroup_shuffle =
        compute_subgroups && (ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);

    const VkPhysicalDeviceLimits *limits = &basic.limits;
    caps->max_shared_memory = limits->maxComputeSharedMemorySize;
    caps->max_workgroup_invocations = limits->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        caps->max_workgroup_size[i] = limits->maxComputeWorkGroupSize[i];
        caps->max_workgroup_count[i] = limits->maxComputeWorkGroupCount[i];
    }
    caps->max_storage_buffer_range = limits->maxStorageBufferRange;
    caps->min_storage_buffer_offset_alignment =
        limits->minStorageBufferOffsetAlignment < 16
            ? 16
            : limits->minStorageBufferOffsetAlignment;
    caps->max_uniform_buffer_range = limits->maxUniformBufferRange;
    caps->min_uniform_buffer_offset_alignment =
        limits->minUniformBufferOffsetAlignment < 16
            ? 16
            : limits->minUniformBufferOffsetAlignment;
    caps->max_push_constants_size = limits->maxPushConstantsSize;
    caps->max_memory_allocation_count = limits->maxMemoryAllocationCount;
    caps->max_memory_allocation_size = props11.maxMemoryAllocationSize;
    probe_memory(physical, caps);

    caps->shader_float16 = features12.shaderFloat16;
    caps->shader_int64 = features.features.shaderInt64;
    caps->shader_int8 = features12.shaderInt8;
    caps->storage_16bit = features11.storageBuffer16BitAccess;
    caps->storage_8bit = features12.storageBuffer8BitAccess;
    caps->integer_dot_product = has_dot && dot_features.shaderIntegerDotProduct;
    caps->cooperative_matrix = has_coop && coop_features.cooperativeMatrix;
    caps->buffer_device_address = features12.bufferDeviceAddress;
    caps->timestamps = *timestamp_valid_bits > 0 && limits->timestampPeriod > 0;
    caps->timestamp_period_ns = limits->timestampPeriod;

    if (desc->emulate == RT_EMULATE_BASELINE)
        apply_baseline(caps);
    return true;
}

bool rt_emulation_from_name(const char *name, rt_emulation *out)
{
    if (strcmp(name, "none") == 0 || strcmp(name, "") == 0)
        *out = RT_EMULATE_NONE;
    else if (strcmp(name, "baseline") == 0)
        *out = RT_EMULATE_BASELINE;
    else
        return false;
    return true;
}

const char *rt_emulation_name(rt_emulation emulate)
{
    return emulate == RT_EMULATE_BASELINE ? "baseline" : "none";
}

static const char *const kernel_class_names[] = {"auto", "gpu", "cpu"};

bool rt_kernel_class_from_name(const char *name, rt_kernel_class *out)
{
    for (int i = RT_KERNELS_AUTO; i <= RT_KERNELS_CPU; i++)
        if (strcmp(name, kernel_class_names[i]) == 0) {
            *out = (rt_kernel_class)i;
            return true;
        }
    return false;
}

const char *rt_kernel_class_name(rt_kernel_class kernels)
{
    return kernels <= RT_KERNELS_CPU ? kernel_class_names[kernels] : NULL;
}
