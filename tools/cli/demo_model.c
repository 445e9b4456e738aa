#include "demo_model.h"
#include "common.h"

#include "gen-model/config.h"
#include "gen-model/model_file.h"
#include "gen-model/weight_format.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO_TRAINED_NAME "demo-kjv.gguf"
#define DEMO_RANDOM_NAME "random-demo.gguf"
/* The random demo model is gen-model's tiny preset: quick to write and to
 * run anywhere. A fixed seed makes it the same file on every machine. */
#define DEMO_RANDOM_PRESET "tiny"
#define DEMO_RANDOM_SEED 20240507u

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
 * only then are the source tree and the build folder its own. */
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

/* mkdir -p: creates dir and its missing parents. */
static bool make_dirs(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return false;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        const char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return false;
        *p = c;
        if (!c)
            return true;
    }
}

/* Writes the random model to a temporary name and renames it into place,
 * so a concurrent dsvk never reads a half-written file. */
static bool write_random_model(const char *path)
{
    model_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.format = weight_format_find("f32");
    cfg.layout = LAYOUT_SPLIT;
    if (!config_preset(DEMO_RANDOM_PRESET, &cfg)) {
        cli_error("gen-model has no preset '%s'", DEMO_RANDOM_PRESET);
        return false;
    }
    cfg.name = "dsvk random demo";
    cfg.seed = DEMO_RANDOM_SEED;
    char err[512] = "";
    if (!config_check(&cfg, err, sizeof err)) {
        cli_error("random demo model: %s", err);
        return false;
    }

    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    model_file_stats stats;
    if (!model_file_write(&cfg, tmp, &stats, err, sizeof err)) {
        cli_error("cannot write the random demo model %s: %s", tmp, err);
        remove(tmp);
        return false;
    }
    if (rename(tmp, path) != 0) {
        cli_error("cannot create %s: %s", path, strerror(errno));
        remove(tmp);
        return false;
    }
    return true;
}

static bool random_model_dir(bool build_tree, char *out, size_t size)
{
    if (build_tree)
        return snprintf(out, size, "%s/demo", DSVK_BINARY_DIR) < (int)size;
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        return snprintf(out, size, "%s/dsvk", xdg) < (int)size;
    if (home && *home)
        return snprintf(out, size, "%s/.cache/dsvk", home) < (int)size;
    return false;
}

bool demo_model_find(demo_model *out)
{
    *out = (demo_model){0};
    char exe_dir[PATH_MAX];
    const bool have_exe = executable_dir(exe_dir, sizeof exe_dir);
    const bool build_tree = have_exe && in_build_tree(exe_dir);

    /* A path too long to build counts as not found. */
    const int len =
        build_tree ? snprintf(out->path, sizeof out->path, "%s/assets/%s",
                              DSVK_SOURCE_DIR, DEMO_TRAINED_NAME)
        : have_exe ? snprintf(out->path, sizeof out->path,
                              "%s/../share/dsvk/%s", exe_dir, DEMO_TRAINED_NAME)
                   : 0;
    if (len > 0 && len < (int)sizeof out->path && is_file(out->path)) {
        out->trained = true;
        fprintf(stderr,
                "dsvk: no -m given: using the demo model, a small model "
                "trained on the King James Bible (%s)\n",
                out->path);
        return true;
    }

    char dir[PATH_MAX];
    if (!random_model_dir(build_tree, dir, sizeof dir)) {
        cli_error("no model given (-m FILE), no demo model found and "
                  "nowhere to cache a random one (set HOME)");
        return false;
    }
    if (snprintf(out->path, sizeof out->path, "%s/%s", dir, DEMO_RANDOM_NAME) >=
        (int)sizeof out->path) {
        cli_error("cache path too long: %s", dir);
        return false;
    }
    if (!is_file(out->path)) {
        if (!make_dirs(dir)) {
            cli_error("cannot create %s: %s", dir, strerror(errno));
            return false;
        }
        if (!write_random_model(out->path))
            return false;
    }
    fprintf(stderr,
            "dsvk: no -m given and the trained demo model is not available: "
            "using a model with RANDOM weights (%s); expect gibberish\n",
            out->path);
    return true;
}
