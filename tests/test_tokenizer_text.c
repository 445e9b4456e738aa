/* The tokenizer on hostile and awkward text with the real DeepSeek
 * vocabularies: invalid UTF-8, NUL bytes, random bytes, long runs;
 * streaming decode of characters split across tokens; the buffer APIs;
 * BOS, EOG and control-token queries. Also the UTF-8 and byte-level
 * helpers underneath. */
#include "testlib.h"
#include "text/byte_level.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static tok *load_vocab(const char *name)
{
    char err[256] = "";
    gguf_file *f = NULL;
    tok *t = NULL;
    dsvk_status st = gguf_open(test_fixture(name), &f, err, sizeof err);
    if (st == DSVK_OK)
        st = tok_load(f, &t, err, sizeof err);
    gguf_close(f);
    CHECK(st == DSVK_OK, "%s: %s", name, err);
    return t;
}

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t len, want; /* want: decoded length, 0 = invalid */
    } cases[] = {
        {"A", 1, 1},
        {"\xC3\xA9", 2, 2},         /* é */
        {"\xE2\x82\xAC", 3, 3},     /* € */
        {"\xF0\x9F\x98\x80", 4, 4}, /* 😀 */
        {"\xC0\x80", 2, 0},         /* overlong NUL */
        {"\xE0\x80\xAF", 3, 0},     /* overlong '/' */
        {"\xED\xA0\x80", 3, 0},     /* surrogate D800 */
        {"\xF4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
        {"\xE2\x82", 2, 0},         /* truncated */
        {"\x80", 1, 0},             /* lone continuation */
        {"\xFF", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t cp;
        size_t n = tok_utf8_decode(cases[i].s, cases[i].len, &cp);
        CHECK(n == cases[i].want, "utf8 case %zu: length %zu, want %zu", i, n,
              cases[i].want);
    }
    /* Held back by a streaming decoder: only starts that can still finish. */
    CHECK(tok_utf8_incomplete_tail("ab\xE2\x82", 4) == 2, "E2 82 pending");
    CHECK(tok_utf8_incomplete_tail("\xF0\x9F\x98", 3) == 3, "F0 9F 98");
    CHECK(tok_utf8_incomplete_tail("\xF0", 1) == 1, "F0 pending");
    CHECK(tok_utf8_incomplete_tail("\xF0\x9F\x98\x80", 4) == 0, "complete");
    CHECK(tok_utf8_incomplete_tail("\xE2\x28", 2) == 0, "E2 28 is invalid");
    CHECK(tok_utf8_incomplete_tail("\xED\xA0", 2) == 0, "surrogate start");
    CHECK(tok_utf8_incomplete_tail("\xC0", 1) == 0, "C0 starts nothing");
    CHECK(tok_utf8_incomplete_tail("\x80\x80\x80", 3) == 0, "continuations");
    CHECK(tok_utf8_incomplete_tail("", 0) == 0, "empty");

    char out[32];
    size_t n = tok_utf8_sanitize("a\xFF\xE2\x82z", 5, out);
    CHECK(n == 11 &&
              memcmp(out, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz", 11) == 0,
          "each invalid byte becomes U+FFFD (%zu bytes)", n);
}

static void test_byte_level(void)
{
    bool seen[0x144] = {false};
    for (int b = 0; b < 256; b++) {
        uint32_t cp = tok_byte_to_cp((uint8_t)b);
        CHECK(cp < 0x144 && !seen[cp], "byte %d -> U+%04X not unique", b,
              (unsigned)cp);
        if (cp < 0x144)
            seen[cp] = true;
        CHECK(tok_cp_to_byte(cp) == b, "U+%04X does not map back to %d",
              (unsigned)cp, b);
    }
    CHECK(tok_byte_to_cp(' ') == 0x120, "space is U+0120 'Ġ'");
    CHECK(tok_byte_to_cp('\n') == 0x10A, "newline is U+010A 'Ċ'");
    CHECK(tok_byte_to_cp(0xAD) == 0x143, "soft hyphen is U+0143");
    CHECK(tok_cp_to_byte(0x144) == -1 && tok_cp_to_byte(0x3000) == -1,
          "code points outside the alphabet");
}

/* decode(encode(x)) == x with invalid UTF-8 repaired: holds for any bytes,
 * with or without special-token parsing, since special tokens render as
 * their own text. */
static void check_lossless(const tok *t, const char *name, const char *text,
                           size_t len, bool parse_special)
{
    tok_ids ids = {0};
    char err[256] = "";
    dsvk_status st =
        tok_encode(t, text, len, false, parse_special, &ids, err, sizeof err);
    CHECK(st == DSVK_OK, "%s: encode failed: %s", name, err);
    char *want = malloc(3 * len + 1);
    size_t want_len = tok_utf8_sanitize(text, len, want);
    char *got = malloc(3 * len + 1);
    size_t got_len = 0;
    st = tok_decode(t, ids.ids, ids.count, true, got, 3 * len + 1, &got_len,
                    err, sizeof err);
    CHECK(st == DSVK_OK && got_len == want_len &&
              memcmp(got, want, want_len) == 0,
          "%s: %zu input bytes do not survive encode+decode "
          "(parse_special %d, %zu vs %zu bytes)",
          name, len, parse_special, got_len, want_len);
    free(want);
    free(got);
    tok_ids_free(&ids);
}

/* Random texts mixing ASCII, random bytes, valid multi-byte characters
 * and special-token texts. */
static void test_random_bytes(const tok *t, const char *name)
{
    static const char *const pieces[] = {
        " ",
        "  ",
        "\n",
        "\r\n",
        "\t",
        "the",
        "Hello",
        "123",
        "1234",
        "!?",
        "\xE4\xB8\xAD",
        "\xC3\xB8",
        "\xE3\x80\x80",
        "<｜User｜>",
        "<｜end▁of▁sentence｜>",
        "[PAD100015]",
        "<｜fim▁hole｜>",
        "\xF0\x9F\xA4\x88",
    };
    test_rng rng = test_rng_seed(42);
    char text[512];
    for (int iter = 0; iter < 300; iter++) {
        size_t len = 0;
        size_t target = (size_t)test_rng_uniform(&rng, 0, 200);
        while (len < target) {
            float kind = test_rng_uniform(&rng, 0, 1);
            if (kind < 0.4f) {
                text[len++] = (char)(int)test_rng_uniform(&rng, 0, 256);
            } else if (kind < 0.6f) {
                uint32_t cp = (uint32_t)test_rng_uniform(&rng, 0x80, 0x2FFFF);
                if (cp >= 0xD800 && cp < 0xE000)
                    cp = 0xFFFD;
                len += tok_utf8_encode(cp, text + len);
            } else {
                size_t k = (size_t)test_rng_uniform(
                    &rng, 0, sizeof pieces / sizeof pieces[0]);
                size_t n = strlen(pieces[k]);
                memcpy(text + len, pieces[k], n);
                len += n;
            }
        }
        check_lossless(t, name, text, len, iter % 2 == 0);
    }
    /* NUL is an ordinary byte. */
    check_lossless(t, name, "a\0b\0", 4, false);
}

/* Feeds ids one by one; every chunk must be valid UTF-8 (the text is) and
 * together they must give the text back. Returns how many tokens ended in
 * the middle of a character. */
static size_t check_stream(const tok *t, const char *text)
{
    tok_ids ids = {0};
    char err[256] = "";
    size_t len = strlen(text), held = 0;
    tok_encode(t, text, len, false, true, &ids, err, sizeof err);
    char *out = malloc(TOK_STREAM_OUT_SIZE(t));
    char *all = malloc(len + 4);
    size_t at = 0;
    tok_stream s = {0};
    for (size_t i = 0; i < ids.count; i++) {
        size_t n = 0;
        dsvk_status st =
            tok_stream_push(&s, t, ids.ids[i], true, out,
                            TOK_STREAM_OUT_SIZE(t), &n, err, sizeof err);
        CHECK(st == DSVK_OK, "stream push: %s", err);
        CHECK(tok_utf8_valid(out, n), "chunk %zu of '%s' splits a character", i,
              text);
        held += s.n_held > 0;
        if (at + n <= len) {
            memcpy(all + at, out, n);
            at += n;
        }
    }
    char tail[3];
    size_t n_tail = tok_stream_flush(&s, tail);
    CHECK(n_tail == 0, "nothing may remain held after complete text");
    CHECK(at == len && memcmp(all, text, len) == 0, "stream of '%s' differs",
          text);
    free(out);
    free(all);
    tok_ids_free(&ids);
    return held;
}

static void test_streaming(const tok *t)
{
    /* Rare characters: byte-level BPE spreads their bytes over several
     * tokens (e.g. the 4 bytes of U+1F908 over 3 tokens). */
    size_t held = check_stream(t, "\xF0\x9F\xA4\x88 hi \xF0\x93\x81\xBF "
                                  "\xE1\x9A\xA0\xE1\x9A\xA2 \xEA\xA6\x85!");
    held += check_stream(t, "plain ascii only");
    CHECK(held > 0, "the test text should split characters across tokens");

    /* Bytes that never become valid pass through; an unfinished character
     * comes out at flush. */
    tok_stream s = {0};
    char out[64], err[128];
    size_t n;
    int32_t ff = tok_find(t, "\xC3\xBF", 2); /* byte-level 'ÿ' = 0xFF */
    tok_stream_push(&s, t, ff, true, out, sizeof out, &n, err, sizeof err);
    CHECK(n == 1 && (uint8_t)out[0] == 0xFF, "invalid byte passes through");
    int32_t e2 = tok_find(t, "\xC3\xA2", 2); /* 'â' = byte 0xE2 */
    tok_stream_push(&s, t, e2, true, out, sizeof out, &n, err, sizeof err);
    CHECK(n == 0 && s.n_held == 1, "lead byte E2 is held");
    CHECK(tok_stream_flush(&s, out) == 1 && (uint8_t)out[0] == 0xE2,
          "flush gives the held byte");
    CHECK(tok_stream_push(&s, t, (int32_t)tok_vocab_size(t), true, out,
                          sizeof out, &n, err,
                          sizeof err) == DSVK_ERROR_INVALID_ARGUMENT,
          "id out of range");
    CHECK(tok_stream_push(&s, t, ff, true, out, 0, &n, err, sizeof err) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "buffer too small");
}

static void test_buffers_and_queries(const tok *v3, const tok *llm,
                                     const tok *coder)
{
    char err[256] = "";
    const char *text = "<｜User｜>Hello world<｜Assistant｜>";
    int32_t ids[16];
    size_t n = 0;
    dsvk_status st = tok_encode_to(v3, text, strlen(text), true, true, ids, 16,
                                   &n, err, sizeof err);
    CHECK(st == DSVK_OK && n == 5 && ids[0] == 0 && ids[1] == 128803 &&
              ids[2] == 19923 && ids[3] == 2058 && ids[4] == 128804,
          "V3 chat ids with BOS (%zu ids): %s", n, err);
    st = tok_encode_to(v3, text, strlen(text), true, true, ids, 2, &n, err,
                       sizeof err);
    CHECK(st == DSVK_ERROR_INVALID_ARGUMENT && n == 5 && ids[1] == 128803,
          "small id buffer: status %d, %zu needed", st, n);

    int32_t hello[] = {19923, 2058};
    char out[16];
    size_t len = 0;
    st = tok_decode(v3, hello, 2, false, out, 4, &len, err, sizeof err);
    CHECK(st == DSVK_ERROR_INVALID_ARGUMENT && len == 11 &&
              memcmp(out, "Hell", 4) == 0,
          "small text buffer");
    int32_t bad[] = {19923, -5};
    st = tok_decode(v3, bad, 2, false, out, sizeof out, &len, err, sizeof err);
    CHECK(st == DSVK_ERROR_INVALID_ARGUMENT, "negative id must fail");

    CHECK(tok_bos(v3) == 0 && tok_eos(v3) == 1 && tok_wants_bos(v3),
          "V3 BOS 0, EOS 1, add_bos_token");
    CHECK(tok_bos(llm) == 100000 && tok_eos(llm) == 100001, "LLM BOS/EOS");
    CHECK(tok_is_eog(v3, 1) && tok_is_control(v3, 1) && !tok_is_eog(v3, 0) &&
              !tok_is_eog(v3, 19923),
          "V3 end of sentence is EOG, BOS and words are not");
    size_t tlen;
    const char *tx = tok_text(v3, 2058, &tlen);
    CHECK(tx && tlen == 7 && memcmp(tx, "\xC4\xA0world", 7) == 0,
          "text of 2058 is 'Ġworld'");
    CHECK(!tok_text(v3, -1, &tlen) && !tok_piece(v3, 1 << 30, true, &tlen),
          "ids out of range give NULL");

    /* deepseek-coder marks its fim tokens USER_DEFINED; llama.cpp forces
     * them to CONTROL, so without parse_special they are plain text. */
    const char *hole = "<｜fim▁hole｜>";
    int32_t id = tok_find(coder, hole, strlen(hole));
    CHECK(id >= 0 && tok_is_control(coder, id) &&
              (tok_attr(coder, id) & TOK_ATTR_USER_DEFINED),
          "coder fim hole %d should be user-defined + control", id);
    tok_ids got = {0};
    tok_encode(coder, hole, strlen(hole), false, false, &got, err, sizeof err);
    CHECK(got.count > 1, "fim hole as text without parse_special");
    got.count = 0;
    tok_encode(coder, hole, strlen(hole), false, true, &got, err, sizeof err);
    CHECK(got.count == 1 && got.ids[0] == id, "fim hole parsed");
    tok_ids_free(&got);
}

/* Long runs must stay fast: BPE is O(n log n) and no regex may backtrack
 * quadratically (`\s+$` on spaces would, without PCRE2's JIT). */
static void test_long_inputs(const tok *t, const char *name)
{
    enum { N = 40000 };
    static const char *const fills[] = {
        " ",
        "a",
        "7",
        "<｜",
        "\xE4\xB8\xAD",
        "\xC3\xB8",
        "\t",
        "\r\n",
        " 7",
        "\xE3\x80\x80",
        "!",
        "\xF0\x9F\xA4\x88",
    };
    /* The last character decides which regexes meet the long run. */
    static const char *const ends[] = {"x", "7", "\xE4\xB8\xAD", "."};
    char *text = malloc(N + 8);
    double worst = 0;
    for (size_t k = 0; k < sizeof fills / sizeof fills[0]; k++) {
        for (size_t e = 0; e < sizeof ends / sizeof ends[0]; e++) {
            size_t unit = strlen(fills[k]), len = 0;
            while (len + unit <= N) {
                memcpy(text + len, fills[k], unit);
                len += unit;
            }
            memcpy(text + len, ends[e], strlen(ends[e]));
            len += strlen(ends[e]);
            clock_t start = clock();
            check_lossless(t, name, text, len, true);
            double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
            /* Generous for a busy CI machine: the quadratic case takes
             * about 10 s at this size. */
            CHECK(seconds < 2.0, "%s: 40 KB of '%s' + '%s' took %.2f s", name,
                  fills[k], ends[e], seconds);
            worst = seconds > worst ? seconds : worst;
        }
    }
    printf("%s: slowest 40 KB run %.0f ms\n", name, worst * 1e3);
    free(text);
}

int main(void)
{
    test_utf8();
    test_byte_level();
    tok *v3 = load_vocab("tokenizer/ggml-vocab-deepseek-v3.gguf");
    tok *llm = load_vocab("tokenizer/ggml-vocab-deepseek-llm.gguf");
    tok *coder = load_vocab("tokenizer/ggml-vocab-deepseek-coder.gguf");
    if (v3 && llm && coder) {
        test_random_bytes(v3, "deepseek-v3");
        test_random_bytes(llm, "deepseek-llm");
        test_random_bytes(coder, "deepseek-coder");
        test_streaming(v3);
        test_buffers_and_queries(v3, llm, coder);
        test_long_inputs(v3, "deepseek-v3");
        test_long_inputs(llm, "deepseek-llm");
        test_long_inputs(coder, "deepseek-coder");
    }
    tok_free(v3);
    tok_free(llm);
    tok_free(coder);
    return test_finish("test_tokenizer_text");
}
