/* Byte-level BPE on one pre-tokenized piece. Each byte starts as the token
 * of its byte-level character; then the adjacent pair with the lowest merge
 * rank is merged, leftmost first among equal ranks, until no pair has a
 * merge: llama.cpp's llm_tokenizer_bpe_session, on token ids instead of
 * strings. Candidate pairs wait in a min-heap and are checked for
 * staleness when popped, so a piece of n bytes costs O(n log n). */
#include "tokenizer_private.h"

#include <stdlib.h>

#define DEAD_SYMBOL (-2) /* id of a symbol merged into its left neighbour */

struct tok_bpe_symbol {
    int32_t id; /* TOK_NONE for a byte without a token (never merges) */
    int32_t prev, next;
};

struct tok_bpe_pair {
    int32_t rank;
    int32_t left, right;       /* symbol indices */
    int32_t left_id, right_id; /* ids when queued, to detect staleness */
    int32_t result;
};

void tok_bpe_work_free(tok_bpe_work *w)
{
    free(w->symbols);
    free(w->heap);
    *w = (tok_bpe_work){0};
}

static bool pair_before(const struct tok_bpe_pair *a,
                        const struct tok_bpe_pair *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static bool heap_push(tok_bpe_work *w, struct tok_bpe_pair p)
{
    if (w->heap_count == w->heap_cap) {
        size_t cap = w->heap_cap ? w->heap_cap * 2 : 64;
        struct tok_bpe_pair *grown = realloc(w->heap, cap * sizeof *grown);
        if (!grown)
            return false;
        w->heap = grown;
        w->heap_cap = cap;
    }
    size_t i = w->heap_count++;
    while (i > 0 && pair_before(&p, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = p;
    return true;
}

static struct tok_bpe_pair heap_pop(tok_bpe_work *w)
{
    struct tok_bpe_pair top = w->heap[0];
    struct tok_bpe_pair last = w->heap[--w->heap_count];
    size_t i = 0, n = w->heap_count;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && pair_before(&w->heap[child + 1], &w->heap[child]))
            child++;
        if (!pair_before(&w->heap[child], &last))
            break;
        w->heap[i] = w->heap[child];
        i = child;
    }
    if (n > 0)
        w->heap[i] = last;
    return top;
}

/* Queues the pair (left, right) if the vocabulary has a merge for it. */
static bool queue_pair(const tok *t, tok_bpe_work *w, int32_t left,
                       int32_t right)
{
    if (left < 0 || right < 0)
        return true;
    int32_t a = w->symbols[left].id, b = w->symbols[right].id;
    if (a < 0 || b < 0)
        return true;
    const tok_merge *m = tok_merge_map_find(&t->merges, a, b);
    if (!m)
        return true;
    return heap_push(
        w, (struct tok_bpe_pair){m->rank, left, right, a, b, m->result});
}

dsvk_status tok_bpe_encode(const tok *t, const char *bytes, size_t len,
                           tok_bpe_work *w, tok_ids *out)
{
    if (len == 0)
        return DSVK_OK;
    if (len > INT32_MAX)
        return DSVK_ERROR_INVALID_ARGUMENT;
    if (len > w->symbols_cap) {
        struct tok_bpe_symbol *grown = realloc(w->symbols, len * sizeof *grown);
        if (!grown)
            return DSVK_ERROR_OUT_OF_HOST_MEMORY;
        w->symbols = grown;
        w->symbols_cap = len;
    }
    struct tok_bpe_symbol *sym = w->symbols;
    int32_t n = (int32_t)len;
    for (int32_t i = 0; i < n; i++)
        sym[i] = (struct tok_bpe_symbol){t->byte_token[(uint8_t)bytes[i]],
                                         i - 1, i + 1 < n ? i + 1 : -1};
    w->heap_count = 0;
    for (int32_t i = 0; i + 1 < n; i++)
        if (!queue_pair(t, w, i, i + 1))
            return DSVK_ERROR_OUT_OF_HOST_MEMORY;

    while (w->heap_count > 0) {
        struct tok_bpe_pair p = heap_pop(w);
        struct tok_bpe_symbol *left = &sym[p.left], *right = &sym[p.right];
        /* Stale when either side merged since the pair was queued. */
        if (left->id != p.left_id || left->next != p.right ||
            right->id != p.right_id)
            continue;
        left->id = p.result;
        left->next = right->next;
        if (right->next >= 0)
            sym[right->next].prev = p.left;
        right->id = DEAD_SYMBOL;
        if (!queue_pair(t, w, left->prev, p.left) ||
            !queue_pair(t, w, p.left, left->next))
            return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }

    /* Symbol 0 never merges into a left neighbour, so the chain starts
     * there. Bytes the vocabulary lacks produce nothing, as in llama.cpp. */
    for (int32_t i = 0; i >= 0; i = sym[i].next)
        if (sym[i].id >= 0 && !tok_ids_push(out, sym[i].id))
            return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    return DSVK_OK;
}
