/* The on-disk pipeline cache: written on destroy (creating its directory),
 * loaded by the next device, and ignored when it belongs to another device
 * or driver. */
#include "pipeline.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one file in dir (the name is the runtime's business). */
static bool find_cache_file(const char *dir, char *path, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *entry;
    while (!found && (entry = readdir(d)))
        if (entry->d_name[0] != '.') {
            snprintf(path, size, "%s/%s", dir, entry->d_name);
            found = true;
        }
    closedir(d);
    return found;
}

/* Creates a device on dir, makes the add pipeline, destroys the device;
 * returns the bytes the device had loaded from the cache. */
static uint64_t use_cache(rt_device_desc desc, const char *dir)
{
    desc.pipeline_cache_dir = dir;
    rt_device *dev = test_gpu_create(&desc);
    uint64_t loaded = rt_pipeline_cache_loaded_bytes(dev);
    rt_pipeline *p;
    uint32_t workgroup = 32;
    CHECK(rt_pipeline_get(dev, "runtime_add", &workgroup, 1, &p) == DSVK_OK,
          "pipeline: %s", rt_device_error(dev));
    rt_device_destroy(dev);
    return loaded;
}

int main(void)
{
    rt_device_desc desc = test_gpu_desc();
    /* In the working directory (ctest: the build tree), not /tmp, which
     * may be shared, full or another file system. */
    char root[] = "dsvk-cache-test-XXXXXX";
    CHECK(mkdtemp(root) != NULL, "mkdtemp");
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/nested/dsvk", root);

    CHECK(use_cache(desc, dir) == 0, "nothing to load the first time");
    CHECK(find_cache_file(dir, path, sizeof path), "cache file written in %s",
          dir);
    size_t size = 0;
    char *data = test_read_file(path, &size);
    /* At least the 32-byte VkPipelineCacheHeaderVersionOne. */
    CHECK(data && size >= 32, "cache file of %zu bytes", size);

    CHECK(use_cache(desc, dir) == size, "second device loads the %zu bytes",
          size);

    /* Another driver's cache: flip a byte of the UUID (header bytes 16..31). */
    if (data && size >= 32) {
        data[20] ^= 0xff;
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(data, 1, size, f) == size, "rewrite cache");
        if (f)
            fclose(f);
        CHECK(use_cache(desc, dir) == 0, "foreign cache ignored");
    }
    free(data);

    remove(path);
    snprintf(path, sizeof path, "%s/nested/dsvk", root);
    rmdir(path);
    snprintf(path, sizeof path, "%s/nested", root);
    rmdir(path);
    rmdir(root);
    return test_gpu_finish(NULL, "runtime pipeline cache");
}
