/* think_split: a byte-at-a-time state machine over the reply. Only '<' can
 * begin a tag and neither tag holds a second '<', so a partial tag that
 * fails to continue is text as a whole and matching restarts at the byte
 * that broke it. */
#include "think.h"

#include <string.h>

enum {
    BEFORE_OPEN, /* whitespace so far, perhaps part of "<think>" held */
    AFTER_OPEN,  /* dropping the whitespace after "<think>" */
    REASONING,   /* in the block, perhaps part of "</think>" held */
    AFTER_CLOSE, /* dropping the whitespace after "</think>" */
    CONTENT,     /* everything else is content */
};

static const char open_tag[] = "<think>", close_tag[] = "</think>";
#define OPEN_LEN (sizeof open_tag - 1)
#define CLOSE_LEN (sizeof close_tag - 1)
/* The whitespace allowed before "<think>": what fits in held_ beside the
 * tag. Longer runs make the text content, whatever follows, which keeps
 * the result independent of how the text is split. */
#define MAX_LEADING_SPACE (sizeof((think_split *)0)->held_ - OPEN_LEN)

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void emit_some(think_emit_fn emit, void *user, bool is_reasoning,
                      const char *s, size_t n)
{
    if (n > 0)
        emit(user, is_reasoning, s, n);
}

/* One byte before the opening tag has been decided: held or not. */
static bool step_before_open(think_split *t, char c, think_emit_fn emit,
                             void *user)
{
    const char *tag = memchr(t->held_, '<', t->n_held_);
    size_t partial = tag ? t->n_held_ - (size_t)(tag - t->held_) : 0;
    if (partial == 0 && is_space(c) && t->n_held_ < MAX_LEADING_SPACE) {
        t->held_[t->n_held_++] = c;
        return true;
    }
    if (c == open_tag[partial]) {
        t->held_[t->n_held_++] = c;
        if (partial + 1 == OPEN_LEN) {
            t->n_held_ = 0;
            t->state_ = AFTER_OPEN;
        }
        return true;
    }
    /* The reply starts some other way: all of it is content, c included,
     * which the caller passes again. */
    emit_some(emit, user, false, t->held_, t->n_held_);
    t->n_held_ = 0;
    t->state_ = CONTENT;
    return false;
}

/* Reasoning text up to "</think>"; returns the bytes of s it consumed. */
static size_t scan_reasoning(think_split *t, const char *s, size_t n,
                             think_emit_fn emit, void *user)
{
    size_t run = 0; /* s[run..j) is reasoning not yet emitted */
    for (size_t j = 0; j < n; j++) {
        if (t->n_held_ > 0) {
            if (s[j] == close_tag[t->n_held_]) {
                t->held_[t->n_held_++] = s[j];
                run = j + 1;
                if (t->n_held_ == CLOSE_LEN) {
                    t->n_held_ = 0;
                    t->state_ = AFTER_CLOSE;
                    return j + 1;
                }
                continue;
            }
            emit_some(emit, user, true, t->held_, t->n_held_);
            t->n_held_ = 0;
            run = j;
        }
        if (s[j] == '<') {
            emit_some(emit, user, true, s + run, j - run);
            t->held_[0] = '<';
            t->n_held_ = 1;
            run = j + 1;
        }
    }
    emit_some(emit, user, true, s + run, n - run);
    return n;
}

void think_push(think_split *t, const char *text, size_t len,
                think_emit_fn emit, void *user)
{
    size_t i = 0;
    while (i < len) {
        switch (t->state_) {
        case BEFORE_OPEN:
            i += step_before_open(t, text[i], emit, user);
            break;
        case AFTER_OPEN:
        case AFTER_CLOSE:
            while (i < len && is_space(text[i]))
                i++;
            if (i < len)
                t->state_ = t->state_ == AFTER_OPEN ? REASONING : CONTENT;
            break;
        case REASONING:
            i += scan_reasoning(t, text + i, len - i, emit, user);
            break;
        default:
            emit(user, false, text + i, len - i);
            i = len;
            break;
        }
    }
}

void think_finish(think_split *t, think_emit_fn emit, void *user)
{
    if (t->state_ == BEFORE_OPEN || t->state_ == REASONING)
        emit_some(emit, user, t->state_ == REASONING, t->held_, t->n_held_);
    *t = (think_split){0};
}
