/* A main() for the fuzz targets where libFuzzer is not linked (gcc builds,
 * the ASan+UBSan build): runs LLVMFuzzerTestOneInput once on every file
 * named, or in a directory named, on the command line. It is how ctest
 * replays tests/fuzz-corpus, so the seeds and every saved finding stay
 * regression tests. Exits non-zero when an argument cannot be read. */
#include "fuzz.h"

#include <dirent.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    /* An exact-size buffer, as libFuzzer passes, so that ASan sees a read
     * one byte past the input. */
    uint8_t *data = size >= 0 ? malloc(size ? (size_t)size : 1) : NULL;
    bool ok = data && fseek(f, 0, SEEK_SET) == 0 &&
              fread(data, 1, (size_t)size, f) == (size_t)size;
    if (f)
        fclose(f);
    if (ok)
        LLVMFuzzerTestOneInput(data, (size_t)size);
    else
        fprintf(stderr, "replay: cannot read %s\n", path);
    free(data);
    return !ok;
}

static int run_path(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return run_file(path);
    }
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "replay: cannot list %s\n", path);
        return 1;
    }
    int failed = 0;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] == '.')
            continue; /* ".", ".." and hidden files */
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        failed |= run_path(child, count);
    }
    closedir(dir);
    return failed;
}

int main(int argc, char **argv)
{
    int failed = 0, count = 0;
    for (int i = 1; i < argc; i++)
        failed |= run_path(argv[i], &count);
    printf("replay: %d inputs\n", count);
    /* A corpus that has vanished must not pass as "nothing failed". */
    return failed || count == 0;
}
