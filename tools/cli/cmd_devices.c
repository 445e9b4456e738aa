/* dsvk devices: every Vulkan device and what dsvk may use of it (after the
 * DSVK_EMULATE profile), with the default choice marked. */
#include "commands.h"
#include "common.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEVICES 16

static const char *type_name(dsvk_device_type type)
{
    switch (type) {
    case DSVK_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete GPU";
    case DSVK_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated GPU";
    case DSVK_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual GPU";
    case DSVK_DEVICE_TYPE_CPU:
        return "CPU";
    default:
        return "other";
    }
}

static const char *vendor_name(uint32_t id)
{
    switch (id) {
    case 0x1002:
        return "AMD";
    case 0x10de:
        return "NVIDIA";
    case 0x8086:
        return "Intel";
    case 0x13b5:
        return "ARM";
    case 0x5143:
        return "Qualcomm";
    case 0x106b:
        return "Apple";
    case 0x1010:
        return "Imagination";
    case 0x10005:
        return "Mesa";
    default:
        return "unknown";
    }
}

static const char *yes(bool value)
{
    return value ? "yes" : "no";
}

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* VK_MAKE_API_VERSION's fields, without the Vulkan headers. */
static void print_api_version(uint32_t version)
{
    printf("    Vulkan           %u.%u.%u\n", (version >> 22) & 0x7fu,
           (version >> 12) & 0x3ffu, version & 0xfffu);
}

static void print_device(const dsvk_device_info *info)
{
    const dsvk_device_caps *c = &info->caps;
    printf("%s %u: %s%s\n", info->chosen ? "*" : " ", info->index, info->name,
           info->chosen ? "  (default)" : "");
    printf("    type             %s\n", type_name(info->type));
    printf("    vendor           %s (0x%04x), device 0x%04x\n",
           vendor_name(info->vendor_id), info->vendor_id, info->device_id);
    print_api_version(info->api_version);
    if (!info->usable) {
        printf("    not usable       %s\n", info->unusable_reason);
        return;
    }
    printf("    driver           %s (%s)\n", info->driver_name,
           info->driver_info);
    printf("    subgroup size    %u (%u-%u, size control %s; arithmetic %s, "
           "shuffle %s)\n",
           info->subgroup_size, c->min_subgroup_size, c->max_subgroup_size,
           yes(c->subgroup_size_control), yes(c->subgroup_arithmetic),
           yes(c->subgroup_shuffle));
    printf("    kernels          %s class\n",
           info->kernels == DSVK_KERNELS_CPU ? "CPU" : "GPU");
    printf("    shared memory    %u bytes\n", c->max_shared_memory);
    printf("    workgroup        %u invocations, size %ux%ux%u, count "
           "%ux%ux%u\n",
           c->max_workgroup_invocations, c->max_workgroup_size[0],
           c->max_workgroup_size[1], c->max_workgroup_size[2],
           c->max_workgroup_count[0], c->max_workgroup_count[1],
           c->max_workgroup_count[2]);
    printf("    storage buffer   range %.1f MiB, offset alignment %llu\n",
           mib(c->max_storage_buffer_range),
           (unsigned long long)c->min_storage_buffer_offset_alignment);
    printf("    allocations      at most %u, each up to %.1f MiB\n",
           c->max_memory_allocation_count, mib(c->max_memory_allocation_size));
    for (uint32_t h = 0; h < c->heap_count; h++)
        printf("    heap %-2u          %.1f MiB%s\n", h, mib(c->heaps[h].size),
               c->heaps[h].device_local ? " device-local" : "");
    printf("    unified memory   %s\n", yes(info->unified_memory));
    printf("    shaderFloat16 %s, shaderInt8 %s, 16-bit storage %s, 8-bit "
           "storage %s\n",
           yes(c->shader_float16), yes(c->shader_int8), yes(c->storage_16bit),
           yes(c->storage_8bit));
    printf("    integer dot product %s, cooperative matrix %s, buffer device "
           "address %s\n",
           yes(c->integer_dot_product), yes(c->cooperative_matrix),
           yes(c->buffer_device_address));
    printf("    push descriptors %s, timestamps %s", yes(c->push_descriptors),
           yes(c->timestamps));
    if (c->timestamps)
        printf(" (%.2f ns per tick)", c->timestamp_period_ns);
    printf("\n");
}

int cmd_devices(int argc, char **argv)
{
    dsvk_context_desc desc;
    if (!cli_device_desc(&desc))
        return 1;
    for (int i = 1; i < argc; i++) {
        bool ok;
        if (cli_is_help(argv[i])) {
            printf("usage: dsvk devices [--device N]\n\n"
                   "Lists every Vulkan device with the capabilities dsvk may "
                   "use\n(after DSVK_EMULATE), marking the one it would "
                   "choose with '*'.\n");
            return 0;
        }
        if (cli_device_option(argc, argv, &i, &desc, &ok)) {
            if (!ok)
                return 1;
            continue;
        }
        return cli_error("devices: unknown option '%s'", argv[i]);
    }
    static dsvk_device_info infos[MAX_DEVICES];
    uint32_t count = 0;
    char err[512];
    dsvk_status status =
        dsvk_list_devices(&desc, infos, MAX_DEVICES, &count, err, sizeof err);
    if (status != DSVK_OK && count == 0)
        return cli_error("%s", err);
    if (desc.emulation != DSVK_EMULATION_NONE)
        printf("emulating the '%s' profile: limits and features below are "
               "what dsvk will use\n\n",
               dsvk_emulation_name(desc.emulation));
    for (uint32_t i = 0; i < count && i < MAX_DEVICES; i++) {
        print_device(&infos[i]);
        if (i + 1 < count)
            printf("\n");
    }
    /* Still list the devices when the choice failed, then say why. */
    bool chosen = false;
    for (uint32_t i = 0; i < count && i < MAX_DEVICES; i++)
        chosen = chosen || infos[i].chosen;
    return status == DSVK_OK && chosen ? 0 : cli_error("%s", err);
}
