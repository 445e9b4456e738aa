/* Compute pipelines, created on first use from embedded SPIR-V and kept by
 * (shader, specialization constants). All share one descriptor set layout
 * and pipeline layout (shaders/shared.h). */
#include "pipeline.h"
#include "device_private.h"
#include "pipeline_cache.h"

#include "../shaders/shared.h"

#include <stdlib.h>
#include <string.h>

struct rt_pipeline {
    uint64_t key_hash;
    const rt_shader *shader;
    uint32_t spec[RT_MAX_SPEC_CONSTANTS];
    uint32_t n_spec;
    VkPipeline pipeline;
};

struct rt_pipeline_set {
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    rt_pipeline_cache cache;
    /* Pointers, so a pipeline a caller holds stays put as the list grows. A
     * step uses a few dozen pipelines: a linear scan on a hash is enough. */
    rt_pipeline **pipelines;
    uint32_t count, capacity;
};

dsvk_status rt_pipeline_set_init(rt_device *dev)
{
    rt_pipeline_set *set = calloc(1, sizeof *set);
    if (!set)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory creating the pipeline set");
    dev->pipelines = set;

    VkDescriptorSetLayoutBinding bindings[DSVK_MAX_BINDINGS + 1];
    for (uint32_t i = 0; i <= DSVK_MAX_BINDINGS; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = i == DSVK_UNIFORM_BINDING
                                  ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
                                  : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .flags = dev->caps.push_descriptors
                     ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR
                     : 0,
        .bindingCount = DSVK_MAX_BINDINGS + 1,
        .pBindings = bindings};
    VkResult result = dev->vk.vkCreateDescriptorSetLayout(
        dev->device, &set_info, NULL, &set->set_layout);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkCreateDescriptorSetLayout", result);

    VkPushConstantRange push = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
                                .size = DSVK_PUSH_CONSTANT_BYTES};
    VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &set->set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &push};
    result = dev->vk.vkCreatePipelineLayout(dev->device, &layout_info, NULL,
                                            &set->layout);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkCreatePipelineLayout", result);
    return rt_pipeline_cache_open(dev, &set->cache);
}

void rt_pipeline_set_destroy(rt_device *dev)
{
    rt_pipeline_set *set = dev->pipelines;
    if (!set)
        return;
    for (uint32_t i = 0; i < set->count; i++) {
        dev->vk.vkDestroyPipeline(dev->device, set->pipelines[i]->pipeline,
                                  NULL);
        free(set->pipelines[i]);
    }
    free(set->pipelines);
    rt_pipeline_cache_close(dev, &set->cache);
    if (set->layout)
        dev->vk.vkDestroyPipelineLayout(dev->device, set->layout, NULL);
    if (set->set_layout)
        dev->vk.vkDestroyDescriptorSetLayout(dev->device, set->set_layout,
                                             NULL);
    free(set);
    dev->pipelines = NULL;
}

VkPipelineLayout rt_pipeline_layout(const rt_device *dev)
{
    return dev->pipelines->layout;
}

VkDescriptorSetLayout rt_descriptor_set_layout(const rt_device *dev)
{
    return dev->pipelines->set_layout;
}

VkPipeline rt_pipeline_handle(const rt_pipeline *pipeline)
{
    return pipeline->pipeline;
}

dsvk_status rt_pipeline_cache_save(rt_device *dev)
{
    return rt_pipeline_cache_write(dev, &dev->pipelines->cache);
}

uint64_t rt_pipeline_cache_loaded_bytes(const rt_device *dev)
{
    return dev->pipelines->cache.loaded_bytes;
}

/* FNV-1a over the name and the constants. */
static uint64_t key_hash(const char *name, const uint32_t *spec,
                         uint32_t n_spec)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = name; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
    for (uint32_t i = 0; i < n_spec; i++)
        h = (h ^ spec[i]) * 0x100000001b3ull;
    return h;
}

static rt_pipeline *find(const rt_pipeline_set *set, uint64_t hash,
                         const char *name, const uint32_t *spec,
                         uint32_t n_spec)
{
    for (uint32_t i = 0; i < set->count; i++) {
        rt_pipeline *p = set->pipelines[i];
        if (p->key_hash == hash && p->n_spec == n_spec &&
            memcmp(p->spec, spec, n_spec * sizeof *spec) == 0 &&
            strcmp(p->shader->name, name) == 0)
            return p;
    }
    return NULL;
}

/* Workgroup size is constant 0 by convention (shared.h): refuse sizes the
 * (possibly emulated) device does not allow, rather than let the driver
 * misbehave. */
static dsvk_status check_workgroup(rt_device *dev, const char *name,
                                   const uint32_t *spec, uint32_t n_spec)
{
    const rt_caps *caps = &dev->caps;
    if (n_spec > DSVK_SPEC_WORKGROUP_SIZE) {
        uint32_t size = spec[DSVK_SPEC_WORKGROUP_SIZE];
        uint32_t limit =
            caps->max_workgroup_invocations < caps->max_workgroup_size[0]
                ? caps->max_workgroup_invocations
                : caps->max_workgroup_size[0];
        if (size == 0 || size > limit)
            return rt_fail(dev, DSVK_ERROR_UNSUPPORTED,
                           "%s: workgroup size %u is outside this device's "
                           "limit of 1..%u",
                           name, size, limit);
    }
    return DSVK_OK;
}

static dsvk_status create_pipeline(rt_device *dev, rt_pipeline *p)
{
    VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = p->shader->spirv_bytes,
        .pCode = p->shader->spirv};
    VkShaderModule module;
    VkResult result =
        dev->vk.vkCreateShaderModule(dev->device, &module_info, NULL, &module);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkCreateShaderModule", result);

    VkSpecializationMapEntry entries[RT_MAX_SPEC_CONSTANTS];
    for (uint32_t i = 0; i < p->n_spec; i++)
        entries[i] = (VkSpecializationMapEntry){
            .constantID = i, .offset = i * 4, .size = 4};
    VkSpecializationInfo spec_info = {.mapEntryCount = p->n_spec,
                                      .pMapEntries = entries,
                                      .dataSize = p->n_spec * 4,
                                      .pData = p->spec};
    /* Where the subgroup size can vary (Intel 8-32, AMD 32/64), pin it to
     * the value the shader was specialised for. */
    const rt_caps *caps = &dev->caps;
    VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT subgroup = {
        .sType =
            VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO_EXT};
    bool pin_subgroup = false;
    if (caps->subgroup_size_control && p->n_spec > DSVK_SPEC_SUBGROUP_SIZE) {
        uint32_t size = p->spec[DSVK_SPEC_SUBGROUP_SIZE];
        pin_subgroup = size >= caps->min_subgroup_size &&
                       size <= caps->max_subgroup_size &&
                       (size & (size - 1)) == 0;
        subgroup.requiredSubgroupSize = size;
    }
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .pNext = pin_subgroup ? &subgroup : NULL,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = module,
                  .pName = "main",
                  .pSpecializationInfo = p->n_spec ? &spec_info : NULL},
        .layout = dev->pipelines->layout};
    result = dev->vk.vkCreateComputePipelines(
        dev->device, dev->pipelines->cache.cache, 1, &info, NULL, &p->pipeline);
    dev->vk.vkDestroyShaderModule(dev->device, module, NULL);
    if (result != VK_SUCCESS)
        return rt_fail(dev,
                       result == VK_ERROR_OUT_OF_DEVICE_MEMORY
                           ? DSVK_ERROR_OUT_OF_DEVICE_MEMORY
                           : DSVK_ERROR_VULKAN,
                       "vkCreateComputePipelines failed for %s: %s",
                       p->shader->name, rt_vk_result_string(result));
    dev->pipelines->cache.dirty = true;
    return DSVK_OK;
}

dsvk_status rt_pipeline_get(rt_device *dev, const char *shader_name,
                            const uint32_t *spec, uint32_t n_spec,
                            rt_pipeline **out)
{
    *out = NULL;
    rt_pipeline_set *set = dev->pipelines;
    if (n_spec > RT_MAX_SPEC_CONSTANTS)
        return rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "%s: %u specialization constants, at most %d",
                       shader_name, n_spec, RT_MAX_SPEC_CONSTANTS);
    uint64_t hash = key_hash(shader_name, spec, n_spec);
    rt_pipeline *found = find(set, hash, shader_name, spec, n_spec);
    if (found) {
        *out = found;
        return DSVK_OK;
    }
    const rt_shader *shader = rt_shader_find(shader_name);
    if (!shader)
        return rt_fail(dev, DSVK_ERROR_INVALID_ARGUMENT,
                       "no shader named \"%s\" is built in", shader_name);
    dsvk_status status = check_workgroup(dev, shader_name, spec, n_spec);
    if (status != DSVK_OK)
        return status;
    if (set->count == set->capacity) {
        uint32_t capacity = set->capacity ? set->capacity * 2 : 32;
        rt_pipeline **grown = realloc(set->pipelines, capacity * sizeof *grown);
        if (!grown)
            return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                           "out of host memory adding a pipeline");
        set->pipelines = grown;
        set->capacity = capacity;
    }
    rt_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory adding a pipeline");
    p->key_hash = hash;
    p->shader = shader;
    p->n_spec = n_spec;
    if (n_spec)
        memcpy(p->spec, spec, n_spec * sizeof *spec);
    if ((status = create_pipeline(dev, p)) != DSVK_OK) {
        free(p);
        return status;
    }
    set->pipelines[set->count++] = p;
    *out = p;
    return DSVK_OK;
}
