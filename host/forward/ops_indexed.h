/* Indexed products shared by the MLA and MoE launchers: products with a
 * stack of matrices where each output row a uses its own matrix, the head's
 * (attn_k_b, attn_v_b: a = t * H + h) or the expert's that moe_route chose
 * (read from device memory). Shaders moe_indexed_{matvec,matmul}.comp. */
#ifndef DSVK_HOST_OPS_INDEXED_H
#define DSVK_HOST_OPS_INDEXED_H

#include "ops.h"

#include <stdbool.h>

/* Head-indexed: y[t * H + h] = W_h x[t * H + h] with H = w->count; x and y
 * have T * H rows of w->cols and w->rows. `tiled` selects the matmul
 * (many tokens) over the matvec. */
dsvk_status indexed_heads(const rt_ops *ops, const char *op, const rt_weight *w,
                          rt_view x, rt_view y, bool tiled);

/* Which expert each output row a chose: ids[a] (uint32 in device memory,
 * for the matvec) or, for the matmul, moe_group.comp's span (uint32 pairs
 * (first, count) per expert) and list of rows ordered by expert. */
typedef struct expert_rows {
    uint32_t n_assign; /* rows a: T * k */
    uint32_t n_tokens; /* T: no expert has more rows than this */
    uint32_t n_slots;  /* entries of the list (n_assign, or with tiles their
                          slots) */
    const rt_buffer *ids;
    uint64_t ids_offset;
    const rt_buffer *span; /* NULL: matvec over ids */
    uint64_t span_offset;
    const rt_buffer *list;
    uint64_t list_offset;
} expert_rows;

/* Expert-indexed: y[a] = epilogue(y[a], W_e x[a / x_div]) with e the
 * expert of row a (RT_EPILOGUE_GATE: silu(y[a]) * (W_e x), SwiGLU's up
 * product gated by the gate product already in y). y has n_assign rows of
 * w->rows. A stack larger than one binding runs as several dispatches,
 * each over the experts it binds. */
dsvk_status indexed_experts(const rt_ops *ops, const char *op,
                            const rt_weight *w, rt_view x, uint32_t x_div,
                            const expert_rows *rows, rt_epilogue epilogue,
                            rt_view y);

/* moe_group.comp's tile table: the expert of each tile of
 * DSVK_CPU_PRODUCT_TOKENS slots of the list, DSVK_MOE_NONE past the last
 * expert's run. */
typedef struct expert_tiles {
    const rt_buffer *table;
    uint64_t table_offset;
    uint32_t max_tiles;
} expert_tiles;

/* The grouped experts on CPU-class kernels, a tile of slots per
 * invocation (each decoded weight serves the tile's tokens): for slot p
 * of a tile of expert e, y[p] (DSVK_TILES_TO_SLOTS) or y[list[p]]
 * (DSVK_TILES_TO_ASSIGNMENTS) = epilogue(y, W_e x_slots[p]), with `up`
 * silu(W_e x) * (U_e x) (gate and up; their stacks in one binding).
 * x_slots has max_tiles * DSVK_CPU_PRODUCT_TOKENS rows, a tile's
 * contiguous, so that dispatches of as many tiles as fit read them from
 * the uniform binding. rows gives the list. */
dsvk_status indexed_expert_tiles(const rt_ops *ops, const char *op,
                                 const rt_weight *w, const rt_weight *up,
                                 rt_view x_slots, const expert_rows *rows,
                                 const expert_tiles *tiles, uint32_t mode,
                                 rt_epilogue epilogue, rt_view y);

/* Whether two stacks have one shape (cols, rows and count). */
bool indexed_same_shape(const rt_weight *a, const rt_weight *b);

/* Whether one binding can cover the stacks w[0..n-1]: one buffer, one
 * type, and the range from the first byte to the last within the limit. */
bool indexed_one_binding(const rt_ops *ops, const rt_weight *const *w,
                         uint32_t n);

/* The shared experts run inside the routed experts' dispatches: their
 * weights in the binding of the routed ones (indexed_one_binding) and
 * their activations `view` (T rows) in the buffer of the routed ones. */
typedef struct indexed_shared {
    const rt_weight *w;  /* gate (SwiGLU) or down (combining) */
    const rt_weight *up; /* SwiGLU: up */
    rt_view view;        /* SwiGLU: its output; combining: its input */
} indexed_shared;

/* y[a] = silu(G_e x[a / x_div]) * (U_e x[a / x_div]): for the matvec one
 * dispatch where both stacks lie in one buffer within one binding's range
 * (model loading places them so), else the two products in turn. With
 * `shared` (fused only), also shared->view[t] = silu(S_g x[t]) * (S_u
 * x[t]) in the same dispatch; x_div is then k. */
dsvk_status indexed_experts_swiglu(const rt_ops *ops, const rt_weight *gate,
                                   const rt_weight *up, rt_view x,
                                   uint32_t x_div, const expert_rows *rows,
                                   const indexed_shared *shared, rt_view y);

/* The down product summed over each token's experts (per-token matvec
 * only): y[t] = epilogue(y[t], sum_j weights[t k + j] W_e(t k + j)
 * hidden[t k + j] (+ S_d shared->view[t])), k = n_assign / n_tokens, the
 * route weights as f32 at weights_offset. A stack larger than one binding
 * runs as several dispatches, the later ones adding to the first's (not
 * with shared experts, which need one binding). */
dsvk_status indexed_experts_combine(const rt_ops *ops, const rt_weight *down,
                                    rt_view hidden, const expert_rows *rows,
                                    const rt_buffer *weights,
                                    uint64_t weights_offset,
                                    const indexed_shared *shared,
                                    rt_epilogue epilogue, rt_view y);

#endif
