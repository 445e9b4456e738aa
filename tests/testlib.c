#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int test_failures;

int test_finish(const char *suite)
{
    if (test_failures)
        printf("%s: %d check(s) failed\n", suite, test_failures);
    else
        printf("%s: all checks passed\n", suite);
    return test_failures ? 1 : 0;
}

const char *test_fixture(const char *relative)
{
    static char path[4096];
    const char *dir = getenv("DSVK_FIXTURES");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/fixtures",
             relative);
    return path;
}

test_rng test_rng_seed(uint64_t seed)
{
    test_rng rng = {seed * 0x9E3779B97F4A7C15ull + 1};
    return rng;
}

float test_rng_uniform(test_rng *rng, float lo, float hi)
{
    rng->state ^= rng->state >> 12;
    rng->state ^= rng->state << 25;
    rng->state ^= rng->state >> 27;
    uint64_t bits = rng->state * 0x2545F4914F6CDD1Dull;
    float unit = (float)(bits >> 40) / (float)(1ull << 24);
    return lo + (hi - lo) * unit;
}

void test_rng_fill(test_rng *rng, float *out, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        out[i] = test_rng_uniform(rng, lo, hi);
}

double test_nmse(const float *a, const float *b, size_t n)
{
    double err = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        err += d * d;
        ref += (double)b[i] * (double)b[i];
    }
    return ref > 0 ? err / ref : err;
}

double test_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || isnan(d))
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

char *test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)n + 1);
            if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            }
            if (buf) {
                buf[n] = 0;
                if (size)
                    *size = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

bool test_env_on(const char *name)
{
    const char *value = getenv(name);
    return value && *value && strcmp(value, "0") != 0;
}
