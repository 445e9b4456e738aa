/* Row-wise ops against their C references: RMSNorm, RoPE/YaRN, softmax,
 * row gather and argmax, on shapes
 * that are not multiples of the workgroup or subgroup size, through strided
 * views (slices of wider rows), in place where the op allows it. */
#include "ref/ref_ops.h"
#include "test_ops_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Tolerances (NMSE against the double-precision reference):
 * - rms_norm: one f32 sum of squares and one 1/sqrt per row, a relative
 *   error of a few 1e-7 (NMSE ~1e-13); 1e-10 still flags any wrong element
 *   or row mix-up (~1e-2).
 * - softmax: Vulkan lets exp err by 3 + 2|x| ulp (~40 ulp, 3e-6
 *   relative, for |x| up to 20); NMSE ~1e-11 at worst, bound 1e-9.
 * - rope: Vulkan bounds sin/cos only to 2^-11 absolute (on [-pi, pi], where
 *   the shader reduces the angle), so a conforming device may reach NMSE
 *   ~2e-7; f32 angles at positions ~1000 add ~1e-9. Bound 1e-6: a pair
 *   rotated the wrong way or a wrong YaRN ramp gives 1e-3 or more.
 * - gather, argmax: an exact decode or an index: the results must be
 *   identical. */
#define RMS_NORM_TOLERANCE 1e-10
#define EXP_TOLERANCE 1e-9
#define ROPE_TOLERANCE 1e-6

/* The value left around and between a view's rows, which must survive. */
#define PAD_VALUE -3.0f

/* A host copy of a strided tensor on the GPU: `rows` rows of `stride`
 * floats after `lead` floats, everything outside the view's columns
 * PAD_VALUE. */
typedef struct strided {
    uint32_t rows, cols, stride, lead;
    float *host; /* lead + rows * stride */
    const rt_buffer *buf;
} strided;

static size_t strided_size(const strided *s)
{
    return s->lead + (size_t)s->rows * s->stride;
}

/* Uploads `dense` ([rows][cols], NULL: PAD_VALUE everywhere) into a new
 * strided tensor. */
static strided make_strided(ops_fixture *f, const float *dense, uint32_t rows,
                            uint32_t cols, uint32_t stride, uint32_t lead)
{
    strided s = {rows, cols, stride, lead, NULL, NULL};
    s.host = malloc(strided_size(&s) * sizeof *s.host);
    for (size_t i = 0; i < strided_size(&s); i++)
        s.host[i] = PAD_VALUE;
    if (dense)
        fixture_scatter(dense, rows, cols, stride, s.host + lead);
    s.buf = fixture_buffer(f, s.host, strided_size(&s) * sizeof *s.host);
    return s;
}

static rt_view view_of(const strided *s)
{
    return (rt_view){s->buf, 4ull * s->lead, s->rows, s->cols, s->stride};
}

/* Downloads the tensor into `dense` and checks that everything outside the
 * view kept its value. */
static void read_strided(ops_fixture *f, strided *s, float *dense,
                         const char *what)
{
    fixture_read(f, s->buf, 0, s->host, strided_size(s) * sizeof *s->host);
    fixture_gather(s->host + s->lead, s->rows, s->cols, s->stride, dense);
    uint32_t damaged = 0;
    for (size_t i = 0; i < strided_size(s); i++)
        if (i < s->lead || (i - s->lead) % s->stride >= s->cols)
            damaged += s->host[i] != PAD_VALUE;
    CHECK(damaged == 0, "%s: %u values outside the view changed", what,
          damaged);
    free(s->host);
}

static float *random_floats(test_rng *rng, size_t n, float lo, float hi)
{
    float *v = malloc(n * sizeof *v);
    test_rng_fill(rng, v, n, lo, hi);
    return v;
}

static void check_nmse(const char *what, const float *gpu, const float *ref,
                       size_t n, double tolerance)
{
    double nmse = test_nmse(gpu, ref, n);
    CHECK(nmse <= tolerance, "%s: nmse %g > %g", what, nmse, tolerance);
    printf("%-44s nmse %.3g\n", what, nmse);
}

static void check_equal(const char *what, const float *gpu, const float *ref,
                        size_t n)
{
    CHECK(memcmp(gpu, ref, n * sizeof *gpu) == 0, "%s: differs (max |diff| %g)",
          what, test_max_abs_diff(gpu, ref, n));
    printf("%-44s identical\n", what);
}

/* --- RMSNorm ------------------------------------------------------------ */

typedef struct norm_case {
    const char *what;
    uint32_t rows, cols, stride; /* x is a view of rows of `stride` */
    bool weighted;
    bool in_place;
} norm_case;

static void test_rms_norm(ops_fixture *f)
{
    static const norm_case cases[] = {
        {"rms_norm 7x97 weighted", 7, 97, 97, true, false},
        {"rms_norm 1x1000", 1, 1000, 1000, false, false},
        /* The latent part (r = 64) of kv rows [r + dr = 72], in place. */
        {"rms_norm 33x64 of 72, weighted, in place", 33, 64, 72, true, true},
        {"rms_norm 129x33 weighted", 129, 33, 40, true, false},
    };
    const float eps = 1e-6f;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const norm_case *c = &cases[i];
        test_rng rng = test_rng_seed(100 + i);
        size_t n = (size_t)c->rows * c->cols;
        float *x = random_floats(&rng, n, -2, 2);
        float *weight = random_floats(&rng, c->cols + 1, 0.5f, 1.5f);
        float *gpu = malloc(n * sizeof *gpu), *ref = malloc(n * sizeof *ref);
        strided xs = make_strided(f, x, c->rows, c->cols, c->stride, 3);
        strided rs = c->in_place
                         ? xs
                         : make_strided(f, NULL, c->rows, c->cols, c->cols, 1);
        /* The weight starts one float into its buffer. */
        rt_weight w = {fixture_buffer(f, weight, (c->cols + 1) * 4),
                       4,
                       DSVK_TYPE_F32,
                       c->cols,
                       1,
                       1,
                       4ull * c->cols};
        CHECK(rt_op_rms_norm(&f->ops, view_of(&xs), c->weighted ? &w : NULL,
                             eps, view_of(&rs)) == DSVK_OK,
              "%s: %s", c->what, rt_device_error(f->dev));
        fixture_submit(f);
        read_strided(f, &rs, gpu, c->what);
        if (!c->in_place)
            free(xs.host);
        ref_rms_norm(x, c->rows, c->cols, c->weighted ? weight + 1 : NULL, eps,
                     ref);
        check_nmse(c->what, gpu, ref, n, RMS_NORM_TOLERANCE);
        fixture_release(f);
        free(x);
        free(weight);
        free(gpu);
        free(ref);
    }
}

/* --- RoPE --------------------------------------------------------------- */

typedef struct rope_case {
    const char *what;
    uint32_t tokens, heads;
    uint32_t lead_dims; /* columns before the rope part: dn for q, r for kv */
    uint32_t dims;      /* dr */
    uint32_t pos0;
    bool yarn;
} rope_case;

static void test_rope(ops_fixture *f)
{
    /* DeepSeek-V2's YaRN: factor 40 over an original 4096 context. */
    const ref_rope_params yarn = {10000, 1.0f / 40, 4096, 1, 32, 1};
    const ref_rope_params plain = {10000, 1, 4096, 0, 32, 1};
    static const rope_case cases[] = {
        /* q [3][5][12 + 8]: ramp pairs 1..3 of 4 with these numbers. */
        {"rope q 3 tokens x 5 heads, dr 8, yarn", 3, 5, 12, 8, 7, true},
        /* kv [33][16 + 64]: ramp pairs 10..23. */
        {"rope kv 33 tokens, dr 64, yarn, pos 1000", 33, 1, 16, 64, 1000, true},
        {"rope 7 rows, dr 64, no yarn", 7, 1, 0, 64, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rope_case *c = &cases[i];
        const ref_rope_params *p = c->yarn ? &yarn : &plain;
        test_rng rng = test_rng_seed(200 + i);
        uint32_t rows = c->tokens * c->heads, width = c->lead_dims + c->dims;
        size_t n = (size_t)rows * width;
        float *x = random_floats(&rng, n, -1, 1);
        float *gpu = malloc(n * sizeof *gpu);
        float *ref = malloc((size_t)rows * c->dims * sizeof *ref);
        float *gpu_part = malloc((size_t)rows * c->dims * sizeof *gpu_part);
        strided xs = make_strided(f, x, rows, width, width, 2);
        rt_view part = {xs.buf, 4ull * (xs.lead + c->lead_dims), rows, c->dims,
                        width};
        rt_rope rope = {p->freq_base,  p->freq_scale, p->n_ctx_orig,
                        p->ext_factor, p->beta_fast,  p->beta_slow};
        CHECK(rt_op_rope(&f->ops, part, c->heads, c->pos0, &rope) == DSVK_OK,
              "%s: %s", c->what, rt_device_error(f->dev));
        fixture_submit(f);
        read_strided(f, &xs, gpu, c->what);

        /* The columns before the rope part must be untouched. */
        uint32_t changed = 0;
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t j = 0; j < c->lead_dims; j++)
                changed += gpu[r * width + j] != x[r * width + j];
        CHECK(changed == 0, "%s: %u values before the rope part changed",
              c->what, changed);
        fixture_gather(x + c->lead_dims, rows, c->dims, width, ref);
        ref_rope(ref, rows, c->dims, c->heads, c->pos0, p);
        fixture_gather(gpu + c->lead_dims, rows, c->dims, width, gpu_part);
        check_nmse(c->what, gpu_part, ref, (size_t)rows * c->dims,
                   ROPE_TOLERANCE);
        fixture_release(f);
        free(x);
        free(gpu);
        free(ref);
        free(gpu_part);
    }
}

/* --- softmax ------------------------------------------------------------ */

typedef struct softmax_case {
    const char *what;
    uint32_t rows, cols, stride;
    float scale;
    bool in_place;
} softmax_case;

static void test_softmax(ops_fixture *f)
{
    static const softmax_case cases[] = {
        {"softmax 1x1", 1, 1, 1, 1, false},
        {"softmax 7x33 of 40", 7, 33, 40, 1, false},
        {"softmax 33x1000 scale 1/8, in place", 33, 1000, 1000, 0.125f, true},
        {"softmax 129x7 scale 2", 129, 7, 7, 2, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const softmax_case *c = &cases[i];
        test_rng rng = test_rng_seed(300 + i);
        size_t n = (size_t)c->rows * c->cols;
        float *x = random_floats(&rng, n, -10, 10);
        float *gpu = malloc(n * sizeof *gpu), *ref = malloc(n * sizeof *ref);
        strided xs = make_strided(f, x, c->rows, c->cols, c->stride, 1);
        strided rs = c->in_place
                         ? xs
                         : make_strided(f, NULL, c->rows, c->cols, c->cols, 0);
        CHECK(rt_op_softmax(&f->ops, view_of(&xs), c->scale, view_of(&rs)) ==
                  DSVK_OK,
              "%s: %s", c->what, rt_device_error(f->dev));
        fixture_submit(f);
        read_strided(f, &rs, gpu, c->what);
        if (!c->in_place)
            free(xs.host);
        ref_softmax(x, c->rows, c->cols, c->scale, ref);
        check_nmse(c->what, gpu, ref, n, EXP_TOLERANCE);
        fixture_release(f);
        free(x);
        free(gpu);
        free(ref);
    }
}

/* --- row gather --------------------------------------------------------- */

static void gather_case(ops_fixture *f, uint32_t type, uint32_t cols,
                        uint32_t tokens, uint64_t max_binding_range)
{
    const uint32_t table_rows = 129;
    char what[64];
    snprintf(what, sizeof what, "gather_rows %s %u of 129x%u%s",
             fixture_type_name(type), tokens, cols,
             max_binding_range ? ", split" : "");
    test_rng rng = test_rng_seed(600 + type);
    float *decoded;
    /* Rows as little aligned as the launcher allows. */
    uint64_t lead = fixture_unaligned_lead(type);
    rt_weight table =
        fixture_weight(f, &rng, type, 1, table_rows, cols, lead, &decoded);
    uint32_t ids[37];
    for (uint32_t t = 0; t < tokens; t++)
        ids[t] = (uint32_t)test_rng_uniform(&rng, 0, table_rows);
    ids[3] = ids[4] = 0;     /* repeated ids */
    ids[5] = table_rows - 1; /* the last row */
    ids[6] = table_rows;     /* out of range: row left untouched */
    const rt_buffer *id_buf = fixture_buffer(f, ids, tokens * sizeof *ids);
    strided rs = make_strided(f, NULL, tokens, cols, cols + 2, 1);

    if (max_binding_range)
        fixture_time_next(f);
    f->ops.max_binding_range = max_binding_range;
    dsvk_status status =
        rt_op_gather_rows(&f->ops, &table, id_buf, 0, view_of(&rs));
    f->ops.max_binding_range = 0;
    CHECK(status == DSVK_OK, "%s: %s", what, rt_device_error(f->dev));
    fixture_submit(f);
    if (max_binding_range) {
        uint32_t expected = fixture_expected_dispatches(
            f, table_rows, table.row_bytes, max_binding_range);
        CHECK(expected > 3, "%s: the limit must force a split", what);
        if (rt_device_caps(f->dev)->timestamps)
            CHECK(f->timed_dispatches == expected,
                  "%s: %u dispatches, expected %u", what, f->timed_dispatches,
                  expected);
    }
    float *gpu = malloc((size_t)tokens * cols * sizeof *gpu);
    float *ref = malloc((size_t)tokens * cols * sizeof *ref);
    read_strided(f, &rs, gpu, what);
    for (uint32_t t = 0; t < tokens; t++)
        for (uint32_t c = 0; c < cols; c++)
            ref[t * cols + c] = ids[t] < table_rows
                                    ? decoded[(size_t)ids[t] * cols + c]
                                    : PAD_VALUE;
    check_equal(what, gpu, ref, (size_t)tokens * cols);
    fixture_release(f);
    free(decoded);
    free(gpu);
    free(ref);
}

static void test_gather_rows(ops_fixture *f)
{
    gather_case(f, DSVK_TYPE_F32, 33, 37, 0);
    gather_case(f, DSVK_TYPE_F16, 33, 37, 0);
    gather_case(f, DSVK_TYPE_BF16, 33, 37, 0);
    gather_case(f, DSVK_TYPE_Q8_0, 96, 37, 0);
    gather_case(f, DSVK_TYPE_Q4_0, 96, 37, 0);
    gather_case(f, DSVK_TYPE_Q4_1, 96, 37, 0);
    gather_case(f, DSVK_TYPE_Q5_0, 96, 37, 0);
    gather_case(f, DSVK_TYPE_Q5_1, 96, 37, 0);
    gather_case(f, DSVK_TYPE_Q4_K, 256, 37, 0);
    gather_case(f, DSVK_TYPE_Q5_K, 256, 37, 0);
    gather_case(f, DSVK_TYPE_Q6_K, 512, 37, 0);
    /* 102-byte Q8_0 rows and 66-byte F16 rows, 37 and 30 rows per
     * dispatch (a little fewer under the baseline's 256-byte alignment):
     * the table is gathered in 4 and 5 parts. The limit binds the ids and
     * the result too, so only 7 tokens. */
    gather_case(f, DSVK_TYPE_Q8_0, 96, 7, 4096);
    gather_case(f, DSVK_TYPE_F16, 33, 7, 2048);
    /* 210-byte Q6_K rows (blocks only 2-byte aligned), 35-36 rows per
     * dispatch: 4 parts. */
    gather_case(f, DSVK_TYPE_Q6_K, 256, 7, 7680);
}

/* --- argmax ------------------------------------------------------------- */

static void argmax_case(ops_fixture *f, const char *what, const float *x,
                        uint32_t rows, uint32_t cols)
{
    strided xs = make_strided(f, x, rows, cols, cols + 1, 1);
    /* Results after two sentinel words, which must survive. */
    uint32_t *result = malloc((rows + 2) * sizeof *result);
    for (uint32_t r = 0; r < rows + 2; r++)
        result[r] = 0xdeadbeef;
    const rt_buffer *result_buf =
        fixture_buffer(f, result, (rows + 2) * sizeof *result);
    CHECK(rt_op_argmax(&f->ops, view_of(&xs), result_buf, 8) == DSVK_OK,
          "%s: %s", what, rt_device_error(f->dev));
    fixture_submit(f);
    fixture_read(f, result_buf, 0, result, (rows + 2) * sizeof *result);
    CHECK(result[0] == 0xdeadbeef && result[1] == 0xdeadbeef,
          "%s: wrote before its result", what);
    uint32_t wrong = 0;
    for (uint32_t r = 0; r < rows; r++) {
        uint32_t expected = ref_argmax(x + (size_t)r * cols, cols);
        if (result[2 + r] != expected && wrong++ < 3)
            fprintf(stderr, "%s: row %u: %u, expected %u\n", what, r,
                    result[2 + r], expected);
    }
    CHECK(wrong == 0, "%s: %u rows wrong", what, wrong);
    printf("%-44s %s\n", what, wrong ? "WRONG" : "identical");
    free(xs.host);
    free(result);
    fixture_release(f);
}

static void test_argmax(ops_fixture *f)
{
    const uint32_t cols = 1000;
    test_rng rng = test_rng_seed(700);
    float *x = random_floats(&rng, 7 * cols, -5, 5);
    x[1 * cols + 17] = x[1 * cols + 500] = 9; /* tie: the first wins */
    x[1 * cols + 999] = 9;
    x[2 * cols + 0] = NAN; /* NaN never wins */
    x[2 * cols + 1] = NAN;
    x[2 * cols + 640] = 20;
    for (uint32_t c = 0; c < cols; c++) {
        x[3 * cols + c] = NAN;       /* all NaN: 0 */
        x[4 * cols + c] = -INFINITY; /* all -inf: the first */
        x[5 * cols + c] = c == 998 ? NAN : -INFINITY;
    }
    x[5 * cols + 999] = -1e30f;
    argmax_case(f, "argmax 7x1000: ties, NaN, -inf", x, 7, cols);
    free(x);

    /* A DeepSeek-V3 vocabulary. */
    x = random_floats(&rng, 129280, -5, 5);
    x[129279] = 6;
    argmax_case(f, "argmax 1x129280", x, 1, 129280);
    free(x);
    x = random_floats(&rng, 33, -5, 5);
    argmax_case(f, "argmax 33x1", x, 33, 1);
    free(x);
}

int main(void)
{
    ops_fixture f;
    fixture_open(&f);
    test_rms_norm(&f);
    test_rope(&f);
    test_softmax(&f);
    test_gather_rows(&f);
    test_argmax(&f);
    return fixture_close(&f, "test_ops_rows");
}
