#include "tok_error.h"

#include <stdarg.h>
#include <stdio.h>

dsvk_status tok_fail(char *err, size_t err_size, dsvk_status status,
                     const char *fmt, ...)
{
    if (err && err_size > 0) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err, err_size, fmt, args);
        va_end(args);
    }
    return status;
}
