#include "testlib_gpu.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

/* Counted here rather than with rt_device_validation_messages so that the
 * messages of vkDestroyDevice/vkDestroyInstance (leaked objects) count too. */
static unsigned validation_messages;

static void log_line(void *user, const char *message)
{
    (void)user;
    if (strncmp(message, "validation ", 11) == 0)
        validation_messages++;
    fprintf(stderr, "dsvk: %s\n", message);
}

rt_device_desc test_gpu_desc(void)
{
    rt_device_desc desc = {.device_index = -1, .log = log_line};
    const char *device = getenv("DSVK_DEVICE");
    if (device && *device) {
        char *end;
        long index = strtol(device, &end, 10);
        if (*end || index < 0) {
            fprintf(stderr, "DSVK_DEVICE=%s is not a device index\n", device);
            exit(1);
        }
        desc.device_index = (int)index;
    }
    const char *emulate = getenv("DSVK_EMULATE");
    if (emulate && !rt_emulation_from_name(emulate, &desc.emulate)) {
        fprintf(stderr, "DSVK_EMULATE=%s is not none or baseline\n", emulate);
        exit(1);
    }
    const char *kernels = getenv("DSVK_KERNELS");
    if (kernels && *kernels &&
        !rt_kernel_class_from_name(kernels, &desc.kernels)) {
        fprintf(stderr, "DSVK_KERNELS=%s is not auto, gpu or cpu\n", kernels);
        exit(1);
    }
    desc.validation = test_env_on("DSVK_VALIDATION");
    return desc;
}

void test_gpu_variant_path(char *out, size_t size, const char *prefix)
{
    const char *profile = getenv("DSVK_EMULATE");
    const char *kernels = getenv("DSVK_KERNELS");
    snprintf(out, size, "%s-%s-%s", prefix,
             profile && *profile ? profile : "none",
             kernels && *kernels ? kernels : "auto");
}

rt_device *test_gpu_device(void)
{
    rt_device_desc desc = test_gpu_desc();
    return test_gpu_create(&desc);
}

rt_device *test_gpu_create(const rt_device_desc *desc)
{
    rt_device *dev;
    char err[512];
    dsvk_status status = rt_device_create(desc, &dev, err, sizeof err);
    if (status == DSVK_ERROR_NO_VULKAN || status == DSVK_ERROR_NO_DEVICE) {
        printf("skipped: %s\n", err);
        exit(77);
    }
    if (status != DSVK_OK) {
        fprintf(stderr, "rt_device_create: %s: %s\n",
                dsvk_status_string(status), err);
        exit(1);
    }
    if (desc->validation && !rt_device_validation_active(dev)) {
        if (!test_env_on("DSVK_VALIDATION_OPTIONAL")) {
            fprintf(stderr, "DSVK_VALIDATION=1 but the validation layer is "
                            "not installed (set DSVK_VALIDATION_OPTIONAL=1 "
                            "to run without it)\n");
            rt_device_destroy(dev);
            exit(1);
        }
        printf("note: no validation layer; running without it\n");
    }
    printf("device: %s, emulation %s, validation %s\n",
           rt_device_caps(dev)->name, rt_emulation_name(desc->emulate),
           rt_device_validation_active(dev) ? "on" : "off");
    return dev;
}

unsigned test_gpu_validation_messages(void)
{
    return validation_messages;
}

int test_gpu_finish(rt_device *dev, const char *suite)
{
    rt_device_destroy(dev);
    CHECK(validation_messages == 0, "%u validation message(s), see above",
          validation_messages);
    return test_finish(suite);
}
