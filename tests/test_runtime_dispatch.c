/* Recorder and pipelines: runtime_add.comp on sizes that are not a multiple
 * of the workgroup, barriers exactly where hazards are (and the results they
 * protect), copies, timings, and clean errors for bad input. */
#include "memory.h"
#include "recorder.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WORKGROUP 64

typedef struct add_fixture {
    rt_device *dev;
    rt_pipeline *add;
    rt_recorder *rec;
} add_fixture;

static uint32_t groups_for(uint32_t n)
{
    return (n + WORKGROUP - 1) / WORKGROUP;
}

static rt_span span(const rt_buffer *buf, uint64_t offset, uint64_t size,
                    bool written)
{
    return (rt_span){buf, offset, size, written};
}

/* Records c = a + b over n floats. */
static void record_add(add_fixture *f, rt_span a, rt_span b, rt_span c,
                       uint32_t n, const char *label)
{
    rt_dispatch d = {.pipeline = f->add,
                     .bindings = {a, b, c},
                     .n_bindings = 3,
                     .push = &n,
                     .push_size = sizeof n,
                     .groups = {groups_for(n), 1, 1},
                     .label = label};
    rt_record_dispatch(f->rec, &d);
}

static rt_buffer make_filled(rt_device *dev, const float *data, uint32_t n)
{
    rt_buffer buf;
    dsvk_status status =
        rt_buffer_create(dev, n * sizeof *data, RT_MEMORY_DEVICE, &buf);
    CHECK(status == DSVK_OK, "create: %s", rt_device_error(dev));
    status = rt_buffer_upload(dev, &buf, 0, data, n * sizeof *data);
    CHECK(status == DSVK_OK, "upload: %s", rt_device_error(dev));
    return buf;
}

static void test_add_odd_size(add_fixture *f)
{
    const uint32_t n = 1000; /* 15 full workgroups and a tail of 40 */
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b),
          *c = malloc((n + 1) * sizeof *c);
    test_rng rng = test_rng_seed(1);
    test_rng_fill(&rng, a, n, -1, 1);
    test_rng_fill(&rng, b, n, -1, 1);
    rt_buffer ba = make_filled(f->dev, a, n), bb = make_filled(f->dev, b, n);
    rt_buffer bc;
    /* One float more than n: the shader must not write past n. */
    CHECK(rt_buffer_create(f->dev, (n + 1) * sizeof *c, RT_MEMORY_READBACK,
                           &bc) == DSVK_OK,
          "%s", rt_device_error(f->dev));
    CHECK(bc.mapped != NULL, "readback buffers are mapped");
    float sentinel = 12345.0f;
    rt_buffer_upload(f->dev, &bc, n * sizeof *c, &sentinel, sizeof sentinel);

    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&ba, 0, 0, false), span(&bb, 0, 0, false),
               span(&bc, 0, n * sizeof *c, true), n, "add");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit: %s",
          rt_device_error(f->dev));
    memcpy(c, bc.mapped, (n + 1) * sizeof *c);
    int wrong = 0;
    for (uint32_t i = 0; i < n; i++)
        wrong += c[i] != a[i] + b[i];
    CHECK(wrong == 0, "%d of %u sums wrong", wrong, n);
    CHECK(c[n] == sentinel, "tail overwritten: %g", c[n]);
    rt_buffer_destroy(f->dev, &ba);
    rt_buffer_destroy(f->dev, &bb);
    rt_buffer_destroy(f->dev, &bc);
    free(a);
    free(b);
    free(c);
}

/* x <- x + b sixteen times, ping-ponging between two buffers: every step
 * reads what the previous one wrote (RAW) and overwrites what the one
 * before read (WAR), so each needs a barrier. Integer-valued floats keep the
 * sums exact. */
static void test_dependent_chain(add_fixture *f)
{
    const uint32_t n = 777, steps = 16;
    float *x = malloc(n * sizeof *x), *b = malloc(n * sizeof *b),
          *out = malloc(n * sizeof *out);
    for (uint32_t i = 0; i < n; i++) {
        x[i] = (float)i;
        b[i] = (float)(i % 7) + 1;
    }
    rt_buffer bx = make_filled(f->dev, x, n), bb = make_filled(f->dev, b, n);
    rt_buffer by;
    CHECK(rt_buffer_create(f->dev, n * sizeof *x, RT_MEMORY_DEVICE, &by) ==
              DSVK_OK,
          "%s", rt_device_error(f->dev));
    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    for (uint32_t s = 0; s < steps; s++) {
        const rt_buffer *from = s % 2 ? &by : &bx, *to = s % 2 ? &bx : &by;
        record_add(f, span(from, 0, 0, false), span(&bb, 0, 0, false),
                   span(to, 0, 0, true), n, "chain");
    }
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit: %s",
          rt_device_error(f->dev));
    CHECK(rt_recorder_barriers(f->rec) == steps - 1, "%u barriers, want %u",
          rt_recorder_barriers(f->rec), steps - 1);
    /* An even number of steps ends in bx. */
    CHECK(rt_buffer_download(f->dev, &bx, 0, out, n * sizeof *out) == DSVK_OK,
          "download: %s", rt_device_error(f->dev));
    int wrong = 0;
    for (uint32_t i = 0; i < n; i++)
        wrong += out[i] != x[i] + (float)steps * b[i];
    CHECK(wrong == 0, "%d of %u chained sums wrong", wrong, n);
    rt_buffer_destroy(f->dev, &bx);
    rt_buffer_destroy(f->dev, &by);
    rt_buffer_destroy(f->dev, &bb);
    free(x);
    free(b);
    free(out);
}

/* Barriers only where needed: disjoint writes into one buffer and shared
 * reads need none; a write after a write (WAW) and a write after a read
 * (WAR) of the same range need one each. */
static void test_barrier_placement(add_fixture *f)
{
    const uint32_t n = 100;
    uint64_t align =
        rt_device_caps(f->dev)->min_storage_buffer_offset_alignment;
    uint64_t stride = (n * sizeof(float) + align - 1) / align * align;
    float *ones = malloc(n * sizeof *ones), *out = malloc(n * sizeof *out);
    for (uint32_t i = 0; i < n; i++)
        ones[i] = 1;
    rt_buffer a = make_filled(f->dev, ones, n);
    rt_buffer two;
    CHECK(rt_buffer_create(f->dev, 2 * stride, RT_MEMORY_DEVICE, &two) ==
              DSVK_OK,
          "%s", rt_device_error(f->dev));

    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&a, 0, 0, false), span(&a, 0, 0, false),
               span(&two, 0, n * 4, true), n, "first half");
    record_add(f, span(&a, 0, 0, false), span(&a, 0, 0, false),
               span(&two, stride, n * 4, true), n, "second half");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit: %s",
          rt_device_error(f->dev));
    CHECK(rt_recorder_barriers(f->rec) == 0,
          "disjoint writes: %u barriers, want 0", rt_recorder_barriers(f->rec));

    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&a, 0, 0, false), span(&a, 0, 0, false),
               span(&two, 0, n * 4, true), n, "write");
    record_add(f, span(&a, 0, 0, false), span(&a, 0, 0, false),
               span(&two, 0, n * 4, true), n, "write again");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit");
    CHECK(rt_recorder_barriers(f->rec) == 1, "WAW: %u barriers, want 1",
          rt_recorder_barriers(f->rec));

    /* two[1] = a + a reads a; then a = two[0] + two[0] overwrites it. */
    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&a, 0, 0, false), span(&a, 0, 0, false),
               span(&two, stride, n * 4, true), n, "read a");
    record_add(f, span(&two, 0, n * 4, false), span(&two, 0, n * 4, false),
               span(&a, 0, 0, true), n, "overwrite a");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit");
    CHECK(rt_recorder_barriers(f->rec) == 1, "WAR: %u barriers, want 1",
          rt_recorder_barriers(f->rec));
    CHECK(rt_buffer_download(f->dev, &two, stride, out, n * 4) == DSVK_OK,
          "download");
    CHECK(out[0] == 2 && out[n - 1] == 2, "read before overwrite: %g %g",
          out[0], out[n - 1]);
    CHECK(rt_buffer_download(f->dev, &a, 0, out, n * 4) == DSVK_OK, "download");
    CHECK(out[0] == 4 && out[n - 1] == 4, "overwrite: %g %g", out[0],
          out[n - 1]);
    rt_buffer_destroy(f->dev, &a);
    rt_buffer_destroy(f->dev, &two);
    free(ones);
    free(out);
}

/* copy after a dispatch (RAW into transfer), dispatch after the copy (RAW
 * into compute): both results must be right. */
static void test_copy(add_fixture *f)
{
    const uint32_t n = 300;
    float *v = malloc(n * sizeof *v), *out = malloc(n * sizeof *out);
    for (uint32_t i = 0; i < n; i++)
        v[i] = (float)i;
    rt_buffer a = make_filled(f->dev, v, n), c, d, e;
    CHECK(rt_buffer_create(f->dev, n * 4, RT_MEMORY_DEVICE, &c) == DSVK_OK,
          "create");
    CHECK(rt_buffer_create(f->dev, n * 4, RT_MEMORY_DEVICE, &d) == DSVK_OK,
          "create");
    CHECK(rt_buffer_create(f->dev, n * 4, RT_MEMORY_READBACK, &e) == DSVK_OK,
          "create");
    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&a, 0, 0, false), span(&a, 0, 0, false),
               span(&c, 0, 0, true), n, "double");
    rt_record_copy(f->rec, &c, 0, &d, 0, n * 4);
    record_add(f, span(&d, 0, 0, false), span(&a, 0, 0, false),
               span(&e, 0, 0, true), n, "add after copy");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit: %s",
          rt_device_error(f->dev));
    CHECK(rt_recorder_barriers(f->rec) == 2, "%u barriers, want 2",
          rt_recorder_barriers(f->rec));
    memcpy(out, e.mapped, n * 4);
    int wrong = 0;
    for (uint32_t i = 0; i < n; i++)
        wrong += out[i] != 3 * v[i];
    CHECK(wrong == 0, "%d of %u wrong after copy", wrong, n);
    rt_buffer_destroy(f->dev, &a);
    rt_buffer_destroy(f->dev, &c);
    rt_buffer_destroy(f->dev, &d);
    rt_buffer_destroy(f->dev, &e);
    free(v);
    free(out);
}

static void test_timings(add_fixture *f)
{
    const uint32_t n = 4096;
    static const char *labels[] = {"first", "second", "third"};
    rt_buffer a, c;
    CHECK(rt_buffer_create(f->dev, n * 4, RT_MEMORY_DEVICE, &a) == DSVK_OK,
          "create");
    CHECK(rt_buffer_create(f->dev, 3 * n * 4, RT_MEMORY_DEVICE, &c) == DSVK_OK,
          "create");
    rt_buffer_zero(f->dev, &a);
    CHECK(rt_recorder_begin(f->rec, true) == DSVK_OK, "begin");
    for (int i = 0; i < 3; i++)
        record_add(f, span(&a, 0, 0, false), span(&a, 0, 0, false),
                   span(&c, 0, n * 4, true), n, labels[i]);
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit: %s",
          rt_device_error(f->dev));
    uint32_t count;
    const rt_timing *t = rt_recorder_timings(f->rec, &count);
    /* Timestamps are an optional feature: the baseline has none. */
    uint32_t want = rt_device_caps(f->dev)->timestamps ? 3 : 0;
    CHECK(count == want, "%u timings, want %u", count, want);
    for (uint32_t i = 0; i < count && i < 3; i++) {
        CHECK(strcmp(t[i].label, labels[i]) == 0, "label %u is %s", i,
              t[i].label);
        CHECK(t[i].microseconds >= 0 && t[i].microseconds < 1e7,
              "timing %u: %g us", i, t[i].microseconds);
    }
    /* An untimed submit clears them. */
    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&a, 0, 0, false), span(&a, 0, 0, false),
               span(&c, 0, n * 4, true), n, "untimed");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit");
    rt_recorder_timings(f->rec, &count);
    CHECK(count == 0, "%u timings after an untimed submit", count);
    rt_buffer_destroy(f->dev, &a);
    rt_buffer_destroy(f->dev, &c);
}

/* More dispatches than one descriptor pool (256 sets) or one query pool
 * (128 timed dispatches) holds: the pools must grow within a recording. */
static void test_many_dispatches(add_fixture *f)
{
    const uint32_t n = 64, count = 300;
    float ones[64], out[64];
    for (uint32_t i = 0; i < n; i++)
        ones[i] = 1;
    rt_buffer one = make_filled(f->dev, ones, n),
              acc = make_filled(f->dev, ones, n);
    CHECK(rt_recorder_begin(f->rec, true) == DSVK_OK, "begin");
    for (uint32_t i = 0; i < count; i++)
        record_add(f, span(&acc, 0, 0, false), span(&one, 0, 0, false),
                   span(&acc, 0, 0, true), n, "accumulate");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit: %s",
          rt_device_error(f->dev));
    uint32_t timed;
    rt_recorder_timings(f->rec, &timed);
    CHECK(timed == (rt_device_caps(f->dev)->timestamps ? count : 0),
          "%u timings for %u dispatches", timed, count);
    rt_buffer_download(f->dev, &acc, 0, out, sizeof out);
    CHECK(out[0] == 1 + count && out[n - 1] == 1 + count,
          "accumulated %g, want %u", out[0], 1 + count);
    rt_buffer_destroy(f->dev, &one);
    rt_buffer_destroy(f->dev, &acc);
}

/* Records c = a + b with `uniform` also bound at DSVK_UNIFORM_BINDING
 * (runtime_add does not read it: this tests the binding's checks and its
 * hazard tracking, which the products' uniform x relies on). */
static void record_add_with_uniform(add_fixture *f, rt_span a, rt_span c,
                                    rt_span uniform, uint32_t n,
                                    const char *label)
{
    rt_dispatch d = {.pipeline = f->add,
                     .bindings = {a, a, c},
                     .n_bindings = 3,
                     .uniform = uniform,
                     .push = &n,
                     .push_size = sizeof n,
                     .groups = {groups_for(n), 1, 1},
                     .label = label};
    rt_record_dispatch(f->rec, &d);
}

/* A uniform binding of what an earlier dispatch wrote needs a barrier; one
 * off the uniform alignment or past the uniform range is refused, naming
 * the dispatch. */
static void test_uniform_binding(add_fixture *f)
{
    const rt_caps *caps = rt_device_caps(f->dev);
    const uint64_t range = caps->max_uniform_buffer_range;
    rt_buffer a, b;
    CHECK(rt_buffer_create(f->dev, 4096, RT_MEMORY_DEVICE, &a) == DSVK_OK &&
              rt_buffer_create(f->dev, range + 256, RT_MEMORY_DEVICE, &b) ==
                  DSVK_OK,
          "create: %s", rt_device_error(f->dev));

    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add_with_uniform(f, span(&a, 0, 1024, false),
                            span(&b, 0, 1024, true), (rt_span){0}, 256,
                            "write b");
    record_add_with_uniform(f, span(&a, 0, 1024, false),
                            span(&a, 2048, 1024, true),
                            span(&b, 0, 1024, false), 256, "b as uniform");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit: %s",
          rt_device_error(f->dev));
    CHECK(rt_recorder_barriers(f->rec) == 1,
          "uniform read after write: %u barriers, want 1",
          rt_recorder_barriers(f->rec));

    const struct {
        rt_span uniform;
        dsvk_status status;
    } bad[] = {
        /* 4 bytes in: the uniform alignment is at least 16 everywhere. */
        {span(&b, 4, 64, false), DSVK_ERROR_INVALID_ARGUMENT},
        {span(&b, 0, range + 16, false), DSVK_ERROR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
        record_add_with_uniform(f, span(&a, 0, 1024, false),
                                span(&a, 2048, 1024, true), bad[i].uniform, 256,
                                "bad uniform");
        dsvk_status status = rt_recorder_submit(f->rec);
        CHECK(status == bad[i].status, "bad uniform %zu: %s", i,
              dsvk_status_string(status));
        CHECK(strstr(rt_device_error(f->dev), "bad uniform") &&
                  strstr(rt_device_error(f->dev), "uniform buffer"),
              "error names the dispatch and the limit: %s",
              rt_device_error(f->dev));
    }
    rt_buffer_destroy(f->dev, &a);
    rt_buffer_destroy(f->dev, &b);
}

static void test_errors(add_fixture *f)
{
    rt_pipeline *p = NULL;
    dsvk_status status = rt_pipeline_get(f->dev, "no_such_shader", NULL, 0, &p);
    CHECK(status == DSVK_ERROR_INVALID_ARGUMENT && p == NULL,
          "bad shader name: %s", dsvk_status_string(status));
    CHECK(strstr(rt_device_error(f->dev), "no_such_shader") != NULL,
          "error names the shader: %s", rt_device_error(f->dev));

    const rt_caps *caps = rt_device_caps(f->dev);
    uint32_t too_big = caps->max_workgroup_invocations + 1;
    status = rt_pipeline_get(f->dev, "runtime_add", &too_big, 1, &p);
    CHECK(status == DSVK_ERROR_UNSUPPORTED, "workgroup %u: %s", too_big,
          dsvk_status_string(status));

    /* The same (shader, constants) gives the same pipeline. */
    uint32_t wg = WORKGROUP;
    CHECK(rt_pipeline_get(f->dev, "runtime_add", &wg, 1, &p) == DSVK_OK &&
              p == f->add,
          "pipelines are cached by name and constants");

    rt_buffer a;
    CHECK(rt_buffer_create(f->dev, 4096, RT_MEMORY_DEVICE, &a) == DSVK_OK,
          "create");
    /* 4 bytes in: misaligned for every device (alignment is at least 16). */
    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&a, 4, 64, false), span(&a, 0, 0, false),
               span(&a, 0, 0, true), 16, "misaligned");
    status = rt_recorder_submit(f->rec);
    CHECK(status == DSVK_ERROR_INVALID_ARGUMENT, "misaligned span: %s",
          dsvk_status_string(status));
    CHECK(strstr(rt_device_error(f->dev), "misaligned") != NULL,
          "error names the dispatch: %s", rt_device_error(f->dev));

    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&a, 0, 8192, false), span(&a, 0, 0, false),
               span(&a, 0, 0, true), 16, "too long");
    CHECK(rt_recorder_submit(f->rec) == DSVK_ERROR_INVALID_ARGUMENT,
          "span past the end of its buffer");

    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    rt_record_copy(f->rec, &a, 0, &a, 16, 64);
    CHECK(rt_recorder_submit(f->rec) == DSVK_ERROR_INVALID_ARGUMENT,
          "overlapping copy");

    /* After failures the recorder still works. */
    CHECK(rt_recorder_begin(f->rec, false) == DSVK_OK, "begin");
    record_add(f, span(&a, 0, 1024, false), span(&a, 0, 1024, false),
               span(&a, 2048, 1024, true), 256, "fine");
    CHECK(rt_recorder_submit(f->rec) == DSVK_OK, "submit after errors: %s",
          rt_device_error(f->dev));
    rt_buffer_destroy(f->dev, &a);
}

int main(void)
{
    add_fixture f = {.dev = test_gpu_device()};
    uint32_t wg = WORKGROUP;
    CHECK(rt_pipeline_get(f.dev, "runtime_add", &wg, 1, &f.add) == DSVK_OK,
          "add pipeline: %s", rt_device_error(f.dev));
    CHECK(rt_recorder_create(f.dev, &f.rec) == DSVK_OK, "recorder: %s",
          rt_device_error(f.dev));
    if (f.add && f.rec) {
        test_add_odd_size(&f);
        test_dependent_chain(&f);
        test_barrier_placement(&f);
        test_copy(&f);
        test_timings(&f);
        test_many_dispatches(&f);
        test_uniform_binding(&f);
        test_errors(&f);
    }
    rt_recorder_destroy(f.rec);
    return test_gpu_finish(f.dev, "runtime dispatch");
}
