/* Row encoders for the K-quant super-blocks (256 elements): ggml's
 * quantize_row_q4_K_ref, quantize_row_q5_K_ref and quantize_row_q6_K_ref,
 * the quantizers llama-quantize runs when no importance matrix is given.
 * They search a few scales per sub-block for the smallest weighted squared
 * error, quantize the sub-block scales (and mins) to 6 or 8 bits against
 * one f16 super-block scale, and then requantize every element with the
 * scales as stored, so the quants fit what the decoder will compute. */
#include "encode.h"
#include "model/half.h"

#include <math.h>
#include <string.h>

#define QK_K 256
/* ggml's GROUP_MAX_EPS: a Q6_K sub-block below this is all zeros. */
#define GROUP_MAX_EPS 1e-15f

/* ggml's nearest_int (adding 1.5 * 2^23) rounds half to even, as lrintf
 * does in the default rounding mode; |x| stays far below 2^22 here. */
static int nearest_int(float x)
{
    return (int)lrintf(x);
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ggml's make_qkx2_quants: quants L in [0, nmax] and a scale and min with
 * x ~ scale * L - min, minimising sum w * (scale * L - min - x)^2 over
 * nstep+1 trial scales (nmax + rmin + rdelta * is) / (max - min), each
 * refined by weighted least squares. The min is never positive: every
 * sub-block's range includes 0. Returns the scale; *neg_min = -min. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *w,
                              uint8_t *L, float *neg_min, float rmin,
                              float rdelta, int nstep)
{
    uint8_t Laux[32];
    float min = x[0], max = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0)
        min = 0;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *neg_min = -min;
        return 0.0f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
        float diff = scale * L[i] + min - x[i];
        best_error += w[i] * (diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D <= 0)
            continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (this_min > 0) {
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        float error = 0;
        for (int i = 0; i < n; i++) {
            float diff = this_scale * Laux[i] + this_min - x[i];
            error += w[i] * (diff * diff);
        }
        if (error < best_error) {
            memcpy(L, Laux, (size_t)n);
            best_error = error;
            scale = this_scale;
            min = this_min;
        }
    }
    *neg_min = -min;
    return scale;
}

/* ggml's make_qx_quants with rmse_type 1 (weights x^2), as Q6_K uses it:
 * signed quants in [-nmax, nmax-1] (stored + nmax) for 19 trial scales
 * around -nmax / max (max: the signed value of largest magnitude), keeping
 * the least-squares scale of the best. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0)
            continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) {
                int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
                L[i] = (int8_t)(nmax + l);
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Q4_K / Q5_K header: f16 d and dmin, then the eight 6-bit scales and mins
 * packed into 12 bytes as dequant.c's k_scale_min reads them. */
static void pack_k_scales(const uint8_t ls[8], const uint8_t lm[8],
                          uint8_t scales[12])
{
    memset(scales, 0, 12);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = (uint8_t)((ls[j] & 0x0f) | (lm[j] & 0x0f) << 4);
            scales[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            scales[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

/* The common part of Q4_K and Q5_K: per 32-element sub-block a
 * make_qkx2_quants fit (weights av_x + |x|, av_x the sub-block's RMS),
 * 6-bit scales and mins relative to their maxima, then requantization with
 * the stored values into L[256] in [0, nmax]. Writes d, dmin, scales. */
static void quantize_k_superblock(const float *x, int nmax, float rmin,
                                  int nstep, uint8_t *block, uint8_t L[QK_K])
{
    float scales[8], mins[8], weights[32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        const float *v = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++)
            sum_x2 += v[l] * v[l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++)
            weights[l] = av_x + fabsf(v[l]);
        scales[j] = make_qkx2_quants(32, nmax, v, weights, L + 32 * j, &mins[j],
                                     rmin, 0.1f, nstep);
        if (scales[j] > max_scale)
            max_scale = scales[j];
        if (mins[j] > max_min)
            max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        /* ggml stores nearest_int into a uint8_t before clamping to 63. */
        ls[j] = (uint8_t)nearest_int(inv_scale * scales[j]);
        lm[j] = (uint8_t)nearest_int(inv_min * mins[j]);
        ls[j] = ls[j] < 63 ? ls[j] : 63;
        lm[j] = lm[j] < 63 ? lm[j] : 63;
    }
    uint16_t d = f32_to_half(max_scale / 63.f);
    uint16_t dmin = f32_to_half(max_min / 63.f);
    encode_store_u16(block, d);
    encode_store_u16(block + 2, dmin);
    pack_k_scales(ls, lm, block + 4);
    for (int j = 0; j < 8; j++) {
        const float dj = half_to_f32(d) * ls[j];
        if (!dj)
            continue; /* keeps the fit's quants, as ggml does */
        const float mj = half_to_f32(dmin) * lm[j];
        for (int i = 0; i < 32; i++)
            L[32 * j + i] = (uint8_t)clamp_int(
                nearest_int((x[32 * j + i] + mj) / dj), 0, nmax);
    }
}

/* Q4_K, 144 bytes: d, dmin, 12 scale bytes, then per 64 elements 32 bytes
 * with elements 0-31 in the low and 32-63 in the high nibbles. */
void encode_q4_k(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t sb = 0; sb < n / QK_K; sb++) {
        uint8_t *block = out + sb * 144, L[QK_K];
        quantize_k_superblock(x + sb * QK_K, 15, -1.0f, 20, block, L);
        uint8_t *q = block + 16;
        for (int j = 0; j < QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; l++)
                q[l] = (uint8_t)(L[j + l] | L[j + l + 32] << 4);
    }
}

/* Q5_K, 176 bytes: as Q4_K plus 32 qh bytes before the nibbles; the 5th
 * bit of element l (l < 32) of the 64-element group g is bit 2g of qh[l],
 * that of element l + 32 bit 2g + 1. */
void encode_q5_k(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t sb = 0; sb < n / QK_K; sb++) {
        uint8_t *block = out + sb * 176, L[QK_K];
        quantize_k_superblock(x + sb * QK_K, 31, -0.5f, 15, block, L);
        uint8_t *qh = block + 16, *ql = block + 48;
        memset(qh, 0, 32);
        for (int g = 0; g < 4; g++, ql += 32) {
            for (int l = 0; l < 32; l++) {
                int lo = L[64 * g + l], hi = L[64 * g + l + 32];
                qh[l] |=
                    (uint8_t)((lo >> 4) << (2 * g) | (hi >> 4) << (2 * g + 1));
                ql[l] = (uint8_t)((lo & 0x0f) | (hi & 0x0f) << 4);
            }
        }
    }
}

/* Q6_K, 210 bytes: ql[128], qh[64], 16 int8 scales, f16 d. Each sub-block
 * of 16 gets a make_qx_quants scale; the scales are stored as int8 against
 * d = -max_scale / 128 (max_scale: the one of largest magnitude, sign kept,
 * so it lands exactly on -128). */
static void encode_q6_k_block(const float *x, uint8_t *block)
{
    int8_t L[QK_K];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ib++) {
        scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
        if (fabsf(scales[ib]) > max_abs_scale) {
            max_abs_scale = fabsf(scales[ib]);
            max_scale = scales[ib];
        }
    }
    memset(block, 0, 210);
    if (max_abs_scale < GROUP_MAX_EPS)
        return; /* all zero, d = 0 */
    int8_t *sc = (int8_t *)(block + 192);
    float iscale = -128.f / max_scale;
    uint16_t d = f32_to_half(1 / iscale);
    encode_store_u16(block + 208, d);
    for (int ib = 0; ib < 16; ib++) {
        int s = nearest_int(iscale * scales[ib]);
        sc[ib] = (int8_t)(s < 127 ? s : 127);
    }
    for (int j = 0; j < 16; j++) {
        float dj = half_to_f32(d) * sc[j];
        if (!dj)
            continue;
        for (int i = 0; i < 16; i++)
            L[16 * j + i] =
                (int8_t)(clamp_int(nearest_int(x[16 * j + i] / dj), -32, 31) +
                         32);
    }
    uint8_t *ql = block, *qh = block + 128;
    for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
        for (int l = 0; l < 32; l++) {
            int q1 = L[j + l], q2 = L[j + l + 32];
            int q3 = L[j + l + 64], q4 = L[j + l + 96];
            ql[l] = (uint8_t)((q1 & 0x0f) | (q3 & 0x0f) << 4);
            ql[l + 32] = (uint8_t)((q2 & 0x0f) | (q4 & 0x0f) << 4);
            qh[l] = (uint8_t)((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 |
                              (q4 >> 4) << 6);
        }
    }
}

void encode_q6_k(const float *x, uint64_t n, uint8_t *out)
{
    for (uint64_t sb = 0; sb < n / QK_K; sb++)
        encode_q6_k_block(x + sb * QK_K, out + sb * 210);
}
