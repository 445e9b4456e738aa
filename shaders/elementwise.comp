#version 450
#extension GL_GOOGLE_include_directive : require
/* Element-wise ops over rows, one invocation per element; the variant is
 * chosen by the shader table:
 *   ELEMENTWISE_ADD     result = a + b
 *   ELEMENTWISE_SCALE   result = a * scale     (b is bound but not read)
 *   ELEMENTWISE_SWIGLU  result = silu(a) * b   (a = gate, b = up)
 * result may be a or b (in place): each element is read and written by the
 * same invocation. */
#include "common.glsl"

layout(push_constant) uniform Push { dsvk_elementwise_params params; };

layout(binding = 0) readonly buffer A { float a[]; };
layout(binding = 1) readonly buffer B { float b[]; };
layout(binding = 2) writeonly buffer Result { float result[]; };

void main()
{
    uint index = group_index() * WORKGROUP_SIZE + gl_LocalInvocationIndex;
    if (index >= params.rows * params.cols)
        return;
    uint row = index / params.cols;
    uint col = index % params.cols;
    float va = a[params.a.base + row * params.a.stride + col];
#if defined(ELEMENTWISE_ADD)
    float v = va + b[params.b.base + row * params.b.stride + col];
#elif defined(ELEMENTWISE_SCALE)
    float v = va * params.scale;
#elif defined(ELEMENTWISE_SWIGLU)
    float v = va / (1.0 + exp(-va)) * b[params.b.base + row * params.b.stride + col];
#else
#error "define ELEMENTWISE_ADD, ELEMENTWISE_SCALE or ELEMENTWISE_SWIGLU"
#endif
    result[params.result.base + row * params.result.stride + col] = v;
}
