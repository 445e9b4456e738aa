#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("dsvk: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    return 1;
}

static void log_to_stderr(void *user, const char *message)
{
    (void)user;
    fprintf(stderr, "dsvk: %s\n", message);
}

bool cli_parse_device(const char *text, uint32_t *device)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < 0 || value > 1000000)
        return false;
    *device = DSVK_DEVICE_INDEX(value);
    return true;
}

bool cli_context_desc(dsvk_context_desc *desc, char *err, size_t err_size)
{
    /* Static: the desc only borrows the string. */
    static char cache_dir[4096];
    *desc =
        (dsvk_context_desc){.device = DSVK_DEVICE_BEST, .log = log_to_stderr};

    const char *device = getenv("DSVK_DEVICE");
    if (device && *device && !cli_parse_device(device, &desc->device)) {
        snprintf(err, err_size,
                 "DSVK_DEVICE=%s is not a device index (see dsvk devices)",
                 device);
        return false;
    }
    const char *emulate = getenv("DSVK_EMULATE");
    if (emulate && *emulate &&
        dsvk_emulation_from_name(emulate, &desc->emulation) != DSVK_OK) {
        snprintf(err, err_size, "DSVK_EMULATE=%s is not one of: none, baseline",
                 emulate);
        return false;
    }
    const char *kernels = getenv("DSVK_KERNELS");
    if (kernels && *kernels &&
        dsvk_kernel_class_from_name(kernels, &desc->kernels) != DSVK_OK) {
        snprintf(err, err_size, "DSVK_KERNELS=%s is not one of: auto, gpu, cpu",
                 kernels);
        return false;
    }
    const char *validation = getenv("DSVK_VALIDATION");
    desc->validation = validation && *validation && strcmp(validation, "0");

    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(cache_dir, sizeof cache_dir, "%s/dsvk", xdg);
    else if (home && *home)
        snprintf(cache_dir, sizeof cache_dir, "%s/.cache/dsvk", home);
    else
        cache_dir[0] = '\0';
    desc->pipeline_cache_dir = cache_dir[0] ? cache_dir : NULL;
    return true;
}

bool cli_device_desc(dsvk_context_desc *desc)
{
    char err[512];
    if (cli_context_desc(desc, err, sizeof err))
        return true;
    cli_error("%s", err);
    return false;
}

bool cli_device_option(int argc, char **argv, int *i, dsvk_context_desc *desc,
                       bool *ok)
{
    *ok = true;
    if (strcmp(argv[*i], "--device") != 0)
        return false;
    if (*i + 1 >= argc || !cli_parse_device(argv[*i + 1], &desc->device)) {
        cli_error("--device needs a device index (see dsvk devices)");
        *ok = false;
    }
    *i += 1;
    return true;
}

char *cli_read_file(const char *path, size_t *size)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        /* One byte stays free for the NUL. */
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1)
            break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
        errno = EIO;
    }
    if (f != stdin)
        fclose(f);
    if (buf)
        buf[n] = '\0';
    *size = n;
    return buf;
}

bool cli_parse_count(const char *text, bool zero_ok, uint32_t *out)
{
    char *end;
    errno = 0;
    if (*text < '0' || *text > '9')
        return false;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || (v == 0 && !zero_ok) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

bool cli_parse_cache_type(const char *text, dsvk_cache_type *out)
{
    return dsvk_cache_type_from_name(text, out) == DSVK_OK;
}
