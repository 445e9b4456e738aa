/* Products that leave the RMSNorm of their result behind (rt_norm_after):
 * in the product's own dispatch, done by its last workgroup, for matvecs of
 * one dispatch; as an rms_norm dispatch after the product otherwise (a
 * weight split across bindings, the tiled matmul). On row counts below,
 * at and far above one workgroup's rows in either kernel class, several
 * tokens, every epilogue, strided views; two products in one recording
 * share one counter, which is zero again afterwards. */
#include "ref/ref_ops.h"
#include "test_ops_fixture.h"

#include <stdlib.h>
#include <string.h>

/* The product itself must be bit-identical to the same product without a
 * norm (same kernel, same order). The norm is checked against the C
 * reference applied to the GPU's y: one f32 sum of squares and one 1/sqrt
 * per row, NMSE ~1e-13 (test_ops_rows.c's RMSNorm bound); a row normalised
 * by the wrong sum or a missed element gives 1e-3 or more. */
#define NORM_TOLERANCE 1e-10
#define PAD_VALUE -5.0f

typedef struct norm_after_case {
    uint32_t type;
    uint32_t rows, cols, tokens;
    rt_epilogue epilogue;
    bool tiled;
    /* Rows per binding (0: the device's limit): fewer than the weight's
     * split it across dispatches, so the norm gets one of its own. */
    uint32_t rows_per_binding;
} norm_after_case;

static const norm_after_case cases[] = {
    /* Hundreds of GPU-class and 17 CPU-class workgroups. */
    {DSVK_TYPE_Q8_0, 1030, 256, 1, RT_EPILOGUE_ADD, false, 0},
    /* Fewer rows than one CPU-class workgroup. */
    {DSVK_TYPE_F32, 7, 33, 2, RT_EPILOGUE_ADD, false, 0},
    {DSVK_TYPE_F16, 67, 97, 3, RT_EPILOGUE_STORE, false, 0},
    {DSVK_TYPE_Q4_K, 130, 512, 8, RT_EPILOGUE_ADD, false, 0},
    {DSVK_TYPE_Q6_K, 64, 256, 5, RT_EPILOGUE_GATE, false, 0},
    {DSVK_TYPE_Q8_0, 300, 64, 2, RT_EPILOGUE_ADD, false, 100},
    {DSVK_TYPE_Q8_0, 100, 64, 37, RT_EPILOGUE_ADD, true, 0},
};

/* A host array of `rows` rows of `stride` floats after `lead`, PAD_VALUE
 * outside the view's columns, with dense's values inside (dense NULL:
 * zeros). */
static float *padded(const float *dense, uint32_t rows, uint32_t cols,
                     uint32_t stride, uint32_t lead, size_t *size)
{
    *size = lead + (size_t)rows * stride;
    float *out = malloc(*size * sizeof *out);
    for (size_t i = 0; i < *size; i++)
        out[i] = PAD_VALUE;
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t c = 0; c < cols; c++)
            out[lead + (size_t)r * stride + c] =
                dense ? dense[(size_t)r * cols + c] : 0.0f;
    return out;
}

/* Reads a padded view back: its values densely into `dense`, and checks
 * that the padding is untouched. */
static void read_padded(ops_fixture *f, const rt_buffer *buf, uint32_t rows,
                        uint32_t cols, uint32_t stride, uint32_t lead,
                        float *dense, const char *what)
{
    size_t size = lead + (size_t)rows * stride;
    float *host = malloc(size * sizeof *host);
    fixture_read(f, buf, 0, host, size * sizeof *host);
    bool pad_ok = true;
    for (size_t i = 0; i < size; i++) {
        size_t at = i < lead ? 0 : i - lead;
        bool inside = i >= lead && at % stride < cols;
        if (inside)
            dense[at / stride * cols + at % stride] = host[i];
        else if (host[i] != PAD_VALUE)
            pad_ok = false;
    }
    CHECK(pad_ok, "%s: padding overwritten", what);
    free(host);
}

static void run_case(ops_fixture *f, const norm_after_case *c)
{
    char what[96];
    snprintf(what, sizeof what, "%s %s %ux%u, %u tokens, epilogue %d%s",
             c->tiled ? "matmul" : "matvec", fixture_type_name(c->type),
             c->rows, c->cols, c->tokens, (int)c->epilogue,
             c->rows_per_binding ? ", split" : "");
    test_rng rng = test_rng_seed(c->rows * 131u + c->cols + c->type);
    float *decoded;
    rt_weight w =
        fixture_weight(f, &rng, c->type, 1, c->rows, c->cols, 0, &decoded);
    free(decoded);
    const uint32_t T = c->tokens, y_stride = c->rows + 2,
                   r_stride = c->rows + 1;
    size_t nx = (size_t)T * c->cols, ny = (size_t)T * c->rows;
    float *x = malloc(nx * 4), *y0 = malloc(ny * 4);
    float *gain = malloc((c->rows + 1) * 4);
    test_rng_fill(&rng, x, nx, -1, 1);
    test_rng_fill(&rng, y0, ny, -2, 2);
    test_rng_fill(&rng, gain, c->rows + 1, 0.5f, 1.5f);

    /* y three times from the same start: without a norm, and with one for
     * each of two products that share a counter in one recording. */
    size_t y_size, r_size;
    float *y_host = padded(y0, T, c->rows, y_stride, 1, &y_size);
    float *r_host = padded(NULL, T, c->rows, r_stride, 2, &r_size);
    const rt_buffer *xb = fixture_buffer(f, x, nx * 4);
    const rt_buffer *y_plain = fixture_buffer(f, y_host, y_size * 4);
    const rt_buffer *y_buf[2], *r_buf[2];
    for (int i = 0; i < 2; i++) {
        y_buf[i] = fixture_buffer(f, y_host, y_size * 4);
        r_buf[i] = fixture_buffer(f, r_host, r_size * 4);
    }
    /* The norm weight one float into its buffer, the counter two words
     * into its own. */
    const rt_weight norm_weight = {fixture_buffer(f, gain, (c->rows + 1) * 4),
                                   4,
                                   DSVK_TYPE_F32,
                                   c->rows,
                                   1,
                                   1,
                                   4ull * c->rows};
    const rt_buffer *counter = fixture_buffer(f, NULL, 16);
    const rt_view xv = {xb, 0, T, c->cols, c->cols};

    f->ops.max_binding_range =
        c->rows_per_binding ? c->rows_per_binding * w.row_bytes + 512 : 0;
    rt_product plain = {
        &w, 0, xv, {y_plain, 4, T, c->rows, y_stride}, c->epilogue, NULL};
    dsvk_status status = c->tiled ? rt_op_matmul(&f->ops, &plain)
                                  : rt_op_matvec(&f->ops, &plain);
    CHECK(status == DSVK_OK, "%s, no norm: %s", what, rt_device_error(f->dev));
    fixture_submit(f);
    fixture_time_next(f);
    for (int i = 0; i < 2; i++) {
        const rt_norm_after norm = {
            &norm_weight, 1e-5f, (rt_view){r_buf[i], 8, T, c->rows, r_stride},
            counter, 8};
        rt_product p = plain;
        p.y.buffer = y_buf[i];
        p.norm = &norm;
        status =
            c->tiled ? rt_op_matmul(&f->ops, &p) : rt_op_matvec(&f->ops, &p);
        CHECK(status == DSVK_OK, "%s: %s", what, rt_device_error(f->dev));
    }
    fixture_submit(f);
    f->ops.max_binding_range = 0;
    /* Where the device times dispatches: one per product when fused. */
    const bool fused = !c->tiled && !c->rows_per_binding;
    CHECK(!rt_device_caps(f->dev)->timestamps ||
              (fused ? f->timed_dispatches == 2 : f->timed_dispatches >= 4),
          "%s: %u dispatches for two products with norms", what,
          f->timed_dispatches);

    float *want_y = malloc(ny * 4), *y = malloc(ny * 4);
    float *normed = malloc(ny * 4), *ref = malloc(ny * 4);
    read_padded(f, y_plain, T, c->rows, y_stride, 1, want_y, what);
    for (int i = 0; i < 2; i++) {
        read_padded(f, y_buf[i], T, c->rows, y_stride, 1, y, what);
        CHECK(memcmp(y, want_y, ny * 4) == 0,
              "%s: product %d differs from the product without a norm", what,
              i);
        read_padded(f, r_buf[i], T, c->rows, r_stride, 2, normed, what);
        ref_rms_norm(y, T, c->rows, gain + 1, 1e-5f, ref);
        double nmse = test_nmse(normed, ref, ny);
        CHECK(nmse <= NORM_TOLERANCE, "%s: product %d's norm: nmse %g", what, i,
              nmse);
        if (i == 1)
            printf("%-52s norm nmse %.3g\n", what, nmse);
    }
    uint32_t words[4];
    fixture_read(f, counter, 0, words, sizeof words);
    CHECK(words[0] == 0 && words[1] == 0 && words[2] == 0 && words[3] == 0,
          "%s: the counter is not zero afterwards (%u)", what, words[2]);
    fixture_release(f);
    free(x);
    free(y0);
    free(gain);
    free(y_host);
    free(r_host);
    free(want_y);
    free(y);
    free(normed);
    free(ref);
}

static void test_bad_arguments(ops_fixture *f)
{
    float zeros[64] = {0};
    const rt_buffer *buf = fixture_buffer(f, zeros, sizeof zeros);
    const rt_weight w = {buf, 0, DSVK_TYPE_F32, 4, 3, 1, 16};
    const rt_weight gain = {buf, 0, DSVK_TYPE_F32, 3, 1, 1, 12};
    const rt_weight short_gain = {buf, 0, DSVK_TYPE_F32, 2, 1, 1, 8};
    const rt_view x = {buf, 0, 1, 4, 4}, y = {buf, 64, 1, 3, 3};
    const rt_view result = {buf, 128, 1, 3, 3};
    const struct {
        rt_norm_after norm;
        const char *what;
    } bad[] = {
        {{NULL, 1e-5f, result, buf, 192}, "a norm without its weight"},
        {{&short_gain, 1e-5f, result, buf, 192}, "a norm weight too short"},
        {{&gain, 1e-5f, {buf, 128, 1, 2, 2}, buf, 192},
         "a result of another shape"},
        {{&gain, 1e-5f, result, buf, 194}, "a misaligned counter"},
        {{&gain, 1e-5f, result, NULL, 0}, "no counter"},
        {{&gain, 1e-5f, result, buf, 256}, "a counter past its buffer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const rt_product p = {&w, 0, x, y, RT_EPILOGUE_ADD, &bad[i].norm};
        CHECK(rt_op_matvec(&f->ops, &p) == DSVK_ERROR_INVALID_ARGUMENT,
              "matvec accepted %s", bad[i].what);
        CHECK(rt_op_matmul(&f->ops, &p) == DSVK_ERROR_INVALID_ARGUMENT,
              "matmul accepted %s", bad[i].what);
    }
    fixture_release(f);
}

int main(void)
{
    ops_fixture f;
    fixture_open(&f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&f, &cases[i]);
    test_bad_arguments(&f);
    return fixture_close(&f, "test_ops_norm_after");
}
