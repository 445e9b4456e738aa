/* Small helpers shared by every test program. */
#ifndef DSVK_TESTLIB_H
#define DSVK_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Counts a failure and prints where it happened; the test continues. */
#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            test_failures++;                                                   \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,   \
                    #cond);                                                    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

extern int test_failures;

/* Prints "N passed, M failed" style summary and returns the exit code. */
int test_finish(const char *suite);

/* Path of a file under tests/fixtures (from $DSVK_FIXTURES, set by ctest).
 * Returns a static buffer. */
const char *test_fixture(const char *relative);

/* Deterministic random numbers (xorshift64*), uniform in [lo, hi). */
typedef struct test_rng {
    uint64_t state;
} test_rng;
test_rng test_rng_seed(uint64_t seed);
float test_rng_uniform(test_rng *rng, float lo, float hi);
void test_rng_fill(test_rng *rng, float *out, size_t n, float lo, float hi);

/* Normalised mean squared error sum((a-b)^2) / sum(b^2), as ggml's
 * test-backend-ops uses: scale-free, so one tolerance fits every shape. */
double test_nmse(const float *a, const float *b, size_t n);
double test_max_abs_diff(const float *a, const float *b, size_t n);

/* Reads a whole file into malloc'd memory (NUL-terminated); NULL on error. */
char *test_read_file(const char *path, size_t *size);

/* True when the environment variable is set to something other than "" or
 * "0" (DSVK_VALIDATION=1 and the like). */
bool test_env_on(const char *name);

#endif
