/* Splits a chat reply's text, as it streams in, into reasoning and content:
 * when the model's reply opens with a <think> tag (DeepSeek-R1 and its
 * distills), the text up to </think> is reasoning (llama-server's
 * "reasoning_content"), the rest is content. Tags may be split across
 * pieces, so a piece that might begin a tag is held until it is decided.
 * A plain value: zero-initialise it; no allocation. */
#ifndef DSVK_SERVE_THINK_H
#define DSVK_SERVE_THINK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct think_split {
    int state_;     /* private */
    char held_[16]; /* private: bytes that may begin a tag */
    size_t n_held_;
} think_split;

/* Receives decided text in order; reasoning (or content) is the
 * concatenation of its pieces. The bytes are valid during the call only. */
typedef void (*think_emit_fn)(void *user, bool is_reasoning, const char *s,
                              size_t n);

/* Feeds len bytes, passing what is decided to emit. The text before
 * <think> may only be whitespace for the tag to count (it is dropped);
 * whitespace right after <think> and after </think> is dropped too, as
 * llama-server does. Text that starts any other way is all content. */
void think_push(think_split *t, const char *text, size_t len,
                think_emit_fn emit, void *user);

/* Ends the reply: releases the held bytes (a tag never completed is text:
 * reasoning inside an unclosed block, else content). */
void think_finish(think_split *t, think_emit_fn emit, void *user);

#endif
