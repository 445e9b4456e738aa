#include "demo_model.h"
#include "common.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO_NAME "demo-kjv.gguf"

/* The directory of the running executable (no trailing slash); false
 * where /proc/self/exe is unavailable. */
static bool executable_dir(char *out, size_t size)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return false;
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return snprintf(out, size, "%s", path) < (int)size;
}

/* Whether this dsvk is the one in its build tree (not an installed copy):
 * only then is the source tree its own. */
static bool in_build_tree(const char *exe_dir)
{
    char a[PATH_MAX], b[PATH_MAX];
    return realpath(exe_dir, a) && realpath(DSVK_BINARY_DIR, b) &&
           strcmp(a, b) == 0;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool demo_model_find(demo_model *out)
{
    *out = (demo_model){0};
    char exe_dir[PATH_MAX];
    if (!executable_dir(exe_dir, sizeof exe_dir)) {
        cli_error("no model given (-m FILE), and the demo model cannot be "
                  "found: /proc/self/exe does not say where dsvk is");
        return false;
    }
    const int len = in_build_tree(exe_dir)
                        ? snprintf(out->path, sizeof out->path, "%s/assets/%s",
                                   DSVK_SOURCE_DIR, DEMO_NAME)
                        : snprintf(out->path, sizeof out->path,
                                   "%s/../share/dsvk/%s", exe_dir, DEMO_NAME);
    if (len <= 0 || len >= (int)sizeof out->path || !is_file(out->path)) {
        cli_error("no model given (-m FILE), and the demo model is not "
                  "installed: %s is missing",
                  len > 0 && len < (int)sizeof out->path ? out->path
                                                         : DEMO_NAME);
        return false;
    }
    fprintf(stderr,
            "dsvk: no -m given: using the demo model, a small model trained "
            "on the King James Bible (%s)\n",
            out->path);
    return true;
}
