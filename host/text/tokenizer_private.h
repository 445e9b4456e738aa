/* The tokenizer's internals, shared by tokenizer*.c. */
#ifndef DSVK_HOST_TOKENIZER_PRIVATE_H
#define DSVK_HOST_TOKENIZER_PRIVATE_H

#include "pretokenize.h"
#include "tokenizer.h"

/* Vocabulary text -> id: open addressing with linear probing. */
typedef struct tok_text_map {
    int32_t *ids;     /* TOK_NONE marks an empty slot */
    uint32_t *hashes; /* a hash of each slot's text, to skip most memcmps */
    size_t mask;      /* slot count - 1 (a power of two) */
} tok_text_map;

/* A BPE merge "left right" -> its rank (its index in
 * tokenizer.ggml.merges, lower merges first) and the merged token. */
typedef struct tok_merge {
    uint64_t key; /* left id << 32 | right id; UINT64_MAX = empty slot */
    int32_t rank;
    int32_t result;
} tok_merge;

typedef struct tok_merge_map {
    tok_merge *slots;
    size_t mask;
} tok_merge_map;

/* A byte trie over the texts of the special tokens, to find every special
 * token occurring in a text in one pass. Children are a linked list of
 * siblings: fan-out is small (most special texts share "<｜"). */
typedef struct tok_trie_node {
    int32_t first_child;  /* node index, or -1 */
    int32_t next_sibling; /* node index, or -1 */
    int32_t special;      /* index into tok.special of the token ending
                             here, or -1 */
    uint8_t byte;
} tok_trie_node;

#define TOK_MAX_EOG 32

struct tok {
    uint32_t n_tokens;
    char *text;          /* every token's vocabulary text, back to back */
    size_t *text_start;  /* [n_tokens + 1] offsets into text */
    uint8_t *attr;       /* [n_tokens] TOK_ATTR_* */
    char *piece;         /* every token's decoded bytes, back to back */
    size_t *piece_start; /* [n_tokens + 1] offsets into piece */
    size_t max_piece_len;

    tok_text_map by_text;
    tok_merge_map merges;
    int32_t byte_token[256]; /* token of each byte's byte-level char */

    int32_t bos, eos, pad;
    bool wants_bos;
    int32_t eog[TOK_MAX_EOG];
    size_t n_eog;

    /* Tokens matched in raw text (control, user-defined, unknown), in
     * matching priority: longer texts first, then lower ids. */
    int32_t *special;
    size_t n_special;
    tok_trie_node *trie; /* node 0 is the root */
    size_t n_trie;

    tok_pretokenizer *pre;
};

static inline const char *tok_text_at(const tok *t, int32_t id, size_t *len)
{
    *len = t->text_start[id + 1] - t->text_start[id];
    return t->text + t->text_start[id];
}

/* tokenizer_maps.c */
bool tok_text_map_init(tok_text_map *m, size_t n_entries);
void tok_text_map_free(tok_text_map *m);
/* Adds id under its text; returns the id already holding that text (and
 * adds nothing), or TOK_NONE when id was added. */
int32_t tok_text_map_add(tok_text_map *m, const tok *t, int32_t id);
int32_t tok_text_map_find(const tok_text_map *m, const tok *t, const char *s,
                          size_t len);
bool tok_merge_map_init(tok_merge_map *m, size_t n_entries);
void tok_merge_map_free(tok_merge_map *m);
/* Adds a merge unless the pair is already there (the first rank wins, as
 * in llama.cpp). */
void tok_merge_map_add(tok_merge_map *m, int32_t left, int32_t right,
                       int32_t rank, int32_t result);
const tok_merge *tok_merge_map_find(const tok_merge_map *m, int32_t left,
                                    int32_t right);

/* tokenizer_special.c */
/* Collects the special tokens from t->attr, orders them and builds the
 * trie. */
dsvk_status tok_special_init(tok *t, char *err, size_t err_size);

/* The text split into runs of plain text and special tokens. */
typedef struct tok_fragment {
    size_t offset, length; /* plain text when token == TOK_NONE */
    int32_t token;
} tok_fragment;

typedef struct tok_fragment_list {
    tok_fragment *items;
    size_t count, capacity;
} tok_fragment_list;

/* Splits text at the special tokens written in it, with llama.cpp's
 * tokenizer_st_partition semantics. Control and unknown tokens only count
 * when parse_special is set. Replaces out's contents. */
dsvk_status tok_special_split(const tok *t, const char *text, size_t len,
                              bool parse_special, tok_fragment_list *out,
                              char *err, size_t err_size);

/* tokenizer_bpe.c */
/* Scratch memory for BPE, reused across pieces. */
typedef struct tok_bpe_work {
    struct tok_bpe_symbol *symbols;
    size_t symbols_cap;
    struct tok_bpe_pair *heap;
    size_t heap_count, heap_cap;
} tok_bpe_work;
void tok_bpe_work_free(tok_bpe_work *w);
/* Appends the ids of one pre-tokenized piece (raw bytes). */
dsvk_status tok_bpe_encode(const tok *t, const char *bytes, size_t len,
                           tok_bpe_work *work, tok_ids *out);

/* tokenizer_encode.c */
bool tok_ids_push(tok_ids *ids, int32_t id);

/* tokenizer_decode.c */
/* Fills t->piece, t->piece_start and t->max_piece_len from t->text and
 * t->attr. */
dsvk_status tok_pieces_init(tok *t, char *err, size_t err_size);

#endif
