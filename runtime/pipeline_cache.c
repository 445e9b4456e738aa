/* The on-disk pipeline cache: one file per device model and driver, so
 * switching GPUs does not throw away the other's cache. */
#include "pipeline_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* VkPipelineCacheHeaderVersionOne: headerSize, headerVersion, vendorID,
 * deviceID (4 bytes each), then the 16-byte pipelineCacheUUID. */
#define RT_CACHE_HEADER_BYTES 32

/* A driver that gets data from another device or driver version may crash
 * instead of rejecting it, so the header is checked here first. */
static bool header_matches(const rt_device *dev, const uint8_t *data,
                           size_t size)
{
    if (size < RT_CACHE_HEADER_BYTES)
        return false;
    uint32_t fields[4];
    memcpy(fields, data, sizeof fields);
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(dev->physical, &props);
    return fields[0] >= RT_CACHE_HEADER_BYTES && fields[0] <= size &&
           fields[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
           fields[2] == props.vendorID && fields[3] == props.deviceID &&
           memcmp(data + 16, props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) &&
        fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = data ? (size_t)n : 0;
    return data;
}

/* mkdir -p: the CLI's default (~/.cache/dsvk) may not exist yet. */
static bool make_dirs(char *path)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        bool ok = mkdir(path, 0755) == 0 || errno == EEXIST;
        *p = saved;
        if (!ok)
            return false;
        if (saved == '\0')
            return true;
    }
}

dsvk_status rt_pipeline_cache_open(rt_device *dev, rt_pipeline_cache *cache)
{
    memset(cache, 0, sizeof *cache);
    const char *dir = dev->desc.pipeline_cache_dir;
    uint8_t *data = NULL;
    size_t size = 0;
    if (dir && *dir) {
        size_t n = strlen(dir) + 64;
        if (!(cache->path = malloc(n)))
            return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                           "out of host memory opening the pipeline cache");
        snprintf(cache->path, n, "%s/pipelines-%04x-%04x.bin", dir,
                 dev->caps.vendor_id, dev->caps.device_id);
        data = read_file(cache->path, &size);
        if (data && !header_matches(dev, data, size)) {
            rt_device_log(dev, "pipeline cache file is for another device "
                               "or driver version; starting afresh");
            free(data);
            data = NULL;
            size = 0;
        }
    }
    VkPipelineCacheCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data};
    VkResult result =
        dev->vk.vkCreatePipelineCache(dev->device, &info, NULL, &cache->cache);
    free(data);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkCreatePipelineCache", result);
    cache->loaded_bytes = size;
    return DSVK_OK;
}

dsvk_status rt_pipeline_cache_write(rt_device *dev, rt_pipeline_cache *cache)
{
    if (!cache->path || !cache->dirty || !cache->cache)
        return DSVK_OK;
    size_t size = 0;
    VkResult result =
        dev->vk.vkGetPipelineCacheData(dev->device, cache->cache, &size, NULL);
    if (result != VK_SUCCESS)
        return rt_fail_vk(dev, "vkGetPipelineCacheData", result);
    uint8_t *data = malloc(size ? size : 1);
    if (!data)
        return rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                       "out of host memory saving the pipeline cache");
    result =
        dev->vk.vkGetPipelineCacheData(dev->device, cache->cache, &size, data);
    if (result != VK_SUCCESS) {
        free(data);
        return rt_fail_vk(dev, "vkGetPipelineCacheData", result);
    }
    /* Written under a temporary name and renamed, so a concurrent dsvk
     * never reads half a file. */
    size_t n = strlen(cache->path) + 32;
    char *tmp = malloc(n);
    dsvk_status status = DSVK_OK;
    if (!tmp) {
        status = rt_fail(dev, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                         "out of host memory saving the pipeline cache");
    } else {
        snprintf(tmp, n, "%s", dev->desc.pipeline_cache_dir);
        bool dir_ok = make_dirs(tmp);
        snprintf(tmp, n, "%s.%ld.tmp", cache->path, (long)getpid());
        FILE *f = dir_ok ? fopen(tmp, "wb") : NULL;
        bool ok = f && fwrite(data, 1, size, f) == size;
        ok = f && fclose(f) == 0 && ok;
        if (!ok || rename(tmp, cache->path) != 0) {
            int err = errno;
            remove(tmp);
            status = rt_fail(dev, DSVK_ERROR_IO,
                             "cannot write pipeline cache %s: %s", cache->path,
                             strerror(err));
        } else {
            cache->dirty = false;
        }
    }
    free(tmp);
    free(data);
    return status;
}

void rt_pipeline_cache_close(rt_device *dev, rt_pipeline_cache *cache)
{
    if (cache->cache)
        dev->vk.vkDestroyPipelineCache(dev->device, cache->cache, NULL);
    free(cache->path);
    memset(cache, 0, sizeof *cache);
}
