/* Special tokens written in the text ("<｜User｜>", "[PAD100015]"):
 * found before pre-tokenization and kept whole, as llama.cpp's
 * tokenizer_st_partition does. Its rule: take the special tokens one at a
 * time, longest text first; split every remaining plain-text fragment at
 * each occurrence of that token, left to right, never across a fragment
 * boundary. Here the same result comes from one trie walk that lists every
 * occurrence, then a pass over the occurrences in that priority order
 * accepting those that fall entirely on still-plain text. */
#include "tokenizer_private.h"

#include "tok_error.h"

#include <stdlib.h>
#include <string.h>

typedef struct special_len {
    size_t len;
    int32_t id;
} special_len;

static int by_priority(const void *a, const void *b)
{
    const special_len *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    /* llama.cpp leaves equal lengths in std::sort's order; lower id first
     * makes ours deterministic. */
    return (x->id > y->id) - (x->id < y->id);
}

static int32_t trie_child(const tok_trie_node *trie, int32_t node, uint8_t byte)
{
    for (int32_t c = trie[node].first_child; c >= 0; c = trie[c].next_sibling)
        if (trie[c].byte == byte)
            return c;
    return -1;
}

dsvk_status tok_special_init(tok *t, char *err, size_t err_size)
{
    const unsigned matched =
        TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED | TOK_ATTR_UNKNOWN;
    size_t n = 0, total_len = 0;
    for (uint32_t id = 0; id < t->n_tokens; id++) {
        size_t len = t->text_start[id + 1] - t->text_start[id];
        if ((t->attr[id] & matched) && len > 0) {
            n++;
            total_len += len;
        }
    }
    /* Trie nodes are int32 indices: at most one per special-text byte. */
    if (total_len >= INT32_MAX)
        return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                        "special token texts too long (%zu bytes)", total_len);
    special_len *order = malloc((n ? n : 1) * sizeof *order);
    t->special = malloc((n ? n : 1) * sizeof *t->special);
    t->trie = malloc((total_len + 1) * sizeof *t->trie);
    if (!order || !t->special || !t->trie) {
        free(order);
        return tok_fail(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                        "out of memory indexing special tokens");
    }
    n = 0;
    for (uint32_t id = 0; id < t->n_tokens; id++) {
        size_t len = t->text_start[id + 1] - t->text_start[id];
        if ((t->attr[id] & matched) && len > 0)
            order[n++] = (special_len){len, (int32_t)id};
    }
    qsort(order, n, sizeof *order, by_priority);

    t->n_special = n;
    t->trie[0] = (tok_trie_node){-1, -1, -1, 0};
    t->n_trie = 1;
    for (size_t k = 0; k < n; k++) {
        t->special[k] = order[k].id;
        size_t len;
        const char *s = tok_text_at(t, order[k].id, &len);
        int32_t node = 0;
        for (size_t i = 0; i < len; i++) {
            int32_t child = trie_child(t->trie, node, (uint8_t)s[i]);
            if (child < 0) {
                child = (int32_t)t->n_trie++;
                t->trie[child] = (tok_trie_node){-1, t->trie[node].first_child,
                                                 -1, (uint8_t)s[i]};
                t->trie[node].first_child = child;
            }
            node = child;
        }
        t->trie[node].special = (int32_t)k; /* texts are unique */
    }
    free(order);
    return DSVK_OK;
}

typedef struct occurrence {
    size_t pos;
    size_t special; /* priority index into t->special */
} occurrence;

static int by_special_then_pos(const void *a, const void *b)
{
    const occurrence *x = a, *y = b;
    if (x->special != y->special)
        return x->special < y->special ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int by_pos(const void *a, const void *b)
{
    const occurrence *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static bool occurrence_push(occurrence **items, size_t *count, size_t *cap,
                            occurrence o)
{
    if (*count == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        occurrence *grown = realloc(*items, n * sizeof *grown);
        if (!grown)
            return false;
        *items = grown;
        *cap = n;
    }
    (*items)[(*count)++] = o;
    return true;
}

static bool fragment_push(tok_fragment_list *out, size_t offset, size_t length,
                          int32_t token)
{
    if (out->count == out->capacity) {
        size_t n = out->capacity ? out->capacity * 2 : 16;
        tok_fragment *grown = realloc(out->items, n * sizeof *grown);
        if (!grown)
            return false;
        out->items = grown;
        out->capacity = n;
    }
    out->items[out->count++] = (tok_fragment){offset, length, token};
    return true;
}

/* Every occurrence of every eligible special token, in text order. */
static bool find_occurrences(const tok *t, const char *text, size_t len,
                             bool parse_special, occurrence **items,
                             size_t *count, size_t *cap)
{
    for (size_t p = 0; p < len; p++) {
        int32_t node = 0;
        for (size_t q = p; q < len; q++) {
            node = trie_child(t->trie, node, (uint8_t)text[q]);
            if (node < 0)
                break;
            int32_t k = t->trie[node].special;
            if (k < 0)
                continue;
            unsigned attr = t->attr[t->special[k]];
            if (!parse_special &&
                (attr & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN)))
                continue;
            if (!occurrence_push(items, count, cap, (occurrence){p, (size_t)k}))
                return false;
        }
    }
    return true;
}

/* Keeps, token by token in priority order and left to right, the
 * occurrences lying on text no earlier token has taken; compacts the
 * accepted ones to the front and returns their number. */
static size_t accept_occurrences(const tok *t, occurrence *occ, size_t n,
                                 uint8_t *taken)
{
    qsort(occ, n, sizeof *occ, by_special_then_pos);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = t->text_start[t->special[occ[i].special] + 1] -
                     t->text_start[t->special[occ[i].special]];
        bool free_text = true;
        for (size_t b = 0; b < len && free_text; b++)
            free_text = !taken[occ[i].pos + b];
        if (!free_text)
            continue;
        memset(taken + occ[i].pos, 1, len);
        occ[kept++] = occ[i];
    }
    return kept;
}

dsvk_status tok_special_split(const tok *t, const char *text, size_t len,
                              bool parse_special, tok_fragment_list *out,
                              char *err, size_t err_size)
{
    out->count = 0;
    occurrence *occ = NULL;
    size_t n_occ = 0, cap = 0;
    uint8_t *taken = NULL;
    bool ok = find_occurrences(t, text, len, parse_special, &occ, &n_occ, &cap);
    if (ok && n_occ > 0) {
        taken = calloc(len, 1);
        ok = taken != NULL;
    }
    if (ok) {
        if (n_occ > 0) {
            n_occ = accept_occurrences(t, occ, n_occ, taken);
            qsort(occ, n_occ, sizeof *occ, by_pos);
        }
        size_t at = 0;
        for (size_t i = 0; i < n_occ && ok; i++) {
            int32_t id = t->special[occ[i].special];
            if (occ[i].pos > at)
                ok = fragment_push(out, at, occ[i].pos - at, TOK_NONE);
            ok = ok && fragment_push(out, occ[i].pos, 0, id);
            at = occ[i].pos + (t->text_start[id + 1] - t->text_start[id]);
        }
        if (ok && at < len)
            ok = fragment_push(out, at, len - at, TOK_NONE);
    }
    free(occ);
    free(taken);
    if (!ok)
        return tok_fail(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                        "out of memory finding special tokens");
    return DSVK_OK;
}
