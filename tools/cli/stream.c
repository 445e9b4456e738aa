#include "stream.h"
#include "common.h"
#include "interrupt.h"
#include "open_model.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink {
    stream_result *result;
    bool keep_text;
    size_t capacity;
    bool out_of_memory;
} sink;

/* Appends the text to the result; false when out of memory. */
static bool keep(sink *s, const char *text, size_t len)
{
    stream_result *r = s->result;
    if (r->text_len + len + 1 > s->capacity) {
        size_t capacity = s->capacity ? s->capacity : 256;
        while (r->text_len + len + 1 > capacity)
            capacity *= 2;
        char *grown = realloc(r->text, capacity);
        if (!grown)
            return false;
        r->text = grown;
        s->capacity = capacity;
    }
    memcpy(r->text + r->text_len, text, len);
    r->text_len += len;
    r->text[r->text_len] = '\0';
    return true;
}

static bool on_token(void *user, dsvk_token token, const char *text, size_t len)
{
    (void)token;
    sink *s = user;
    if (len > 0) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
        s->result->last_byte = text[len - 1];
        if (s->keep_text && !s->out_of_memory && !keep(s, text, len)) {
            /* Stop generating: the caller reports it. */
            s->out_of_memory = true;
            return false;
        }
    }
    /* Ctrl-C: this token was shown and is kept, and it is the last. */
    return !interrupt_requested();
}

/* dsvk_generate evaluates its prompt without reporting progress, so all
 * but the last step of a long prompt is evaluated here first, one step at
 * a time, and Ctrl-C stops it between steps (*n_done < n_before). The
 * sampler sees those tokens as dsvk_generate would show them, once they
 * are all evaluated. */
static dsvk_status prefill(dsvk_session *session, const dsvk_token *prompt,
                           uint32_t n_before, uint32_t n_prompt,
                           dsvk_sampler *sampler, double *seconds,
                           uint32_t *n_done)
{
    dsvk_session_info info;
    dsvk_session_get_info(session, &info);
    progress bar;
    progress_begin(&bar, "prompt", n_prompt);
    const double start = open_model_now();
    dsvk_status status = DSVK_OK;
    uint32_t done = 0;
    /* n_before is a multiple of max_batch: whole steps only. */
    while (done < n_before && status == DSVK_OK && !interrupt_requested()) {
        status = dsvk_session_eval(session, prompt + done, info.max_batch,
                                   DSVK_LOGITS_NONE, NULL, 0);
        done += info.max_batch;
        progress_update(&bar, done);
    }
    progress_end(&bar);
    *seconds = open_model_now() - start;
    *n_done = done;
    if (status == DSVK_OK && done == n_before && sampler)
        for (uint32_t i = 0; i < n_before; i++)
            dsvk_sampler_accept(sampler, prompt[i]);
    return status;
}

dsvk_status stream_generate(dsvk_session *session, const dsvk_token *prompt,
                            uint32_t n_prompt, const stream_desc *desc,
                            stream_result *out)
{
    *out = (stream_result){0};
    dsvk_session_info info;
    dsvk_session_get_info(session, &info);
    /* Leave the last step (1 to max_batch tokens) to dsvk_generate: the
     * steps are then the same as if it had evaluated everything. A prompt
     * that does not fit goes to dsvk_generate whole, which refuses it
     * before evaluating anything. */
    const bool fits = (uint64_t)info.position + n_prompt <= info.n_ctx;
    const uint32_t n_before =
        fits && n_prompt > info.max_batch
            ? (n_prompt - 1) / info.max_batch * info.max_batch
            : 0;
    double before_seconds = 0;
    uint32_t n_done = 0;
    dsvk_status status = n_before
                             ? prefill(session, prompt, n_before, n_prompt,
                                       desc->sampler, &before_seconds, &n_done)
                             : DSVK_OK;
    if (status != DSVK_OK) {
        cli_error("%s", dsvk_session_error(session));
        return status;
    }
    if (n_done < n_before) {
        out->gen = (dsvk_generate_result){.stop = DSVK_STOP_CALLBACK,
                                          .n_prompt = n_done,
                                          .pending = DSVK_TOKEN_NONE,
                                          .prompt_seconds = before_seconds};
        out->interrupted = true;
        return DSVK_OK;
    }

    sink s = {.result = out, .keep_text = desc->keep_text};
    const dsvk_generate_desc gen = {.sampler = desc->sampler,
                                    .max_tokens = desc->max_tokens,
                                    .on_token = on_token,
                                    .user = &s};
    status = dsvk_generate(session, prompt + n_before, n_prompt - n_before,
                           &gen, &out->gen);
    out->gen.n_prompt += n_before;
    out->gen.prompt_seconds += before_seconds;
    /* A prompt that does not fit is the caller's to explain. */
    if (status != DSVK_OK && status != DSVK_ERROR_CONTEXT_FULL)
        cli_error("%s", dsvk_session_error(session));
    else if (status == DSVK_OK && s.out_of_memory) {
        cli_error("out of memory for the generated text");
        status = DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    /* Also when the generation ended by itself during the step the Ctrl-C
     * came in: the caller handles every Ctrl-C that reached it. */
    out->interrupted = status == DSVK_OK && interrupt_requested();
    return status;
}
