/* Records a sequence of dispatches into one command buffer, inserting a
 * barrier only where a dispatch touches what an earlier one wrote (or writes
 * what an earlier one read) since the last barrier; one submit, one wait. */
#ifndef DSVK_RUNTIME_RECORDER_H
#define DSVK_RUNTIME_RECORDER_H

#include "../shaders/shared.h"
#include "memory.h"
#include "pipeline.h"

/* A byte range of a buffer bound to one binding. size 0 = to the end of the
 * buffer. offset must be a multiple of minStorageBufferOffsetAlignment and
 * the range at most maxStorageBufferRange. */
typedef struct rt_span {
    const rt_buffer *buffer;
    uint64_t offset;
    uint64_t size;
    bool written; /* the dispatch writes this range (for hazard tracking) */
} rt_span;

typedef struct rt_dispatch {
    rt_pipeline *pipeline;
    rt_span bindings[DSVK_MAX_BINDINGS]; /* binding i = bindings[i] */
    uint32_t n_bindings;
    /* With a buffer: bound at DSVK_UNIFORM_BINDING as a uniform buffer
     * (read only; offset a multiple of minUniformBufferOffsetAlignment,
     * size at most maxUniformBufferRange). */
    rt_span uniform;
    const void *push;   /* push constants, copied at record time */
    uint32_t push_size; /* <= DSVK_PUSH_CONSTANT_BYTES */
    uint32_t groups[3];
    const char *label; /* static string, names the op in GPU timings */
} rt_dispatch;

typedef struct rt_recorder rt_recorder;

typedef struct rt_timing {
    const char *label;
    double microseconds;
} rt_timing;

/* Begins a new command buffer. With `timestamps` set (and supported), each
 * dispatch is timed. The recorder is reusable: begin again after a submit. */
dsvk_status rt_recorder_create(rt_device *dev, rt_recorder **out);
void rt_recorder_destroy(rt_recorder *rec); /* accepts NULL */

dsvk_status rt_recorder_begin(rt_recorder *rec, bool timestamps);
/* Appends a dispatch. Errors are sticky: reported by rt_recorder_submit. */
void rt_record_dispatch(rt_recorder *rec, const rt_dispatch *dispatch);
/* Copies bytes between buffers inside the command buffer. */
void rt_record_copy(rt_recorder *rec, const rt_buffer *src, uint64_t src_offset,
                    const rt_buffer *dst, uint64_t dst_offset, uint64_t size);
/* Ends, submits, waits for completion. Afterwards READBACK buffers hold the
 * results and rt_recorder_timings() the per-dispatch times. */
dsvk_status rt_recorder_submit(rt_recorder *rec);

/* Per-dispatch GPU times of the last submit (empty without timestamps).
 * Each is the time from the end of all earlier work to the end of this
 * dispatch (timing serialises nothing; overlapping work is counted once). */
const rt_timing *rt_recorder_timings(const rt_recorder *rec, uint32_t *count);

/* Pipeline barriers the hazard tracking inserted in the last recording. */
uint32_t rt_recorder_barriers(const rt_recorder *rec);

#endif
