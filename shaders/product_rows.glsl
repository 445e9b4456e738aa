/* The inner product of the matrix-vector shaders (matvec.comp,
 * moe_indexed_matvec.comp): PRODUCT_ROWS weight rows times WEIGHT_TOKENS
 * rows of x (weights.glsl), shaped for the device class the pipeline was
 * built for.
 *
 * GPU class (default): a workgroup owns PRODUCT_ROWS rows. Invocation i
 * sums columns 4i .. 4i+3, then every WORKGROUP_SIZE-th such group after
 * them (coalesced reads across the workgroup), and the workgroup reduces
 * (reduce.glsl).
 *
 * CPU class (CPU_KERNELS, for lavapipe and other CPU drivers): every
 * invocation owns PRODUCT_ROWS rows and walks all their columns, with
 * independent accumulators and no barrier or reduction. A CPU driver runs a
 * workgroup as one SIMD loop on one thread, where barriers switch
 * coroutines and shared memory is scalar, so a reduction costs more than
 * the product of a short row. Its loop makes cols / 4 + 3 iterations
 * (cols / 32 for the types with weight_dot32, cols / WEIGHT_WIDE_COLS in
 * the wide kernels); inner loops are unrolled. The launcher gives it rows of at
 * most DSVK_CPU_PRODUCT_MAX_COLS, far below lavapipe's 65,535 iterations
 * per invocation.
 *
 * CPU-class kernels of prompts take WEIGHT_TOKENS > 1 (a specialization
 * constant): each invocation then owns PRODUCT_ROWS x WEIGHT_TOKENS
 * outputs in registers and decodes each weight once for all its tokens,
 * where a decode step's kernel decodes it once per token. The GPU class
 * keeps one token per workgroup.
 *
 * Wide kernels (WIDE_ROWS, CPU class, types with weight_dot_wide): rows of
 * whole WEIGHT_WIDE_COLS-element groups on 16-byte boundaries and x
 * likewise, read in 16-byte words only (runtime/op_launch.c, op_wide_rows,
 * checks).
 *
 * With X_UNIFORM (CPU class) x comes from the uniform binding, which the
 * launcher points at the x binding's range where it fits: every invocation
 * of a workgroup reads the same x, and lavapipe loads such an element of a
 * uniform buffer once for all lanes, where a storage buffer's costs a
 * bounds-checked load per lane. Measured on lavapipe (32000 x 1024 matvec),
 * x's loads were 40 % of the wide kernels' time.
 *
 * Use: define PRODUCT_ROWS, declare x[] and include weights.glsl first.
 *   product_first_row(group): the first of this invocation's rows
 *   product_dot(row_byte, present, x_row, cols, acc): acc[i][t] = row i .
 *                       the x row starting at x_row[t]
 *   product_writer(): whether this invocation stores the results */
#ifdef CPU_KERNELS
const uint PRODUCT_GROUP_ROWS = PRODUCT_ROWS * WORKGROUP_SIZE;
#ifdef X_UNIFORM
/* The x binding's range as a uniform buffer: as many vec4s as the device's
 * uniform range holds (runtime/op_launch.c sets the constant). */
layout(constant_id = DSVK_SPEC_X_UNIFORM_QUADS) const uint X_UNIFORM_QUADS = 1024;
layout(binding = DSVK_UNIFORM_BINDING) uniform XUniform
{
    vec4 x_uniform[X_UNIFORM_QUADS];
};
#elif defined(WIDE_ROWS)
/* The x binding again, for 16-byte reads (wide rows need x_row % 4 == 0). */
layout(binding = 1) readonly buffer XQuads { vec4 x_quads[]; };
#endif
#else
#include "reduce.glsl"
const uint PRODUCT_GROUP_ROWS = PRODUCT_ROWS;
#endif

/* x[i .. i+3], from the uniform binding where there is one. */
vec4 x_at4(uint i)
{
#ifdef X_UNIFORM
    return vec4(x_uniform[i / 4u][i % 4u], x_uniform[(i + 1u) / 4u][(i + 1u) % 4u],
                x_uniform[(i + 2u) / 4u][(i + 2u) % 4u],
                x_uniform[(i + 3u) / 4u][(i + 3u) % 4u]);
#else
    return vec4(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
#endif
}

float x_at(uint i)
{
#ifdef X_UNIFORM
    return x_uniform[i / 4u][i % 4u];
#else
    return x[i];
#endif
}

#ifdef WIDE_ROWS
/* The 16-byte word q of x (x_row % 4 == 0 in the wide kernels). */
vec4 x_quad(uint q)
{
#ifdef X_UNIFORM
    return x_uniform[q];
#else
    return x_quads[q];
#endif
}
#endif

uint product_first_row(uint group)
{
#ifdef CPU_KERNELS
    return group * PRODUCT_GROUP_ROWS +
           gl_LocalInvocationIndex * PRODUCT_ROWS;
#else
    return group * PRODUCT_GROUP_ROWS;
#endif
}

bool product_writer()
{
#ifdef CPU_KERNELS
    return true;
#else
    return gl_LocalInvocationIndex == 0u;
#endif
}

void product_dot(uint row_byte[PRODUCT_ROWS], bool present[PRODUCT_ROWS],
                 uint x_row[WEIGHT_TOKENS], uint cols,
                 out float acc[PRODUCT_ROWS][WEIGHT_TOKENS])
{
    [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            acc[i][t] = 0.0;
#if defined(CPU_KERNELS) && defined(WIDE_ROWS)
    /* Rows of whole groups on 16-byte boundaries, x too (the launcher
     * checks): 16-byte reads only. */
    for (uint c = 0u; c < cols; c += WEIGHT_WIDE_COLS) {
        vec4 xv[WEIGHT_TOKENS][WEIGHT_WIDE_COLS / 4u];
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            [[unroll]] for (uint k = 0u; k < WEIGHT_WIDE_COLS / 4u; k++)
                xv[t][k] = x_quad((x_row[t] + c) / 4u + k);
        [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (present[i])
                weight_dot_wide(
                    (row_byte[i] + c / WEIGHT_BLOCK * WEIGHT_BLOCK_BYTES) / 16u,
                    xv, acc[i]);
    }
#elif defined(CPU_KERNELS) && defined(WEIGHT_DOT32)
    /* Types that decode a 32-element block at once (weights.glsl) take
     * their rows a block at a time: block types have whole blocks. */
    for (uint c = 0u; c < cols; c += 32u) {
        vec4 xv[WEIGHT_TOKENS][8];
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            [[unroll]] for (uint k = 0u; k < 8u; k++)
                xv[t][k] = x_at4(x_row[t] + c + 4u * k);
        [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (present[i])
                weight_dot32(row_byte[i], c, xv, acc[i]);
    }
#else
#ifdef CPU_KERNELS
    const uint first = 0u, step = 1u;
#else
    const uint first = gl_LocalInvocationIndex, step = WORKGROUP_SIZE;
#endif
    uint full = cols & ~3u; /* columns read four at a time */
    for (uint c = first * 4u; c < full; c += step * 4u) {
        vec4 xv[WEIGHT_TOKENS];
        [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
            xv[t] = x_at4(x_row[t] + c);
        [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (present[i]) {
                vec4 w = weight_get4(row_byte[i], c);
                [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
                    acc[i][t] += dot(w, xv[t]);
            }
    }
    /* Lengths that are not a multiple of 4 (F32/F16/BF16 only; block
     * types are multiples of 32). */
    for (uint c = full + first; c < cols; c += step)
        [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (present[i]) {
                float w = weight_get(row_byte[i], c);
                [[unroll]] for (uint t = 0u; t < WEIGHT_TOKENS; t++)
                    acc[i][t] += w * x_at(x_row[t] + c);
            }
#endif
#ifndef CPU_KERNELS
    [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
        acc[i][0] = reduce_add(acc[i][0]);
#endif
}
