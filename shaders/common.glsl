/* Included first by every generic op shader (after #version and the include
 * extension): the shared specialization constants, the workgroup shape and
 * the push-constant structs.
 *
 * The workgroup is one-dimensional with WORKGROUP_SIZE invocations (a power
 * of two, at most 128 so the baseline profile can run it). SUBGROUP_SIZE is
 * the device's subgroupSize: for SPIR-V 1.5 pipelines without the
 * varying-size flag Vulkan guarantees gl_SubgroupSize equals it, so it may
 * size shared arrays. */
#extension GL_EXT_control_flow_attributes : require
#include "shared.h"
#include "op_params.h"

layout(local_size_x_id = DSVK_SPEC_WORKGROUP_SIZE) in;
layout(constant_id = DSVK_SPEC_WORKGROUP_SIZE) const uint WORKGROUP_SIZE = 64;
layout(constant_id = DSVK_SPEC_SUBGROUP_SIZE) const uint SUBGROUP_SIZE = 32;

/* Launchers spread more workgroups than maxComputeWorkGroupCount[0] allows
 * over x and z (runtime/op_launch.c); this is the linear workgroup index. */
uint group_index()
{
    return gl_WorkGroupID.x + gl_WorkGroupID.z * gl_NumWorkGroups.x;
}
