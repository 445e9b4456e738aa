/* One generation as dsvk run and dsvk chat show it: the prompt evaluated
 * (a long one step by step under a progress bar), then the generated text
 * streamed to stdout as it comes, never splitting a UTF-8 character.
 * Ctrl-C (interrupt.h) stops either at the next step. */
#ifndef DSVK_CLI_STREAM_H
#define DSVK_CLI_STREAM_H

#include "dsvk.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct stream_desc {
    dsvk_sampler *sampler; /* gets every prompt token too */
    uint32_t max_tokens;   /* 0: until an end token or a full context */
    bool keep_text;        /* collect the text in stream_result.text */
} stream_desc;

typedef struct stream_result {
    /* Of the whole prompt: n_prompt and prompt_seconds include the steps
     * evaluated before dsvk_generate. */
    dsvk_generate_result gen;
    char *text; /* with keep_text: the generated text, NUL-terminated,
                   malloc'd (free it); else NULL */
    size_t text_len;
    char last_byte; /* of the text written; '\0' when none */
    /* Ctrl-C was pressed (interrupt_requested). With gen.n_generated 0 it
     * stopped the prompt's steps: dsvk_session_position() says how far
     * they got, and the sampler has seen none of the prompt. Otherwise
     * the text so far, up to gen.pending, was generated and shown. */
    bool interrupted;
} stream_result;

/* Evaluates n_prompt (>= 1) tokens at the session's position and generates
 * after them. On failure prints the error ("dsvk: ...") and returns its
 * status, except DSVK_ERROR_CONTEXT_FULL: the prompt does not fit, nothing
 * was evaluated or printed, and dsvk_session_error(session) has the
 * detail. The result says how far it got. */
dsvk_status stream_generate(dsvk_session *session, const dsvk_token *prompt,
                            uint32_t n_prompt, const stream_desc *desc,
                            stream_result *out);

#endif
