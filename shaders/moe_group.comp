#version 450
#extension GL_GOOGLE_include_directive : require
/* Groups a batch's expert assignments by expert, on the GPU, so that each
 * expert's tokens run as tiles of one product that reads the expert's
 * weights once per tile (moe_indexed_matmul.comp on GPUs, the CPU-class
 * moe_indexed_matvec.comp). Assignment a = t * k + j is token t's j-th
 * chosen expert ids[a]. Output: span[e] = (first, count) into `list`,
 * which holds the assignments of expert 0, then of expert 1, ..., each in
 * increasing a; each expert's run starts on a multiple of `tile` slots,
 * the slots between runs are DSVK_MOE_NONE. With a tile table, tiles[j]
 * is the expert whose run holds slots j * tile .. j * tile + tile - 1, or
 * DSVK_MOE_NONE past the last run, up to max_tiles.
 *
 * One workgroup does it all: invocation i owns experts i, i + WORKGROUP_SIZE,
 * ... and scans the ids (staged through shared memory) once to count and
 * once to scatter. Owning experts rather than assignments keeps the order
 * stable without atomics; its cost, E / WORKGROUP_SIZE compares per
 * assignment, is small next to the expert products.
 *
 * Loop bound (lavapipe stops an invocation's loops silently after 65,535
 * iterations): with the per-expert loops unrolled, an invocation runs
 * about 3 n_assign + 5 DSVK_MOE_MAX_EXPERTS iterations (two scans, and
 * the tile table of an expert that has every assignment), so the forward
 * pass keeps n_assign <= MOE_MAX_ASSIGNMENTS (host/forward/ops_moe.h). */
#include "common.glsl"
#include "model_op_params.h"

#define IDS_PER_PASS 1024u

const uint EXPERTS_PER_THREAD =
    (DSVK_MOE_MAX_EXPERTS + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;

layout(push_constant) uniform Push { dsvk_moe_group_params params; };

layout(binding = 0) readonly buffer Ids { uint ids[]; };
layout(binding = 1) writeonly buffer Span { uvec2 span[]; };
layout(binding = 2) writeonly buffer List { uint list[]; };
layout(binding = 3) writeonly buffer Tiles { uint tiles[]; };

shared uint ids_sh[IDS_PER_PASS];
shared uint count_sh[DSVK_MOE_MAX_EXPERTS];

void main()
{
    uint tid = gl_LocalInvocationIndex;
    uint count[EXPERTS_PER_THREAD];
    [[unroll]] for (uint k = 0u; k < EXPERTS_PER_THREAD; k++)
        count[k] = 0u;

    for (uint base = 0u; base < params.n_assign; base += IDS_PER_PASS) {
        uint n = min(IDS_PER_PASS, params.n_assign - base);
        for (uint i = tid; i < n; i += WORKGROUP_SIZE)
            ids_sh[i] = ids[params.ids_base + base + i];
        barrier(); /* ids of this pass staged */
        for (uint i = 0u; i < n; i++)
            [[unroll]] for (uint k = 0u; k < EXPERTS_PER_THREAD; k++)
                count[k] += uint(ids_sh[i] == tid + k * WORKGROUP_SIZE);
        barrier(); /* the next pass overwrites ids_sh */
    }
    [[unroll]] for (uint k = 0u; k < EXPERTS_PER_THREAD; k++)
        if (tid + k * WORKGROUP_SIZE < params.n_expert)
            count_sh[tid + k * WORKGROUP_SIZE] = count[k];
    barrier(); /* counts complete */

    /* Exclusive prefix sum of the runs padded to whole tiles: each
     * invocation adds up the runs before each of its experts. */
    uint tile = params.tile;
    uint next[EXPERTS_PER_THREAD];
    [[unroll]] for (uint k = 0u; k < EXPERTS_PER_THREAD; k++) {
        uint e = tid + k * WORKGROUP_SIZE;
        uint first = 0u;
        for (uint o = 0u; o < min(e, params.n_expert); o++)
            first += (count_sh[o] + tile - 1u) / tile * tile;
        next[k] = first;
        if (e >= params.n_expert)
            continue;
        uint end = first + (count[k] + tile - 1u) / tile * tile;
        span[params.span_base + e] = uvec2(first, count[k]);
        for (uint p = first + count[k]; p < end; p++)
            list[params.list_base + p] = DSVK_MOE_NONE;
        if (params.max_tiles != 0u)
            for (uint j = first / tile; j < end / tile; j++)
                tiles[params.tiles_base + j] = e;
    }
    if (params.max_tiles != 0u) {
        uint used = 0u;
        for (uint o = 0u; o < params.n_expert; o++)
            used += (count_sh[o] + tile - 1u) / tile;
        for (uint j = used + tid; j < params.max_tiles; j += WORKGROUP_SIZE)
            tiles[params.tiles_base + j] = DSVK_MOE_NONE;
    }

    for (uint base = 0u; base < params.n_assign; base += IDS_PER_PASS) {
        uint n = min(IDS_PER_PASS, params.n_assign - base);
        for (uint i = tid; i < n; i += WORKGROUP_SIZE)
            ids_sh[i] = ids[params.ids_base + base + i];
        barrier(); /* ids of this pass staged */
        for (uint i = 0u; i < n; i++)
            [[unroll]] for (uint k = 0u; k < EXPERTS_PER_THREAD; k++)
                if (ids_sh[i] == tid + k * WORKGROUP_SIZE)
                    list[params.list_base + next[k]++] = base + i;
        barrier(); /* the next pass overwrites ids_sh */
    }
}
