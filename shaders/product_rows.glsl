/* The inner product of the matrix-vector shaders (matvec.comp,
 * moe_indexed_matvec.comp): PRODUCT_ROWS weight rows times one row of x,
 * shaped for the device class the pipeline was built for.
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
 * (cols / 32 for the types with weight_dot32, cols / 256 in the wide
 * kernels); inner loops are unrolled. The launcher gives it rows of at
 * most DSVK_CPU_PRODUCT_MAX_COLS, far below lavapipe's 65,535 iterations
 * per invocation.
 *
 * Wide kernels (WIDE_ROWS, CPU class, types with weight_dot256): rows of
 * whole 256-element groups on 16-byte boundaries and x likewise, read in
 * 16-byte words only (runtime/op_launch.c, op_wide_rows, checks).
 *
 * Use: define PRODUCT_ROWS, declare x[] and include weights.glsl first.
 *   product_first_row(group): the first of this invocation's rows
 *   product_dot(row_byte, present, x_row, cols, acc): acc[i] = row i . x
 *   product_writer(): whether this invocation stores the results */
#ifdef CPU_KERNELS
const uint PRODUCT_GROUP_ROWS = PRODUCT_ROWS * WORKGROUP_SIZE;
#ifdef WIDE_ROWS
/* The x binding again, for 16-byte reads (wide rows need x_row % 4 == 0). */
layout(binding = 1) readonly buffer XQuads { vec4 x_quads[]; };
#endif
#else
#include "reduce.glsl"
const uint PRODUCT_GROUP_ROWS = PRODUCT_ROWS;
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
                 uint x_row, uint cols, out float acc[PRODUCT_ROWS])
{
    [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
        acc[i] = 0.0;
#if defined(CPU_KERNELS) && defined(WIDE_ROWS)
    /* Rows of whole 256-element groups on 16-byte boundaries, x too (the
     * launcher checks): 16-byte reads only. */
    for (uint c = 0u; c < cols; c += 256u) {
        vec4 xv[64];
        [[unroll]] for (uint k = 0u; k < 64u; k++)
            xv[k] = x_quads[(x_row + c) / 4u + k];
        [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (present[i])
                acc[i] += weight_dot256(
                    (row_byte[i] + c / WEIGHT_BLOCK * WEIGHT_BLOCK_BYTES) / 16u,
                    xv);
    }
#elif defined(CPU_KERNELS) && defined(WEIGHT_DOT32)
    /* Types that decode a 32-element block at once (weights.glsl) take
     * their rows a block at a time: block types have whole blocks. */
    for (uint c = 0u; c < cols; c += 32u) {
        vec4 xv[8];
        [[unroll]] for (uint k = 0u; k < 8u; k++) {
            uint xc = x_row + c + 4u * k;
            xv[k] = vec4(x[xc], x[xc + 1u], x[xc + 2u], x[xc + 3u]);
        }
        [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (present[i])
                acc[i] += weight_dot32(row_byte[i], c, xv);
    }
#else
#ifdef CPU_KERNELS
    const uint first = 0u, step = 1u;
#else
    const uint first = gl_LocalInvocationIndex, step = WORKGROUP_SIZE;
#endif
    uint full = cols & ~3u; /* columns read four at a time */
    for (uint c = first * 4u; c < full; c += step * 4u) {
        uint xc = x_row + c;
        vec4 xv = vec4(x[xc], x[xc + 1u], x[xc + 2u], x[xc + 3u]);
        [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (present[i])
                acc[i] += dot(weight_get4(row_byte[i], c), xv);
    }
    /* Lengths that are not a multiple of 4 (F32/F16/BF16 only; block
     * types are multiples of 32). */
    for (uint c = full + first; c < cols; c += step)
        [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
            if (present[i])
                acc[i] += weight_get(row_byte[i], c) * x[x_row + c];
#endif
#ifndef CPU_KERNELS
    [[unroll]] for (uint i = 0u; i < PRODUCT_ROWS; i++)
        acc[i] = reduce_add(acc[i]);
#endif
}
