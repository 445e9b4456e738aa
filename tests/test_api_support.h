/* Helpers for the public-API tests (tests/api.cmake): a dsvk_context from
 * the environment ctest sets (as testlib_gpu.h does for rt_device), using
 * nothing but <dsvk.h>, and the fixture model they load. */
#ifndef DSVK_TEST_API_SUPPORT_H
#define DSVK_TEST_API_SUPPORT_H

#include "dsvk.h"

/* The context desc of DSVK_DEVICE, DSVK_EMULATE and DSVK_VALIDATION, with a
 * logger that prints to stderr and counts validation messages. Exits with 1
 * on a malformed variable. */
dsvk_context_desc test_api_desc(void);

/* dsvk_context_create with desc; exits with 77 (ctest: skipped) when there
 * is no Vulkan loader, driver or usable device, and with 1 on any other
 * failure or when validation was asked for but the layer is missing
 * (unless DSVK_VALIDATION_OPTIONAL=1). */
dsvk_context *test_api_context(const dsvk_context_desc *desc);

/* Loads a model (fixture path) with default options; exits with 1 on
 * failure. */
dsvk_model *test_api_load(dsvk_context *ctx, const char *path);

/* Destroys the context, fails on any validation message so far and
 * returns test_finish(suite). */
int test_api_finish(dsvk_context *ctx, const char *suite);

#endif
