/* A small but complete GPT-2-style byte-level BPE vocabulary, laid out like
 * the fixtures': id 0 BOS and id 1 EOS (CONTROL), ids 2..257 the 256 bytes
 * in GPT-2's bytes_to_unicode spelling, then tokens made by a few English
 * merges, then USER_DEFINED "<|unused_N|>" fillers up to n_vocab. */
#ifndef GEN_MODEL_TOKENIZER_H
#define GEN_MODEL_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VOCAB_BOS_ID 0
#define VOCAB_EOS_ID 1

typedef struct vocabulary {
    char **tokens;  /* n_tokens NUL-terminated UTF-8 strings */
    int32_t *types; /* llama.cpp token types: 1 normal, 3 control, 5 user */
    uint64_t n_tokens;
    char **merges; /* "left right", both byte-level spelled */
    uint64_t n_merges;
} vocabulary;

/* n_vocab must be at least 258; false (with err) on out of memory. */
bool vocabulary_build(uint32_t n_vocab, vocabulary *v, char *err,
                      size_t err_size);
void vocabulary_free(vocabulary *v);

#endif
