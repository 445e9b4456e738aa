/* Text -> ids: special tokens first (on the raw bytes, as llama.cpp),
 * then, per plain-text fragment, UTF-8 repair, pre-tokenization and BPE. */
#include "tokenizer_private.h"

#include "tok_error.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

void tok_ids_free(tok_ids *ids)
{
    free(ids->ids);
    *ids = (tok_ids){0};
}

bool tok_ids_push(tok_ids *ids, int32_t id)
{
    if (ids->count == ids->capacity) {
        size_t cap = ids->capacity ? ids->capacity * 2 : 64;
        int32_t *grown = realloc(ids->ids, cap * sizeof *grown);
        if (!grown)
            return false;
        ids->ids = grown;
        ids->capacity = cap;
    }
    ids->ids[ids->count++] = id;
    return true;
}

/* Scratch state of one tok_encode call. */
typedef struct encoder {
    tok_fragment_list fragments;
    tok_span_list pieces;
    tok_bpe_work bpe;
    char *repaired; /* the fragment with invalid UTF-8 replaced */
} encoder;

static void encoder_free(encoder *e)
{
    free(e->fragments.items);
    tok_span_list_free(&e->pieces);
    tok_bpe_work_free(&e->bpe);
    free(e->repaired);
}

static dsvk_status encode_plain(const tok *t, encoder *e, const char *text,
                                size_t len, tok_ids *out, char *err,
                                size_t err_size)
{
    if (!tok_utf8_valid(text, len)) {
        if (len > SIZE_MAX / 3)
            return tok_fail(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                            "text too long (%zu bytes)", len);
        free(e->repaired);
        e->repaired = malloc(3 * len);
        if (!e->repaired)
            return tok_fail(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                            "out of memory repairing invalid UTF-8");
        len = tok_utf8_sanitize(text, len, e->repaired);
        text = e->repaired;
    }
    dsvk_status st =
        tok_pretokenize(t->pre, text, len, &e->pieces, err, err_size);
    if (st != DSVK_OK)
        return st;
    for (size_t i = 0; i < e->pieces.count; i++) {
        const tok_span *p = &e->pieces.items[i];
        st = tok_bpe_encode(t, text + p->offset, p->length, &e->bpe, out);
        if (st != DSVK_OK)
            return tok_fail(err, err_size, st,
                            "cannot encode a %zu-byte piece: %s", p->length,
                            dsvk_status_string(st));
    }
    return DSVK_OK;
}

dsvk_status tok_encode(const tok *t, const char *text, size_t len, bool add_bos,
                       bool parse_special, tok_ids *out, char *err,
                       size_t err_size)
{
    size_t first = out->count;
    encoder e = {0};
    dsvk_status st = DSVK_OK;
    if (add_bos) {
        if (t->bos < 0)
            st = tok_fail(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                          "BOS requested but the model has no BOS token");
        else if (!tok_ids_push(out, t->bos))
            st = DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    if (st == DSVK_OK)
        st = tok_special_split(t, text, len, parse_special, &e.fragments, err,
                               err_size);
    for (size_t i = 0; st == DSVK_OK && i < e.fragments.count; i++) {
        const tok_fragment *f = &e.fragments.items[i];
        if (f->token != TOK_NONE) {
            if (!tok_ids_push(out, f->token))
                st = DSVK_ERROR_OUT_OF_HOST_MEMORY;
        } else {
            st = encode_plain(t, &e, text + f->offset, f->length, out, err,
                              err_size);
        }
    }
    if (st == DSVK_ERROR_OUT_OF_HOST_MEMORY)
        tok_fail(err, err_size, st, "out of memory encoding text");
    if (st != DSVK_OK)
        out->count = first; /* all or nothing */
    encoder_free(&e);
    return st;
}

dsvk_status tok_encode_to(const tok *t, const char *text, size_t len,
                          bool add_bos, bool parse_special, int32_t *ids,
                          size_t capacity, size_t *n_ids, char *err,
                          size_t err_size)
{
    tok_ids all = {0};
    *n_ids = 0;
    dsvk_status st =
        tok_encode(t, text, len, add_bos, parse_special, &all, err, err_size);
    if (st == DSVK_OK) {
        *n_ids = all.count;
        size_t n = all.count < capacity ? all.count : capacity;
        if (n > 0)
            memcpy(ids, all.ids, n * sizeof *ids);
        if (all.count > capacity)
            st = tok_fail(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                          "text needs %zu tokens, the buffer holds %zu",
                          all.count, capacity);
    }
    tok_ids_free(&all);
    return st;
}
