/* The generated models' vocabulary (see tokenizer.h). */
#include "tokenizer.h"
#include "text/byte_level.h"
#include "text/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_NORMAL 1
#define TOKEN_CONTROL 3
#define TOKEN_USER_DEFINED 5
#define FIRST_BYTE_ID 2

/* Merges in priority order, as raw bytes; both halves of each are tokens
 * by the time it applies (a byte or an earlier merge's result). */
static const char *const merge_pairs[][2] = {
    {" ", "t"},     {"h", "e"},    {" t", "he"}, {"i", "n"},    {"e", "r"},
    {"a", "n"},     {" ", "a"},    {"o", "n"},   {"r", "e"},    {" ", "s"},
    {"e", "d"},     {" ", "o"},    {"i", "s"},   {"i", "t"},    {" ", "w"},
    {"a", "t"},     {"e", "n"},    {"o", "r"},   {"in", "g"},   {" ", "c"},
    {"a", "l"},     {" a", "n"},   {" an", "d"}, {" o", "f"},   {" ", "m"},
    {" ", "p"},     {"e", "s"},    {" ", "d"},   {" ", "b"},    {"o", "u"},
    {" ", "f"},     {" ", "h"},    {"l", "e"},   {" ", "i"},    {" i", "n"},
    {" t", "o"},    {"a", "r"},    {"s", "t"},   {" ", "l"},    {" w", "it"},
    {" wit", "h"},  {" d", "e"},   {" de", "e"}, {" dee", "p"}, {" s", "e"},
    {" se", "e"},   {" see", "k"}, {"e", "l"},   {" m", "o"},   {" mo", "d"},
    {" mod", "el"}, {"\n", "\n"},
};

#define N_MERGE_PAIRS (sizeof merge_pairs / sizeof merge_pairs[0])

/* Spells n raw bytes in the byte-level alphabet (each byte becomes one
 * code point of 1 or 2 UTF-8 bytes). */
static char *spell(const char *raw, size_t n)
{
    char *out = malloc(2 * n + 1), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        /* Every code point of the alphabet is below U+0800: 1 or 2 bytes. */
        char utf8[4];
        size_t len = tok_utf8_encode(tok_byte_to_cp((uint8_t)raw[i]), utf8);
        memcpy(p, utf8, len);
        p += len;
    }
    *p = 0;
    return out;
}

static char *joined(const char *a, const char *sep, const char *b)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s%s", a, sep, b);
    return out;
}

static char *copy(const char *s)
{
    return joined(s, "", "");
}

bool vocabulary_build(uint32_t n_vocab, vocabulary *v, char *err,
                      size_t err_size)
{
    memset(v, 0, sizeof *v);
    uint64_t n_merges = n_vocab - (FIRST_BYTE_ID + 256);
    if (n_merges > N_MERGE_PAIRS)
        n_merges = N_MERGE_PAIRS;
    v->tokens = calloc(n_vocab, sizeof *v->tokens);
    v->types = calloc(n_vocab, sizeof *v->types);
    v->merges = calloc(n_merges ? n_merges : 1, sizeof *v->merges);
    bool ok = v->tokens && v->types && v->merges;
    if (ok) {
        v->n_tokens = n_vocab;
        v->n_merges = n_merges;
        v->tokens[VOCAB_BOS_ID] = copy("<\xef\xbd\x9c"
                                       "begin\xe2\x96\x81of"
                                       "\xe2\x96\x81sentence\xef\xbd\x9c>");
        v->tokens[VOCAB_EOS_ID] = copy("<\xef\xbd\x9c"
                                       "end\xe2\x96\x81of"
                                       "\xe2\x96\x81sentence\xef\xbd\x9c>");
        v->types[VOCAB_BOS_ID] = v->types[VOCAB_EOS_ID] = TOKEN_CONTROL;
    }
    for (uint32_t b = 0; ok && b < 256; b++) {
        char byte = (char)b;
        v->tokens[FIRST_BYTE_ID + b] = spell(&byte, 1);
        v->types[FIRST_BYTE_ID + b] = TOKEN_NORMAL;
    }
    for (uint64_t m = 0; ok && m < n_merges; m++) {
        const char *raw_left = merge_pairs[m][0];
        const char *raw_right = merge_pairs[m][1];
        char *left = spell(raw_left, strlen(raw_left));
        char *right = spell(raw_right, strlen(raw_right));
        if (left && right) {
            uint64_t id = FIRST_BYTE_ID + 256 + m;
            v->merges[m] = joined(left, " ", right);
            v->tokens[id] = joined(left, "", right);
            v->types[id] = TOKEN_NORMAL;
        }
        free(left);
        free(right);
    }
    for (uint64_t id = FIRST_BYTE_ID + 256 + n_merges; ok && id < n_vocab;
         id++) {
        char filler[32];
        snprintf(filler, sizeof filler, "<|unused_%llu|>",
                 (unsigned long long)id);
        v->tokens[id] = copy(filler);
        v->types[id] = TOKEN_USER_DEFINED;
    }
    for (uint64_t i = 0; ok && i < v->n_tokens; i++)
        ok = v->tokens[i] != NULL;
    for (uint64_t m = 0; ok && m < v->n_merges; m++)
        ok = v->merges[m] != NULL;
    if (!ok) {
        vocabulary_free(v);
        snprintf(err, err_size, "out of memory for a %u-token vocabulary",
                 n_vocab);
    }
    return ok;
}

void vocabulary_free(vocabulary *v)
{
    for (uint64_t i = 0; v->tokens && i < v->n_tokens; i++)
        free(v->tokens[i]);
    for (uint64_t m = 0; v->merges && m < v->n_merges; m++)
        free(v->merges[m]);
    free(v->tokens);
    free(v->types);
    free(v->merges);
    memset(v, 0, sizeof *v);
}
