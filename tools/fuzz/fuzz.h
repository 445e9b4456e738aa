/* Shared by the fuzz targets of tools/fuzz: the libFuzzer entry points and
 * the check that turns a broken property into a finding. Each target is
 * also linked with replay.c into a plain program that runs its corpus
 * (tests/fuzz.cmake), so the same properties hold in ordinary builds. */
#ifndef DSVK_FUZZ_H
#define DSVK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test promised and broke: abort, which
 * libFuzzer reports as a crash with the input saved. */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__,          \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif
