/* A one-line progress bar on stderr, for the waits a user sees: loading
 * weights and prefilling long prompts. It draws only when stderr is a
 * terminal, and only once the work has taken a moment, so pipes, logs
 * and quick runs never see it. */
#ifndef DSVK_CLI_PROGRESS_H
#define DSVK_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct progress {
    const char *label; /* borrowed, e.g. "loading" */
    uint64_t total;    /* units of work, > 0 */
    double start;      /* monotonic seconds at progress_begin */
    double last_draw;  /* when the bar was last drawn; 0: never */
    bool enabled;      /* stderr is a terminal */
} progress;

/* Starts tracking `total` units under `label` (borrowed until
 * progress_end). Draws nothing yet. */
void progress_begin(progress *p, const char *label, uint64_t total);

/* Reports that `done` of the total units are finished. Cheap enough to
 * call per tensor or per batch: the bar is redrawn at most 10 times a
 * second. */
void progress_update(progress *p, uint64_t done);

/* Erases the bar, if one was drawn, so the next line starts clean. */
void progress_end(progress *p);

#endif
