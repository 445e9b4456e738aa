/* Push constants of the generic ops, shared by the launchers (runtime/op_*.c)
 * and the shaders. Every field is a 32-bit scalar, so the C layout and the
 * GLSL std430 push-constant layout agree without padding rules. */
#ifndef DSVK_SHADERS_OP_PARAMS_H
#define DSVK_SHADERS_OP_PARAMS_H

#include "shared.h"

#ifdef VULKAN /* GL_KHR_vulkan_glsl: compiling GLSL for Vulkan */
#define DSVK_STRUCT(name) struct name
#else
#include <stdint.h>
typedef uint32_t uint;
/* C needs the typedef so that struct members can name the type as GLSL
 * does. */
#define DSVK_STRUCT(name)                                                      \
    typedef struct name name;                                                  \
    struct name
#endif

/* f32 rows as a shader sees them: element [r][c] is element
 * base + r * stride + c of its binding. Launchers bind an offset aligned to
 * minStorageBufferOffsetAlignment and put the rest of the offset in base. */
DSVK_STRUCT(dsvk_view)
{
    uint base;
    uint stride;
};

/* matvec.comp: rows of y per workgroup (every invocation helps each row). */
#define DSVK_MATVEC_ROWS 2u
/* The CPU-class matrix-vector kernels (shaders/product_rows.glsl): rows per
 * invocation and invocations per workgroup (one 8-lane SIMD loop of
 * lavapipe), and the longest row they take: up to cols / 4 + 3 loop
 * iterations, which must stay well below lavapipe's 65,535 per invocation.
 * Longer rows use the GPU-class kernel. */
#define DSVK_CPU_PRODUCT_ROWS 8u
#define DSVK_CPU_PRODUCT_WORKGROUP 8u
#define DSVK_CPU_PRODUCT_MAX_COLS 32768u
/* Tokens per invocation of the CPU-class kernels in prompt products (their
 * specialization constant DSVK_SPEC_PRODUCT_TOKENS; decode runs 1): each
 * decoded weight serves that many tokens. */
#define DSVK_CPU_PRODUCT_TOKENS 4u
/* Their specialization constants: the vec4s of their uniform x (the _ubo
 * shaders) and the tokens per invocation. */
#define DSVK_SPEC_X_UNIFORM_QUADS DSVK_SPEC_FIRST_OP
#define DSVK_SPEC_PRODUCT_TOKENS (DSVK_SPEC_FIRST_OP + 1)
/* matmul.comp: each workgroup of DSVK_MATMUL_WORKGROUP invocations computes
 * a DSVK_MATMUL_TILE_ROWS x DSVK_MATMUL_TILE_TOKENS tile of y, 4 x 4
 * outputs per invocation. */
#define DSVK_MATMUL_WORKGROUP 128u
#define DSVK_MATMUL_TILE_ROWS 64u
#define DSVK_MATMUL_TILE_TOKENS 32u

/* matvec.comp, matmul.comp: y[t][r] = sum_c W[r][c] * x[t][c] for the
 * weight rows of one dispatch (a weight larger than one binding may cover is
 * split into several dispatches). */
/* What a product does with its result p at each output element y
 * (epilogue.glsl). */
#define DSVK_EPILOGUE_STORE 0u /* y = p */
#define DSVK_EPILOGUE_ADD 1u   /* y = y + p: a residual add */
#define DSVK_EPILOGUE_GATE 2u  /* y = silu(y) * p: SwiGLU's up after gate */

/* A second weight in the same matvec dispatch (matvec.comp), over the same
 * x and in the same binding. */
#define DSVK_PAIR_NONE 0u
#define DSVK_PAIR_CONCAT 1u /* its own rows, workgroups and y */
#define DSVK_PAIR_SWIGLU 2u /* same rows: y = silu(W x) * (W2 x) */

/* A matvec's RMSNorm of its y rows after the epilogue (norm_after.glsl):
 * result[t][c] = y[t][c] / sqrt(mean_c(y[t][c]^2) + eps) * weight[c]. */
DSVK_STRUCT(dsvk_norm_after)
{
    uint weight_base; /* element of weight[0] in the norm weight binding */
    uint counter;     /* element of the workgroup counter */
    float eps;
    dsvk_view result;
};

DSVK_STRUCT(dsvk_product_params)
{
    uint rows;        /* weight rows in this dispatch */
    uint cols;        /* row length = x's row length */
    uint tokens;      /* rows of x and y */
    uint row_bytes;   /* bytes of one weight row */
    uint weight_base; /* byte offset of this dispatch's first row */
    dsvk_view x;
    dsvk_view y; /* y.base already points at the first row's output */
    uint epilogue;
    uint pair;             /* DSVK_PAIR_* (matvec only) */
    uint pair_weight_base; /* byte offset of the second weight's row 0 */
    uint pair_rows;        /* concat: the second weight's rows */
    uint pair_first_group; /* concat: the second weight's first workgroup */
    uint pair_epilogue;    /* concat */
    dsvk_view pair_y;      /* concat: in the y binding */
    uint norm_after;       /* 1: norm applies (matvec only, not paired) */
    dsvk_norm_after norm;
};

/* rms_norm.comp: result[r] = x[r] / sqrt(mean(x[r]^2) + eps) (* weight). */
DSVK_STRUCT(dsvk_rms_norm_params)
{
    uint rows;
    uint cols;
    dsvk_view x;
    dsvk_view result;
    uint weight_base; /* element of weight[0] in the weight binding */
    uint has_weight;
    float eps;
};

/* softmax.comp: result[r] = softmax(x[r] * scale). */
DSVK_STRUCT(dsvk_softmax_params)
{
    uint rows;
    uint cols;
    dsvk_view x;
    dsvk_view result;
    float scale;
};

/* argmax.comp: result[result_base + r] = index of the largest x[r][c]. */
DSVK_STRUCT(dsvk_argmax_params)
{
    uint rows;
    uint cols;
    dsvk_view x;
    uint result_base;
};

/* The frequencies of a RoPE over `cols` dimensions (rope.glsl). The YaRN
 * correction range [corr_low, corr_high] (in pairs) is computed on the
 * host (runtime/op_rope.c, op_rope_freq). */
DSVK_STRUCT(dsvk_rope_freq)
{
    float theta_scale; /* freq_base^(-2/cols) */
    float freq_scale;  /* 1 / YaRN factor */
    float ext_factor;  /* 1 when YaRN is on, else 0 */
    float corr_low;
    float corr_high;
};

/* rope.comp, in place on pairs (x[2i], x[2i+1]) of each row; row r has
 * position pos0 + r / rows_per_position. */
DSVK_STRUCT(dsvk_rope_params)
{
    uint rows;
    uint cols; /* rotated dimensions (even) */
    dsvk_view x;
    uint rows_per_position;
    uint pos0;
    dsvk_rope_freq freq;
};

DSVK_STRUCT(dsvk_gather_params)
{
    uint rows; /* ids = rows of result */
    uint cols;
    uint row_bytes;
    uint weight_base; /* byte offset of table row first_row */
    uint first_row;
    uint table_rows;
    uint ids_base; /* element of ids[0] in the ids binding */
    dsvk_view result;
};

#undef DSVK_STRUCT

#ifndef VULKAN
_Static_assert(sizeof(dsvk_product_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_rms_norm_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_softmax_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_argmax_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_rope_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
_Static_assert(sizeof(dsvk_gather_params) <= DSVK_PUSH_CONSTANT_BYTES,
               "push constants");
#endif

#endif
