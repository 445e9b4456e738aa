/* Shared by C and GLSL: weight type ids, binding layout and limits that both
 * sides must agree on. Keep it to #defines so both languages parse it. */
#ifndef DSVK_SHADERS_SHARED_H
#define DSVK_SHADERS_SHARED_H

/* Weight types use GGML's numbering so GGUF type ids map one to one. */
#define DSVK_TYPE_F32 0
#define DSVK_TYPE_F16 1
#define DSVK_TYPE_Q4_0 2
#define DSVK_TYPE_Q4_1 3
#define DSVK_TYPE_Q5_0 6
#define DSVK_TYPE_Q5_1 7
#define DSVK_TYPE_Q8_0 8
#define DSVK_TYPE_Q4_K 12
#define DSVK_TYPE_Q5_K 13
#define DSVK_TYPE_Q6_K 14
#define DSVK_TYPE_BF16 30

/* Every pipeline shares one descriptor set layout: this many storage buffers
 * at set 0, bindings 0..DSVK_MAX_BINDINGS-1, and one push-constant range of
 * DSVK_PUSH_CONSTANT_BYTES (the minimum every Vulkan device guarantees). */
#define DSVK_MAX_BINDINGS 8
#define DSVK_PUSH_CONSTANT_BYTES 128
/* ... and one uniform buffer after them, for a small input that every
 * invocation reads alike (runtime/recorder.h, rt_dispatch.uniform). */
#define DSVK_UNIFORM_BINDING DSVK_MAX_BINDINGS

/* Specialization constant ids shared by every shader. Op-specific constants
 * start at DSVK_SPEC_FIRST_OP. */
#define DSVK_SPEC_WORKGROUP_SIZE 0
#define DSVK_SPEC_SUBGROUP_SIZE 1
#define DSVK_SPEC_FIRST_OP 2

#endif
