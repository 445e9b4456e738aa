/* Sanitizer builds only (DSVK_LEAK_CONTROL): a switch that makes
 * dsvk_context_destroy forget to free the context, one real allocation of
 * libdsvk's. tests/leaks uses it to show that LeakSanitizer, with the
 * suppressions the tests use, still reports a leak in libdsvk. Outside
 * api/ only that test includes this. */
#ifndef DSVK_HOST_API_LEAK_CONTROL_H
#define DSVK_HOST_API_LEAK_CONTROL_H

#include "dsvk.h"

#ifdef DSVK_LEAK_CONTROL
void api_leak_context_on_destroy(dsvk_context *ctx);
#endif

#endif
