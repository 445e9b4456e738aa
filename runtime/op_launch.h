/* What every op launcher does: check weights and views, bind them within
 * the device's alignment and range limits, spread workgroups over the grid,
 * pick pipelines. Used by the generic launchers (runtime/op_*.c) and the
 * model-op launchers (host/forward/ops_*.c); not part of the public API. */
#ifndef DSVK_RUNTIME_OP_LAUNCH_H
#define DSVK_RUNTIME_OP_LAUNCH_H

#include "op_params.h"
#include "ops.h"

/* Invocations per workgroup of the row-reducing and element-wise shaders: a
 * power of two (the shared-memory reduction halves it) within the
 * 128-invocation baseline. */
#define OP_WORKGROUP 128u
/* matvec: 64 invocations per 2 rows keep small matrices spread over many
 * workgroups. */
#define OP_MATVEC_WORKGROUP 64u

/* How a matrix-vector product runs on this device (shaders/
 * product_rows.glsl): its pipeline, the weight rows and the tokens one
 * workgroup computes, and the x binding's range again as a uniform buffer
 * where the pipeline reads x from one (buffer NULL otherwise). The
 * device's kernel class decides; rows longer than the CPU-class kernel
 * takes use the GPU-class one. */
typedef struct op_matvec_shape {
    rt_pipeline *pipeline;
    uint32_t group_rows;
    uint32_t tokens;
    rt_span uniform_x;
} op_matvec_shape;

/* A weight type with a decoder in shaders/weights.glsl. */
typedef struct op_weight_type {
    uint32_t type;             /* DSVK_TYPE_* */
    const char *name;          /* shader-name suffix, e.g. "q8_0" */
    uint32_t block;            /* elements per block */
    uint32_t block_bytes;      /* on the device (rt_weight_row_bytes) */
    uint32_t file_block_bytes; /* in GGUF */
    uint32_t wide_cols; /* elements of its decode in 16-byte reads, or 0 */
} op_weight_type;

/* The type's geometry; NULL when weights.glsl has no decoder for it. */
const op_weight_type *op_weight_type_find(uint32_t type);

/* Whether products over rows of `cols` take the CPU-class kernels. Those
 * also run prompts (DSVK_CPU_PRODUCT_TOKENS tokens per invocation): on a
 * CPU driver they beat the tiled matmul, whose shared-memory tiles and
 * barriers lavapipe runs lane by lane (measured on the bench model, a
 * 16-token prefill: 9.0 s in tiles, 0.55 s in one-token matvecs). */
bool op_cpu_product(const rt_ops *ops, uint32_t cols);

/* How many of `tokens` tokens' x one dispatch of a CPU-class kernel can
 * read from the uniform binding, where the first token's x takes `first`
 * bytes and each further one `next` more: all, or a multiple of
 * `multiple` (whole tiles of tokens per invocation) where more fit, at
 * least 1 (x too long for it is read from the storage binding). Within
 * one storage binding too. */
uint32_t op_uniform_x_tokens(const rt_ops *ops, uint64_t first, uint64_t next,
                             uint32_t tokens, uint32_t multiple);

/* `name` is the shader's name without the class suffix, e.g.
 * "matvec_q8_0"; gpu_rows the rows per workgroup of its GPU-class form;
 * `wide` what op_wide_rows says; `tokens` the tokens per invocation of the
 * CPU-class form (DSVK_CPU_PRODUCT_TOKENS or 1); x_span the x binding. The
 * CPU-class kernels read x from a uniform buffer where x_span can be one (the
 * _ubo shaders): lavapipe loads an element of a uniform buffer that every
 * invocation reads alike with one scalar load, an element of a storage
 * buffer inside a loop with a bounds-checked load per lane. */
dsvk_status op_matvec_shape_for(const rt_ops *ops, const char *name,
                                uint32_t gpu_rows, uint32_t cols, bool wide,
                                uint32_t tokens, const rt_span *x_span,
                                op_matvec_shape *out);

/* Whether a CPU-class product may read w in 16-byte words (the _cpu_wide
 * shaders, which need shaderInt64): a wide type, rows of whole
 * wide_cols-element groups starting on 16-byte boundaries from weight_offset
 * (the first byte of w's buffer the product binds), and x (as bound, x_rows
 * rows) 16-byte aligned too. */
bool op_wide_rows(const rt_ops *ops, const op_weight_type *type,
                  const rt_weight *w, uint64_t weight_offset, dsvk_view x,
                  uint32_t x_rows);

/* Checks w (buffer, a type with a decoder, whole blocks, row_bytes, 2-byte
 * aligned rows, 4-byte aligned for F32 and for blocks of whole words) and
 * returns its type's geometry. */
dsvk_status op_check_weight(const rt_ops *ops, const char *op,
                            const rt_weight *w, const op_weight_type **type);

/* The most bytes one binding may cover, and the alignment bindings start at
 * (minStorageBufferOffsetAlignment, at least a 32-bit word). */
uint64_t op_binding_limit(const rt_ops *ops);
uint64_t op_binding_alignment(const rt_ops *ops);

/* The most bytes from any offset that one binding can cover: a binding
 * starts up to alignment - 1 bytes early and ends on a word, so that much
 * is held back. */
uint64_t op_binding_room(const rt_ops *ops);

/* The rows of a weight that one dispatch may bind: a binding starts up to
 * alignment - 1 bytes early and ends on a word, so that much is held back. */
dsvk_status op_rows_per_binding(const rt_ops *ops, const char *op,
                                const rt_weight *w, uint32_t *rows);

/* The shader constants of a RoPE over n_dims dimensions for `positions`
 * positions from pos0, checked (even n_dims, freq_base > 0, the original
 * context with YaRN, positions exact in f32). */
dsvk_status op_rope_freq(const rt_ops *ops, const char *op, const rt_rope *rope,
                         uint32_t n_dims, uint32_t pos0, uint32_t positions,
                         dsvk_rope_freq *out);

/* Binds bytes [offset, offset + size) of buf: the span starts at offset
 * rounded down to op_binding_alignment and ends on a 32-bit word; *base gets
 * the bytes from the span's start to offset. `what` names the operand in
 * errors. */
dsvk_status op_bind_bytes(const rt_ops *ops, const char *op, const char *what,
                          const rt_buffer *buf, uint64_t offset, uint64_t size,
                          bool written, rt_span *span, uint32_t *base);

/* Binds two views of one buffer as one span covering both (where a
 * shader reads or writes both through one binding). */
dsvk_status op_bind_views(const rt_ops *ops, const char *op, const char *what,
                          rt_view a, rt_view b, bool written, rt_span *span,
                          dsvk_view *a_view, dsvk_view *b_view);

/* Rows [first, first + n) of a view. */
rt_view op_view_rows(rt_view v, uint32_t first, uint32_t n);

/* Bytes from a view's first element to the end of its last. */
uint64_t op_view_bytes(rt_view v);

/* Binds a view the same way; the shader finds element [r][c] at
 * shader_view->base + r * shader_view->stride + c. */
dsvk_status op_bind_view(const rt_ops *ops, const char *op, const char *what,
                         rt_view view, bool written, rt_span *span,
                         dsvk_view *shader_view);

/* Checks an RMSNorm weight for rows of `cols`: one 4-byte aligned F32 row
 * of cols, or NULL (no weight). */
dsvk_status op_check_norm_weight(const rt_ops *ops, const char *op,
                                 const rt_weight *weight, uint32_t cols);

/* Checks that two views have the same shape. */
dsvk_status op_check_same_shape(const rt_ops *ops, const char *op, rt_view a,
                                rt_view b);

/* The pipeline of shader `name`, or of "<name>_subgroup" when `reducing`
 * and the device has subgroup arithmetic; workgroup and subgroup size as
 * specialization constants. */
dsvk_status op_pipeline(const rt_ops *ops, const char *name, bool reducing,
                        uint32_t workgroup_size, rt_pipeline **out);

/* A grid of `groups` workgroups for shaders that use group_index() (spread
 * over x and z past maxComputeWorkGroupCount[0]) and y workgroups in y. */
dsvk_status op_grid(const rt_ops *ops, const char *op, uint64_t groups,
                    uint32_t y, uint32_t grid[3]);

/* Records one dispatch of `pipeline` with spans[0 .. n_spans-1] at bindings
 * 0 .. n_spans-1. */
void op_record(const rt_ops *ops, rt_pipeline *pipeline, const rt_span *spans,
               uint32_t n_spans, const void *push, uint32_t push_size,
               const uint32_t grid[3], const char *label);
/* The same for a matrix-vector product of that shape (its uniform x too). */
void op_record_matvec(const rt_ops *ops, const op_matvec_shape *shape,
                      const rt_span *spans, uint32_t n_spans, const void *push,
                      uint32_t push_size, const uint32_t grid[3],
                      const char *label);

#endif
