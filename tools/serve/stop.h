/* Finds a request's stop strings in generated text as it streams in. Text
 * that cannot be the start of a stop string is released at once; a tail
 * that might be is held until the next piece decides it. On a match the
 * text before it is released and the stop string and anything after it
 * are dropped: an OpenAI reply does not contain its stop sequence. */
#ifndef DSVK_SERVE_STOP_H
#define DSVK_SERVE_STOP_H

#include <stdbool.h>
#include <stddef.h>

/* Receives released text, valid during the call only. */
typedef void (*stop_emit_fn)(void *user, const char *s, size_t n);

typedef struct stop_match {
    char *const *stops_; /* private: borrowed from the request */
    size_t n_stops_;
    char *held_; /* private: at most the longest stop string's bytes */
    size_t n_held_, capacity_;
    bool matched_;
} stop_match;

/* Prepares a matcher for n stop strings (n may be 0), which must outlive
 * it. False when out of memory. */
bool stop_match_init(stop_match *m, char *const *stops, size_t n);
void stop_match_free(stop_match *m);

/* Feeds len bytes, passing released text to emit. Returns true once a stop
 * string has matched; later pushes then release nothing. */
bool stop_match_push(stop_match *m, const char *text, size_t len,
                     stop_emit_fn emit, void *user);

/* Ends the text: releases what is held (unless a stop string matched). */
void stop_match_finish(stop_match *m, stop_emit_fn emit, void *user);

#endif
