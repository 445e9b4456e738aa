/* Ids -> bytes. Every token's bytes are computed once at load (llama.cpp
 * keeps the same cache), so decoding is a lookup and a copy. */
#include "tokenizer_private.h"

#include "byte_level.h"
#include "tok_error.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

/* Normal tokens are byte-level text: each character stands for one byte.
 * A character outside that alphabet (a malformed vocabulary) is kept as
 * its own UTF-8 bytes, where llama.cpp would print "[UNK_BYTE_0x..]". */
static size_t decode_byte_level(const char *s, size_t len, char *out)
{
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tok_utf8_decode(s + i, len - i, &cp);
        int byte = n ? tok_cp_to_byte(cp) : -1;
        if (byte >= 0) {
            out[w++] = (char)byte;
        } else {
            n = n ? n : 1;
            memcpy(out + w, s + i, n);
            w += n;
        }
        i += n;
    }
    return w;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Byte tokens are written "<0xAB>"; -1 for any other text. */
static int byte_token_value(const char *s, size_t len)
{
    if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
        return -1;
    int hi = hex_digit(s[3]), lo = hex_digit(s[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* The bytes of one token with special tokens rendered; never longer than
 * its text. */
static size_t token_bytes(const tok *t, int32_t id, char *out)
{
    size_t len;
    const char *s = tok_text_at(t, id, &len);
    unsigned attr = t->attr[id];
    if (attr & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED)) {
        memcpy(out, s, len);
        return len;
    }
    if (attr & TOK_ATTR_NORMAL)
        return decode_byte_level(s, len, out);
    if (attr & TOK_ATTR_BYTE) {
        int byte = byte_token_value(s, len);
        if (byte >= 0) {
            out[0] = (char)byte;
            return 1;
        }
        return decode_byte_level(s, len, out);
    }
    return 0; /* unused and undefined tokens stand for nothing */
}

dsvk_status tok_pieces_init(tok *t, char *err, size_t err_size)
{
    t->piece = malloc(t->text_start[t->n_tokens] + 1);
    t->piece_start = malloc((t->n_tokens + 1) * sizeof *t->piece_start);
    if (!t->piece || !t->piece_start)
        return tok_fail(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                        "out of memory decoding the vocabulary");
    size_t at = 0;
    t->max_piece_len = 0;
    for (uint32_t id = 0; id < t->n_tokens; id++) {
        t->piece_start[id] = at;
        size_t n = token_bytes(t, (int32_t)id, t->piece + at);
        if (n > t->max_piece_len)
            t->max_piece_len = n;
        at += n;
    }
    t->piece_start[t->n_tokens] = at;
    return DSVK_OK;
}

const char *tok_piece(const tok *t, int32_t id, bool render_special,
                      size_t *len)
{
    *len = 0;
    if (id < 0 || (uint32_t)id >= t->n_tokens)
        return NULL;
    if (!render_special &&
        (t->attr[id] & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN)))
        return t->piece + t->piece_start[id];
    *len = t->piece_start[id + 1] - t->piece_start[id];
    return t->piece + t->piece_start[id];
}

size_t tok_max_piece_len(const tok *t)
{
    return t->max_piece_len;
}

dsvk_status tok_decode(const tok *t, const int32_t *ids, size_t n_ids,
                       bool render_special, char *out, size_t out_size,
                       size_t *out_len, char *err, size_t err_size)
{
    size_t total = 0;
    *out_len = 0;
    for (size_t i = 0; i < n_ids; i++) {
        size_t n;
        const char *p = tok_piece(t, ids[i], render_special, &n);
        if (!p)
            return tok_fail(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                            "token id %d at position %zu is out of range "
                            "(vocabulary has %u tokens)",
                            (int)ids[i], i, t->n_tokens);
        if (total < out_size)
            memcpy(out + total, p, n < out_size - total ? n : out_size - total);
        total += n;
    }
    *out_len = total;
    if (total > out_size)
        return tok_fail(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                        "decoded text needs %zu bytes, the buffer holds %zu",
                        total, out_size);
    return DSVK_OK;
}

dsvk_status tok_stream_push(tok_stream *s, const tok *t, int32_t id,
                            bool render_special, char *out, size_t out_size,
                            size_t *out_len, char *err, size_t err_size)
{
    *out_len = 0;
    size_t n;
    const char *p = tok_piece(t, id, render_special, &n);
    if (!p)
        return tok_fail(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                        "token id %d is out of range (vocabulary has %u "
                        "tokens)",
                        (int)id, t->n_tokens);
    size_t total = s->n_held + n;
    if (total == 0)
        return DSVK_OK;
    if (total > out_size)
        return tok_fail(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                        "stream output needs %zu bytes, the buffer holds %zu",
                        total, out_size);
    memcpy(out, s->held, s->n_held);
    memcpy(out + s->n_held, p, n);
    size_t hold = tok_utf8_incomplete_tail(out, total);
    memcpy(s->held, out + total - hold, hold);
    s->n_held = (uint8_t)hold;
    *out_len = total - hold;
    return DSVK_OK;
}

size_t tok_stream_flush(tok_stream *s, char out[3])
{
    size_t n = s->n_held;
    memcpy(out, s->held, n);
    s->n_held = 0;
    return n;
}
