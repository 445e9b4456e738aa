/* dsvk — DeepSeek-architecture language models on any Vulkan GPU.
 *
 * This is the only public header. Every fallible call returns a dsvk_status;
 * dsvk_status_string() names it. The full embedding API (models, sessions,
 * sampling, generation) is described in the README and grows with the
 * project; the declarations below are the stable core. */
#ifndef DSVK_H
#define DSVK_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DSVK_BUILDING_LIBRARY) && defined(__GNUC__)
#define DSVK_API __attribute__((visibility("default")))
#else
#define DSVK_API
#endif

/* Status codes: one table, expanded into the enum and into
 * dsvk_status_string(). X(name, value, description) */
#define DSVK_STATUS_LIST(X)                                                    \
    X(DSVK_OK, 0, "ok")                                                        \
    X(DSVK_ERROR_INVALID_ARGUMENT, 1, "invalid argument")                      \
    X(DSVK_ERROR_OUT_OF_HOST_MEMORY, 2, "out of host memory")                  \
    X(DSVK_ERROR_OUT_OF_DEVICE_MEMORY, 3, "out of device memory")              \
    X(DSVK_ERROR_NO_VULKAN, 4, "no Vulkan loader or driver")                   \
    X(DSVK_ERROR_NO_DEVICE, 5, "no suitable Vulkan device")                    \
    X(DSVK_ERROR_VULKAN, 6, "Vulkan call failed")                              \
    X(DSVK_ERROR_UNSUPPORTED, 7, "unsupported by this device or build")        \
    X(DSVK_ERROR_IO, 8, "file input/output error")                             \
    X(DSVK_ERROR_BAD_FILE, 9, "malformed model file")                          \
    X(DSVK_ERROR_BAD_MODEL, 10, "model not supported")                         \
    X(DSVK_ERROR_CONTEXT_FULL, 11, "context length exceeded")                  \
    X(DSVK_ERROR_CANCELLED, 12, "cancelled")                                   \
    X(DSVK_ERROR_VALIDATION, 13, "Vulkan validation layer reported a problem")

typedef enum dsvk_status {
#define DSVK_STATUS_ENUM_(name, value, text) name = value,
    DSVK_STATUS_LIST(DSVK_STATUS_ENUM_)
#undef DSVK_STATUS_ENUM_
} dsvk_status;

/* A short, static, human-readable name for a status. Never NULL. */
DSVK_API const char *dsvk_status_string(dsvk_status status);

#ifdef __cplusplus
}
#endif
#endif
