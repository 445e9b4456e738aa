/* Linked into the programs that LeakSanitizer checks (tests/leaks.cmake):
 * a dlclose that unloads nothing.
 *
 * LeakSanitizer looks for leaks at exit, after the Vulkan loader has
 * dlclose'd the driver, LLVM and the validation layer. Memory that those
 * libraries keep in their globals then has no root and is reported, with
 * frames that print as "<unknown module>", which no suppression can match.
 * That is what failed on AMD machines, where LLVM keeps a few CPU-specific
 * buffers (tests/leaks/held_by_library.c reproduces it). With every
 * library kept mapped, their globals stay roots and their frames keep
 * their module names, so tests/leaks/lsan.supp can name them.
 *
 * The executable exports this symbol (-Wl,--export-dynamic-symbol), so the
 * loader's dlclose calls bind to it ahead of the C library's. */
int dlclose(void *handle);

int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
