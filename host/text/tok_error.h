/* One-line error messages for the tokenizer. */
#ifndef DSVK_HOST_TOK_ERROR_H
#define DSVK_HOST_TOK_ERROR_H

#include "dsvk.h"
#include <stddef.h>

/* Formats a message into err (when err is not NULL and err_size > 0) and
 * returns status, so callers can write `return tok_fail(...)`. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
dsvk_status
tok_fail(char *err, size_t err_size, dsvk_status status, const char *fmt, ...);

#endif
