#version 450
// c = a + b over n floats: the runtime's own test shader (tests/
// test_runtime_*), kept apart from the model ops so that their parameter
// layouts can change without touching the runtime's tests.
#extension GL_GOOGLE_include_directive : require
#include "shared.h"

layout(local_size_x_id = DSVK_SPEC_WORKGROUP_SIZE) in;

layout(set = 0, binding = 0) readonly buffer A { float a[]; };
layout(set = 0, binding = 1) readonly buffer B { float b[]; };
layout(set = 0, binding = 2) writeonly buffer C { float c[]; };

layout(push_constant) uniform Push { uint n; } push;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= push.n)
        return;
    c[i] = a[i] + b[i];
}
