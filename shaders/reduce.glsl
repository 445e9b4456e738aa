/* Workgroup-wide reductions: every invocation of the workgroup must call
 * them (uniform control flow) and every invocation receives the result.
 *
 * With SUBGROUP_ARITHMETIC defined (devices reporting subgroup arithmetic)
 * each subgroup reduces with subgroupAdd/Max/Min and the per-subgroup
 * results meet in shared memory; otherwise a shared-memory tree reduces,
 * which needs WORKGROUP_SIZE to be a power of two. Values travel through
 * one uint scratch array so the three reductions share it. */
/* Included by product_rows.glsl (GPU class) and norm_after.glsl alike. */
#ifndef DSVK_REDUCE_GLSL
#define DSVK_REDUCE_GLSL

#ifdef SUBGROUP_ARITHMETIC
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

/* One slot per subgroup; at least one when a subgroup is wider than the
 * workgroup (Adreno's 128 with a 64-invocation workgroup). */
shared uint reduce_scratch[(WORKGROUP_SIZE + SUBGROUP_SIZE - 1) / SUBGROUP_SIZE];

/* Publishes each subgroup's result; the caller folds reduce_scratch. The
 * first barrier keeps the previous reduction's readers ahead of writers. */
void reduce_publish(uint subgroup_result)
{
    barrier();
    if (subgroupElect())
        reduce_scratch[gl_SubgroupID] = subgroup_result;
    barrier();
}

float reduce_add(float v)
{
    v = subgroupAdd(v);
    if (gl_NumSubgroups == 1u)
        return v;
    reduce_publish(floatBitsToUint(v));
    float total = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; i++)
        total += uintBitsToFloat(reduce_scratch[i]);
    return total;
}

float reduce_max(float v)
{
    v = subgroupMax(v);
    if (gl_NumSubgroups == 1u)
        return v;
    reduce_publish(floatBitsToUint(v));
    float result = v;
    for (uint i = 0u; i < gl_NumSubgroups; i++)
        result = max(result, uintBitsToFloat(reduce_scratch[i]));
    return result;
}

uint reduce_min(uint v)
{
    v = subgroupMin(v);
    if (gl_NumSubgroups == 1u)
        return v;
    reduce_publish(v);
    uint result = v;
    for (uint i = 0u; i < gl_NumSubgroups; i++)
        result = min(result, reduce_scratch[i]);
    return result;
}

#else

shared uint reduce_scratch[WORKGROUP_SIZE];

const uint REDUCE_ADD = 0u;
const uint REDUCE_MAX = 1u;
const uint REDUCE_MIN = 2u;

uint reduce_combine(uint op, uint a, uint b)
{
    if (op == REDUCE_ADD)
        return floatBitsToUint(uintBitsToFloat(a) + uintBitsToFloat(b));
    if (op == REDUCE_MAX)
        return floatBitsToUint(max(uintBitsToFloat(a), uintBitsToFloat(b)));
    return min(a, b);
}

/* Halves the active range each step. The first barrier keeps the previous
 * reduction's readers of reduce_scratch[0] ahead of this one's writers. */
uint reduce_tree(uint op, uint value)
{
    uint i = gl_LocalInvocationIndex;
    barrier();
    reduce_scratch[i] = value;
    barrier();
    for (uint s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
        if (i < s)
            reduce_scratch[i] = reduce_combine(op, reduce_scratch[i],
                                               reduce_scratch[i + s]);
        barrier();
    }
    return reduce_scratch[0];
}

float reduce_add(float v)
{
    return uintBitsToFloat(reduce_tree(REDUCE_ADD, floatBitsToUint(v)));
}

float reduce_max(float v)
{
    return uintBitsToFloat(reduce_tree(REDUCE_MAX, floatBitsToUint(v)));
}

uint reduce_min(uint v)
{
    return reduce_tree(REDUCE_MIN, v);
}

#endif

#endif
