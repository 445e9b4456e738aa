/* Device memory: round trips of odd sizes at odd offsets (through the
 * staging ring when the host cannot map the memory, as under the baseline
 * profile), many sub-allocations that must not overlap, zeroing, dedicated
 * blocks, and out-of-memory as a clean error. */
#include "memory.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <stdlib.h>
#include <string.h>

static void fill_pattern(uint8_t *data, uint64_t n, uint32_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        data[i] = (uint8_t)((i * 131 + seed * 7919 + (i >> 8)) & 0xff);
}

static void test_round_trips(rt_device *dev)
{
    /* 20 MiB + 3 spans several staging-ring chunks. */
    static const uint64_t sizes[] = {1, 3, 17, 1000, 65537, (20u << 20) + 3};
    static const uint64_t offsets[] = {0, 1, 7, 16};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t size = sizes[s];
        uint8_t *in = malloc(size), *out = malloc(size);
        rt_buffer buf;
        dsvk_status status =
            rt_buffer_create(dev, size, RT_MEMORY_DEVICE, &buf);
        CHECK(status == DSVK_OK, "create %llu: %s", (unsigned long long)size,
              rt_device_error(dev));
        if (status != DSVK_OK)
            return;
        CHECK((buf.mapped != NULL) == rt_device_caps(dev)->unified_memory,
              "device memory is mapped exactly on unified-memory devices");
        for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
            uint64_t offset = offsets[o];
            if (offset >= size)
                continue;
            uint64_t n = size - offset;
            fill_pattern(in, n, (uint32_t)(s * 10 + o));
            memset(out, 0xee, n);
            CHECK(rt_buffer_upload(dev, &buf, offset, in, n) == DSVK_OK,
                  "upload: %s", rt_device_error(dev));
            CHECK(rt_buffer_download(dev, &buf, offset, out, n) == DSVK_OK,
                  "download: %s", rt_device_error(dev));
            CHECK(memcmp(in, out, n) == 0,
                  "round trip of %llu bytes at offset %llu differs",
                  (unsigned long long)n, (unsigned long long)offset);
            /* The last few bytes read back alone. */
            uint64_t k = n < 9 ? n : 9;
            CHECK(rt_buffer_download(dev, &buf, size - k, out, k) == DSVK_OK,
                  "download tail");
            CHECK(memcmp(out, in + n - k, k) == 0, "tail of %llu bytes differs",
                  (unsigned long long)n);
        }
        rt_buffer_destroy(dev, &buf);
        CHECK(buf.buffer == VK_NULL_HANDLE, "destroy zeroes the handle");
        free(in);
        free(out);
    }
}

typedef struct allocation {
    rt_buffer buf;
    uint32_t seed;
} allocation;

static int by_position(const void *a, const void *b)
{
    const rt_buffer *x = &((const allocation *)a)->buf;
    const rt_buffer *y = &((const allocation *)b)->buf;
    if (x->buffer != y->buffer)
        return (uintptr_t)x->buffer < (uintptr_t)y->buffer ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Every live allocation is aligned, inside no other, and still holds its
 * own bytes. */
static void check_allocations(rt_device *dev, allocation *all, int n)
{
    uint64_t align = rt_device_caps(dev)->min_storage_buffer_offset_alignment;
    allocation *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, all, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_position);
    int overlaps = 0, misaligned = 0, corrupt = 0;
    uint8_t want[5000], got[5000];
    for (int i = 0; i < n; i++) {
        misaligned += sorted[i].buf.offset % align != 0;
        if (i > 0 && sorted[i].buf.buffer == sorted[i - 1].buf.buffer)
            overlaps += sorted[i - 1].buf.offset + sorted[i - 1].buf.size >
                        sorted[i].buf.offset;
        fill_pattern(want, sorted[i].buf.size, sorted[i].seed);
        rt_buffer_download(dev, &sorted[i].buf, 0, got, sorted[i].buf.size);
        corrupt += memcmp(want, got, sorted[i].buf.size) != 0;
    }
    CHECK(overlaps == 0, "%d overlapping allocations", overlaps);
    CHECK(misaligned == 0, "%d misaligned allocations", misaligned);
    CHECK(corrupt == 0, "%d allocations lost their contents", corrupt);
    free(sorted);
}

static void allocate(rt_device *dev, allocation *a, test_rng *rng,
                     uint32_t seed)
{
    uint64_t size = 1 + (uint64_t)test_rng_uniform(rng, 0, 4999);
    uint8_t data[5000];
    CHECK(rt_buffer_create(dev, size, RT_MEMORY_DEVICE, &a->buf) == DSVK_OK,
          "create: %s", rt_device_error(dev));
    a->seed = seed;
    fill_pattern(data, size, seed);
    CHECK(rt_buffer_upload(dev, &a->buf, 0, data, size) == DSVK_OK,
          "upload: %s", rt_device_error(dev));
}

static void test_many_suballocations(rt_device *dev)
{
    enum { N = 400 };
    static allocation all[N];
    test_rng rng = test_rng_seed(7);
    uint64_t before = rt_memory_in_use(dev);
    for (int i = 0; i < N; i++)
        allocate(dev, &all[i], &rng, (uint32_t)i);
    check_allocations(dev, all, N);
    /* 400 buffers of at most ~5 KB fit in one block. */
    CHECK(rt_memory_in_use(dev) - before <= (64u << 20),
          "small buffers share blocks: %llu bytes in use",
          (unsigned long long)(rt_memory_in_use(dev) - before));
    /* Free every other one, refill the holes, check again. */
    for (int i = 0; i < N; i += 2)
        rt_buffer_destroy(dev, &all[i].buf);
    for (int i = 0; i < N; i += 2)
        allocate(dev, &all[i], &rng, (uint32_t)(N + i));
    check_allocations(dev, all, N);
    for (int i = 0; i < N; i++)
        rt_buffer_destroy(dev, &all[i].buf);
}

static void test_dedicated_block(rt_device *dev)
{
    uint64_t before = rt_memory_in_use(dev);
    rt_buffer big;
    uint64_t size = 40u << 20;
    CHECK(rt_buffer_create(dev, size, RT_MEMORY_DEVICE, &big) == DSVK_OK,
          "create 40 MiB: %s", rt_device_error(dev));
    CHECK(rt_memory_in_use(dev) >= before + size, "in use %llu after 40 MiB",
          (unsigned long long)rt_memory_in_use(dev));
    uint32_t last = 0xdeadbeef, got = 0;
    rt_buffer_upload(dev, &big, size - 4, &last, 4);
    rt_buffer_download(dev, &big, size - 4, &got, 4);
    CHECK(got == last, "last word of a large buffer: %x", got);
    rt_buffer_destroy(dev, &big);
    CHECK(rt_memory_in_use(dev) == before, "dedicated block released");
}

static void test_zero(rt_device *dev)
{
    /* Odd sizes side by side: zeroing one must not touch its neighbour. */
    rt_buffer a, b;
    uint8_t data[301], out[301];
    CHECK(rt_buffer_create(dev, 301, RT_MEMORY_DEVICE, &a) == DSVK_OK &&
              rt_buffer_create(dev, 301, RT_MEMORY_DEVICE, &b) == DSVK_OK,
          "create");
    memset(data, 0x5a, sizeof data);
    rt_buffer_upload(dev, &a, 0, data, sizeof data);
    rt_buffer_upload(dev, &b, 0, data, sizeof data);
    CHECK(rt_buffer_zero(dev, &a) == DSVK_OK, "zero: %s", rt_device_error(dev));
    rt_buffer_download(dev, &a, 0, out, sizeof out);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof out; i++)
        nonzero += out[i] != 0;
    CHECK(nonzero == 0, "%d bytes not zeroed", nonzero);
    rt_buffer_download(dev, &b, 0, out, sizeof out);
    CHECK(memcmp(out, data, sizeof out) == 0, "neighbour changed by zero");
    rt_buffer_destroy(dev, &a);
    rt_buffer_destroy(dev, &b);
}

static void test_readback(rt_device *dev)
{
    rt_buffer r;
    CHECK(rt_buffer_create(dev, 12, RT_MEMORY_READBACK, &r) == DSVK_OK,
          "create readback: %s", rt_device_error(dev));
    CHECK(r.mapped != NULL, "readback memory is mapped");
    uint8_t in[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out[12] = {0};
    rt_buffer_upload(dev, &r, 0, in, sizeof in);
    CHECK(r.mapped && memcmp(r.mapped, in, sizeof in) == 0,
          "readback upload is visible through the mapping");
    rt_buffer_download(dev, &r, 0, out, sizeof out);
    CHECK(memcmp(out, in, sizeof in) == 0, "readback download");
    rt_buffer_destroy(dev, &r);
}

static void test_errors(rt_device *dev)
{
    const rt_caps *caps = rt_device_caps(dev);
    uint64_t largest = 0;
    for (uint32_t i = 0; i < caps->heap_count; i++)
        if (caps->heaps[i].size > largest)
            largest = caps->heaps[i].size;
    rt_buffer buf;
    dsvk_status status =
        rt_buffer_create(dev, largest + (1u << 20), RT_MEMORY_DEVICE, &buf);
    CHECK(status == DSVK_ERROR_OUT_OF_DEVICE_MEMORY,
          "more than the largest heap: %s", dsvk_status_string(status));
    CHECK(strstr(rt_device_error(dev), "needed") &&
              strstr(rt_device_error(dev), "MiB"),
          "readable error: %s", rt_device_error(dev));
    CHECK(buf.buffer == VK_NULL_HANDLE, "no buffer on failure");
    /* Within the heap but above one allocation's limit (the baseline caps it
     * at 1 GiB). */
    if (caps->max_memory_allocation_size + (1u << 20) <= largest) {
        status =
            rt_buffer_create(dev, caps->max_memory_allocation_size + (1u << 20),
                             RT_MEMORY_DEVICE, &buf);
        CHECK(status == DSVK_ERROR_OUT_OF_DEVICE_MEMORY,
              "above maxMemoryAllocationSize: %s", dsvk_status_string(status));
        CHECK(strstr(rt_device_error(dev), "at most") != NULL,
              "readable error: %s", rt_device_error(dev));
    }
    CHECK(rt_buffer_create(dev, 0, RT_MEMORY_DEVICE, &buf) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "empty buffer");
    CHECK(rt_buffer_create(dev, 100, RT_MEMORY_DEVICE, &buf) == DSVK_OK,
          "create");
    uint8_t data[8] = {0};
    CHECK(rt_buffer_upload(dev, &buf, 96, data, 8) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "upload past the end");
    CHECK(rt_buffer_download(dev, &buf, 101, data, 0) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "download past the end");
    rt_buffer_destroy(dev, &buf);
    /* The allocator still works after the failures. */
    CHECK(rt_buffer_create(dev, 1000, RT_MEMORY_DEVICE, &buf) == DSVK_OK,
          "create after failures: %s", rt_device_error(dev));
    rt_buffer_destroy(dev, &buf);
}

int main(void)
{
    rt_device *dev = test_gpu_device();
    test_round_trips(dev);
    test_many_suballocations(dev);
    test_dedicated_block(dev);
    test_zero(dev);
    test_readback(dev);
    test_errors(dev);
    return test_gpu_finish(dev, "runtime memory");
}
