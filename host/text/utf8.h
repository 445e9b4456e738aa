/* UTF-8 helpers for the tokenizer. Every function takes an explicit length
 * and never reads past it; none of them allocates. */
#ifndef DSVK_HOST_UTF8_H
#define DSVK_HOST_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOK_UTF8_REPLACEMENT 0xFFFDu

/* Decodes the character at s[0..len). Returns its length (1 to 4) and
 * stores the code point, or returns 0 when the bytes do not start a valid,
 * complete character (strict: no overlong forms, surrogates or code points
 * above U+10FFFF). len must be at least 1. */
size_t tok_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Writes the UTF-8 form of a valid code point to out; returns 1 to 4. */
size_t tok_utf8_encode(uint32_t cp, char out[4]);

/* Copies s to out, replacing every byte that does not start a valid
 * character with U+FFFD (EF BF BD), as llama.cpp does. out must hold
 * 3 * len bytes; returns the length written. */
size_t tok_utf8_sanitize(const char *s, size_t len, char *out);

/* True when s[0..len) is entirely valid UTF-8. */
bool tok_utf8_valid(const char *s, size_t len);

/* How many bytes at the end of s[0..len) are the start of a character that
 * is still incomplete but could become valid with more bytes (0 to 3).
 * A streaming decoder holds these back until the next piece arrives. */
size_t tok_utf8_incomplete_tail(const char *s, size_t len);

#endif
