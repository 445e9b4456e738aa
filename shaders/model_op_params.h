/* Push constants of the DeepSeek-specific ops (host/forward/ops_mla.c,
 * host/forward/ops_moe.c; shaders mla_*.comp and moe_*.comp), shared by C and
 * GLSL like op_params.h: every field is a 32-bit scalar or a dsvk_view, so the
 * C layout and the GLSL std430 push-constant layout agree. Element offsets
 * ("base") are relative to each binding: launchers bind at offsets aligned
 * to minStorageBufferOffsetAlignment and put the rest here. */
#ifndef DSVK_SHADERS_MODEL_OP_PARAMS_H
#define DSVK_SHADERS_MODEL_OP_PARAMS_H

#include "op_params.h"

#ifdef VULKAN /* GLSL for Vulkan */
#define DSVK_STRUCT(name) struct name
#else
#define DSVK_STRUCT(name)                                                      \
    typedef struct name name;                                                  \
    struct name
#endif

/* Largest routing the shaders support (moe_route.comp, moe_group.comp). */
#define DSVK_MOE_MAX_EXPERTS 256u
#define DSVK_MOE_MAX_EXPERTS_USED 8u

/* moe_indexed_matvec.comp: weight rows per workgroup. */
#define DSVK_INDEXED_MATVEC_ROWS 2u
/* moe_indexed_matmul.comp: DSVK_INDEXED_MATMUL_WORKGROUP invocations compute
 * a TILE_ROWS x TILE_TOKENS tile of y, 4 x 4 outputs each. */
#define DSVK_INDEXED_MATMUL_WORKGROUP 128u
#define DSVK_INDEXED_MATMUL_TILE_ROWS 64u
#define DSVK_INDEXED_MATMUL_TILE_TOKENS 32u

/* mla_prepare.comp, for tokens t at positions pos0 + t, with round() the
 * cache type's rounding (host/forward/latent_cache.h):
 *   latent[pos0 + t] = round(RMSNorm(kv[t][0:r]) * norm)   (has_norm; else
 *                      kv[t][0:r] as it is)
 *   rope_key[pos0 + t] = round(RoPE(kv[t][r:r+dr]))          (has_rope)
 *   q[t * n_head + h][dn:dn+dr] = RoPE(...) in place         (n_head > 0)
 * The cache holds rows of uints: f16 pairs, or q8_0 quants and scales;
 * both bases are uint elements of row pos0. Workgroup (0, t) does the
 * cache row, (1 + i, t) the i-th DSVK_MLA_PREPARE_WORKGROUP query pairs. */
#define DSVK_MLA_PREPARE_WORKGROUP 64u
DSVK_STRUCT(dsvk_mla_prepare_params)
{
    uint kv_lora_rank; /* r, even */
    uint rope_dim;     /* dr, even */
    uint nope_dim;     /* dn */
    uint n_head;       /* 0: no query */
    uint pos0;
    uint has_norm;
    uint has_rope;
    uint cache_q8; /* 1: q8_0 rows (shaders/latent_q8.glsl), 0: f16 */
    float eps;
    dsvk_view kv; /* [T][>= r + dr] f32 */
    dsvk_view q;  /* [T * n_head][>= dn + dr] f32 */
    uint norm_base;
    uint latent_base;
    uint rope_key_base;
    dsvk_rope_freq freq;
};

/* mla_attention.comp. A "head row" is row = t * n_head + h. */
DSVK_STRUCT(dsvk_mla_attention_params)
{
    uint n_head;
    uint pos0;        /* position of token 0; token t sees s <= pos0 + t */
    uint split_len;   /* positions per context split, a multiple of the
                         workgroup size */
    uint n_split;     /* 1: lat is normalised and final, no stat written */
    dsvk_view ql;     /* [row][r]: W_UK_h^T qn_h */
    dsvk_view qp;     /* [row][dr]: base points at q[t][h][dn], stride dn+dr */
    uint latent_base; /* uint element of position 0 */
    uint rope_key_base; /* uint element of position 0 */
    dsvk_view lat;      /* [row * n_split + split][r] */
    uint stat_base;     /* vec2 (max, sum) of [row * n_split + split] */
    float scale;
    /* n_split > 1: the last split of a (token, head group) to finish
     * merges them all into merged; counters (zero between dispatches) of
     * [t * head groups + group] count the finished splits. */
    uint counter_base;
    dsvk_view merged; /* [row][r] */
};

/* moe_indexed_matvec.comp, moe_indexed_matmul.comp: products with a stack
 * of matrices [count][rows][cols] where each output row a picks its matrix
 * m: the head (head-indexed, n_head > 0: a = t * n_head + m) or the chosen
 * expert (expert-indexed, n_head = 0: m = ids[a]).
 * y[a] = epilogue(y[a], W_m x[a / x_div]) (DSVK_EPILOGUE_*: the up product
 * gates the gate's in place). Only matrices [first_matrix, first_matrix +
 * n_matrices) are bound; weight_base is the byte offset of first_matrix's
 * row 0 in the binding. Fusions of the expert-indexed matvec:
 *   pair_swiglu: y[a] = silu(W_m x) * (U_m x), U the stack starting
 *     pair_weight_base bytes into the same binding (gate and up);
 *   combine = k: y[t] = epilogue(y[t], sum_j weights[t k + j] *
 *     W_m(t k + j) x[t k + j]), the down product weighted and summed per
 *     token (route weights at binding 4);
 *   shared_len > 0, the shared experts in the same binding: with
 *     pair_swiglu, rows a = T k + t compute their SwiGLU (shared_len rows
 *     of shared_row_bytes, gate at shared_weight_base, up at
 *     shared_pair_weight_base) into shared_view row t; combining, each
 *     token adds its shared down product (rows of shared_len columns)
 *     of shared_view row t.
 * Tiles (CPU-class matvec, `tiles` != DSVK_TILES_NONE): the grouped
 * experts of a batch, moe_group.comp's tiles of WEIGHT_TOKENS slots. The
 * workgroup of y index i takes tile j = first_tile + i, expert
 * ids[ids_base + j] (the tile table), slots p = j * WEIGHT_TOKENS + t
 * holding assignments list[list_base + p]; its x rows are i *
 * WEIGHT_TOKENS + t (x and y are the dispatch's slots, contiguous), and
 * so are its y rows (DSVK_TILES_TO_SLOTS), or they are the assignments
 * (DSVK_TILES_TO_ASSIGNMENTS). */
#define DSVK_TILES_NONE 0u
#define DSVK_TILES_TO_SLOTS 1u
#define DSVK_TILES_TO_ASSIGNMENTS 2u
DSVK_STRUCT(dsvk_indexed_product_params)
{
    uint rows; /* output rows per matrix */
    uint cols; /* row length = x's row length */
    uint row_bytes;
    uint weight_base;
    uint first_matrix;
    uint n_matrices;
    uint n_head; /* head-indexed: heads per token; 0: expert-indexed */
    uint tokens; /* head-indexed: tokens */
    uint x_div;
    uint epilogue;
    dsvk_view x;
    dsvk_view y;    /* row a */
    uint ids_base;  /* expert-indexed matvec: element of ids[0] */
    uint span_base; /* expert-indexed matmul: uvec2 element of span[0] */
    uint list_base; /* expert-indexed matmul: element of list[0] */
    uint pair_swiglu;
    uint pair_weight_base;
    uint combine;      /* 0, or k: experts per token to sum */
    uint weights_base; /* combine: element of the route weights[0] */
    uint shared_len;   /* 0: no shared experts */
    uint shared_row_bytes;
    uint shared_weight_base;
    uint shared_pair_weight_base;
    dsvk_view shared_view;
    uint tiles;
    uint first_tile;
};

DSVK_STRUCT(dsvk_moe_route_params)
{
    uint n_expert;      /* E <= DSVK_MOE_MAX_EXPERTS */
    uint n_expert_used; /* k <= DSVK_MOE_MAX_EXPERTS_USED */
    uint sigmoid;       /* 1: sigmoid gating (V3), 0: softmax (V2) */
    uint has_bias;      /* exp_probs_b bound */
    uint n_group;       /* >= 1, divides E */
    uint n_group_used;
    uint weights_norm;
    float weights_scale;
    dsvk_view logits; /* [T][E] */
    uint bias_base;
    uint ids_base;     /* [T][k] uint */
    uint weights_base; /* [T][k] f32 */
    /* 1: the logits are the router's product, computed here (then the
     * logits binding is unused): row e of the F32 weight [E][cols] from
     * element weight_base, times x [T][cols]. */
    uint product;
    uint weight_base;
    uint cols;
    dsvk_view x;
};
/* Where moe_route.comp computes the router's product: at most this many
 * multiply-adds per token (E * n_embd), which one workgroup does in less
 * time than a dispatch of its own costs; larger routers (DeepSeek-V2-Lite's
 * 64 x 2048 and up) run a product before it. Measured on lavapipe (the
 * peer-bench model's 32 x 1024): the routing dispatch takes 0.09-0.11 ms
 * with the product, 0.07-0.08 ms without, and the product's own dispatch
 * would cost more than the difference. */
#define DSVK_MOE_ROUTE_PRODUCT_MAX_MACS 65536u

/* moe_group.comp: sorts assignments a = t * k + j by expert ids[a]. */
DSVK_STRUCT(dsvk_moe_group_params)
{
    uint n_assign;
    uint n_expert;
    uint ids_base;
    uint span_base; /* uvec2 element of span[0]: (first, count) per expert */
    uint list_base;
    uint tile;       /* slots per tile: each expert's list starts on one */
    uint max_tiles;  /* entries of the tile table; 0: none */
    uint tiles_base; /* element of tiles[0] */
};
/* moe_group.comp's mark for a list slot or tile that holds no assignment
 * or expert. */
#define DSVK_MOE_NONE 0xffffffffu

/* moe_combine.comp: y[t] (+)= sum_j weights[t][j] * part[t * k + j]. */
/* moe_gather.comp: out_rows[i] = x[list[first_slot + i] / x_div], `cols`
 * long. */
DSVK_STRUCT(dsvk_moe_gather_params)
{
    uint cols;
    uint x_div;
    uint list_base;
    uint first_slot;
    dsvk_view x;
    dsvk_view out_rows;
};

DSVK_STRUCT(dsvk_moe_combine_params)
{
    uint n_embd;
    uint n_expert_used;
    uint accumulate;
    dsvk_view part;
    uint weights_base;
    dsvk_view y;
};

#undef DSVK_STRUCT

#ifndef VULKAN
_Static_assert(sizeof(dsvk_mla_prepare_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_mla_attention_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_indexed_product_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_moe_route_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_moe_group_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_moe_combine_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_moe_gather_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
#endif

#endif
