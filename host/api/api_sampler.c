/* The public sampler (dsvk.h) over host/text/sampler.h. The one difference: in
 * the public settings {0} is valid (greedy, no penalties), so the two
 * fields whose "off" value is not 0 there — top_p and repeat_penalty, off
 * at 1 — also read 0 as off. */
#include "api_private.h"

#include <stdlib.h>

dsvk_sampler_settings dsvk_sampler_defaults(void)
{
    const sampler_settings d = sampler_default_settings();
    return (dsvk_sampler_settings){.temperature = d.temperature,
                                   .top_k = d.top_k,
                                   .top_p = d.top_p,
                                   .min_p = d.min_p,
                                   .repeat_penalty = d.repeat_penalty,
                                   .presence_penalty = d.presence_penalty,
                                   .frequency_penalty = d.frequency_penalty,
                                   .repeat_last_n = d.repeat_last_n,
                                   .seed = d.seed};
}

static sampler_settings resolve(const dsvk_sampler_settings *in)
{
    return (sampler_settings){.temperature = in->temperature,
                              .top_k = in->top_k,
                              .top_p = in->top_p == 0.0f ? 1.0f : in->top_p,
                              .min_p = in->min_p,
                              .repeat_penalty = in->repeat_penalty == 0.0f
                                                    ? 1.0f
                                                    : in->repeat_penalty,
                              .presence_penalty = in->presence_penalty,
                              .frequency_penalty = in->frequency_penalty,
                              .repeat_last_n = in->repeat_last_n,
                              .seed = in->seed};
}

dsvk_status dsvk_sampler_create(const dsvk_sampler_settings *settings,
                                dsvk_sampler **out, char *err, size_t err_size)
{
    static const dsvk_sampler_settings greedy = {0};
    *out = NULL;
    dsvk_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return api_write_line(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                              "out of host memory creating a sampler");
    s->settings = resolve(settings ? settings : &greedy);
    char line[API_ERROR_SIZE] = "";
    dsvk_status status = sampler_create(&s->settings, &s->s, line, sizeof line);
    if (status != DSVK_OK) {
        free(s);
        return api_write_line(err, err_size, status, "%s", line);
    }
    *out = s;
    return DSVK_OK;
}

void dsvk_sampler_destroy(dsvk_sampler *sampler)
{
    if (!sampler)
        return;
    sampler_free(sampler->s);
    free(sampler);
}

const char *dsvk_sampler_error(const dsvk_sampler *sampler)
{
    return sampler_error(sampler->s);
}

void dsvk_sampler_accept(dsvk_sampler *sampler, dsvk_token token)
{
    sampler_accept(sampler->s, token);
}

dsvk_status dsvk_sampler_sample(dsvk_sampler *sampler, const float *logits,
                                uint32_t n_vocab, dsvk_token *token)
{
    return sampler_sample(sampler->s, logits, n_vocab, token);
}
