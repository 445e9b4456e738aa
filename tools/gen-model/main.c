/* gen-model: writes random-weight deepseek2 GGUF models of any shape, so
 * tests need no downloads. See --help. */
#include "config.h"
#include "flags.h"
#include "model_file.h"

#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
    model_config cfg;
    const char *output;
    char err[512] = "";
    flags_result parsed =
        flags_parse(argc, argv, &cfg, &output, err, sizeof err);
    if (parsed == FLAGS_HELP)
        return 0;
    if (parsed == FLAGS_ERROR || !config_check(&cfg, err, sizeof err)) {
        fprintf(stderr, "gen-model: %s\n", err);
        return 2;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    model_file_stats stats;
    if (!model_file_write(&cfg, output, &stats, err, sizeof err)) {
        fprintf(stderr, "gen-model: %s: %s\n", output, err);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) +
                     1e-9 * (double)(end.tv_nsec - start.tv_nsec);
    printf("gen-model: wrote %s: %llu tensors, %llu parameters, %llu bytes "
           "in %.2f s\n",
           output, (unsigned long long)stats.n_tensors,
           (unsigned long long)stats.n_params,
           (unsigned long long)stats.n_bytes, seconds);
    return 0;
}
