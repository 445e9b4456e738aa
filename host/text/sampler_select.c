#include "sampler_select.h"

#include <stdbool.h>
#include <stdlib.h>

static bool better(const sampler_candidate *a, const sampler_candidate *b)
{
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static void swap(sampler_candidate *a, sampler_candidate *b)
{
    sampler_candidate t = *a;
    *a = *b;
    *b = t;
}

/* Restores the heap below i; the heap keeps its worst element at the root
 * so that each new candidate is compared with one element only. */
static void sift_down(sampler_candidate *heap, size_t n, size_t i)
{
    for (;;) {
        size_t worst = i, l = 2 * i + 1, r = l + 1;
        if (l < n && better(&heap[worst], &heap[l]))
            worst = l;
        if (r < n && better(&heap[worst], &heap[r]))
            worst = r;
        if (worst == i)
            return;
        swap(&heap[i], &heap[worst]);
        i = worst;
    }
}

static int best_first(const void *a, const void *b)
{
    const sampler_candidate *x = a, *y = b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

void sampler_select_best(sampler_candidate *c, size_t n, size_t k)
{
    if (k == 0)
        return;
    for (size_t i = k / 2; i-- > 0;)
        sift_down(c, k, i);
    for (size_t j = k; j < n; j++) {
        if (better(&c[j], &c[0])) {
            swap(&c[0], &c[j]); /* a swap, not a copy: c[j] stays a candidate */
            sift_down(c, k, 0);
        }
    }
    qsort(c, k, sizeof *c, best_first);
}
