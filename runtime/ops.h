/* Launchers for the generic GPU ops: each appends one or more dispatches to
 * a recorder. Activations are f32, row-major [n_rows][n_cols]. */
#ifndef DSVK_RUNTIME_OPS_H
#define DSVK_RUNTIME_OPS_H

#include "recorder.h"

/* A weight matrix (or a stack of them) in device memory, in its GGUF type
 * and the device layout of that type (rt_weight_row_bytes).
 * Shape in ggml order: `cols` = ne[0] (row length, the reduction dimension of
 * a product), `rows` = ne[1], `count` = ne[2] (experts or heads; 1 for a
 * plain matrix). Matrix m starts at offset + m * rows * row_bytes. The range
 * may exceed maxStorageBufferRange: launchers split the work so that each
 * dispatch binds at most that much. */
typedef struct rt_weight {
    const rt_buffer *buffer;
    uint64_t offset;
    uint32_t type; /* DSVK_TYPE_* */
    uint32_t cols;
    uint32_t rows;
    uint32_t count;
    uint64_t row_bytes; /* rt_weight_row_bytes(type, cols) */
} rt_weight;

/* The device layout of weights, which shaders/weights.glsl decodes: the
 * GGUF blocks as they are, except Q6_K, whose 210-byte blocks are padded
 * to 224 bytes, so that each block and each of its fields starts on a
 * 16-byte boundary. rt_weight_row_bytes is the bytes of a device row of
 * `cols` elements: 0 for a type without a decoder or a partial block.
 * rt_weight_pack_rows converts `rows` whole GGUF rows at src into device
 * rows at dst (no overlap); rt_weight_layout_is_file says whether that is
 * a plain copy, so that a loader can upload the file's bytes directly. */
uint64_t rt_weight_row_bytes(uint32_t type, uint32_t cols);
bool rt_weight_layout_is_file(uint32_t type);
void rt_weight_pack_rows(uint32_t type, uint32_t cols, uint64_t rows,
                         const void *src, void *dst);

/* An f32 activation tensor: a range of a buffer, row-major. */
typedef struct rt_tensor {
    const rt_buffer *buffer;
    uint64_t offset;
    uint32_t rows;
    uint32_t cols;
} rt_tensor;

/* The rows an op reads or writes: row i, element j is the f32 at byte
 * offset + 4 * (i * stride + j) of the buffer, stride >= cols. A view with
 * stride > cols is a slice of wider rows: the first r of each [r + dr] kv
 * row is {kv.buffer, kv.offset, tokens, r, r + dr}; the rope part of every
 * head of q [tokens][heads][dn + dr] is {q.buffer, q.offset + 4 * dn,
 * tokens * heads, dr, dn + dr}. `offset` must be a multiple of 4. */
typedef struct rt_view {
    const rt_buffer *buffer;
    uint64_t offset;
    uint32_t rows;
    uint32_t cols;
    uint32_t stride;
} rt_view;

/* The whole tensor as a view. */
static inline rt_view rt_view_of(const rt_tensor *t)
{
    return (rt_view){t->buffer, t->offset, t->rows, t->cols, t->cols};
}

/* Columns [first, first + cols) of every row of the tensor. */
static inline rt_view rt_view_cols(const rt_tensor *t, uint32_t first,
                                   uint32_t cols)
{
    return (rt_view){t->buffer, t->offset + 4ull * first, t->rows, cols,
                     t->cols};
}

/* Where launchers record, and the limit they plan bindings with. */
typedef struct rt_ops {
    rt_device *dev;
    rt_recorder *rec;
    /* Most bytes one binding may cover; 0 means the device's
     * maxStorageBufferRange. Tests set it lower so that splitting a weight
     * across dispatches happens on small weights. */
    uint64_t max_binding_range;
} rt_ops;

/* Every launcher returns DSVK_OK after appending its dispatches, or an error
 * (with the detail in rt_device_error) for invalid arguments
 * (DSVK_ERROR_INVALID_ARGUMENT: mismatched shapes, misaligned offsets,
 * ranges outside their buffer), for a weight type without a shader
 * (DSVK_ERROR_UNSUPPORTED), or when a pipeline cannot be created. Views and
 * weights must stay alive until the recorder's submit returns. The ranges a
 * launcher binds are the views' whole spans, so the recorder's hazard
 * tracking sees each op as reading its inputs and writing its outputs. */

/* What a product does with its result p at each element of y (the values
 * are the shaders', op_params.h DSVK_EPILOGUE_*). */
typedef enum rt_epilogue {
    RT_EPILOGUE_STORE = 0, /* y = p */
    RT_EPILOGUE_ADD = 1,   /* y = y + p: a residual add */
    RT_EPILOGUE_GATE = 2,  /* y = silu(y) * p: SwiGLU's up after its gate */
} rt_epilogue;

/* An RMSNorm of a product's y after its epilogue (the norm after a
 * residual add):
 *   result[t][c] = y[t][c] / sqrt(mean_c(y[t][c]^2) + eps) * weight[c]
 * weight: an F32 vector of y.cols; result: y's shape, overlapping neither
 * y nor x. A matvec whose weight fits one dispatch does it in that
 * dispatch: its last workgroup to finish normalises, counted on the 4
 * bytes at counter_offset of counter (a 4-byte aligned word that must be
 * zero before, and is zero again after; one word serves every such
 * product of a recording, since each waits for the one before). Other
 * products record an rms_norm after themselves. */
typedef struct rt_norm_after {
    const rt_weight *weight;
    float eps;
    rt_view result;
    const rt_buffer *counter;
    uint64_t counter_offset;
} rt_norm_after;

/* A product with matrix `matrix` of the stack w (0 for a plain matrix):
 *   y[t][r] = epilogue(y[t][r], sum_c W[matrix][r][c] * x[t][c])
 * x: tokens x w->cols; y: tokens x w->rows (a view, so the result may land
 * in a slice of a wider tensor). y must not overlap x. With `norm`, the
 * RMSNorm of y follows (rt_norm_after). */
typedef struct rt_product {
    const rt_weight *w;
    uint32_t matrix;
    rt_view x, y;
    rt_epilogue epilogue;
    const rt_norm_after *norm; /* NULL: none */
} rt_product;

/* Both accumulate in f32 with weights decoded in registers, every type
 * with a decoder. matvec suits few tokens (decode: kernels per device
 * class, shaders/product_rows.glsl); matmul suits many (prefill: 64 x 32
 * tiles through shared memory). */
dsvk_status rt_op_matvec(const rt_ops *ops, const rt_product *p);
dsvk_status rt_op_matmul(const rt_ops *ops, const rt_product *p);
/* a, then b, as matvecs over the same x: one dispatch where neither has
 * a norm, the two weights have one type, lie in one buffer within one
 * binding's range (model loading places the pairs so) and either b gates
 * a's y in place (SwiGLU: a stores, b has RT_EPILOGUE_GATE, same rows) or
 * the two write disjoint ranges of one buffer within one binding's range
 * (attn_q beside attn_kv_a_mqa). Otherwise two dispatches, with the same
 * results. */
dsvk_status rt_op_matvec_pair(const rt_ops *ops, const rt_product *a,
                              const rt_product *b);

/* A SwiGLU feed-forward: gate and up [n_ff][d], down [d][n_ff]. */
typedef struct rt_swiglu_ffn {
    const rt_weight *gate, *up, *down;
} rt_swiglu_ffn;

/* y = epilogue(y, down · (silu(gate · x) * (up · x))) through hidden
 * (x.rows rows of n_ff): as matvecs (gate and up paired) or matmuls; then
 * norm (NULL: none) after down. */
dsvk_status rt_op_swiglu_ffn(const rt_ops *ops, const rt_swiglu_ffn *ffn,
                             rt_view x, rt_view hidden, bool matvec,
                             rt_epilogue epilogue, rt_view y,
                             const rt_norm_after *norm);

/* result[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight, per row; weight is
 * an F32 vector of x.cols elements, or NULL for none. result may equal x. */
dsvk_status rt_op_rms_norm(const rt_ops *ops, rt_view x,
                           const rt_weight *weight, float eps, rt_view result);

/* RoPE parameters, straight from the GGUF metadata. */
typedef struct rt_rope {
    float freq_base;     /* rope.freq_base */
    float freq_scale;    /* 1 / rope.scaling.factor; 1 without YaRN */
    uint32_t n_ctx_orig; /* rope.scaling.original_context_length */
    float ext_factor;    /* 1 with YaRN scaling, else 0 */
    float beta_fast;     /* 32 */
    float beta_slow;     /* 1 */
} rt_rope;

/* Rotates, in place, the adjacent pairs (x[2i], x[2i+1]) of every row of x
 * (x.cols even: the rope dimensions). Row r is at position
 * pos0 + r / rows_per_position: the number of heads for q, 1 for the shared
 * rope key. YaRN as ggml's rope_yarn; cos/sin unscaled (DeepSeek puts
 * mscale into the attention scale instead). */
dsvk_status rt_op_rope(const rt_ops *ops, rt_view x, uint32_t rows_per_position,
                       uint32_t pos0, const rt_rope *rope);

/* result[r] = softmax(x[r] * scale) per row. result may equal x. */
dsvk_status rt_op_softmax(const rt_ops *ops, rt_view x, float scale,
                          rt_view result);

/* Embedding lookup: result[t] = decode(table row ids[t]) for t < result.rows;
 * ids are result.rows uint32 values at byte ids_offset of `ids` (written by
 * the host or by an earlier dispatch). result.cols = table->cols. An id
 * >= table->rows leaves its result row untouched. Any weight type with a
 * decoder; the table may exceed maxStorageBufferRange. */
dsvk_status rt_op_gather_rows(const rt_ops *ops, const rt_weight *table,
                              const rt_buffer *ids, uint64_t ids_offset,
                              rt_view result);

/* Greedy choice: for every row of x, the uint32 index of its largest
 * element (the first on ties; NaN never wins; 0 for a row of NaN), written
 * to consecutive uint32 at byte result_offset of `result`. */
dsvk_status rt_op_argmax(const rt_ops *ops, rt_view x, const rt_buffer *result,
                         uint64_t result_offset);

#endif
