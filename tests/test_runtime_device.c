/* Device creation and capabilities: limits that every Vulkan 1.2 device
 * guarantees, the baseline profile's exact limits when it is on, device
 * listing, two devices at once, and clean errors. */
#include "memory.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <string.h>

static bool power_of_two(uint64_t v)
{
    return v && (v & (v - 1)) == 0;
}

/* Spec minimums (Vulkan 1.2, "Required Limits"). */
static void test_caps_sane(const rt_caps *c)
{
    CHECK(c->name[0] != '\0', "device has a name");
    CHECK(c->api_version >= VK_API_VERSION_1_2, "Vulkan 1.2: %u.%u",
          VK_API_VERSION_MAJOR(c->api_version),
          VK_API_VERSION_MINOR(c->api_version));
    CHECK(power_of_two(c->subgroup_size), "subgroup size %u", c->subgroup_size);
    CHECK(c->min_subgroup_size <= c->subgroup_size &&
              c->subgroup_size <= c->max_subgroup_size,
          "subgroup range %u..%u around %u", c->min_subgroup_size,
          c->max_subgroup_size, c->subgroup_size);
    CHECK(c->max_shared_memory >= 16384, "shared memory %u",
          c->max_shared_memory);
    CHECK(c->max_workgroup_invocations >= 128, "invocations %u",
          c->max_workgroup_invocations);
    CHECK(c->max_workgroup_size[0] >= 128 && c->max_workgroup_size[1] >= 128 &&
              c->max_workgroup_size[2] >= 64,
          "workgroup size %ux%ux%u", c->max_workgroup_size[0],
          c->max_workgroup_size[1], c->max_workgroup_size[2]);
    CHECK(c->max_workgroup_count[0] >= 65535, "workgroup count %u",
          c->max_workgroup_count[0]);
    CHECK(c->max_storage_buffer_range >= (128u << 20), "storage range %llu",
          (unsigned long long)c->max_storage_buffer_range);
    CHECK(power_of_two(c->min_storage_buffer_offset_alignment) &&
              c->min_storage_buffer_offset_alignment >= 16 &&
              c->min_storage_buffer_offset_alignment <= 256,
          "offset alignment %llu",
          (unsigned long long)c->min_storage_buffer_offset_alignment);
    CHECK(c->max_push_constants_size >= 128, "push constants %u",
          c->max_push_constants_size);
    CHECK(c->max_memory_allocation_size >= (1ull << 30), "max allocation %llu",
          (unsigned long long)c->max_memory_allocation_size);
    bool local = false;
    for (uint32_t i = 0; i < c->heap_count; i++)
        local |= c->heaps[i].device_local && c->heaps[i].size > 0;
    CHECK(c->heap_count >= 1 && local, "a device-local heap among %u",
          c->heap_count);
    if (c->timestamps)
        CHECK(c->timestamp_period_ns > 0, "timestamp period %g",
              c->timestamp_period_ns);
}

static void test_baseline(const rt_caps *c)
{
    CHECK(c->max_shared_memory == 16384, "baseline shared %u",
          c->max_shared_memory);
    CHECK(c->max_workgroup_invocations == 128, "baseline invocations %u",
          c->max_workgroup_invocations);
    CHECK(c->max_workgroup_size[0] == 128 && c->max_workgroup_size[1] == 128 &&
              c->max_workgroup_size[2] == 64,
          "baseline workgroup size");
    CHECK(c->max_storage_buffer_range == 134217728, "baseline range %llu",
          (unsigned long long)c->max_storage_buffer_range);
    CHECK(c->min_storage_buffer_offset_alignment == 256,
          "baseline alignment %llu",
          (unsigned long long)c->min_storage_buffer_offset_alignment);
    CHECK(!c->shader_float16 && !c->shader_int8 && !c->storage_16bit &&
              !c->storage_8bit && !c->integer_dot_product &&
              !c->cooperative_matrix && !c->buffer_device_address &&
              !c->push_descriptors && !c->subgroup_size_control &&
              !c->subgroup_arithmetic && !c->subgroup_shuffle && !c->timestamps,
          "baseline has no optional features");
    CHECK(!c->unified_memory, "baseline memory is not host-mapped");
}

static void test_listing(const rt_device_desc *desc, const rt_caps *used)
{
    rt_device_info infos[16];
    uint32_t count = 0;
    char err[512];
    dsvk_status status =
        rt_list_devices(desc, infos, 16, &count, err, sizeof err);
    CHECK(status == DSVK_OK, "rt_list_devices: %s", err);
    CHECK(count >= 1, "%u devices", count);
    int chosen = 0;
    for (uint32_t i = 0; i < count && i < 16; i++) {
        CHECK(infos[i].index == i, "index %u", infos[i].index);
        CHECK(infos[i].usable == (infos[i].unusable_reason == NULL),
              "a reason exactly when unusable");
        if (!infos[i].chosen)
            continue;
        chosen++;
        /* The listing applies the same emulation as the device. */
        CHECK(strcmp(infos[i].caps.name, used->name) == 0 &&
                  infos[i].caps.max_shared_memory == used->max_shared_memory &&
                  infos[i].caps.push_descriptors == used->push_descriptors,
              "listed default matches the created device");
    }
    CHECK(chosen == 1, "%d devices marked as the default", chosen);
}

static void test_bad_index(rt_device_desc desc)
{
    desc.device_index = 99;
    rt_device *dev = (rt_device *)&desc; /* any non-NULL: must become NULL */
    char err[512] = "";
    dsvk_status status = rt_device_create(&desc, &dev, err, sizeof err);
    CHECK(status == DSVK_ERROR_NO_DEVICE, "device 99: %s",
          dsvk_status_string(status));
    CHECK(dev == NULL, "no device on failure");
    CHECK(strstr(err, "99") != NULL, "error names the index: %s", err);
}

/* volk keeps instance functions globally: a second device (own instance)
 * must not break the first. */
static void test_two_devices(rt_device *first, rt_device_desc desc)
{
    rt_device *second = test_gpu_create(&desc);
    rt_buffer a;
    uint32_t in = 42, out = 0;
    CHECK(rt_buffer_create(second, 4, RT_MEMORY_DEVICE, &a) == DSVK_OK,
          "second device works");
    rt_buffer_destroy(second, &a);
    rt_device_destroy(second);
    CHECK(rt_buffer_create(first, 4, RT_MEMORY_DEVICE, &a) == DSVK_OK &&
              rt_buffer_upload(first, &a, 0, &in, 4) == DSVK_OK &&
              rt_buffer_download(first, &a, 0, &out, 4) == DSVK_OK && out == 42,
          "first device still works: %s", rt_device_error(first));
    rt_buffer_destroy(first, &a);
}

static void test_status_strings(rt_device *dev)
{
    CHECK(strcmp(dsvk_status_string(DSVK_OK), "ok") == 0, "ok");
    CHECK(strcmp(dsvk_status_string(DSVK_ERROR_NO_VULKAN),
                 dsvk_status_string(DSVK_ERROR_NO_DEVICE)) != 0,
          "distinct status strings");
    CHECK(strcmp(rt_vk_result_string(VK_ERROR_DEVICE_LOST),
                 "VK_ERROR_DEVICE_LOST") == 0,
          "VkResult names");
    dsvk_status status =
        rt_fail_vk(dev, "vkExample", VK_ERROR_OUT_OF_DEVICE_MEMORY);
    CHECK(status == DSVK_ERROR_OUT_OF_DEVICE_MEMORY, "OOM maps to OOM");
    CHECK(strcmp(rt_device_error(dev),
                 "vkExample failed: VK_ERROR_OUT_OF_DEVICE_MEMORY") == 0,
          "one readable line: %s", rt_device_error(dev));
    CHECK(rt_fail_vk(dev, "vkExample", VK_ERROR_DEVICE_LOST) ==
              DSVK_ERROR_VULKAN,
          "other errors map to DSVK_ERROR_VULKAN");
}

int main(void)
{
    rt_device_desc desc = test_gpu_desc();
    rt_device *dev = test_gpu_create(&desc);
    const rt_caps *caps = rt_device_caps(dev);
    test_caps_sane(caps);
    if (desc.emulate == RT_EMULATE_BASELINE)
        test_baseline(caps);
    test_listing(&desc, caps);
    test_bad_index(desc);
    test_two_devices(dev, desc);
    test_status_strings(dev);
    return test_gpu_finish(dev, "runtime device");
}
