/* The VkPipelineCache and its file in desc.pipeline_cache_dir: loaded at
 * device creation when its header matches this device and driver, written
 * back when pipelines were added. Runtime-internal. */
#ifndef DSVK_RUNTIME_PIPELINE_CACHE_H
#define DSVK_RUNTIME_PIPELINE_CACHE_H

#include "device_private.h"

typedef struct rt_pipeline_cache {
    VkPipelineCache cache;
    char *path;            /* NULL: no on-disk cache */
    uint64_t loaded_bytes; /* valid bytes read from the file (0: none) */
    bool dirty;            /* pipelines were created since loading */
} rt_pipeline_cache;

/* Creates the cache, seeded from the file when it is valid; a missing or
 * foreign file only means an empty cache. */
dsvk_status rt_pipeline_cache_open(rt_device *dev, rt_pipeline_cache *cache);
/* Writes the file (atomically, via rename) if the cache is dirty. */
dsvk_status rt_pipeline_cache_write(rt_device *dev, rt_pipeline_cache *cache);
void rt_pipeline_cache_close(rt_device *dev, rt_pipeline_cache *cache);

#endif
