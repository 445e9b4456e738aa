#include "test_api_support.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

/* Counted in the logger so that messages from vkDestroyDevice and
 * vkDestroyInstance (objects left alive) count too. */
static unsigned validation_messages;

static void log_line(void *user, const char *message)
{
    (void)user;
    if (strncmp(message, "validation ", 11) == 0)
        validation_messages++;
    fprintf(stderr, "dsvk: %s\n", message);
}

static bool env_on(const char *name)
{
    const char *value = getenv(name);
    return value && *value && strcmp(value, "0") != 0;
}

dsvk_context_desc test_api_desc(void)
{
    dsvk_context_desc desc = {.log = log_line};
    const char *device = getenv("DSVK_DEVICE");
    if (device && *device) {
        char *end;
        long index = strtol(device, &end, 10);
        if (*end || index < 0) {
            fprintf(stderr, "DSVK_DEVICE=%s is not a device index\n", device);
            exit(1);
        }
        desc.device = DSVK_DEVICE_INDEX(index);
    }
    const char *emulate = getenv("DSVK_EMULATE");
    if (emulate && dsvk_emulation_from_name(emulate, &desc.emulation)) {
        fprintf(stderr, "DSVK_EMULATE=%s is not none or baseline\n", emulate);
        exit(1);
    }
    desc.validation = env_on("DSVK_VALIDATION");
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
        !env_on("DSVK_VALIDATION_OPTIONAL")) {
        fprintf(stderr, "DSVK_VALIDATION=1 but the validation layer is not "
                        "installed (DSVK_VALIDATION_OPTIONAL=1 runs without "
                        "it)\n");
        dsvk_context_destroy(ctx);
        exit(1);
    }
    return ctx;
}

unsigned test_api_validation_messages(void)
{
    return validation_messages;
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
    CHECK(validation_messages == 0, "%u validation messages",
          validation_messages);
    return test_finish(suite);
}
