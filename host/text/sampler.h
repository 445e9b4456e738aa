/* Chooses the next token from a vector of logits: repetition and presence
 * penalties, then greedy choice or top-k, temperature, top-p and min-p
 * truncation, then a draw from a seeded random number generator.
 *
 * A sampler belongs to one generated sequence and is used by one thread at
 * a time. The random numbers come from xoshiro256** seeded through
 * splitmix64, so a seed gives the same stream everywhere; the tokens drawn
 * are the same wherever the C library's expf rounds the same way. */
#ifndef DSVK_HOST_SAMPLER_H
#define DSVK_HOST_SAMPLER_H

#include "dsvk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sampler_settings {
    float temperature; /* <= 0: greedy (argmax after the penalties) */
    uint32_t top_k;    /* keep the k most likely tokens; 0: off */
    float top_p;       /* keep the smallest most-likely set whose
                          probability reaches top_p, in (0, 1]; 1: off */
    float min_p;       /* drop tokens less likely than min_p times the most
                          likely one, in [0, 1]; 0: off */
    /* llama.cpp's repeat penalty, > 0; 1: off. The logit l of every token
     * seen in the last repeat_last_n tokens becomes l / penalty when
     * l > 0, else l * penalty (so a penalty > 1 always makes it less
     * likely). */
    float repeat_penalty;
    float presence_penalty; /* subtracted once from the logit of every
                               token seen in the window; 0: off */
    /* Subtracted from the logit of a token once per time it occurs in the
     * window (OpenAI's frequency_penalty, as llama.cpp applies it); 0:
     * off. */
    float frequency_penalty;
    uint32_t repeat_last_n; /* window of the penalties; 0: no penalties */
    uint64_t seed;          /* of the random draws */
} sampler_settings;

/* The defaults, in this one place: llama.cpp's (temperature 0.8, top-k 40,
 * top-p 0.95, min-p 0.05, a 64-token window with the penalties off) and
 * seed 0. The library picks no seed by itself: a program that wants a
 * different stream on each run sets seed from the clock. */
sampler_settings sampler_default_settings(void);

/* Whether sampling with these settings reads the logits at all. False for
 * greedy choice (temperature <= 0 or top-k 1) without penalties: the
 * caller may then take the GPU's argmax and skip copying the logits to the
 * host. That is the token sampler_sample would choose when the argmax, as
 * here, takes the lowest id among equal logits and never a NaN; record it
 * with sampler_accept. */
bool sampler_needs_logits(const sampler_settings *settings);

typedef struct sampler sampler;

/* Creates a sampler. DSVK_ERROR_INVALID_ARGUMENT (err says which field)
 * for settings out of range or NaN; DSVK_ERROR_OUT_OF_HOST_MEMORY. */
dsvk_status sampler_create(const sampler_settings *settings, sampler **out,
                           char *err, size_t err_size);
void sampler_free(sampler *s); /* accepts NULL */

/* Records a token in the penalty window without sampling (the prompt's
 * tokens, or a token chosen elsewhere such as the GPU argmax). */
void sampler_accept(sampler *s, int32_t token);

/* Draws the next token from n_vocab logits and records it in the penalty
 * window. NaN logits count as -inf (never drawn); +inf counts as the
 * largest float. The order is: penalties, then greedy choice when
 * temperature <= 0, else top-k, softmax at the temperature, top-p, min-p
 * and a draw from what is left. Fails with DSVK_ERROR_INVALID_ARGUMENT
 * when n_vocab is 0 or no logit is above -inf, and
 * DSVK_ERROR_OUT_OF_HOST_MEMORY; sampler_error() says why. */
dsvk_status sampler_sample(sampler *s, const float *logits, uint32_t n_vocab,
                           int32_t *token);

/* The last error of sampler_sample, "" after a success. */
const char *sampler_error(const sampler *s);

#endif
