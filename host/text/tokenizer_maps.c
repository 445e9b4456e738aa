/* The tokenizer's two hash maps: vocabulary text -> id and BPE merge pair
 * -> rank. Both are open addressing with linear probing, at most half
 * full, built once at load and read-only afterwards. */
#include "tokenizer_private.h"

#include <stdlib.h>
#include <string.h>

/* Smallest power of two holding n entries at load factor 1/2. */
static size_t slot_count(size_t n)
{
    size_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    return slots;
}

/* 64-bit FNV-1a: simple, and good enough for short token texts. */
static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

bool tok_text_map_init(tok_text_map *m, size_t n_entries)
{
    size_t slots = slot_count(n_entries);
    m->mask = slots - 1;
    m->ids = malloc(slots * sizeof *m->ids);
    m->hashes = malloc(slots * sizeof *m->hashes);
    if (!m->ids || !m->hashes) {
        tok_text_map_free(m);
        return false;
    }
    for (size_t i = 0; i < slots; i++)
        m->ids[i] = TOK_NONE;
    return true;
}

void tok_text_map_free(tok_text_map *m)
{
    free(m->ids);
    free(m->hashes);
    m->ids = NULL;
    m->hashes = NULL;
}

/* The slot holding s, or the empty slot where it would go. */
static size_t text_slot(const tok_text_map *m, const tok *t, const char *s,
                        size_t len, uint64_t h)
{
    uint32_t tag = (uint32_t)(h >> 32);
    size_t i = (size_t)h & m->mask;
    while (m->ids[i] != TOK_NONE) {
        if (m->hashes[i] == tag) {
            size_t n;
            const char *other = tok_text_at(t, m->ids[i], &n);
            if (n == len && memcmp(other, s, len) == 0)
                return i;
        }
        i = (i + 1) & m->mask;
    }
    return i;
}

int32_t tok_text_map_add(tok_text_map *m, const tok *t, int32_t id)
{
    size_t len;
    const char *s = tok_text_at(t, id, &len);
    uint64_t h = hash_bytes(s, len);
    size_t i = text_slot(m, t, s, len, h);
    if (m->ids[i] != TOK_NONE)
        return m->ids[i];
    m->ids[i] = id;
    m->hashes[i] = (uint32_t)(h >> 32);
    return TOK_NONE;
}

int32_t tok_text_map_find(const tok_text_map *m, const tok *t, const char *s,
                          size_t len)
{
    return m->ids[text_slot(m, t, s, len, hash_bytes(s, len))];
}

bool tok_merge_map_init(tok_merge_map *m, size_t n_entries)
{
    size_t slots = slot_count(n_entries);
    m->mask = slots - 1;
    m->slots = malloc(slots * sizeof *m->slots);
    if (!m->slots)
        return false;
    for (size_t i = 0; i < slots; i++)
        m->slots[i].key = UINT64_MAX;
    return true;
}

void tok_merge_map_free(tok_merge_map *m)
{
    free(m->slots);
    m->slots = NULL;
}

static size_t merge_slot(const tok_merge_map *m, uint64_t key)
{
    /* Fibonacci hashing spreads the two packed ids over all bits. */
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & m->mask;
    while (m->slots[i].key != UINT64_MAX && m->slots[i].key != key)
        i = (i + 1) & m->mask;
    return i;
}

static uint64_t merge_key(int32_t left, int32_t right)
{
    return (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
}

void tok_merge_map_add(tok_merge_map *m, int32_t left, int32_t right,
                       int32_t rank, int32_t result)
{
    uint64_t key = merge_key(left, right);
    tok_merge *slot = &m->slots[merge_slot(m, key)];
    if (slot->key == key)
        return;
    *slot = (tok_merge){key, rank, result};
}

const tok_merge *tok_merge_map_find(const tok_merge_map *m, int32_t left,
                                    int32_t right)
{
    uint64_t key = merge_key(left, right);
    const tok_merge *slot = &m->slots[merge_slot(m, key)];
    return slot->key == key ? slot : NULL;
}
