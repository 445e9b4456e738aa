/* Rotary position embedding with YaRN, in place. The per-call constants
 * (frequency step, YaRN correction range) are computed here exactly as
 * ggml computes them, in float, so positions rotate as in llama.cpp. */
#include "op_launch.h"

#include <math.h>

/* The pair index at which the wavelength covers n_rot turns over the
 * original context (ggml_rope_yarn_corr_dim). */
static float corr_dim(uint32_t n_dims, uint32_t n_ctx_orig, float n_rot,
                      float base)
{
    return (float)n_dims * logf((float)n_ctx_orig / (n_rot * 2 * (float)M_PI)) /
           (2 * logf(base));
}

dsvk_status op_rope_freq(const rt_ops *ops, const char *op, const rt_rope *rope,
                         uint32_t n_dims, uint32_t pos0, uint32_t positions,
                         dsvk_rope_freq *out)
{
    if (!rope || n_dims % 2 || n_dims == 0 || !(rope->freq_base > 0) ||
        (rope->ext_factor != 0 && rope->n_ctx_orig == 0))
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: needs an even number of rotated dimensions (got "
                       "%u), freq_base > 0 and, with YaRN, the original "
                       "context length",
                       op, n_dims);
    /* Positions must stay exact as f32. */
    if ((uint64_t)pos0 + positions > (1u << 24))
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: positions from %u to %llu are too many", op, pos0,
                       (unsigned long long)pos0 + positions);
    *out = (dsvk_rope_freq){
        .theta_scale = powf(rope->freq_base, -2.0f / (float)n_dims),
        .freq_scale = rope->freq_scale,
        .ext_factor = rope->ext_factor,
    };
    if (rope->ext_factor != 0) {
        /* ggml_rope_yarn_corr_dims: whole pairs, inside [0, n_dims - 1]. */
        float low = floorf(corr_dim(n_dims, rope->n_ctx_orig, rope->beta_fast,
                                    rope->freq_base));
        float high = ceilf(corr_dim(n_dims, rope->n_ctx_orig, rope->beta_slow,
                                    rope->freq_base));
        out->corr_low = low > 0 ? low : 0;
        out->corr_high =
            high < (float)(n_dims - 1) ? high : (float)(n_dims - 1);
    }
    return DSVK_OK;
}

dsvk_status rt_op_rope(const rt_ops *ops, rt_view x, uint32_t rows_per_position,
                       uint32_t pos0, const rt_rope *rope)
{
    const char *op = "rope";
    if (rows_per_position == 0)
        return rt_fail(ops->dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: rows_per_position must be at least 1", op);
    if ((uint64_t)x.rows * (x.cols / 2) > UINT32_MAX - OP_WORKGROUP)
        return rt_fail(ops->dev, DSVK_ERROR_UNSUPPORTED,
                       "%s: %u rows are too many", op, x.rows);
    dsvk_rope_params params = {
        .rows = x.rows,
        .cols = x.cols,
        .rows_per_position = rows_per_position,
        .pos0 = pos0,
    };
    dsvk_status status = op_rope_freq(ops, op, rope, x.cols, pos0,
                                      x.rows / rows_per_position, &params.freq);
    rt_span span;
    if (status == DSVK_OK)
        status = op_bind_view(ops, op, "x", x, true, &span, &params.x);
    rt_pipeline *pipeline = NULL;
    if (status == DSVK_OK)
        status = op_pipeline(ops, op, false, OP_WORKGROUP, &pipeline);
    uint32_t grid[3];
    uint64_t pairs = (uint64_t)x.rows * (x.cols / 2);
    if (status == DSVK_OK)
        status = op_grid(ops, op, (pairs + OP_WORKGROUP - 1) / OP_WORKGROUP, 1,
                         grid);
    if (status != DSVK_OK)
        return status;
    op_record(ops, pipeline, &span, 1, &params, sizeof params, grid, op);
    return DSVK_OK;
}
