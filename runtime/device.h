/* The Vulkan device: instance, chosen physical device, VkDevice, compute
 * queue, device function table, probed capabilities. Everything else in
 * runtime/ borrows an rt_device. Only runtime/ includes Vulkan headers.
 * Threads: a device and everything made from it (buffers, pipelines,
 * recorders) is used by one thread at a time. */
#ifndef DSVK_RUNTIME_DEVICE_H
#define DSVK_RUNTIME_DEVICE_H

#include "dsvk.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <volk.h>

#define RT_MAX_HEAPS 16

/* Weak-device profiles: the runtime pretends the device is weaker than it is
 * so fallback paths run in tests on a strong device (DESIGN.md §4). */
typedef enum rt_emulation {
    RT_EMULATE_NONE = 0,
    /* Weakest conformant Vulkan 1.2 compute device: no optional features,
     * 16 KiB shared memory, 128-invocation workgroups, 128 MiB
     * maxStorageBufferRange. */
    RT_EMULATE_BASELINE,
} rt_emulation;

/* "none" / "baseline": the names DSVK_EMULATE and the CLI use. Returns
 * false for an unknown name. */
bool rt_emulation_from_name(const char *name, rt_emulation *out);
const char *rt_emulation_name(rt_emulation emulate);

/* The matrix-vector kernels' shape (dsvk_kernel_class). */
typedef enum rt_kernel_class {
    RT_KERNELS_AUTO = 0, /* CPU class on CPU-type devices */
    RT_KERNELS_GPU,
    RT_KERNELS_CPU,
} rt_kernel_class;

/* "auto" / "gpu" / "cpu": the names DSVK_KERNELS and the CLI use. */
bool rt_kernel_class_from_name(const char *name, rt_kernel_class *out);
const char *rt_kernel_class_name(rt_kernel_class kernels);

typedef void (*rt_log_fn)(void *user, const char *message);

typedef struct rt_device_desc {
    int device_index; /* -1: best (discrete > integrated > CPU) */
    rt_emulation emulate;
    rt_kernel_class kernels;
    bool validation;                /* enable VK_LAYER_KHRONOS_validation; any
                                       message it reports is counted as an error */
    const char *pipeline_cache_dir; /* NULL: no on-disk pipeline cache */
    rt_log_fn log;                  /* NULL: silent. Validation-layer messages
                                       arrive as "validation error: ..." or
                                       "validation warning: ..." */
    void *log_user;
    /* When non-zero, every device-local heap counts as at most this many
     * bytes: the allocator and the memory checks before loading then treat
     * it as the device's memory (an application sharing a GPU, tests of
     * running out of device memory). */
    uint64_t memory_limit;
} rt_device_desc;

typedef struct rt_heap {
    uint64_t size;
    bool device_local;
} rt_heap;

/* What the device can do, after the emulation profile has been applied. */
typedef struct rt_caps {
    char name[256];
    char driver_name[256];
    char driver_info[256];
    uint32_t vendor_id, device_id;
    uint32_t api_version, driver_version;
    VkPhysicalDeviceType type;

    uint32_t subgroup_size; /* default size */
    uint32_t min_subgroup_size, max_subgroup_size;
    bool subgroup_size_control; /* VK_EXT_subgroup_size_control usable */
    bool subgroup_arithmetic;   /* subgroupAdd/Max in compute */
    bool subgroup_shuffle;
    /* The products use the CPU-class kernels (shaders/product_rows.glsl). */
    bool cpu_kernels;

    uint32_t max_shared_memory; /* bytes */
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_count[3];
    uint64_t max_storage_buffer_range; /* bytes one descriptor may cover */
    uint64_t min_storage_buffer_offset_alignment;
    uint64_t max_uniform_buffer_range;
    uint64_t min_uniform_buffer_offset_alignment;
    uint32_t max_push_constants_size;
    uint32_t max_memory_allocation_count;
    uint64_t max_memory_allocation_size;

    rt_heap heaps[RT_MAX_HEAPS];
    uint32_t heap_count;
    bool unified_memory; /* device-local memory is host-visible */

    bool shader_float16;
    bool shader_int64;
    bool shader_int8;
    bool storage_16bit;
    bool storage_8bit;
    bool integer_dot_product;
    bool cooperative_matrix;
    bool buffer_device_address;
    bool push_descriptors;
    bool timestamps; /* compute queue supports timestamps */
    float timestamp_period_ns;
} rt_caps;

typedef struct rt_device rt_device;

/* One entry of rt_list_devices(). */
typedef struct rt_device_info {
    uint32_t index;
    rt_caps caps; /* partly filled (name, type, API) when not usable */
    bool usable;  /* Vulkan 1.2 with a compute queue */
    const char *unusable_reason; /* static text when !usable, else NULL */
    bool chosen; /* the one rt_device_create would pick with this desc */
} rt_device_info;

/* Lists physical devices without creating a VkDevice. Fills up to `max`
 * entries, sets *count to the number available. err receives one readable
 * line on failure. */
dsvk_status rt_list_devices(const rt_device_desc *desc, rt_device_info *out,
                            uint32_t max, uint32_t *count, char *err,
                            size_t err_size);

/* Creates the device. On failure *out is NULL and err holds one line naming
 * the failed call and its VkResult. */
dsvk_status rt_device_create(const rt_device_desc *desc, rt_device **out,
                             char *err, size_t err_size);
void rt_device_destroy(rt_device *dev); /* accepts NULL */

const rt_caps *rt_device_caps(const rt_device *dev);
/* Index of the chosen physical device, as rt_list_devices numbers them. */
uint32_t rt_device_index(const rt_device *dev);

/* Last error detail for calls made with this device ("" when none). */
const char *rt_device_error(const rt_device *dev);

/* Number of validation-layer messages (errors and warnings) seen so far. */
uint32_t rt_device_validation_messages(const rt_device *dev);

/* Whether desc.validation took effect. When the layer is not installed,
 * rt_device_create still succeeds (and says so through desc.log); callers
 * that require validation check this. */
bool rt_device_validation_active(const rt_device *dev);

/* Records a failure on the device: formats the detail into the device's
 * error string and returns `status`, so callers can `return rt_fail(...)`. */
dsvk_status rt_fail(rt_device *dev, dsvk_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same for a failed Vulkan call: "vkFoo failed: VK_ERROR_...". Maps
 * VK_ERROR_OUT_OF_DEVICE_MEMORY to DSVK_ERROR_OUT_OF_DEVICE_MEMORY. */
dsvk_status rt_fail_vk(rt_device *dev, const char *call, VkResult result);

const char *rt_vk_result_string(VkResult result);

#endif
