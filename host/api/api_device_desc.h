/* The public context desc for an internal device desc: the CLI and the tests
 * parse --device and the DSVK_* variables once, into an rt_device_desc, and
 * use the public API through this mapping. */
#ifndef DSVK_HOST_API_DEVICE_DESC_H
#define DSVK_HOST_API_DEVICE_DESC_H

#include "device.h"
#include "dsvk.h"

void api_context_desc_from_device(const rt_device_desc *device,
                                  dsvk_context_desc *out);

#endif
