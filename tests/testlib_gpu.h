/* GPU test helpers: the device from the environment ctest sets, and a
 * finish that fails the test on any validation message.
 *
 * Environment (dsvk_add_gpu_test sets the first three):
 *   DSVK_DEVICE=N           device index (default: the best device)
 *   DSVK_EMULATE=none|baseline
 *   DSVK_VALIDATION=1       Khronos validation layer on; then a missing
 *                           layer FAILS the test (CI always has it) ...
 *   DSVK_VALIDATION_OPTIONAL=1  ... unless this is set: then the test runs
 *                           without the layer and says so (machines without
 *                           vulkan-validationlayers, e.g. a lent GPU box). */
#ifndef DSVK_TESTLIB_GPU_H
#define DSVK_TESTLIB_GPU_H

#include "device.h"

/* The device described by the environment. Exits with 77 (ctest: skipped)
 * when there is no Vulkan loader, driver or usable device, and with 1 on
 * any other failure. Validation messages are printed to stderr. */
rt_device *test_gpu_device(void);

/* The desc test_gpu_device uses, for tests that change it (pipeline cache
 * directory, device index). Exits with 1 on a malformed variable. Its logger
 * counts validation messages for test_gpu_finish. */
rt_device_desc test_gpu_desc(void);

/* prefix-PROFILE-KERNELS, e.g. "models-none-auto", in out: a folder of this
 * test variant's own, since ctest may run the variants of a test at once. */
void test_gpu_variant_path(char *out, size_t size, const char *prefix);

/* test_gpu_device with a desc from test_gpu_desc, possibly changed. */
rt_device *test_gpu_create(const rt_device_desc *desc);

/* Destroys the device (NULL is fine), fails the test if the validation
 * layer reported anything on any device so far, and returns
 * test_finish(suite). */
/* Validation messages (errors and warnings) logged so far by devices made
 * from test_gpu_desc(), including those of device destruction. */
unsigned test_gpu_validation_messages(void);

int test_gpu_finish(rt_device *dev, const char *suite);

#endif
