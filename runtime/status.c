/* Names for status codes: dsvk's own (from the X-macro table in dsvk.h) and
 * Vulkan's VkResult, for one-line error messages. */
#include "device.h"

const char *dsvk_status_string(dsvk_status status)
{
    switch (status) {
#define DSVK_STATUS_CASE_(name, value, text)                                   \
    case name:                                                                 \
        return text;
        DSVK_STATUS_LIST(DSVK_STATUS_CASE_)
#undef DSVK_STATUS_CASE_
    }
    return "unknown status";
}

const char *rt_vk_result_string(VkResult result)
{
    switch (result) {
#define RT_RESULT_CASE_(name)                                                  \
    case name:                                                                 \
        return #name;
        RT_RESULT_CASE_(VK_SUCCESS)
        RT_RESULT_CASE_(VK_NOT_READY)
        RT_RESULT_CASE_(VK_TIMEOUT)
        RT_RESULT_CASE_(VK_INCOMPLETE)
        RT_RESULT_CASE_(VK_ERROR_OUT_OF_HOST_MEMORY)
        RT_RESULT_CASE_(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        RT_RESULT_CASE_(VK_ERROR_INITIALIZATION_FAILED)
        RT_RESULT_CASE_(VK_ERROR_DEVICE_LOST)
        RT_RESULT_CASE_(VK_ERROR_MEMORY_MAP_FAILED)
        RT_RESULT_CASE_(VK_ERROR_LAYER_NOT_PRESENT)
        RT_RESULT_CASE_(VK_ERROR_EXTENSION_NOT_PRESENT)
        RT_RESULT_CASE_(VK_ERROR_FEATURE_NOT_PRESENT)
        RT_RESULT_CASE_(VK_ERROR_INCOMPATIBLE_DRIVER)
        RT_RESULT_CASE_(VK_ERROR_TOO_MANY_OBJECTS)
        RT_RESULT_CASE_(VK_ERROR_FORMAT_NOT_SUPPORTED)
        RT_RESULT_CASE_(VK_ERROR_FRAGMENTED_POOL)
        RT_RESULT_CASE_(VK_ERROR_UNKNOWN)
        RT_RESULT_CASE_(VK_ERROR_OUT_OF_POOL_MEMORY)
        RT_RESULT_CASE_(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        RT_RESULT_CASE_(VK_ERROR_FRAGMENTATION)
        RT_RESULT_CASE_(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
        RT_RESULT_CASE_(VK_PIPELINE_COMPILE_REQUIRED)
#undef RT_RESULT_CASE_
    default:
        return "unlisted VkResult";
    }
}
