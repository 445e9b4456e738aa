#include "test_ops_fixture.h"

#include "dequant.h"
#include "ref/ref_ops.h"
#include "testlib_gpu.h"

#include <stdlib.h>
#include <string.h>

static void begin(ops_fixture *f, bool timed)
{
    if (rt_recorder_begin(f->rec, timed) != DSVK_OK) {
        fprintf(stderr, "begin: %s\n", rt_device_error(f->dev));
        exit(1);
    }
}

void fixture_open(ops_fixture *f)
{
    memset(f, 0, sizeof *f);
    f->dev = test_gpu_device();
    if (rt_recorder_create(f->dev, &f->rec) != DSVK_OK) {
        fprintf(stderr, "recorder: %s\n", rt_device_error(f->dev));
        exit(1);
    }
    begin(f, false);
    f->ops = (rt_ops){f->dev, f->rec, 0};
    const rt_caps *caps = rt_device_caps(f->dev);
    printf("reductions: %s (subgroup size %u), binding alignment %llu\n",
           caps->subgroup_arithmetic ? "subgroup arithmetic" : "shared memory",
           caps->subgroup_size,
           (unsigned long long)caps->min_storage_buffer_offset_alignment);
}

int fixture_close(ops_fixture *f, const char *suite)
{
    fixture_release(f);
    rt_recorder_destroy(f->rec);
    return test_gpu_finish(f->dev, suite);
}

const rt_buffer *fixture_buffer(ops_fixture *f, const void *data, size_t bytes)
{
    if (f->n_buffers == FIXTURE_MAX_BUFFERS) {
        fprintf(stderr, "fixture_buffer: more than %d buffers\n",
                FIXTURE_MAX_BUFFERS);
        exit(1);
    }
    rt_buffer *buf = &f->buffers[f->n_buffers++];
    /* Whole 32-bit words, as the launchers require of weight buffers. */
    size_t size = (bytes + 3) & ~(size_t)3;
    dsvk_status status = rt_buffer_create(f->dev, size, RT_MEMORY_DEVICE, buf);
    if (status == DSVK_OK && data)
        status = rt_buffer_upload(f->dev, buf, 0, data, bytes);
    else if (status == DSVK_OK)
        status = rt_buffer_zero(f->dev, buf);
    if (status != DSVK_OK) {
        fprintf(stderr, "fixture_buffer: %s\n", rt_device_error(f->dev));
        exit(1);
    }
    return buf;
}

void fixture_release(ops_fixture *f)
{
    for (uint32_t i = 0; i < f->n_buffers; i++)
        rt_buffer_destroy(f->dev, &f->buffers[i]);
    f->n_buffers = 0;
}

bool fixture_submit(ops_fixture *f)
{
    dsvk_status status = rt_recorder_submit(f->rec);
    CHECK(status == DSVK_OK, "submit: %s", rt_device_error(f->dev));
    rt_recorder_timings(f->rec, &f->timed_dispatches);
    begin(f, false);
    return status == DSVK_OK;
}

void fixture_time_next(ops_fixture *f)
{
    begin(f, true);
}

void fixture_read(ops_fixture *f, const rt_buffer *buf, uint64_t offset,
                  void *out, size_t bytes)
{
    dsvk_status status = rt_buffer_download(f->dev, buf, offset, out, bytes);
    CHECK(status == DSVK_OK, "download: %s", rt_device_error(f->dev));
}

rt_weight fixture_weight(ops_fixture *f, test_rng *rng, uint32_t type,
                         uint32_t count, uint32_t rows, uint32_t cols,
                         uint64_t lead, float **decoded)
{
    size_t row_bytes = ref_row_bytes(type, cols);
    size_t n_rows = (size_t)count * rows;
    uint8_t *bytes = calloc(lead + n_rows * row_bytes, 1);
    float *values = malloc(n_rows * cols * sizeof *values);
    *decoded = malloc(n_rows * cols * sizeof **decoded);
    if (!bytes || !values || !*decoded) {
        fprintf(stderr, "fixture_weight: out of memory\n");
        exit(1);
    }
    test_rng_fill(rng, values, n_rows * cols, -1, 1);
    for (size_t r = 0; r < n_rows; r++) {
        uint8_t *row = bytes + lead + r * row_bytes;
        ref_encode_row(type, values + r * cols, cols, row);
        /* The reference sees what the GPU sees: the stored values. */
        if (!dequant_row(type, row, *decoded + r * cols, cols)) {
            fprintf(stderr, "fixture_weight: cannot decode type %u\n", type);
            exit(1);
        }
    }
    const rt_buffer *buf = fixture_buffer(f, bytes, lead + n_rows * row_bytes);
    free(bytes);
    free(values);
    return (rt_weight){buf, lead, type, cols, rows, count, row_bytes};
}

uint32_t fixture_expected_dispatches(ops_fixture *f, uint32_t rows,
                                     uint64_t row_bytes, uint64_t limit)
{
    uint64_t align =
        rt_device_caps(f->dev)->min_storage_buffer_offset_alignment;
    if (align < 4)
        align = 4;
    uint64_t rows_per_dispatch = (limit - (align - 1) - 3) / row_bytes;
    return (uint32_t)((rows + rows_per_dispatch - 1) / rows_per_dispatch);
}

const char *fixture_type_name(uint32_t type)
{
    switch (type) {
    case DSVK_TYPE_F32:
        return "f32";
    case DSVK_TYPE_F16:
        return "f16";
    case DSVK_TYPE_BF16:
        return "bf16";
    case DSVK_TYPE_Q8_0:
        return "q8_0";
    }
    return "?";
}

void fixture_scatter(const float *dense, uint32_t rows, uint32_t cols,
                     uint32_t stride, float *strided)
{
    for (uint32_t r = 0; r < rows; r++)
        memcpy(strided + (size_t)r * stride, dense + (size_t)r * cols,
               cols * sizeof *dense);
}

void fixture_gather(const float *strided, uint32_t rows, uint32_t cols,
                    uint32_t stride, float *dense)
{
    for (uint32_t r = 0; r < rows; r++)
        memcpy(dense + (size_t)r * cols, strided + (size_t)r * stride,
               cols * sizeof *dense);
}
