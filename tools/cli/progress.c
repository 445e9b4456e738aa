#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* A bar for work shorter than this would only flicker. */
#define PROGRESS_DELAY_S 0.3
#define PROGRESS_INTERVAL_S 0.1
#define PROGRESS_WIDTH 30

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_begin(progress *p, const char *label, uint64_t total)
{
    *p = (progress){.label = label,
                    .total = total ? total : 1,
                    .start = now_seconds(),
                    .enabled = isatty(STDERR_FILENO) == 1};
}

void progress_update(progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    const double now = now_seconds();
    if (now - p->start < PROGRESS_DELAY_S ||
        now - p->last_draw < PROGRESS_INTERVAL_S)
        return;
    p->last_draw = now;
    if (done > p->total)
        done = p->total;
    const unsigned filled = (unsigned)(done * PROGRESS_WIDTH / p->total);
    char bar[PROGRESS_WIDTH + 1];
    for (unsigned i = 0; i < PROGRESS_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[PROGRESS_WIDTH] = '\0';
    /* \r and erase-to-end-of-line: the bar rewrites itself in place. */
    fprintf(stderr, "\r\033[K%s [%s] %3u%%", p->label, bar,
            (unsigned)(done * 100 / p->total));
    fflush(stderr);
}

void progress_end(progress *p)
{
    if (p->enabled && p->last_draw > 0) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->enabled = false;
}
