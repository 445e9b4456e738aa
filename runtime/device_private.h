/* The inside of rt_device, shared by the runtime's own files only. Memory and
 * pipeline state live in their files (memory.c, pipeline.c) behind the
 * opaque pointers below, each with an init/destroy pair called by device.c. */
#ifndef DSVK_RUNTIME_DEVICE_PRIVATE_H
#define DSVK_RUNTIME_DEVICE_PRIVATE_H

#include "device.h"
#include "pipeline.h"

typedef struct rt_allocator rt_allocator;
typedef struct rt_pipeline_set rt_pipeline_set;
typedef struct rt_staging rt_staging;

/* How long any wait for the GPU may take before it is reported as a hang. */
#define RT_FENCE_TIMEOUT_NS (60ull * 1000 * 1000 * 1000)

struct rt_device {
    rt_device_desc desc; /* copy; pipeline_cache_dir points at cache_dir */
    char *cache_dir;

    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    bool validation_active;
    /* Written by the messenger callback, which drivers may call from their
     * own threads. */
    _Atomic uint32_t validation_messages;

    VkPhysicalDevice physical;
    uint32_t physical_index; /* in vkEnumeratePhysicalDevices order */
    VkPhysicalDeviceMemoryProperties memory_properties;
    VkDevice device;
    struct VolkDeviceTable vk; /* device functions; never volk's globals */
    VkQueue queue;
    uint32_t queue_family;
    uint32_t timestamp_valid_bits;
    rt_caps caps; /* after emulation: what the runtime may use */

    rt_staging *staging;
    rt_allocator *allocator;
    rt_pipeline_set *pipelines;

    char error[512];
};

/* Capability probing (caps.c): fills `caps` from the physical device, then
 * lowers it to desc's emulation profile and picks desc's kernel class. Also
 * reports the compute queue family chosen and its timestampValidBits. Returns
 * false if the device lacks Vulkan 1.2 or a compute queue (*why says which). */
bool rt_caps_probe(VkPhysicalDevice physical, const rt_device_desc *desc,
                   rt_caps *caps, uint32_t *queue_family,
                   uint32_t *timestamp_valid_bits, const char **why);

/* Passes one line to desc.log, if set. Failures are not logged: they are
 * returned, and the caller decides whether to print them. */
void rt_device_log(rt_device *dev, const char *message);

dsvk_status rt_allocator_init(rt_device *dev);
void rt_allocator_destroy(rt_device *dev);

dsvk_status rt_pipeline_set_init(rt_device *dev);
void rt_pipeline_set_destroy(rt_device *dev);
/* The shared layouts every pipeline and recorder uses. */
VkPipelineLayout rt_pipeline_layout(const rt_device *dev);
VkDescriptorSetLayout rt_descriptor_set_layout(const rt_device *dev);
VkPipeline rt_pipeline_handle(const rt_pipeline *pipeline);

/* Transfers outside any recorder (staging.c), each waiting until done:
 * through a host-visible staging ring for memory the host cannot map, and
 * vkCmdFillBuffer for zeroing. */
dsvk_status rt_staging_init(rt_device *dev);
void rt_staging_destroy(rt_device *dev);
dsvk_status rt_staging_upload(rt_device *dev, VkBuffer dst, uint64_t offset,
                              const void *src, uint64_t size);
dsvk_status rt_staging_download(rt_device *dev, VkBuffer src, uint64_t offset,
                                void *dst, uint64_t size);
dsvk_status rt_staging_fill_zero(rt_device *dev, VkBuffer dst, uint64_t offset,
                                 uint64_t size);

#endif
