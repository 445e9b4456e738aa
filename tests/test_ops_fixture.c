#include "test_ops_fixture.h"

#include "model/dequant.h"
#include "model/half.h"
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

/* The 4-6-bit block types get random blocks rather than quantized values:
 * every quant, 5th/6th-bit and scale/min bit pattern then occurs, where
 * values quantized from smooth data would leave most of the K-quants'
 * 6-bit scales near their maximum. Only the f16 fields are chosen: finite
 * scales sized so that decoded values stay within about [-2, 2]. */
typedef struct random_block_type {
    uint32_t type, elements, bytes;
    uint32_t d_at; /* byte offset of the f16 scale d */
    float d_max;   /* |d| drawn from [d_max / 2, d_max] */
    bool d_signed; /* d may be negative (K-quant d, dmin are not) */
    int32_t m_at;  /* f16 min (Q4_1/Q5_1 m, Q4_K/Q5_K dmin); -1: none */
    float m_max;
} random_block_type;

static const random_block_type random_block_types[] = {
    {DSVK_TYPE_Q4_0, 32, 18, 0, 1.0f / 8, true, -1, 0},
    {DSVK_TYPE_Q4_1, 32, 20, 0, 1.0f / 15, true, 2, 1},
    {DSVK_TYPE_Q5_0, 32, 22, 0, 1.0f / 16, true, -1, 0},
    {DSVK_TYPE_Q5_1, 32, 24, 0, 1.0f / 31, true, 2, 1},
    {DSVK_TYPE_Q4_K, 256, 144, 0, 1.0f / (63 * 15), false, 2, 1.0f / 63},
    {DSVK_TYPE_Q5_K, 256, 176, 0, 1.0f / (63 * 31), false, 2, 1.0f / 63},
    {DSVK_TYPE_Q6_K, 256, 210, 208, 1.0f / (128 * 32), true, -1, 0},
};

static void put_half(uint8_t *at, float v)
{
    uint16_t h = f32_to_half(v);
    at[0] = (uint8_t)h;
    at[1] = (uint8_t)(h >> 8);
}

/* Fills one row with random blocks; false for types not listed above. */
static bool random_blocks(test_rng *rng, uint32_t type, uint32_t cols,
                          uint8_t *row)
{
    const random_block_type *t = NULL;
    for (size_t i = 0; i < sizeof random_block_types / sizeof *t; i++)
        if (random_block_types[i].type == type)
            t = &random_block_types[i];
    if (!t)
        return false;
    for (uint32_t b = 0; b < cols / t->elements; b++) {
        uint8_t *block = row + (size_t)b * t->bytes;
        for (uint32_t i = 0; i < t->bytes; i++)
            block[i] = (uint8_t)test_rng_uniform(rng, 0, 256);
        float d = test_rng_uniform(rng, 0.5f, 1) * t->d_max;
        if (t->d_signed && test_rng_uniform(rng, -1, 1) < 0)
            d = -d;
        put_half(block + t->d_at, d);
        if (t->m_at >= 0)
            put_half(block + t->m_at,
                     test_rng_uniform(rng, t->d_signed ? -1 : 0, 1) * t->m_max);
    }
    return true;
}

/* Random rows of `type` into bytes, their stored values into decoded. */
static void fill_weight(test_rng *rng, uint32_t type, size_t n_rows,
                        uint32_t cols, uint8_t *bytes, float *decoded)
{
    size_t row_bytes = ref_row_bytes(type, cols);
    float *values = malloc(n_rows * cols * sizeof *values);
    if (!values) {
        fprintf(stderr, "fixture_weight: out of memory\n");
        exit(1);
    }
    test_rng_fill(rng, values, n_rows * cols, -1, 1);
    for (size_t r = 0; r < n_rows; r++) {
        uint8_t *row = bytes + r * row_bytes;
        if (!random_blocks(rng, type, cols, row))
            ref_encode_row(type, values + r * cols, cols, row);
        /* The reference sees what the GPU sees: the stored values. */
        if (!dequant_row(type, row, decoded + r * cols, cols)) {
            fprintf(stderr, "fixture_weight: cannot decode type %u\n", type);
            exit(1);
        }
    }
    free(values);
}

void fixture_weights(ops_fixture *f, test_rng *rng, uint32_t type, uint32_t n,
                     const fixture_shape *shapes, uint64_t lead, rt_weight *out,
                     float **decoded)
{
    uint64_t offset[FIXTURE_MAX_BUFFERS], end = lead;
    for (uint32_t i = 0; i < n; i++) {
        /* Each after the last on a 16-byte boundary, as model loading
         * places weights read together (the first keeps the lead). */
        offset[i] = i == 0 ? lead : (end + 15) / 16 * 16;
        end = offset[i] + (uint64_t)shapes[i].count * shapes[i].rows *
                              rt_weight_row_bytes(type, shapes[i].cols);
    }
    uint8_t *bytes = calloc(end, 1);
    if (!bytes || n > FIXTURE_MAX_BUFFERS) {
        fprintf(stderr, "fixture_weights: out of memory\n");
        exit(1);
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t n_rows = (size_t)shapes[i].count * shapes[i].rows;
        decoded[i] = malloc(n_rows * shapes[i].cols * sizeof **decoded);
        if (!decoded[i]) {
            fprintf(stderr, "fixture_weights: out of memory\n");
            exit(1);
        }
        /* Made in the file's layout, uploaded in the device's, as model
         * loading does. */
        uint8_t *file = malloc(n_rows * ref_row_bytes(type, shapes[i].cols));
        if (!file) {
            fprintf(stderr, "fixture_weights: out of memory\n");
            exit(1);
        }
        fill_weight(rng, type, n_rows, shapes[i].cols, file, decoded[i]);
        rt_weight_pack_rows(type, shapes[i].cols, n_rows, file,
                            bytes + offset[i]);
        free(file);
    }
    const rt_buffer *buf = fixture_buffer(f, bytes, end);
    free(bytes);
    for (uint32_t i = 0; i < n; i++)
        out[i] = (rt_weight){buf,
                             offset[i],
                             type,
                             shapes[i].cols,
                             shapes[i].rows,
                             shapes[i].count,
                             rt_weight_row_bytes(type, shapes[i].cols)};
}

rt_weight fixture_weight(ops_fixture *f, test_rng *rng, uint32_t type,
                         uint32_t count, uint32_t rows, uint32_t cols,
                         uint64_t lead, float **decoded)
{
    const fixture_shape shape = {count, rows, cols};
    rt_weight w;
    fixture_weights(f, rng, type, 1, &shape, lead, &w, decoded);
    return w;
}

uint64_t fixture_unaligned_lead(uint32_t type)
{
    switch (type) {
    case DSVK_TYPE_F32:
    case DSVK_TYPE_Q4_1:
    case DSVK_TYPE_Q5_1:
    case DSVK_TYPE_Q4_K:
    case DSVK_TYPE_Q5_K:
    case DSVK_TYPE_Q6_K:
        return 4;
    default:
        return 2;
    }
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
    case DSVK_TYPE_Q4_0:
        return "q4_0";
    case DSVK_TYPE_Q4_1:
        return "q4_1";
    case DSVK_TYPE_Q5_0:
        return "q5_0";
    case DSVK_TYPE_Q5_1:
        return "q5_1";
    case DSVK_TYPE_Q4_K:
        return "q4_k";
    case DSVK_TYPE_Q5_K:
        return "q5_k";
    case DSVK_TYPE_Q6_K:
        return "q6_k";
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
