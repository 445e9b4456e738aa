/* What the op tests share: a device with a recorder and an rt_ops on it,
 * GPU buffers made from host data, and random weights in every type with
 * the decoded values the C references use. */
#ifndef DSVK_TEST_OPS_FIXTURE_H
#define DSVK_TEST_OPS_FIXTURE_H

#include "ops.h"
#include "testlib.h"

#define FIXTURE_MAX_BUFFERS 16

typedef struct ops_fixture {
    rt_device *dev;
    rt_recorder *rec;
    rt_ops ops;
    /* Kept here so that rt_weight/rt_view pointers stay valid until
     * fixture_release. */
    rt_buffer buffers[FIXTURE_MAX_BUFFERS];
    uint32_t n_buffers;
    /* Dispatches the last submit timed (0 unless fixture_time_next). */
    uint32_t timed_dispatches;
} ops_fixture;

/* Opens the device from the environment (test_gpu_device: exits 77 when
 * there is none) and begins recording. */
void fixture_open(ops_fixture *f);
/* Releases everything and returns test_gpu_finish's exit code. */
int fixture_close(ops_fixture *f, const char *suite);

/* A device buffer holding `bytes` of data (NULL: zeros). */
const rt_buffer *fixture_buffer(ops_fixture *f, const void *data, size_t bytes);
/* Destroys every buffer made since the last release. */
void fixture_release(ops_fixture *f);

/* Submits what was recorded, waits, and begins recording again. */
bool fixture_submit(ops_fixture *f);
/* Restarts the (still empty) recording with per-dispatch timings, where the
 * device has timestamps. */
void fixture_time_next(ops_fixture *f);
void fixture_read(ops_fixture *f, const rt_buffer *buf, uint64_t offset,
                  void *out, size_t bytes);

/* A random stack of `count` matrices [rows][cols] of `type` (values in
 * [-1, 1); the 4-6-bit block types: random blocks with values within about
 * [-2, 2]), placed `lead` bytes into its buffer to test unaligned starts;
 * *decoded receives the malloc'd f32 values [count][rows][cols] exactly as
 * stored (rounded or quantized). */
rt_weight fixture_weight(ops_fixture *f, test_rng *rng, uint32_t type,
                         uint32_t count, uint32_t rows, uint32_t cols,
                         uint64_t lead, float **decoded);

/* Several random weights of one type in one buffer, the first `lead`
 * bytes in and each next one on the next 16-byte boundary (as model
 * loading places weights that one dispatch reads together); decoded[i] as
 * fixture_weight's. At most FIXTURE_MAX_BUFFERS. */
typedef struct fixture_shape {
    uint32_t count, rows, cols;
} fixture_shape;
void fixture_weights(ops_fixture *f, test_rng *rng, uint32_t type, uint32_t n,
                     const fixture_shape *shapes, uint64_t lead, rt_weight *out,
                     float **decoded);

/* The least-aligned nonzero weight offset the launchers accept for `type`:
 * 4 for F32 and the types with word-sized device blocks (Q4_1, Q5_1, Q4_K,
 * Q5_K, Q6_K), which weights.glsl reads as aligned words; 2 for the
 * others. */
uint64_t fixture_unaligned_lead(uint32_t type);

/* How many dispatches a launcher needs for `rows` weight rows under a
 * binding limit: each binding starts up to alignment - 1 bytes before its
 * first row and ends on a 32-bit word. */
uint32_t fixture_expected_dispatches(ops_fixture *f, uint32_t rows,
                                     uint64_t row_bytes, uint64_t limit);

/* Short name of a weight type for messages. */
const char *fixture_type_name(uint32_t type);

/* Copies a dense [rows][cols] array into a view-shaped host array (element
 * [r][c] at r * stride + c) and back. */
void fixture_scatter(const float *dense, uint32_t rows, uint32_t cols,
                     uint32_t stride, float *strided);
void fixture_gather(const float *strided, uint32_t rows, uint32_t cols,
                    uint32_t stride, float *dense);

#endif
