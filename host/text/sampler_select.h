/* Partial ordering of sampling candidates: the few best of 129k logits
 * without sorting them all. Internal to the sampler. */
#ifndef DSVK_HOST_SAMPLER_SELECT_H
#define DSVK_HOST_SAMPLER_SELECT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sampler_candidate {
    float logit;  /* after the penalties */
    float weight; /* exp((logit - max) / temperature), once computed */
    int32_t id;
} sampler_candidate;

/* Moves the k best candidates (highest logit, then lowest id: a strict
 * order, so the result does not depend on the platform's sort) to the
 * front of c[0..n), best first. The others stay in c[k..n) in some order,
 * so a later call with a larger k still sees every candidate.
 * O(n log k); k <= n. */
void sampler_select_best(sampler_candidate *c, size_t n, size_t k);

#endif
