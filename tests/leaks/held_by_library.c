/* A shared library that keeps heap memory in its globals, as LLVM does:
 * three 128-byte buffers (the 384 bytes in 3 allocations that LLVM holds
 * on AMD machines). Not a leak while the library is loaded; reported as
 * one, from "<unknown module>", if it is unloaded before the leak check. */
#include <stdlib.h>
#include <string.h>

void held_by_library_fill(void);

char *held_by_library[3];

void held_by_library_fill(void)
{
    for (int i = 0; i < 3; i++) {
        held_by_library[i] = realloc(NULL, 128);
        if (held_by_library[i])
            memset(held_by_library[i], i, 128);
    }
}
