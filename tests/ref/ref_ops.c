#include "ref_ops.h"

#include "model/half.h"
#include "shared.h"

#include <math.h>
#include <string.h>

size_t ref_row_bytes(uint32_t type, uint32_t cols)
{
    switch (type) {
    case DSVK_TYPE_F32:
        return (size_t)cols * 4;
    case DSVK_TYPE_F16:
    case DSVK_TYPE_BF16:
        return (size_t)cols * 2;
    case DSVK_TYPE_Q8_0:
        return cols % 32 ? 0 : (size_t)cols / 32 * 34;
    case DSVK_TYPE_Q4_0:
        return cols % 32 ? 0 : (size_t)cols / 32 * 18;
    case DSVK_TYPE_Q4_1:
        return cols % 32 ? 0 : (size_t)cols / 32 * 20;
    case DSVK_TYPE_Q5_0:
        return cols % 32 ? 0 : (size_t)cols / 32 * 22;
    case DSVK_TYPE_Q5_1:
        return cols % 32 ? 0 : (size_t)cols / 32 * 24;
    case DSVK_TYPE_Q4_K:
        return cols % 256 ? 0 : (size_t)cols / 256 * 144;
    case DSVK_TYPE_Q5_K:
        return cols % 256 ? 0 : (size_t)cols / 256 * 176;
    case DSVK_TYPE_Q6_K:
        return cols % 256 ? 0 : (size_t)cols / 256 * 210;
    }
    return 0;
}

static void put_u16(uint8_t *at, uint16_t v)
{
    at[0] = (uint8_t)v;
    at[1] = (uint8_t)(v >> 8);
}

void ref_encode_row(uint32_t type, const float *x, uint32_t cols, void *row)
{
    uint8_t *out = row;
    for (uint32_t c = 0; type != DSVK_TYPE_Q8_0 && c < cols; c++) {
        if (type == DSVK_TYPE_F32)
            memcpy(out + 4 * c, &x[c], 4);
        else if (type == DSVK_TYPE_F16)
            put_u16(out + 2 * c, f32_to_half(x[c]));
        else
            put_u16(out + 2 * c, f32_to_bf16(x[c]));
    }
    for (uint32_t b = 0; type == DSVK_TYPE_Q8_0 && b < cols / 32; b++) {
        const float *block = x + 32 * b;
        uint8_t *dst = out + 34 * b;
        float amax = 0;
        for (int j = 0; j < 32; j++)
            amax = fmaxf(amax, fabsf(block[j]));
        float d = amax / 127;
        float id = d ? 1.0f / d : 0.0f;
        put_u16(dst, f32_to_half(d));
        for (int j = 0; j < 32; j++)
            dst[2 + j] = (uint8_t)(int8_t)roundf(block[j] * id);
    }
}

void ref_matmul(const float *w, uint32_t rows, uint32_t cols, const float *x,
                uint32_t tokens, float *y)
{
    for (uint32_t t = 0; t < tokens; t++)
        for (uint32_t r = 0; r < rows; r++) {
            double sum = 0;
            for (uint32_t c = 0; c < cols; c++)
                sum +=
                    (double)w[(size_t)r * cols + c] * x[(size_t)t * cols + c];
            y[(size_t)t * rows + r] = (float)sum;
        }
}

void ref_rms_norm(const float *x, uint32_t rows, uint32_t cols,
                  const float *weight, float eps, float *out)
{
    for (uint32_t r = 0; r < rows; r++) {
        const float *row = x + (size_t)r * cols;
        double squares = 0;
        for (uint32_t c = 0; c < cols; c++)
            squares += (double)row[c] * row[c];
        double inv_rms = 1 / sqrt(squares / cols + eps);
        for (uint32_t c = 0; c < cols; c++)
            out[(size_t)r * cols + c] =
                (float)(row[c] * inv_rms * (weight ? weight[c] : 1));
    }
}

/* The pair index i whose wavelength 2 pi base^(2i / n_dims) fits n_rot
 * turns into the original context: solving gives
 * n_dims * ln(n_ctx_orig / (2 pi n_rot)) / (2 ln base). */
static double yarn_corr_dim(uint32_t n_dims, uint32_t n_ctx_orig, double n_rot,
                            double base)
{
    return n_dims * log(n_ctx_orig / (n_rot * 2 * M_PI)) / (2 * log(base));
}

void ref_rope(float *x, uint32_t rows, uint32_t n_dims,
              uint32_t rows_per_position, uint32_t pos0,
              const ref_rope_params *p)
{
    /* Pairs below `low` keep the original angle (extrapolate), pairs above
     * `high` take the interpolated one, a linear ramp in between. */
    double low = 0, high = 0;
    if (p->ext_factor != 0) {
        low = fmax(0, floor(yarn_corr_dim(n_dims, p->n_ctx_orig, p->beta_fast,
                                          p->freq_base)));
        high =
            fmin(n_dims - 1, ceil(yarn_corr_dim(n_dims, p->n_ctx_orig,
                                                p->beta_slow, p->freq_base)));
    }
    for (uint32_t r = 0; r < rows; r++) {
        double pos = pos0 + r / rows_per_position;
        for (uint32_t i = 0; i < n_dims / 2; i++) {
            double theta_extrap =
                pos * pow(p->freq_base, -2.0 * i / (double)n_dims);
            double theta_interp = p->freq_scale * theta_extrap;
            double theta = theta_interp;
            if (p->ext_factor != 0) {
                double y = (i - low) / fmax(0.001, high - low);
                double mix = (1 - fmin(1, fmax(0, y))) * p->ext_factor;
                theta = theta_interp * (1 - mix) + theta_extrap * mix;
            }
            float *pair = x + (size_t)r * n_dims + 2 * i;
            double x0 = pair[0], x1 = pair[1];
            pair[0] = (float)(x0 * cos(theta) - x1 * sin(theta));
            pair[1] = (float)(x0 * sin(theta) + x1 * cos(theta));
        }
    }
}

void ref_softmax(const float *x, uint32_t rows, uint32_t cols, float scale,
                 float *out)
{
    for (uint32_t r = 0; r < rows; r++) {
        const float *row = x + (size_t)r * cols;
        double largest = -INFINITY;
        for (uint32_t c = 0; c < cols; c++)
            largest = fmax(largest, (double)row[c] * scale);
        double sum = 0;
        for (uint32_t c = 0; c < cols; c++)
            sum += exp((double)row[c] * scale - largest);
        for (uint32_t c = 0; c < cols; c++)
            out[(size_t)r * cols + c] =
                (float)(exp((double)row[c] * scale - largest) / sum);
    }
}

uint32_t ref_argmax(const float *x, uint32_t n)
{
    uint32_t best = 0;
    int found = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!isnan(x[i]) && (!found || x[i] > x[best])) {
            best = i;
            found = 1;
        }
    return best;
}
