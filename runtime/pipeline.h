/* Compute pipelines, created lazily from SPIR-V embedded at build time.
 * Every pipeline uses the one shared layout of shaders/shared.h. */
#ifndef DSVK_RUNTIME_PIPELINE_H
#define DSVK_RUNTIME_PIPELINE_H

#include "device.h"

#define RT_MAX_SPEC_CONSTANTS 8

/* An embedded shader: `name` is the .comp file's stem plus its variant
 * suffix as listed in the CMake shader table (e.g. "matvec_q8_0"). */
typedef struct rt_shader {
    const char *name;
    const uint32_t *spirv;
    size_t spirv_bytes;
} rt_shader;

/* Generated at build time (shaders/CMakeLists): NULL when unknown. */
const rt_shader *rt_shader_find(const char *name);

typedef struct rt_pipeline rt_pipeline;

/* Returns the pipeline for `shader_name` with specialization constants
 * spec[0..n_spec-1] bound to constant_id 0..n_spec-1 (0 = workgroup size,
 * 1 = subgroup size, 2.. op-specific). Created on first use and kept by the
 * device; never destroy it yourself. */
dsvk_status rt_pipeline_get(rt_device *dev, const char *shader_name,
                            const uint32_t *spec, uint32_t n_spec,
                            rt_pipeline **out);

/* Writes the VkPipelineCache to the desc's pipeline_cache_dir. Called by
 * rt_device_destroy as well. */
dsvk_status rt_pipeline_cache_save(rt_device *dev);

/* Bytes of pipeline cache data loaded from pipeline_cache_dir when the
 * device was created: 0 when there was no file or it did not match this
 * device and driver. */
uint64_t rt_pipeline_cache_loaded_bytes(const rt_device *dev);

#endif
