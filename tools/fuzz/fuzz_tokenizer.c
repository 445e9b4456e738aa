/* Fuzz target: the tokenizer on untrusted text and untrusted ids, with the
 * real DeepSeek-V3 vocabulary (loaded once per process: it is 5 MB). The
 * first input byte chooses the mode and flags, the rest is the text or the
 * ids. Besides memory errors it checks properties that need no second
 * implementation: encoding into a caller buffer agrees with the growable
 * list, decoding gives the text back (with invalid UTF-8 replaced by
 * U+FFFD), decoding into a short buffer gives the prefix, and the streaming
 * decoder emits exactly the bytes tok_decode does. */
#include "fuzz.h"
#include "gguf/gguf.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

#include <string.h>

/* The first input byte. */
enum {
    MODE_PARSE_SPECIAL = 1 << 0,  /* encode: control tokens in the text */
    MODE_ADD_BOS = 1 << 1,        /* encode: BOS first */
    MODE_RENDER_SPECIAL = 1 << 2, /* decode: control tokens as text */
    MODE_IDS = 1 << 3,            /* the rest is int32 ids, not text */
};

static const tok *vocab(void)
{
    static tok *t;
    if (!t) {
        char err[512];
        gguf_file *f = NULL;
        if (gguf_open(DSVK_FUZZ_VOCAB, &f, err, sizeof err) != DSVK_OK ||
            tok_load(f, &t, err, sizeof err) != DSVK_OK) {
            fprintf(stderr, "fuzz_tokenizer: %s\n", err);
            abort();
        }
        gguf_close(f);
    }
    return t;
}

/* Decodes ids with tok_decode into a new buffer (free it); checks that a
 * short buffer receives the prefix and the full length. */
static char *decode(const tok *t, const int32_t *ids, size_t n, bool special,
                    size_t *len)
{
    char err[256], head[8];
    dsvk_status st =
        tok_decode(t, ids, n, special, head, sizeof head, len, err, sizeof err);
    FUZZ_CHECK(st ==
               (*len > sizeof head ? DSVK_ERROR_INVALID_ARGUMENT : DSVK_OK));
    char *out = malloc(*len + 1);
    FUZZ_CHECK(out != NULL);
    size_t again;
    FUZZ_CHECK(tok_decode(t, ids, n, special, out, *len, &again, err,
                          sizeof err) == DSVK_OK &&
               again == *len);
    FUZZ_CHECK(memcmp(out, head, *len < sizeof head ? *len : sizeof head) == 0);
    return out;
}

/* The streaming decoder's output for ids, which must equal tok_decode's:
 * it only holds bytes back, it never changes them. Invalid ids fail
 * without consuming anything and are left out of `expected`. */
static void check_stream(const tok *t, const int32_t *ids, size_t n,
                         bool special, const char *expected,
                         size_t expected_len)
{
    size_t out_size = TOK_STREAM_OUT_SIZE(t);
    char *chunk = malloc(out_size);
    char *all = malloc(expected_len + 3);
    FUZZ_CHECK(chunk && all);
    tok_stream s = {0};
    size_t len = 0;
    char err[256];
    for (size_t i = 0; i < n; i++) {
        size_t chunk_len;
        tok_stream before = s;
        if (tok_stream_push(&s, t, ids[i], special, chunk, out_size, &chunk_len,
                            err, sizeof err) != DSVK_OK) {
            FUZZ_CHECK(!tok_text(t, ids[i], &chunk_len));
            FUZZ_CHECK(memcmp(&before, &s, sizeof s) == 0);
            continue;
        }
        FUZZ_CHECK(len + chunk_len <= expected_len);
        memcpy(all + len, chunk, chunk_len);
        len += chunk_len;
    }
    char tail[3];
    size_t tail_len = tok_stream_flush(&s, tail);
    FUZZ_CHECK(len + tail_len == expected_len);
    memcpy(all + len, tail, tail_len);
    FUZZ_CHECK(memcmp(all, expected, expected_len) == 0);
    free(chunk);
    free(all);
}

/* memcmp, but an empty tok_ids has no array at all. */
static bool same_ids(const int32_t *a, const int32_t *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

static void fuzz_text(const tok *t, unsigned mode, const char *text, size_t len)
{
    bool special = mode & MODE_PARSE_SPECIAL, bos = mode & MODE_ADD_BOS;
    bool render = mode & MODE_RENDER_SPECIAL;
    char err[256];
    tok_ids ids = {0};
    FUZZ_CHECK(tok_encode(t, text, len, bos, special, &ids, err, sizeof err) ==
               DSVK_OK);
    for (size_t i = 0; i < ids.count; i++)
        FUZZ_CHECK(ids.ids[i] >= 0 && (uint32_t)ids.ids[i] < tok_vocab_size(t));
    FUZZ_CHECK(!bos || (ids.count > 0 && ids.ids[0] == tok_bos(t)));

    /* Into a caller buffer: half the room fails with the count and the
     * prefix, exactly enough room gives the same ids. */
    size_t n = ids.count;
    int32_t *buf = malloc((n ? n : 1) * sizeof *buf);
    FUZZ_CHECK(buf != NULL);
    size_t needed;
    dsvk_status st = tok_encode_to(t, text, len, bos, special, buf, n / 2,
                                   &needed, err, sizeof err);
    FUZZ_CHECK(needed == n &&
               st == (n / 2 < n ? DSVK_ERROR_INVALID_ARGUMENT : DSVK_OK));
    FUZZ_CHECK(same_ids(buf, ids.ids, n / 2));
    FUZZ_CHECK(tok_encode_to(t, text, len, bos, special, buf, n, &needed, err,
                             sizeof err) == DSVK_OK &&
               needed == n && same_ids(buf, ids.ids, n));
    free(buf);

    size_t out_len;
    char *out = decode(t, ids.ids, n, render, &out_len);
    /* Round trip: the text, sanitized, after BOS's text when rendered.
     * Without render_special, control tokens parsed from the text vanish,
     * so there is nothing simple to compare. */
    if (render || !special) {
        size_t bos_len = 0;
        const char *bos_text =
            bos ? tok_piece(t, tok_bos(t), render, &bos_len) : "";
        char *expected = malloc(bos_len + 3 * len + 1);
        FUZZ_CHECK(expected != NULL);
        memcpy(expected, bos_text, bos_len);
        size_t expected_len =
            bos_len + tok_utf8_sanitize(text, len, expected + bos_len);
        FUZZ_CHECK(out_len == expected_len &&
                   memcmp(out, expected, out_len) == 0);
        free(expected);
    }
    check_stream(t, ids.ids, n, render, out, out_len);
    free(out);
    tok_ids_free(&ids);
}

/* Ids as a generator could produce them, and a few it must refuse: every
 * 4 bytes become an id in [-1, vocab size], both ends invalid. */
static void fuzz_ids(const tok *t, unsigned mode, const uint8_t *data,
                     size_t size)
{
    bool render = mode & MODE_RENDER_SPECIAL;
    uint32_t n_vocab = tok_vocab_size(t);
    size_t n = size / 4, n_valid = 0;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    int32_t *valid = malloc((n ? n : 1) * sizeof *valid);
    FUZZ_CHECK(ids && valid);
    for (size_t i = 0; i < n; i++) {
        uint32_t raw;
        memcpy(&raw, data + 4 * i, 4);
        ids[i] = (int32_t)(raw % (n_vocab + 2)) - 1;
        size_t text_len;
        const char *text = tok_text(t, ids[i], &text_len);
        if (!text)
            continue;
        valid[n_valid++] = ids[i];
        /* Vocabulary texts are unique: each finds its own id. */
        FUZZ_CHECK(tok_find(t, text, text_len) == ids[i]);
    }
    char err[256], one[1];
    size_t len;
    if (n_valid < n)
        FUZZ_CHECK(tok_decode(t, ids, n, render, one, sizeof one, &len, err,
                              sizeof err) == DSVK_ERROR_INVALID_ARGUMENT);
    char *out = decode(t, valid, n_valid, render, &len);
    check_stream(t, ids, n, render, out, len);
    free(out);
    free(ids);
    free(valid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const tok *t = vocab();
    unsigned mode = data[0];
    if (mode & MODE_IDS)
        fuzz_ids(t, mode, data + 1, size - 1);
    else
        fuzz_text(t, mode, (const char *)data + 1, size - 1);
    return 0;
}
