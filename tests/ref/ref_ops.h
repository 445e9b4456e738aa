/* Plain C references for the generic GPU ops (runtime/ops.h): loops over
 * dense row-major f32 arrays, written from the math (DESIGN.md §2, ggml's
 * definitions) rather than from the shaders, accumulating in double. Also
 * the weight encoders the op tests build their GPU weights with. */
#ifndef DSVK_TESTS_REF_OPS_H
#define DSVK_TESTS_REF_OPS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of one row of `cols` elements of a weight type dsvk decodes (cols
 * a multiple of the block: 32 for Q4_0 ... Q8_0, 256 for the K-quants);
 * 0 for other types or lengths. */
size_t ref_row_bytes(uint32_t type, uint32_t cols);

/* Encodes one row of f32 values as `type` (F32, F16, BF16 or Q8_0; the op
 * fixture builds the 4-6-bit block types from random blocks): F16 and
 * BF16 round to nearest even; Q8_0 blocks of 32 get the f16 scale
 * d = max|x| / 127 and int8 round(x / d), as ggml's quantize_row_q8_0_ref. */
void ref_encode_row(uint32_t type, const float *x, uint32_t cols, void *row);

/* y[t][r] = sum_c w[r][c] * x[t][c]; w [rows][cols], x [tokens][cols],
 * y [tokens][rows]. */
void ref_matmul(const float *w, uint32_t rows, uint32_t cols, const float *x,
                uint32_t tokens, float *y);

/* out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight (weight NULL: 1). */
void ref_rms_norm(const float *x, uint32_t rows, uint32_t cols,
                  const float *weight, float eps, float *out);

typedef struct ref_rope_params {
    float freq_base;
    float freq_scale; /* 1 / YaRN factor */
    uint32_t n_ctx_orig;
    float ext_factor; /* 1: YaRN on */
    float beta_fast;
    float beta_slow;
} ref_rope_params;

/* In place on pairs (x[2i], x[2i+1]) of each row of n_dims; row r at
 * position pos0 + r / rows_per_position. ggml's rope_yarn with unscaled
 * cos/sin (DESIGN.md §2). */
void ref_rope(float *x, uint32_t rows, uint32_t n_dims,
              uint32_t rows_per_position, uint32_t pos0,
              const ref_rope_params *p);

/* out[r] = softmax(x[r] * scale). */
void ref_softmax(const float *x, uint32_t rows, uint32_t cols, float scale,
                 float *out);

/* Index of the largest element (first on ties); NaN never wins; 0 when
 * every element is NaN. */
uint32_t ref_argmax(const float *x, uint32_t n);

#endif
