/* The sampling flags that dsvk run and dsvk chat share (--temp, --top-k,
 * --top-p, --min-p, --repeat-penalty, --repeat-last-n, --presence-penalty,
 * --seed): parsed once here, applied on top of defaults the command
 * chooses after parsing (the demo model samples differently). */
#ifndef DSVK_CLI_SAMPLING_FLAGS_H
#define DSVK_CLI_SAMPLING_FLAGS_H

#include "dsvk.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct sampling_flags {
    dsvk_sampler_settings values; /* of the flags given */
    unsigned given;               /* bit i: the i-th flag was given */
} sampling_flags;

/* If argv[*i] is a sampling flag, reads its value into f, advances *i past
 * it and returns true; *ok is false (error printed, naming `command`) when
 * the value is missing or not a number. Ranges are checked when the
 * sampler is created. */
bool sampling_flags_parse(sampling_flags *f, const char *command, int argc,
                          char **argv, int *i, bool *ok);

/* `base` with the given flags on top. Without --seed the seed comes from
 * the clock, so each run draws differently. */
dsvk_sampler_settings sampling_flags_apply(const sampling_flags *f,
                                           dsvk_sampler_settings base);

/* The flags' lines of --help, with the defaults `base` gives. */
void sampling_flags_usage(FILE *out, const dsvk_sampler_settings *base);

#endif
