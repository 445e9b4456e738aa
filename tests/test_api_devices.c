/* Device capabilities through the public API (dsvk_device_caps): every
 * device is listed with its limits and features, the baseline profile
 * lowers each to the weakest conformant Vulkan 1.2 device's and turns every
 * optional feature off, and a context reports the caps of the device it
 * listed as chosen. */
#include "test_api_support.h"
#include "testlib.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEVICES 8

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint32_t list(dsvk_emulation emulation, dsvk_device_info *out)
{
    dsvk_context_desc desc = test_api_desc();
    desc.emulation = emulation;
    uint32_t count = 0;
    char err[256] = "";
    CHECK(dsvk_list_devices(&desc, out, MAX_DEVICES, &count, err, sizeof err) ==
              DSVK_OK,
          "list (%s): %s", dsvk_emulation_name(emulation), err);
    return count < MAX_DEVICES ? count : MAX_DEVICES;
}

/* What a usable device must report whatever its profile. */
static void check_sane(const dsvk_device_info *d)
{
    const dsvk_device_caps *c = &d->caps;
    CHECK(c->min_subgroup_size >= 1 &&
              c->min_subgroup_size <= d->subgroup_size &&
              d->subgroup_size <= c->max_subgroup_size,
          "%s: subgroup sizes %u <= %u <= %u", d->name, c->min_subgroup_size,
          d->subgroup_size, c->max_subgroup_size);
    CHECK(c->max_shared_memory >= 16384 &&
              c->max_workgroup_invocations >= 128 &&
              c->max_storage_buffer_range >= 134217728u,
          "%s: below Vulkan 1.2's minimum limits", d->name);
    CHECK(c->heap_count >= 1 && c->heap_count <= DSVK_MAX_MEMORY_HEAPS,
          "%s: %u heaps", d->name, c->heap_count);
    uint64_t largest_local = 0;
    for (uint32_t h = 0; h < c->heap_count; h++)
        if (c->heaps[h].device_local && c->heaps[h].size > largest_local)
            largest_local = c->heaps[h].size;
    CHECK(largest_local == d->device_memory,
          "%s: largest device-local heap %llu, device_memory %llu", d->name,
          (unsigned long long)largest_local,
          (unsigned long long)d->device_memory);
    CHECK(!c->timestamps || c->timestamp_period_ns > 0,
          "%s: timestamps with period %g", d->name,
          (double)c->timestamp_period_ns);
}

static void check_baseline(const dsvk_device_info *full,
                           const dsvk_device_info *base)
{
    const dsvk_device_caps *f = &full->caps, *b = &base->caps;
    CHECK(b->max_shared_memory == min_u64(f->max_shared_memory, 16384) &&
              b->max_workgroup_invocations ==
                  min_u64(f->max_workgroup_invocations, 128) &&
              b->max_workgroup_size[0] ==
                  min_u64(f->max_workgroup_size[0], 128) &&
              b->max_workgroup_size[2] ==
                  min_u64(f->max_workgroup_size[2], 64) &&
              b->max_storage_buffer_range ==
                  min_u64(f->max_storage_buffer_range, 134217728u) &&
              b->min_storage_buffer_offset_alignment >= 256 &&
              b->max_memory_allocation_size ==
                  min_u64(f->max_memory_allocation_size, 1ull << 30),
          "%s: baseline limits not the spec's minimum", base->name);
    CHECK(!b->subgroup_size_control && !b->subgroup_arithmetic &&
              !b->subgroup_shuffle && !b->shader_float16 && !b->shader_int8 &&
              !b->storage_16bit && !b->storage_8bit &&
              !b->integer_dot_product && !b->cooperative_matrix &&
              !b->buffer_device_address && !b->push_descriptors &&
              !b->timestamps && !base->unified_memory,
          "%s: an optional feature is on under baseline", base->name);
    CHECK(b->min_subgroup_size == base->subgroup_size &&
              b->max_subgroup_size == base->subgroup_size,
          "%s: baseline subgroup range %u-%u", base->name, b->min_subgroup_size,
          b->max_subgroup_size);
    CHECK(b->heap_count == f->heap_count &&
              memcmp(b->heaps, f->heaps, sizeof b->heaps) == 0,
          "%s: the heaps changed under baseline", base->name);
}

/* Returns the suite's exit status. */
static int check_context(const dsvk_device_info *listed, uint32_t count)
{
    const dsvk_context_desc desc = test_api_desc();
    dsvk_context *ctx = test_api_context(&desc);
    dsvk_device_info used;
    dsvk_context_device(ctx, &used);
    const dsvk_device_info *chosen = NULL;
    for (uint32_t i = 0; i < count; i++)
        if (listed[i].chosen)
            chosen = &listed[i];
    CHECK(chosen && used.index == chosen->index &&
              memcmp(&used.caps, &chosen->caps, sizeof used.caps) == 0,
          "the context's device caps differ from the chosen device's");
    printf("context on device %u (%s): shared memory %u, subgroup %u, "
           "%u heap(s)\n",
           used.index, used.name, used.caps.max_shared_memory,
           used.subgroup_size, used.caps.heap_count);
    return test_api_finish(ctx, "api_devices");
}

int main(void)
{
    /* Static: dsvk_device_info is about 1 KiB. */
    static dsvk_device_info full[MAX_DEVICES], base[MAX_DEVICES];
    const uint32_t n = list(DSVK_EMULATION_NONE, full);
    CHECK(list(DSVK_EMULATION_BASELINE, base) == n,
          "the baseline profile lists another number of devices");
    for (uint32_t i = 0; i < n; i++) {
        static const dsvk_device_caps zero;
        if (!full[i].usable) {
            CHECK(memcmp(&full[i].caps, &zero, sizeof zero) == 0,
                  "%s: caps filled for an unusable device", full[i].name);
            continue;
        }
        check_sane(&full[i]);
        check_sane(&base[i]);
        check_baseline(&full[i], &base[i]);
    }
    /* An index past the last lists the devices, chooses none and says why. */
    dsvk_context_desc past = test_api_desc();
    past.device = DSVK_DEVICE_INDEX(n);
    uint32_t count = 0, n_chosen = 0;
    char err[256] = "";
    CHECK(dsvk_list_devices(&past, base, MAX_DEVICES, &count, err,
                            sizeof err) == DSVK_OK &&
              count == n,
          "list with device %u: %s", n, err);
    for (uint32_t i = 0; i < n; i++)
        n_chosen += base[i].chosen;
    CHECK(n_chosen == 0 && strstr(err, "no Vulkan device"),
          "device %u of %u: %u chosen, err '%s'", n, n, n_chosen, err);
    CHECK(list(DSVK_EMULATION_BASELINE, base) == n, "listing again");

    /* The profile the environment asks for decides what the context sees. */
    const dsvk_context_desc env = test_api_desc();
    return check_context(env.emulation == DSVK_EMULATION_BASELINE ? base : full,
                         n);
}
