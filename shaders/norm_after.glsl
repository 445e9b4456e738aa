/* The RMSNorm that follows a residual add, done by the product that adds
 * (matvec.comp with params.norm_after): it saves the norm's own dispatch,
 * which on a CPU driver costs more than the norm. Every workgroup counts
 * itself on a counter once its stores are visible; the last to count reads
 * every row of y back and writes
 *   result[t][c] = y[t][c] / sqrt(mean_c(y[t][c]^2) + eps) * weight[c]
 * (op_params.h, dsvk_norm_after), then sets the counter back to zero for
 * the next dispatch that uses it.
 *
 * Loop bound (lavapipe's 65,535 iterations per invocation): the last
 * workgroup's invocations make 2 * tokens * ceil(cols / WORKGROUP_SIZE)
 * iterations, at most 2 * 8 * 7168 / 8 = 14,336 on the CPU class (8 tokens,
 * DeepSeek-V3's 7168), on top of the product's.
 *
 * Use: declare y (coherent, so that the last workgroup reads the others'
 * stores), norm_weight, norm_result and norm_counter (coherent), include
 * common.glsl, and call norm_after from every invocation of every
 * workgroup, in uniform control flow, after the stores. */
#include "reduce.glsl"

shared bool norm_last_sh;

void norm_after(dsvk_norm_after norm, uint tokens, uint cols, dsvk_view y_view)
{
    memoryBarrierBuffer();
    barrier();
    if (gl_LocalInvocationIndex == 0u) {
        uint groups =
            gl_NumWorkGroups.x * gl_NumWorkGroups.y * gl_NumWorkGroups.z;
        norm_last_sh = atomicAdd(norm_counter[norm.counter], 1u) + 1u == groups;
        if (norm_last_sh)
            norm_counter[norm.counter] = 0u;
    }
    barrier();
    if (!norm_last_sh)
        return;
    memoryBarrierBuffer();
    uint tid = gl_LocalInvocationIndex;
    for (uint t = 0u; t < tokens; t++) {
        uint y_row = y_view.base + t * y_view.stride;
        float squares = 0.0;
        for (uint c = tid; c < cols; c += WORKGROUP_SIZE) {
            float v = y[y_row + c];
            squares += v * v;
        }
        float inv_rms = 1.0 / sqrt(reduce_add(squares) / float(cols) + norm.eps);
        uint out_row = norm.result.base + t * norm.result.stride;
        for (uint c = tid; c < cols; c += WORKGROUP_SIZE)
            norm_result[out_row + c] =
                y[y_row + c] * inv_rms * norm_weight[norm.weight_base + c];
    }
}
