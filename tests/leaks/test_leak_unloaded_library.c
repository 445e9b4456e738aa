/* Positive control of tests/leaks.cmake: a library that holds memory in
 * its globals (held_by_library.c) is loaded, filled and dlclose'd, as the
 * Vulkan loader does with the driver. LeakSanitizer must not report it:
 * keep_libraries_loaded.c keeps it mapped. Without that file this program
 * fails the way test_api_errors did on AMD machines.
 *
 * Usage: test_leak_unloaded_library LIBRARY */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
        return 2;
    }
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr, "leak_unloaded_library: %s\n", dlerror());
        return 1;
    }
    void (*fill)(void) = (void (*)(void))dlsym(library, "held_by_library_fill");
    if (!fill) {
        fprintf(stderr, "leak_unloaded_library: %s\n", dlerror());
        return 1;
    }
    fill();
    dlclose(library);
    printf("leak_unloaded_library: library loaded, filled and closed\n");
    return 0;
}
