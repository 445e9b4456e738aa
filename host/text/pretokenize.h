/* The pre-tokenizer: splits text into the pieces that BPE then encodes one
 * by one, with the regex list llama.cpp uses for a `tokenizer.ggml.pre`
 * name. The regexes run with PCRE2 one after another; each splits every
 * piece the previous one produced into its matches and the text between
 * them, keeping both (llama.cpp's unicode_regex_split).
 *
 * Whitespace follows llama.cpp exactly: \s means Unicode White_Space, and
 * a non-ASCII space (U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000) is seen by every regex as a plain '\v',
 * so it matches \s but no literal character range (llama.cpp rewrites the
 * text the same way before std::regex sees it). Letters, numbers, marks,
 * punctuation, symbols and White_Space come from the Unicode Character
 * Database the build found (Debian's unicode-data package: 15.0 in Debian
 * 12), not from PCRE2's older tables (14.0 in Debian 12). Two known
 * differences from llama.cpp remain: its ASCII shortcut for \p{S} omits
 * '~', which Unicode (and Hugging Face tokenizers) count as a symbol; and
 * characters newer than that database are unassigned here, whatever
 * llama.cpp's own tables say (Unicode 15.1 in llama.cpp, 16 in Hugging
 * Face tokenizers). */
#ifndef DSVK_HOST_PRETOKENIZE_H
#define DSVK_HOST_PRETOKENIZE_H

#include "dsvk.h"
#include <stddef.h>

typedef struct tok_span {
    size_t offset;
    size_t length;
} tok_span;

/* A growable list of spans; zero-initialise, free with tok_span_list_free. */
typedef struct tok_span_list {
    tok_span *items;
    size_t count;
    size_t capacity;
} tok_span_list;

void tok_span_list_free(tok_span_list *list);

/* The version of the Unicode Character Database the character classes
 * were generated from, e.g. "15.0.0". */
const char *tok_unicode_version(void);

typedef struct tok_pretokenizer tok_pretokenizer;

/* Compiles the regex list for a pre-tokenizer name (not NUL-terminated).
 * Unknown names fail with DSVK_ERROR_BAD_MODEL and list the known ones. */
dsvk_status tok_pretokenizer_create(const char *name, size_t name_len,
                                    tok_pretokenizer **out, char *err,
                                    size_t err_size);
void tok_pretokenizer_destroy(tok_pretokenizer *pre); /* accepts NULL */

/* Splits text, which must be valid UTF-8, into pieces that cover it
 * exactly, in order; replaces out's contents. Safe to call from several
 * threads on one pre-tokenizer. */
dsvk_status tok_pretokenize(const tok_pretokenizer *pre, const char *text,
                            size_t len, tok_span_list *out, char *err,
                            size_t err_size);

#endif
