#include "api_device_desc.h"

void api_context_desc_from_device(const rt_device_desc *device,
                                  dsvk_context_desc *out)
{
    *out = (dsvk_context_desc){
        .device = device->device_index < 0
                      ? DSVK_DEVICE_BEST
                      : DSVK_DEVICE_INDEX(device->device_index),
        .kernels = (dsvk_kernel_class)device->kernels,
        .validation = device->validation,
        .pipeline_cache_dir = device->pipeline_cache_dir,
        .log = device->log,
        .log_user = device->log_user,
    };
    /* Both enums have the same names, so the name maps one to the other. */
    dsvk_emulation_from_name(rt_emulation_name(device->emulate),
                             &out->emulation);
}
