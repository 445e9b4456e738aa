#include "test_api_support.h"
#include "testlib.h"
#include "testlib_gpu.h"

#include <stdlib.h>
#include <string.h>

/* The same settings as the runtime tests (DSVK_DEVICE, DSVK_EMULATE,
 * DSVK_KERNELS, DSVK_VALIDATION) and the same validation-message counter:
 * testlib_gpu parses them once, into the runtime's desc, mapped here onto
 * the public one. */
dsvk_context_desc test_api_desc(void)
{
    const rt_device_desc device = test_gpu_desc();
    dsvk_context_desc desc = {
        .device = device.device_index < 0
                      ? DSVK_DEVICE_BEST
                      : DSVK_DEVICE_INDEX(device.device_index),
        .kernels = (dsvk_kernel_class)device.kernels,
        .validation = device.validation,
        .pipeline_cache_dir = device.pipeline_cache_dir,
        .log = device.log,
        .log_user = device.log_user,
    };
    /* Both enums have the same names, so the name maps one to the other. */
    dsvk_emulation_from_name(rt_emulation_name(device.emulate),
                             &desc.emulation);
    return desc;
}

dsvk_context *test_api_context(const dsvk_context_desc *desc)
{
    dsvk_context *ctx;
    char err[512] = "";
    dsvk_status status = dsvk_context_create(desc, &ctx, err, sizeof err);
    if (status == DSVK_ERROR_NO_VULKAN || status == DSVK_ERROR_NO_DEVICE) {
        printf("skipped: %s\n", err);
        exit(77);
    }
    if (status != DSVK_OK) {
        fprintf(stderr, "dsvk_context_create: %s: %s\n",
                dsvk_status_string(status), err);
        exit(1);
    }
    if (desc->validation && !dsvk_context_validation_active(ctx) &&
        !test_env_on("DSVK_VALIDATION_OPTIONAL")) {
        fprintf(stderr, "DSVK_VALIDATION=1 but the validation layer is not "
                        "installed (DSVK_VALIDATION_OPTIONAL=1 runs without "
                        "it)\n");
        dsvk_context_destroy(ctx);
        exit(1);
    }
    return ctx;
}

dsvk_model *test_api_load(dsvk_context *ctx, const char *path)
{
    dsvk_model *model;
    const dsvk_model_desc desc = {.path = path};
    if (dsvk_model_load(ctx, &desc, &model) != DSVK_OK) {
        fprintf(stderr, "dsvk_model_load: %s\n", dsvk_context_error(ctx));
        exit(1);
    }
    return model;
}

int test_api_finish(dsvk_context *ctx, const char *suite)
{
    dsvk_context_destroy(ctx);
    CHECK(test_gpu_validation_messages() == 0, "%u validation messages",
          test_gpu_validation_messages());
    return test_finish(suite);
}
