/* dsvk_generate (dsvk.h): evaluate a prompt, then choose, report and
 * evaluate one token at a time until a stop condition. */
#include "api_private.h"

#include <stdlib.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One generation's state. */
typedef struct generation {
    dsvk_session *session;
    const dsvk_generate_desc *desc;
    dsvk_generate_result *result;
    /* Whether tokens are chosen from host logits (a sampler that reads
     * them) or from the GPU's argmax, which downloads 4 bytes a step. */
    bool host_logits;
    uint32_t greedy; /* the GPU's argmax after the last evaluation */
    dsvk_text_stream stream;
} generation;

/* Evaluates tokens and fetches what choosing the next token needs. */
static dsvk_status eval(generation *g, const dsvk_token *tokens, uint32_t n)
{
    dsvk_session *s = g->session;
    return api_eval(s, tokens, n, FORWARD_LOGITS_LAST,
                    g->host_logits ? s->logits : NULL, &g->greedy);
}

static dsvk_status choose(generation *g, dsvk_token *token)
{
    dsvk_sampler *sampler = g->desc->sampler;
    if (!g->host_logits) {
        *token = (dsvk_token)g->greedy;
        /* Greedy settings without penalties still keep their window. */
        if (sampler)
            sampler_accept(sampler->s, *token);
        return DSVK_OK;
    }
    dsvk_session *s = g->session;
    if (sampler_sample(sampler->s, s->logits, s->model->m->hp.n_vocab, token) !=
        DSVK_OK)
        return api_session_fail(s, DSVK_ERROR_INVALID_ARGUMENT, "sampling: %s",
                                sampler_error(sampler->s));
    return DSVK_OK;
}

/* Passes a token's complete text to the callback; false: stop. */
static dsvk_status report(generation *g, dsvk_token token, bool *go_on)
{
    const dsvk_generate_desc *d = g->desc;
    *go_on = true;
    if (!d->on_token)
        return DSVK_OK;
    /* The longest piece plus the at most 3 bytes held from earlier tokens. */
    char text[API_ERROR_SIZE];
    const tok *vocab = g->session->model->vocab;
    char *out = text;
    const size_t need = tok_max_piece_len(vocab) + 4;
    if (need > sizeof text && !(out = malloc(need)))
        return api_session_fail(g->session, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                                "out of host memory decoding a token");
    size_t len;
    dsvk_status status =
        dsvk_text_stream_push(&g->stream, g->session->model, token,
                              d->render_special, out, need, &len);
    if (status == DSVK_OK)
        *go_on = d->on_token(d->user, token, out, len);
    else
        api_session_fail(g->session, status, "%s",
                         dsvk_model_error(g->session->model));
    if (out != text)
        free(out);
    return status;
}

static dsvk_status generate_tokens(generation *g)
{
    const dsvk_generate_desc *d = g->desc;
    dsvk_generate_result *r = g->result;
    const dsvk_model *model = g->session->model;
    for (;;) {
        dsvk_token token;
        dsvk_status status = choose(g, &token);
        if (status != DSVK_OK)
            return status;
        r->n_generated++;
        r->pending = token;
        if (!d->ignore_eog && tok_is_eog(model->vocab, token)) {
            r->stop = DSVK_STOP_EOG;
            return DSVK_OK;
        }
        bool go_on;
        if ((status = report(g, token, &go_on)) != DSVK_OK)
            return status;
        if (!go_on) {
            r->stop = DSVK_STOP_CALLBACK;
            return DSVK_OK;
        }
        if (d->max_tokens && r->n_generated >= d->max_tokens) {
            r->stop = DSVK_STOP_MAX_TOKENS;
            return DSVK_OK;
        }
        if (forward_position(g->session->f) >= forward_n_ctx(g->session->f)) {
            r->stop = DSVK_STOP_CONTEXT_FULL;
            return DSVK_OK;
        }
        if ((status = eval(g, &token, 1)) != DSVK_OK)
            return status;
        r->pending = DSVK_TOKEN_NONE;
    }
}

dsvk_status dsvk_generate(dsvk_session *session, const dsvk_token *prompt,
                          uint32_t n_prompt, const dsvk_generate_desc *desc,
                          dsvk_generate_result *result)
{
    static const dsvk_generate_desc defaults = {0};
    dsvk_generate_result ignored;
    generation g = {.session = session,
                    .desc = desc ? desc : &defaults,
                    .result = result ? result : &ignored};
    *g.result = (dsvk_generate_result){.pending = DSVK_TOKEN_NONE};
    if (n_prompt == 0)
        return api_session_fail(session, DSVK_ERROR_INVALID_ARGUMENT,
                                "dsvk_generate needs at least one prompt "
                                "token");
    dsvk_sampler *sampler = g.desc->sampler;
    g.host_logits = sampler && sampler_needs_logits(&sampler->settings);

    const double t0 = now_seconds();
    dsvk_status status = eval(&g, prompt, n_prompt);
    if (status != DSVK_OK)
        return status;
    if (sampler)
        for (uint32_t i = 0; i < n_prompt; i++)
            sampler_accept(sampler->s, prompt[i]);
    g.result->n_prompt = n_prompt;
    const double t1 = now_seconds();
    g.result->prompt_seconds = t1 - t0;

    status = generate_tokens(&g);
    /* Bytes held for a character no token completed: passed as they are. */
    char held[4];
    const size_t n_held = dsvk_text_stream_flush(&g.stream, held);
    if (n_held && g.desc->on_token)
        g.desc->on_token(g.desc->user, DSVK_TOKEN_NONE, held, n_held);
    g.result->generate_seconds = now_seconds() - t1;
    return status;
}
