/* stop_match: one Knuth-Morris-Pratt automaton per stop string, so a byte
 * costs amortised O(number of stops) however long the strings are (they
 * come from the request). The state of stop k is the length of the longest
 * tail of the text that begins it; the held text is the longest of those
 * tails, and everything before it can begin no stop string.
 *
 * The first stop string to *end* in the text wins (at one end, the longest):
 * generation would have stopped there, so "bc" wins over "abcd" in "abcd"
 * however the text is split into pieces. */
#include "stop.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One allocation, in held_: capacity_ bytes of held text, then, aligned,
 * for each stop its length, its state and the offset of its failure
 * function in `fail`, then the failure functions. */
typedef struct stop_tables {
    size_t *len, *state, *fail_at, *fail;
} stop_tables;

static size_t align_up(size_t n)
{
    return (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
}

static stop_tables tables(const stop_match *m)
{
    size_t *base = (size_t *)(void *)(m->held_ + align_up(m->capacity_));
    size_t n = m->n_stops_;
    return (stop_tables){base, base + n, base + 2 * n, base + 3 * n};
}

/* An empty (or NULL) stop string is ignored: it would match before any
 * text. */
static size_t stop_len(const stop_match *m, size_t k)
{
    return m->stops_[k] ? strlen(m->stops_[k]) : 0;
}

bool stop_match_init(stop_match *m, char *const *stops, size_t n)
{
    *m = (stop_match){.stops_ = stops, .n_stops_ = n};
    size_t longest = 0, total = 0;
    for (size_t k = 0; k < n; k++) {
        size_t len = stop_len(m, k);
        longest = len > longest ? len : longest;
        total += len;
    }
    if (longest == 0)
        return true; /* nothing to find: every push passes through */
    if (total > (SIZE_MAX / sizeof(size_t)) - 3 * n)
        return false;
    m->capacity_ = longest;
    m->held_ = malloc(align_up(longest) + (3 * n + total) * sizeof(size_t));
    if (!m->held_)
        return false;
    stop_tables tb = tables(m);
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        const char *p = m->stops_[k];
        size_t len = stop_len(m, k), *fail = tb.fail + at;
        tb.len[k] = len;
        tb.state[k] = 0;
        tb.fail_at[k] = at;
        at += len;
        /* fail[i]: the longest proper border of p[0..i]. The loop reads
         * fail[0] as soon as a border of one byte fails to grow. */
        if (len > 0)
            fail[0] = 0;
        for (size_t i = 1, b = 0; i < len; i++) {
            while (b > 0 && p[i] != p[b])
                b = fail[b - 1];
            if (p[i] == p[b])
                b++;
            fail[i] = b;
        }
    }
    return true;
}

void stop_match_free(stop_match *m)
{
    free(m->held_);
    *m = (stop_match){0};
}

/* Emits the first n bytes of the held text followed by `text`. */
static void emit_prefix(const stop_match *m, const char *text, size_t n,
                        stop_emit_fn emit, void *user)
{
    size_t from_held = n < m->n_held_ ? n : m->n_held_;
    if (from_held > 0)
        emit(user, m->held_, from_held);
    if (n > from_held)
        emit(user, text, n - from_held);
}

bool stop_match_push(stop_match *m, const char *text, size_t len,
                     stop_emit_fn emit, void *user)
{
    if (m->matched_)
        return true;
    if (len == 0)
        return false;
    if (m->capacity_ == 0) {
        emit(user, text, len);
        return false;
    }
    stop_tables tb = tables(m);
    /* Positions count in the held text followed by `text`; bytes before
     * `released` can begin no stop string. */
    size_t n_old = m->n_held_, total = n_old + len, released = 0;
    for (size_t pos = n_old; pos < total; pos++) {
        char c = text[pos - n_old];
        size_t longest_state = 0, matched_len = 0;
        for (size_t k = 0; k < m->n_stops_; k++) {
            if (tb.len[k] == 0)
                continue;
            const char *p = m->stops_[k];
            const size_t *fail = tb.fail + tb.fail_at[k];
            size_t q = tb.state[k];
            while (q > 0 && p[q] != c)
                q = fail[q - 1];
            if (p[q] == c)
                q++;
            tb.state[k] = q;
            if (q == tb.len[k] && q > matched_len)
                matched_len = q;
            longest_state = q > longest_state ? q : longest_state;
        }
        if (matched_len > 0) {
            emit_prefix(m, text, pos + 1 - matched_len, emit, user);
            m->n_held_ = 0;
            m->matched_ = true;
            return true;
        }
        released = pos + 1 - longest_state;
    }
    emit_prefix(m, text, released, emit, user);
    /* Keep bytes [released, total): at most capacity_ - 1 of them. */
    if (released < n_old) {
        memmove(m->held_, m->held_ + released, n_old - released);
        memcpy(m->held_ + (n_old - released), text, len);
    } else {
        memcpy(m->held_, text + (released - n_old), total - released);
    }
    m->n_held_ = total - released;
    return false;
}

void stop_match_finish(stop_match *m, stop_emit_fn emit, void *user)
{
    if (!m->matched_ && m->n_held_ > 0)
        emit(user, m->held_, m->n_held_);
    m->n_held_ = 0;
    if (m->capacity_ > 0) {
        stop_tables tb = tables(m);
        memset(tb.state, 0, m->n_stops_ * sizeof *tb.state);
    }
}
