/* The device: Vulkan loaded at run time through volk, instance (with the
 * validation layer when asked), device choice, VkDevice with every optional
 * feature the (possibly emulated) capabilities allow, compute queue. */
#include "device_private.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_MAX_PHYSICAL_DEVICES 16

static const char validation_layer[] = "VK_LAYER_KHRONOS_validation";

void rt_device_log(rt_device *dev, const char *message)
{
    if (dev->desc.log)
        dev->desc.log(dev->desc.log_user, message);
}

dsvk_status rt_fail(rt_device *dev, dsvk_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(dev->error, sizeof dev->error, fmt, args);
    va_end(args);
    return status;
}

static dsvk_status status_of(VkResult result)
{
    switch (result) {
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
        return DSVK_ERROR_OUT_OF_DEVICE_MEMORY;
    case VK_ERROR_OUT_OF_HOST_MEMORY:
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    default:
        return DSVK_ERROR_VULKAN;
    }
}

dsvk_status rt_fail_vk(rt_device *dev, const char *call, VkResult result)
{
    return rt_fail(dev, status_of(result), "%s failed: %s", call,
                   rt_vk_result_string(result));
}

/* Failures before the device exists go to the caller's err buffer. */
static dsvk_status fail_line(char *err, size_t err_size, dsvk_status status,
                             const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dsvk_status fail_line(char *err, size_t err_size, dsvk_status status,
                             const char *fmt, ...)
{
    if (err && err_size) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err, err_size, fmt, args);
        va_end(args);
    }
    return status;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity,
    VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    (void)types;
    rt_device *dev = user;
    atomic_fetch_add(&dev->validation_messages, 1);
    char line[2048];
    snprintf(line, sizeof line, "validation %s: %s",
             severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT
                 ? "error"
                 : "warning",
             data->pMessage);
    rt_device_log(dev, line);
    return VK_FALSE; /* never abort the call that triggered the message */
}

static bool layer_installed(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkLayerProperties *layers = calloc(n, sizeof *layers);
    bool found = false;
    if (layers && vkEnumerateInstanceLayerProperties(&n, layers) >= 0)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(layers[i].layerName, name) == 0;
    free(layers);
    return found;
}

static bool instance_extension(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS)
        return false;
    VkExtensionProperties *exts = calloc(n ? n : 1, sizeof *exts);
    bool found = false;
    if (exts && vkEnumerateInstanceExtensionProperties(NULL, &n, exts) >= 0)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(exts[i].extensionName, name) == 0;
    free(exts);
    return found;
}

/* Loads the Vulkan loader and creates an instance. `dev` is NULL when only
 * listing devices; otherwise validation is set up on it as desc asks. */
static dsvk_status open_instance(rt_device *dev, bool validation,
                                 VkInstance *out, char *err, size_t err_size)
{
    if (volkInitialize() != VK_SUCCESS)
        return fail_line(err, err_size, DSVK_ERROR_NO_VULKAN,
                         "no Vulkan loader (libvulkan.so.1) found; install "
                         "a Vulkan driver");
    if (volkGetInstanceVersion() < VK_API_VERSION_1_1)
        return fail_line(err, err_size, DSVK_ERROR_NO_VULKAN,
                         "the Vulkan loader is too old (Vulkan 1.0); dsvk "
                         "needs 1.2");

    const char *extensions[2];
    uint32_t n_extensions = 0;
    VkInstanceCreateFlags flags = 0;
    /* MoltenVK's devices are listed only when the app opts in. */
    if (instance_extension(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        extensions[n_extensions++] =
            VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    const char *layers[1] = {validation_layer};
    bool use_layer = validation && layer_installed(validation_layer);
    if (validation && !use_layer)
        /* Not "validation ...": that prefix marks the layer's own
         * messages, which the tests count as failures. */
        rt_device_log(dev, "VK_LAYER_KHRONOS_validation is not installed: "
                           "running without the validation asked for");
    VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation_message,
        .pUserData = dev};
    if (use_layer)
        extensions[n_extensions++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "dsvk",
        .pEngineName = "dsvk",
        /* 1.2 plus extensions: the baseline every supported device meets. */
        .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        /* Also catches messages from vkCreate/DestroyInstance themselves. */
        .pNext = use_layer ? &messenger_info : NULL,
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledLayerCount = use_layer ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = n_extensions,
        .ppEnabledExtensionNames = extensions};
    VkResult result = vkCreateInstance(&info, NULL, out);
    if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
        return fail_line(err, err_size, DSVK_ERROR_NO_VULKAN,
                         "no Vulkan 1.2 driver installed (vkCreateInstance: "
                         "VK_ERROR_INCOMPATIBLE_DRIVER)");
    if (result != VK_SUCCESS)
        return fail_line(err, err_size, status_of(result),
                         "vkCreateInstance failed: %s",
                         rt_vk_result_string(result));
    /* volk keeps instance-level functions in process-wide pointers; they are
     * the loader's trampolines, valid for every instance, so creating a
     * second device does not invalidate the first. */
    volkLoadInstanceOnly(*out);

    if (use_layer) {
        result = vkCreateDebugUtilsMessengerEXT(*out, &messenger_info, NULL,
                                                &dev->messenger);
        if (result != VK_SUCCESS) {
            vkDestroyInstance(*out, NULL);
            *out = VK_NULL_HANDLE;
            return fail_line(err, err_size, status_of(result),
                             "vkCreateDebugUtilsMessengerEXT failed: %s",
                             rt_vk_result_string(result));
        }
        dev->validation_active = true;
    }
    return DSVK_OK;
}

static int type_rank(VkPhysicalDeviceType type)
{
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return 1;
    default:
        return 0;
    }
}

/* Every physical device with its probed caps and the one to use. */
typedef struct device_survey {
    VkPhysicalDevice physical[RT_MAX_PHYSICAL_DEVICES];
    rt_device_info info[RT_MAX_PHYSICAL_DEVICES];
    uint32_t queue_family[RT_MAX_PHYSICAL_DEVICES];
    uint32_t timestamp_bits[RT_MAX_PHYSICAL_DEVICES];
    uint32_t count;
    int chosen; /* -1 when none */
} device_survey;

static dsvk_status survey_devices(VkInstance instance,
                                  const rt_device_desc *desc,
                                  device_survey *survey, char *err,
                                  size_t err_size)
{
    uint32_t count = RT_MAX_PHYSICAL_DEVICES;
    VkResult result =
        vkEnumeratePhysicalDevices(instance, &count, survey->physical);
    if (result < 0)
        return fail_line(err, err_size, status_of(result),
                         "vkEnumeratePhysicalDevices failed: %s",
                         rt_vk_result_string(result));
    if (count == 0)
        return fail_line(err, err_size, DSVK_ERROR_NO_VULKAN,
                         "no Vulkan device found (is a driver installed?)");
    survey->count = count;
    survey->chosen = -1;
    for (uint32_t i = 0; i < count; i++) {
        rt_device_info *info = &survey->info[i];
        const char *why = NULL;
        info->index = i;
        info->usable = rt_caps_probe(survey->physical[i], desc, &info->caps,
                                     &survey->queue_family[i],
                                     &survey->timestamp_bits[i], &why);
        info->unusable_reason = info->usable ? NULL : why;
        info->chosen = false;
        bool better = survey->chosen < 0 ||
                      type_rank(info->caps.type) >
                          type_rank(survey->info[survey->chosen].caps.type);
        if (info->usable && desc->device_index < 0 && better)
            survey->chosen = (int)i;
    }
    if (desc->device_index >= 0) {
        if ((uint32_t)desc->device_index >= count)
            return fail_line(err, err_size, DSVK_ERROR_NO_DEVICE,
                             "no Vulkan device %d (found %u, numbered from 0)",
                             desc->device_index, count);
        const rt_device_info *info = &survey->info[desc->device_index];
        if (!info->usable)
            return fail_line(err, err_size, DSVK_ERROR_NO_DEVICE,
                             "Vulkan device %d (%s) cannot be used: %s",
                             desc->device_index, info->caps.name,
                             info->unusable_reason);
        survey->chosen = desc->device_index;
    }
    if (survey->chosen < 0)
        return fail_line(err, err_size, DSVK_ERROR_NO_DEVICE,
                         "no Vulkan device supports Vulkan 1.2 compute (%s: "
                         "%s)",
                         survey->info[0].caps.name,
                         survey->info[0].unusable_reason);
    survey->info[survey->chosen].chosen = true;
    return DSVK_OK;
}

dsvk_status rt_list_devices(const rt_device_desc *desc, rt_device_info *out,
                            uint32_t max, uint32_t *count, char *err,
                            size_t err_size)
{
    static const rt_device_desc defaults = {.device_index = -1};
    if (!desc)
        desc = &defaults;
    *count = 0;
    VkInstance instance;
    dsvk_status status = open_instance(NULL, false, &instance, err, err_size);
    if (status != DSVK_OK)
        return status;
    device_survey *survey = calloc(1, sizeof *survey);
    if (!survey) {
        vkDestroyInstance(instance, NULL);
        return fail_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                         "out of host memory listing devices");
    }
    status = survey_devices(instance, desc, survey, err, err_size);
    /* An unusable device is still listed: users want to see why. */
    if (status == DSVK_OK || status == DSVK_ERROR_NO_DEVICE) {
        *count = survey->count;
        for (uint32_t i = 0; i < survey->count && i < max; i++)
            out[i] = survey->info[i];
    }
    free(survey);
    vkDestroyInstance(instance, NULL);
    return status;
}

static bool device_extension(VkPhysicalDevice physical, const char *name)
{
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(physical, NULL, &n, NULL);
    VkExtensionProperties *exts = calloc(n ? n : 1, sizeof *exts);
    bool found = false;
    if (exts &&
        vkEnumerateDeviceExtensionProperties(physical, NULL, &n, exts) >= 0)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(exts[i].extensionName, name) == 0;
    free(exts);
    return found;
}

/* Creates the VkDevice with exactly the features rt_caps says are usable:
 * what the emulation profile removed stays disabled, so the validation
 * layer catches any shader that uses it anyway. */
static dsvk_status create_logical_device(rt_device *dev)
{
    const rt_caps *caps = &dev->caps;
    const char *extensions[8];
    uint32_t n_extensions = 0;
    void *chain = NULL;

    VkPhysicalDeviceCooperativeMatrixFeaturesNV coop = {
        .sType =
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
        .cooperativeMatrix = VK_TRUE};
    if (caps->cooperative_matrix) {
        coop.pNext = chain;
        chain = &coop;
        extensions[n_extensions++] = VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
    }
    VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dot = {
        .sType =
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR,
        .shaderIntegerDotProduct = VK_TRUE};
    if (caps->integer_dot_product) {
        dot.pNext = chain;
        chain = &dot;
        extensions[n_extensions++] =
            VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME;
    }
    VkPhysicalDeviceSubgroupSizeControlFeaturesEXT size_control = {
        .sType =
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT,
        .subgroupSizeControl = VK_TRUE};
    if (caps->subgroup_size_control) {
        size_control.pNext = chain;
        chain = &size_control;
        extensions[n_extensions++] =
            VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME;
    }
    if (caps->push_descriptors)
        extensions[n_extensions++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
    /* Required wherever it is offered (MoltenVK). */
    if (device_extension(dev->physical, "VK_KHR_portability_subset"))
        extensions[n_extensions++] = "VK_KHR_portability_subset";

    VkPhysicalDeviceVulkan12Features features12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = chain,
        .shaderFloat16 = caps->shader_float16,
        .shaderInt8 = caps->shader_int8,
        .storageBuffer8BitAccess = caps->storage_8bit,
        .bufferDeviceAddress = caps->buffer_device_address};
    VkPhysicalDeviceVulkan11Features features11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
        .pNext = &features12,
        .storageBuffer16BitAccess = caps->storage_16bit};
    VkPhysicalDeviceFeatures2 features = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &features11,
        .features = {.shaderInt64 = caps->shader_int64}};

    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = dev->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority};
    VkDeviceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                               .pNext = &features,
                               .queueCreateInfoCount = 1,
                               .pQueueCreateInfos = &queue,
                               .enabledExtensionCount = n_extensions,
                               .ppEnabledExtensionNames = extensions};
    VkResult result = vkCreateDevice(dev->physical, &info, NULL, &dev->device);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkCreateDevice", result);
    volkLoadDeviceTable(&dev->vk, dev->device);
    dev->vk.vkGetDeviceQueue(dev->device, dev->queue_family, 0, &dev->queue);
    return DSVK_OK;
}

/* desc.memory_limit: the allocator checks requests against
 * memory_properties, the loaders against caps.heaps, so lowering both makes
 * the limit hold everywhere. */
static void limit_device_memory(rt_device *dev, uint64_t limit)
{
    VkPhysicalDeviceMemoryProperties *props = &dev->memory_properties;
    for (uint32_t i = 0; i < props->memoryHeapCount; i++)
        if ((props->memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            props->memoryHeaps[i].size > limit)
            props->memoryHeaps[i].size = limit;
    for (uint32_t i = 0; i < dev->caps.heap_count; i++)
        if (dev->caps.heaps[i].device_local && dev->caps.heaps[i].size > limit)
            dev->caps.heaps[i].size = limit;
}

static dsvk_status setup_device(rt_device *dev, const rt_device_desc *desc)
{
    dsvk_status status = open_instance(dev, desc->validation, &dev->instance,
                                       dev->error, sizeof dev->error);
    if (status != DSVK_OK)
        return status;
    device_survey *survey = calloc(1, sizeof *survey);
    if (!survey)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory choosing a device");
    status = survey_devices(dev->instance, desc, survey, dev->error,
                            sizeof dev->error);
    if (status == DSVK_OK) {
        dev->physical = survey->physical[survey->chosen];
        dev->physical_index = (uint32_t)survey->chosen;
        dev->caps = survey->info[survey->chosen].caps;
        dev->queue_family = survey->queue_family[survey->chosen];
        dev->timestamp_valid_bits = survey->timestamp_bits[survey->chosen];
    }
    free(survey);
    if (status != DSVK_OK)
        return status;
    vkGetPhysicalDeviceMemoryProperties(dev->physical, &dev->memory_properties);
    if (desc->memory_limit)
        limit_device_memory(dev, desc->memory_limit);
    if ((status = create_logical_device(dev)) != DSVK_OK ||
        (status = rt_allocator_init(dev)) != DSVK_OK ||
        (status = rt_staging_init(dev)) != DSVK_OK ||
        (status = rt_pipeline_set_init(dev)) != DSVK_OK)
        return status;
    return DSVK_OK;
}

dsvk_status rt_device_create(const rt_device_desc *desc, rt_device **out,
                             char *err, size_t err_size)
{
    static const rt_device_desc defaults = {.device_index = -1};
    *out = NULL;
    if (!desc)
        desc = &defaults;
    rt_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return fail_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                         "out of host memory creating the device");
    dev->desc = *desc;
    if (desc->pipeline_cache_dir) {
        dev->cache_dir = strdup(desc->pipeline_cache_dir);
        if (!dev->cache_dir) {
            free(dev);
            return fail_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                             "out of host memory creating the device");
        }
    }
    dev->desc.pipeline_cache_dir = dev->cache_dir;
    dsvk_status status = setup_device(dev, desc);
    if (status != DSVK_OK) {
        fail_line(err, err_size, status, "%s", dev->error);
        rt_device_destroy(dev);
        return status;
    }
    *out = dev;
    return DSVK_OK;
}

void rt_device_destroy(rt_device *dev)
{
    if (!dev)
        return;
    if (dev->device) {
        dev->vk.vkDeviceWaitIdle(dev->device);
        if (dev->pipelines && rt_pipeline_cache_save(dev) != DSVK_OK)
            rt_device_log(dev, dev->error);
        rt_pipeline_set_destroy(dev);
        rt_staging_destroy(dev);
        rt_allocator_destroy(dev);
        dev->vk.vkDestroyDevice(dev->device, NULL);
    }
    if (dev->messenger)
        vkDestroyDebugUtilsMessengerEXT(dev->instance, dev->messenger, NULL);
    if (dev->instance)
        vkDestroyInstance(dev->instance, NULL);
    free(dev->cache_dir);
    free(dev);
}

const rt_caps *rt_device_caps(const rt_device *dev)
{
    return &dev->caps;
}

uint32_t rt_device_index(const rt_device *dev)
{
    return dev->physical_index;
}

const char *rt_device_error(const rt_device *dev)
{
    return dev->error;
}

uint32_t rt_device_validation_messages(const rt_device *dev)
{
    return atomic_load(&dev->validation_messages);
}

bool rt_device_validation_active(const rt_device *dev)
{
    return dev->validation_active;
}
