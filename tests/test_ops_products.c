/* Weight x activation products (rt_op_matvec, rt_op_matmul) against
 * ref_matmul on the same stored weights: every weight type, row and column
 * counts that are not multiples of the workgroup, tile or subgroup size,
 * one matrix of a stack, x read through a strided view and y written into
 * a slice of a wider tensor; then weights split across dispatches by an
 * artificially small binding limit; the epilogues (residual add, SwiGLU
 * gate) and pairs of products fused into one dispatch; and clean errors
 * for bad arguments. */
#include "gguf/gguf.h"
#include "model/dequant.h"
#include "op_params.h"
#include "ref/ref_ops.h"
#include "test_ops_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* GPU and reference multiply bit-identical decoded weights and inputs; they
 * differ only in f32 accumulation (in a different order) against the
 * reference's double. That error scales with the terms' magnitudes, not
 * with the sum, which may cancel: so the error is normalised by
 * sum_c |W[r][c] x[c]| per output (product_nmse), not by y itself. For n
 * terms that is about sqrt(n) * 2^-24, a normalised MSE near 1e-15 at n =
 * 289; 1e-10 leaves orders of magnitude of margin and still catches any
 * decoding slip (one wrong element in 289 gives ~1e-5). The same bound
 * holds for every type, because quantization error is in both sides'
 * inputs. */
#define PRODUCT_TOLERANCE 1e-10

/* sum (y - y_ref)^2 / sum scale^2, scale[t][r] = sum_c |W[r][c] x[t][c]|. */
static double product_nmse(const float *y, const float *y_ref, const float *w,
                           const float *x, uint32_t rows, uint32_t cols,
                           uint32_t tokens)
{
    double err = 0.0, norm = 0.0;
    for (uint32_t t = 0; t < tokens; t++)
        for (uint32_t r = 0; r < rows; r++) {
            double scale = 0.0;
            for (uint32_t c = 0; c < cols; c++)
                scale += fabs((double)w[(size_t)r * cols + c] *
                              x[(size_t)t * cols + c]);
            double d = (double)y[t * rows + r] - y_ref[t * rows + r];
            err += d * d;
            norm += scale * scale;
        }
    return norm > 0.0 ? err / norm : err;
}

/* The value left in y's slice padding; it must survive every product. */
#define PAD_VALUE 7.0f

typedef struct product_type {
    uint32_t type;
    uint32_t cols[3]; /* whole blocks (32, 256 for K-quants); floats odd
                         and whole 32-column blocks (product_rows.glsl) */
    uint64_t lead;    /* bytes before the weight: rows as little aligned as
                         the launchers allow (fixture_unaligned_lead) */
} product_type;

static const product_type product_types[] = {
    {DSVK_TYPE_F32, {33, 96, 289}, 4},    {DSVK_TYPE_F16, {33, 97, 288}, 2},
    {DSVK_TYPE_BF16, {32, 97, 289}, 6},   {DSVK_TYPE_Q8_0, {32, 96, 288}, 2},
    {DSVK_TYPE_Q4_0, {32, 96, 288}, 2},   {DSVK_TYPE_Q4_1, {32, 96, 288}, 4},
    {DSVK_TYPE_Q5_0, {32, 96, 288}, 2},   {DSVK_TYPE_Q5_1, {32, 96, 288}, 12},
    {DSVK_TYPE_Q4_K, {256, 512, 768}, 4}, {DSVK_TYPE_Q5_K, {256, 512, 768}, 12},
    {DSVK_TYPE_Q6_K, {256, 512, 768}, 4},
};
#define N_PRODUCT_TYPES (sizeof product_types / sizeof product_types[0])
static const uint32_t product_rows[] = {1, 7, 33, 129};

typedef struct product_case {
    uint32_t type;
    uint32_t rows, cols, count, matrix;
    uint32_t tokens;
    bool tiled; /* matmul, else matvec */
    uint64_t lead;
    /* x from the start of its buffer with a stride of cols + 4, so that a
     * product may read it in 16-byte words (the CPU-class wide kernels,
     * shaders/weights.glsl's weight_dot_wide); else one float in with a
     * stride of cols + 3. */
    bool aligned_x;
} product_case;

/* The worst NMSE seen per op and type, printed at the end. */
static double worst_nmse[2][N_PRODUCT_TYPES];

static dsvk_status store_product(ops_fixture *f, const rt_weight *w,
                                 uint32_t matrix, rt_view x, rt_view y,
                                 bool tiled)
{
    const rt_product p = {w, matrix, x, y, RT_EPILOGUE_STORE, NULL};
    return tiled ? rt_op_matmul(&f->ops, &p) : rt_op_matvec(&f->ops, &p);
}

static dsvk_status store_matvec(ops_fixture *f, const rt_weight *w,
                                uint32_t matrix, rt_view x, rt_view y)
{
    return store_product(f, w, matrix, x, y, false);
}

static dsvk_status store_matmul(ops_fixture *f, const rt_weight *w,
                                uint32_t matrix, rt_view x, rt_view y)
{
    return store_product(f, w, matrix, x, y, true);
}

static dsvk_status launch(ops_fixture *f, const product_case *c,
                          const rt_weight *w, rt_view x, rt_view y)
{
    return store_product(f, w, c->matrix, x, y, c->tiled);
}

/* Runs one product; x is stored as aligned_x says, y lands in columns
 * [2, 2 + rows) of rows of rows + 5. Returns the GPU's y (dense, malloc'd)
 * and its NMSE against the reference. */
static float *run_product(ops_fixture *f, const product_case *c,
                          uint64_t max_binding_range, double *nmse)
{
    test_rng rng = test_rng_seed(c->rows * 1000003u + c->cols * 7u + c->type);
    float *decoded;
    rt_weight w = fixture_weight(f, &rng, c->type, c->count, c->rows, c->cols,
                                 c->lead, &decoded);
    uint32_t x_lead = c->aligned_x ? 0 : 1;
    uint32_t x_stride = c->cols + (c->aligned_x ? 4 : 3);
    uint32_t y_stride = c->rows + 5;
    size_t x_size = x_lead + (size_t)c->tokens * x_stride;
    size_t y_size = 2 + (size_t)c->tokens * y_stride;
    float *x = malloc(c->tokens * c->cols * sizeof *x);
    float *x_stored = calloc(x_size, sizeof *x_stored);
    float *y_stored = malloc(y_size * sizeof *y_stored);
    float *y = malloc(c->tokens * c->rows * sizeof *y);
    float *y_ref = malloc(c->tokens * c->rows * sizeof *y_ref);
    test_rng_fill(&rng, x, c->tokens * c->cols, -1, 1);
    fixture_scatter(x, c->tokens, c->cols, x_stride, x_stored + x_lead);
    for (size_t i = 0; i < y_size; i++)
        y_stored[i] = PAD_VALUE;
    const rt_buffer *x_buf = fixture_buffer(f, x_stored, x_size * 4);
    const rt_buffer *y_buf = fixture_buffer(f, y_stored, y_size * 4);
    rt_view x_view = {x_buf, 4 * x_lead, c->tokens, c->cols, x_stride};
    rt_view y_view = {y_buf, 8, c->tokens, c->rows, y_stride};

    f->ops.max_binding_range = max_binding_range;
    dsvk_status status = launch(f, c, &w, x_view, y_view);
    f->ops.max_binding_range = 0;
    CHECK(status == DSVK_OK, "%s %s: %s", c->tiled ? "matmul" : "matvec",
          fixture_type_name(c->type), rt_device_error(f->dev));
    fixture_submit(f);
    fixture_read(f, y_buf, 0, y_stored, y_size * 4);
    fixture_gather(y_stored + 2, c->tokens, c->rows, y_stride, y);

    for (size_t i = 0; i < y_size; i++) {
        size_t col = (i + y_stride - 2) % y_stride;
        if (i < 2 || col >= c->rows)
            CHECK(y_stored[i] == PAD_VALUE, "padding at %zu overwritten", i);
    }
    const float *matrix = decoded + (size_t)c->matrix * c->rows * c->cols;
    ref_matmul(matrix, c->rows, c->cols, x, c->tokens, y_ref);
    *nmse = product_nmse(y, y_ref, matrix, x, c->rows, c->cols, c->tokens);

    fixture_release(f);
    free(decoded);
    free(x);
    free(x_stored);
    free(y_stored);
    free(y_ref);
    return y;
}

static void test_product_table(ops_fixture *f)
{
    for (size_t t = 0; t < N_PRODUCT_TYPES; t++)
        for (int r = 0; r < 4; r++)
            for (int k = 0; k < 3; k++)
                for (int tiled = 0; tiled < 2; tiled++) {
                    /* Decode sees 1-2 tokens; prefill 37 (two token tiles,
                     * the second partial). */
                    product_case c = {
                        .type = product_types[t].type,
                        .rows = product_rows[r],
                        .cols = product_types[t].cols[k],
                        .count = 2,
                        .matrix = 1,
                        .tokens = tiled ? 37 : 1 + (uint32_t)k % 2,
                        .tiled = tiled,
                        .lead = product_types[t].lead,
                    };
                    double nmse;
                    free(run_product(f, &c, 0, &nmse));
                    CHECK(nmse <= PRODUCT_TOLERANCE,
                          "%s %s %u x %u, %u tokens: nmse %g",
                          tiled ? "matmul" : "matvec",
                          fixture_type_name(c.type), c.rows, c.cols, c.tokens,
                          nmse);
                    double *worst = &worst_nmse[tiled][t];
                    *worst = fmax(*worst, nmse);
                }
}

static void test_split(ops_fixture *f, const product_case *c, uint64_t limit)
{
    const char *op = c->tiled ? "matmul" : "matvec";
    double nmse_whole, nmse_split;
    float *whole = run_product(f, c, 0, &nmse_whole);
    fixture_time_next(f);
    float *split = run_product(f, c, limit, &nmse_split);
    CHECK(nmse_split <= PRODUCT_TOLERANCE, "split %s %s: nmse %g", op,
          fixture_type_name(c->type), nmse_split);
    /* Each row is computed by the same code on the same data either way. */
    CHECK(memcmp(whole, split, (size_t)c->tokens * c->rows * 4) == 0,
          "split %s %s differs from the unsplit product", op,
          fixture_type_name(c->type));

    uint32_t expected = fixture_expected_dispatches(
        f, c->rows, rt_weight_row_bytes(c->type, c->cols), limit);
    CHECK(expected > 3, "the limit must force a split");
    if (rt_device_caps(f->dev)->timestamps)
        CHECK(f->timed_dispatches == expected,
              "split %s %s: %u dispatches, expected %u", op,
              fixture_type_name(c->type), f->timed_dispatches, expected);
    printf("split %s %s %ux%u (matrix %u of %u) at a %llu-byte limit: "
           "%u dispatches, nmse %.2g\n",
           op, fixture_type_name(c->type), c->rows, c->cols, c->matrix,
           c->count, (unsigned long long)limit, expected, nmse_split);
    free(whole);
    free(split);
}

static void test_splits(ops_fixture *f)
{
    /* Q8_0 rows of 306 bytes, F16 rows of 194 (odd length: rows start on
     * 2-byte boundaries), Q6_K rows of 448 (224-byte device blocks), 5-7
     * dispatches each. The last matrix of a stack of 3, so offsets are
     * large and unaligned. The limit applies to x and y too, which stay
     * below it. */
    product_case q8 = {DSVK_TYPE_Q8_0, 129, 288, 3, 2, 1, false, 2, false};
    product_case f16 = {DSVK_TYPE_F16, 129, 97, 3, 2, 1, false, 2, false};
    product_case q6_k = {DSVK_TYPE_Q6_K, 129, 512, 3, 2, 1, false, 4, false};
    for (int tiled = 0; tiled < 2; tiled++) {
        q8.tiled = f16.tiled = q6_k.tiled = tiled;
        q8.tokens = f16.tokens = q6_k.tokens = tiled ? 5 : 1;
        test_split(f, &q8, 8192);
        test_split(f, &f16, 4096);
        test_split(f, &q6_k, 12288);
    }
}

/* Rows as long as the CPU-class matvec takes, and longer (the GPU-class
 * kernel takes those): lavapipe stops every loop of an invocation silently
 * after 65,535 iterations in all, so a kernel whose loop count grew past
 * it would give wrong sums here rather than an error. Whole 32-column
 * blocks (F32, Q8_0, Q8_0 aligned for the wide kernel) and a row that is
 * not (F16), one and two tokens. */
static void test_long_rows(ops_fixture *f)
{
    const uint32_t max = DSVK_CPU_PRODUCT_MAX_COLS;
    const product_case cases[] = {
        {DSVK_TYPE_F32, 9, max, 1, 0, 1, false, 4, false},
        {DSVK_TYPE_F16, 9, max - 3, 1, 0, 2, false, 2, false},
        {DSVK_TYPE_Q8_0, 9, max, 1, 0, 1, false, 2, false},
        {DSVK_TYPE_Q8_0, 9, max, 1, 0, 2, false, 0, true},
        {DSVK_TYPE_F32, 9, max + 32, 1, 0, 1, false, 4, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double nmse;
        free(run_product(f, &cases[i], 0, &nmse));
        CHECK(nmse <= PRODUCT_TOLERANCE, "matvec %s 9 x %u: nmse %g",
              fixture_type_name(cases[i].type), cases[i].cols, nmse);
        printf("long rows: matvec %s 9 x %u, nmse %.2g\n",
               fixture_type_name(cases[i].type), cases[i].cols, nmse);
    }
}

/* Aligned rows and x: the wide types (shaders.cmake's
 * DSVK_WIDE_WEIGHT_TYPES) take the wide kernels on CPU drivers, with x of
 * one or two rows in a uniform buffer (the _ubo kernels; test_long_rows'
 * 32768-column x is past any uniform range and takes the storage-buffer
 * one); a weight off a 16-byte boundary by as little as the type allows
 * must fall back to the narrow ones. As matmuls, 37 tokens: on CPU
 * drivers tiles of DSVK_CPU_PRODUCT_TOKENS, the last partial, in
 * dispatches of as many tokens as the uniform range holds (768 columns:
 * 20 of them in 64 KiB, 4 in the baseline's 16 KiB). */
static void test_aligned(ops_fixture *f)
{
    /* The float types' groups are 32 wide: 96 columns are 3 of them. */
    static const struct {
        uint32_t type;
        uint64_t off_lead;
        uint32_t cols[2];
    } wide[] = {
        {DSVK_TYPE_F32, 4, {96, 768}},   {DSVK_TYPE_F16, 2, {96, 768}},
        {DSVK_TYPE_BF16, 2, {96, 256}},  {DSVK_TYPE_Q8_0, 2, {256, 768}},
        {DSVK_TYPE_Q4_K, 4, {256, 768}}, {DSVK_TYPE_Q5_K, 4, {256, 768}},
        {DSVK_TYPE_Q6_K, 4, {256, 768}}};
    static const uint32_t tokens[] = {1, 2, 37};
    for (size_t t = 0; t < sizeof wide / sizeof wide[0]; t++)
        for (int r = 0; r < 4; r++)
            for (int n = 0; n < 2; n++)
                for (int k = 0; k < 3; k++)
                    for (int off = 0; off < 2; off++) {
                        const bool tiled = tokens[k] > 2;
                        product_case c = {wide[t].type,
                                          product_rows[r],
                                          wide[t].cols[n],
                                          2,
                                          1,
                                          tokens[k],
                                          tiled,
                                          off ? wide[t].off_lead : 0,
                                          true};
                        double nmse;
                        free(run_product(f, &c, 0, &nmse));
                        CHECK(nmse <= PRODUCT_TOLERANCE,
                              "aligned %s %s %u x %u, %u tokens, lead "
                              "%llu: nmse %g",
                              tiled ? "matmul" : "matvec",
                              fixture_type_name(c.type), c.rows, c.cols,
                              c.tokens, (unsigned long long)c.lead, nmse);
                    }
}

static float silu(float g)
{
    return g / (1.0f + expf(-g));
}

/* Checks got against epilogue(y0, W x) for every output, the error
 * normalised like product_nmse by the terms' magnitudes (|y0| included). */
static double epilogue_nmse(const float *got, const float *y0, const float *w,
                            const float *x, uint32_t rows, uint32_t cols,
                            uint32_t tokens, rt_epilogue epilogue,
                            const float *up)
{
    double err = 0.0, norm = 0.0;
    for (uint32_t t = 0; t < tokens; t++)
        for (uint32_t r = 0; r < rows; r++) {
            double p = 0.0, scale = 0.0;
            for (uint32_t c = 0; c < cols; c++) {
                double term = (double)w[(size_t)r * cols + c] * x[t * cols + c];
                p += term;
                scale += fabs(term);
            }
            size_t i = (size_t)t * rows + r;
            double want = p;
            if (epilogue == RT_EPILOGUE_ADD) {
                want = y0[i] + p;
                scale += fabs(y0[i]);
            } else if (epilogue == RT_EPILOGUE_GATE) {
                /* silu(y0) * p, or for a fused pair silu(p) * up. */
                double g = up ? silu((float)p) : silu(y0[i]);
                double u = up ? up[i] : p;
                want = g * u;
                scale = scale * (1.0 + fabs(u)) + fabs(g) * (1.0 + fabs(u));
            }
            double d = got[i] - want;
            err += d * d;
            norm += scale * scale;
        }
    return norm > 0.0 ? err / norm : err;
}

/* y = epilogue(y0, W x) for the ADD and GATE epilogues, matvec and matmul,
 * on types with and without the wide and block kernels. */
static void test_epilogues(ops_fixture *f)
{
    static const uint32_t types[] = {DSVK_TYPE_F16, DSVK_TYPE_Q8_0,
                                     DSVK_TYPE_Q4_K, DSVK_TYPE_Q6_K};
    static const rt_epilogue epilogues[] = {RT_EPILOGUE_ADD, RT_EPILOGUE_GATE};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (int e = 0; e < 2; e++)
            for (int tiled = 0; tiled < 2; tiled++) {
                const uint32_t rows = 67, cols = 512;
                const uint32_t tokens = tiled ? 37 : 2;
                test_rng rng = test_rng_seed(41u + (uint32_t)t * 7u +
                                             (uint32_t)e * 3u + tiled);
                float *decoded;
                rt_weight w = fixture_weight(f, &rng, types[t], 1, rows, cols,
                                             0, &decoded);
                size_t nx = (size_t)tokens * cols, ny = (size_t)tokens * rows;
                float *x = malloc(nx * 4), *y0 = malloc(ny * 4);
                float *y = malloc(ny * 4);
                test_rng_fill(&rng, x, nx, -1, 1);
                test_rng_fill(&rng, y0, ny, -2, 2);
                const rt_buffer *xb = fixture_buffer(f, x, nx * 4);
                const rt_buffer *yb = fixture_buffer(f, y0, ny * 4);
                const rt_product p = {&w,
                                      0,
                                      {xb, 0, tokens, cols, cols},
                                      {yb, 0, tokens, rows, rows},
                                      epilogues[e],
                                      NULL};
                dsvk_status status = tiled ? rt_op_matmul(&f->ops, &p)
                                           : rt_op_matvec(&f->ops, &p);
                CHECK(status == DSVK_OK, "epilogue: %s",
                      rt_device_error(f->dev));
                fixture_submit(f);
                fixture_read(f, yb, 0, y, ny * 4);
                double nmse = epilogue_nmse(y, y0, decoded, x, rows, cols,
                                            tokens, epilogues[e], NULL);
                CHECK(nmse <= PRODUCT_TOLERANCE, "%s %s epilogue %d: nmse %g",
                      tiled ? "matmul" : "matvec", fixture_type_name(types[t]),
                      (int)epilogues[e], nmse);
                fixture_release(f);
                free(decoded);
                free(x);
                free(y0);
                free(y);
            }
}

typedef struct pair_case {
    uint32_t type;
    uint32_t rows_a, rows_b, cols, tokens;
    bool swiglu; /* else concat, b adding onto its y */
} pair_case;

/* Runs a, then b, through rt_op_matvec_pair with both weights in one
 * buffer (matrices 0 and 1 of a stack, b perhaps fewer rows: rows_b <=
 * rows_a), at a binding
 * limit (0: the device's); checks both results and returns the
 * dispatches where the device times them (else 0). */
static uint32_t run_pair(ops_fixture *f, const pair_case *c, uint64_t limit)
{
    test_rng rng = test_rng_seed(c->rows_a * 31u + c->rows_b + c->type);
    float *decoded;
    rt_weight a =
        fixture_weight(f, &rng, c->type, 2, c->rows_a, c->cols, 0, &decoded);
    rt_weight b = a;
    b.offset += (uint64_t)a.rows * a.row_bytes;
    b.rows = c->rows_b;
    b.count = 1;
    const float *wa = decoded, *wb = decoded + (size_t)c->rows_a * c->cols;
    const uint32_t T = c->tokens;
    size_t nx = (size_t)T * c->cols;
    size_t na = (size_t)T * c->rows_a, nb = (size_t)T * c->rows_b;
    /* y: a's outputs, a gap of 3 floats, b's (concat). */
    size_t ny = na + 3 + nb;
    float *x = malloc(nx * 4), *y0 = malloc(ny * 4), *y = malloc(ny * 4);
    float *up = malloc(na * 4);
    test_rng_fill(&rng, x, nx, -1, 1);
    test_rng_fill(&rng, y0, ny, -2, 2);
    const rt_buffer *xb = fixture_buffer(f, x, nx * 4);
    const rt_buffer *yb = fixture_buffer(f, y0, ny * 4);
    const rt_view xv = {xb, 0, T, c->cols, c->cols};
    const rt_view ya = {yb, 0, T, c->rows_a, c->rows_a};
    const rt_view yb_view = {yb, (na + 3) * 4, T, c->rows_b, c->rows_b};
    const rt_product pa = {&a, 0, xv, ya, RT_EPILOGUE_STORE, NULL};
    const rt_product pb = {&b,
                           0,
                           xv,
                           c->swiglu ? ya : yb_view,
                           c->swiglu ? RT_EPILOGUE_GATE : RT_EPILOGUE_ADD,
                           NULL};
    fixture_time_next(f);
    f->ops.max_binding_range = limit;
    dsvk_status status = rt_op_matvec_pair(&f->ops, &pa, &pb);
    f->ops.max_binding_range = 0;
    CHECK(status == DSVK_OK, "pair: %s", rt_device_error(f->dev));
    fixture_submit(f);
    uint32_t dispatches = f->timed_dispatches;
    fixture_read(f, yb, 0, y, ny * 4);

    const char *what = c->swiglu ? "swiglu" : "concat";
    double nmse;
    if (c->swiglu) {
        ref_matmul(wb, c->rows_b, c->cols, x, T, up);
        nmse = epilogue_nmse(y, y0, wa, x, c->rows_a, c->cols, T,
                             RT_EPILOGUE_GATE, up);
    } else {
        nmse = epilogue_nmse(y, y0, wa, x, c->rows_a, c->cols, T,
                             RT_EPILOGUE_STORE, NULL);
        double nmse_b = epilogue_nmse(y + na + 3, y0 + na + 3, wb, x, c->rows_b,
                                      c->cols, T, RT_EPILOGUE_ADD, NULL);
        nmse = fmax(nmse, nmse_b);
        for (int i = 0; i < 3; i++)
            CHECK(y[na + i] == y0[na + i], "concat: the gap was written");
    }
    CHECK(nmse <= PRODUCT_TOLERANCE,
          "%s pair %s %u + %u x %u, %u tokens, "
          "limit %llu: nmse %g",
          what, fixture_type_name(c->type), c->rows_a, c->rows_b, c->cols, T,
          (unsigned long long)limit, nmse);
    fixture_release(f);
    free(decoded);
    free(x);
    free(y0);
    free(y);
    free(up);
    return dispatches;
}

/* Pairs fuse into one dispatch, across workgroup boundaries of either
 * kernel class (rows not multiples of 2 or 64), wide and narrow kernels,
 * and fall back to two dispatches with the same results where one binding
 * cannot cover both weights. */
static void test_pairs(ops_fixture *f)
{
    const pair_case cases[] = {
        {DSVK_TYPE_Q8_0, 129, 129, 256, 1, true},
        {DSVK_TYPE_Q8_0, 67, 9, 256, 2, false},
        {DSVK_TYPE_F32, 33, 33, 33, 1, true},
        {DSVK_TYPE_F16, 70, 7, 97, 2, false},
        {DSVK_TYPE_Q4_K, 65, 65, 512, 1, true},
        {DSVK_TYPE_Q6_K, 130, 3, 256, 1, false},
    };
    const bool timed = rt_device_caps(f->dev)->timestamps;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pair_case *c = &cases[i];
        uint32_t fused = run_pair(f, c, 0);
        CHECK(!timed || fused == 1, "pair %zu: %u dispatches, expected one", i,
              fused);
        /* Room for either weight alone, not for both. */
        uint64_t one =
            (uint64_t)c->rows_a * rt_weight_row_bytes(c->type, c->cols);
        uint32_t apart = run_pair(f, c, one + 512);
        CHECK(!timed || apart == 2,
              "pair %zu at a limit: %u dispatches, "
              "expected two",
              i, apart);
    }
}

static void test_bad_arguments(ops_fixture *f)
{
    float zeros[64] = {0};
    const rt_buffer *buf = fixture_buffer(f, zeros, sizeof zeros);
    rt_weight w = {buf, 0, DSVK_TYPE_F32, 4, 3, 1, 16};
    rt_view x = {buf, 0, 1, 4, 4}, y = {buf, 128, 1, 3, 3};

    rt_view wrong = {buf, 0, 1, 5, 5};
    CHECK(store_matvec(f, &w, 0, wrong, y) == DSVK_ERROR_INVALID_ARGUMENT,
          "x of the wrong length");
    CHECK(store_matmul(f, &w, 1, x, y) == DSVK_ERROR_INVALID_ARGUMENT,
          "matrix past the stack");
    rt_view misaligned = {buf, 2, 1, 4, 4};
    CHECK(store_matvec(f, &w, 0, misaligned, y) == DSVK_ERROR_INVALID_ARGUMENT,
          "x offset not a multiple of 4");
    rt_weight past_end = w;
    past_end.offset = 240;
    CHECK(store_matvec(f, &past_end, 0, x, y) == DSVK_ERROR_INVALID_ARGUMENT,
          "weight past the end of its buffer");
    /* GGML type 10 is Q2_K: 84-byte blocks of 256, not decoded. */
    rt_weight q2_k = {buf, 0, 10, 256, 1, 1, 84};
    rt_view x256 = {buf, 0, 1, 256, 256};
    CHECK(store_matvec(f, &q2_k, 0, x256, (rt_view){buf, 0, 1, 1, 1}) ==
              DSVK_ERROR_UNSUPPORTED,
          "a type without a decoder");
    /* Q4_K blocks are read as aligned words (weights.glsl). */
    rt_weight q4_k = {buf, 2, DSVK_TYPE_Q4_K, 256, 1, 1, 144};
    CHECK(store_matvec(f, &q4_k, 0, x256, (rt_view){buf, 0, 1, 1, 1}) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "a Q4_K weight at a 2-byte aligned offset");
    f->ops.max_binding_range = 16;
    CHECK(store_matvec(f, &w, 0, x, y) == DSVK_ERROR_UNSUPPORTED,
          "a row that does not fit one binding");
    f->ops.max_binding_range = 0;
    fixture_release(f);
}

/* Every type the model loader accepts (host/model/dequant.c decodes it) has a
 * GPU decoder, so no model that loads is refused at upload. */
static void test_every_decodable_type(ops_fixture *f)
{
    static const uint8_t zeros[4 * 256] = {0}; /* blocks decode to 0 */
    const rt_buffer *buf = fixture_buffer(f, zeros, sizeof zeros);
    const rt_buffer *out = fixture_buffer(f, NULL, 4);
    rt_view x = {buf, 0, 1, 256, 256}, y = {out, 0, 1, 1, 1};
    for (uint32_t type = 0; type < 64; type++) {
        if (!dequant_supports(type))
            continue;
        rt_weight w = {buf, 0, type, 256, 1, 1, rt_weight_row_bytes(type, 256)};
        CHECK(store_matvec(f, &w, 0, x, y) == DSVK_OK,
              "type %u (%s) decodes on the CPU but not on the GPU: %s", type,
              gguf_type_name(type), rt_device_error(f->dev));
    }
    fixture_submit(f);
    fixture_release(f);
}

int main(void)
{
    ops_fixture f;
    fixture_open(&f);
    test_product_table(&f);
    test_splits(&f);
    test_long_rows(&f);
    test_aligned(&f);
    test_epilogues(&f);
    test_pairs(&f);
    test_bad_arguments(&f);
    test_every_decodable_type(&f);
    for (int tiled = 0; tiled < 2; tiled++)
        for (size_t t = 0; t < N_PRODUCT_TYPES; t++)
            printf("%s %-4s worst nmse %.3g (tolerance %g)\n",
                   tiled ? "matmul" : "matvec",
                   fixture_type_name(product_types[t].type),
                   worst_nmse[tiled][t], PRODUCT_TOLERANCE);
    return fixture_close(&f, "test_ops_products");
}
