/* The tokenizer's rules on small synthetic vocabularies, written as GGUF
 * in memory: BPE merge order, special-token matching as llama.cpp does it,
 * and the errors of malformed tokenizer metadata. */
#include "testlib.h"
#include "text/byte_level.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

#include <stdlib.h>
#include <string.h>

/* ---- a minimal GGUF v3 writer (metadata only, no tensors) ---- */

typedef struct gguf_writer {
    uint8_t *bytes;
    size_t size, cap;
    uint64_t n_kv;
} gguf_writer;

static void put(gguf_writer *w, const void *data, size_t n)
{
    if (w->size + n > w->cap) {
        w->cap = 2 * (w->size + n);
        w->bytes = realloc(w->bytes, w->cap);
    }
    memcpy(w->bytes + w->size, data, n);
    w->size += n;
}

static void put_u32(gguf_writer *w, uint32_t v)
{
    uint8_t b[4] = {v, v >> 8, v >> 16, v >> 24};
    put(w, b, 4);
}

static void put_u64(gguf_writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

static void put_str(gguf_writer *w, const char *s)
{
    put_u64(w, strlen(s));
    put(w, s, strlen(s));
}

static void key(gguf_writer *w, const char *name, gguf_value_type type)
{
    put_str(w, name);
    put_u32(w, type);
    w->n_kv++;
}

static void kv_str(gguf_writer *w, const char *name, const char *value)
{
    key(w, name, GGUF_TYPE_STRING);
    put_str(w, value);
}

static void kv_u32(gguf_writer *w, const char *name, uint32_t value)
{
    key(w, name, GGUF_TYPE_UINT32);
    put_u32(w, value);
}

static void kv_strs(gguf_writer *w, const char *name, const char *const *values,
                    size_t n)
{
    key(w, name, GGUF_TYPE_ARRAY);
    put_u32(w, GGUF_TYPE_STRING);
    put_u64(w, n);
    for (size_t i = 0; i < n; i++)
        put_str(w, values[i]);
}

static void kv_i32s(gguf_writer *w, const char *name, const int32_t *values,
                    size_t n)
{
    key(w, name, GGUF_TYPE_ARRAY);
    put_u32(w, GGUF_TYPE_INT32);
    put_u64(w, n);
    for (size_t i = 0; i < n; i++)
        put_u32(w, (uint32_t)values[i]);
}

/* Header + the key/values written into body. */
static gguf_writer finish(const gguf_writer *body)
{
    gguf_writer file = {0};
    put(&file, "GGUF", 4);
    put_u32(&file, 3);
    put_u64(&file, 0);
    put_u64(&file, body->n_kv);
    put(&file, body->bytes, body->size);
    return file;
}

/* ---- synthetic vocabularies ---- */

enum { MAX_TOKENS = 300 };

/* Ids 0..255 are the byte-level characters in byte order (so the token of
 * byte 'a' is 97), then the extra tokens. */
typedef struct vocab_spec {
    const char *model, *pre;
    const char *extra[8];
    int32_t extra_type[8]; /* token_type of each extra, 0 = normal (1) */
    const char *merges[8];
    int n_types_missing; /* shorten token_type by this many entries */
    int64_t bos;         /* -1: no bos key */
} vocab_spec;

static tok *load_spec(const vocab_spec *spec, dsvk_status *status, char *err,
                      size_t err_size)
{
    static char byte_text[256][4];
    const char *tokens[MAX_TOKENS];
    int32_t types[MAX_TOKENS];
    size_t n = 0;
    for (int b = 0; b < 256; b++, n++) {
        size_t len = tok_utf8_encode(tok_byte_to_cp((uint8_t)b), byte_text[b]);
        byte_text[b][len] = 0;
        tokens[n] = byte_text[b];
        types[n] = 1;
    }
    for (int i = 0; i < 8 && spec->extra[i]; i++, n++) {
        tokens[n] = spec->extra[i];
        types[n] = spec->extra_type[i] ? spec->extra_type[i] : 1;
    }
    size_t n_merges = 0;
    while (n_merges < 8 && spec->merges[n_merges])
        n_merges++;

    gguf_writer body = {0};
    if (spec->model)
        kv_str(&body, "tokenizer.ggml.model", spec->model);
    if (spec->pre)
        kv_str(&body, "tokenizer.ggml.pre", spec->pre);
    kv_strs(&body, "tokenizer.ggml.tokens", tokens, n);
    kv_i32s(&body, "tokenizer.ggml.token_type", types,
            n - (size_t)spec->n_types_missing);
    if (n_merges)
        kv_strs(&body, "tokenizer.ggml.merges", spec->merges, n_merges);
    if (spec->bos >= 0)
        kv_u32(&body, "tokenizer.ggml.bos_token_id", (uint32_t)spec->bos);
    gguf_writer file = finish(&body);

    gguf_file *f = NULL;
    tok *t = NULL;
    *status = gguf_open_memory(file.bytes, file.size, &f, err, err_size);
    if (*status == DSVK_OK)
        *status = tok_load(f, &t, err, err_size);
    gguf_close(f); /* the tok must not need the file any more */
    free(file.bytes);
    free(body.bytes);
    return t;
}

static tok *load_ok(const vocab_spec *spec)
{
    char err[256] = "";
    dsvk_status st;
    tok *t = load_spec(spec, &st, err, sizeof err);
    CHECK(st == DSVK_OK && t, "synthetic vocabulary: %s", err);
    return t;
}

/* Encodes text and compares with the expected ids (-1 terminated). */
static void expect_ids(const tok *t, const char *text, bool parse_special,
                       const int32_t *want, const char *why)
{
    size_t n_want = 0;
    while (want[n_want] >= 0)
        n_want++;
    tok_ids got = {0};
    char err[256] = "";
    dsvk_status st = tok_encode(t, text, strlen(text), false, parse_special,
                                &got, err, sizeof err);
    bool same = st == DSVK_OK && got.count == n_want &&
                memcmp(got.ids, want, n_want * sizeof *want) == 0;
    CHECK(same, "%s: '%s' gave %zu ids (%d %d %d ...), want %zu (%s)", why,
          text, got.count, got.count > 0 ? got.ids[0] : -1,
          got.count > 1 ? got.ids[1] : -1, got.count > 2 ? got.ids[2] : -1,
          n_want, st ? err : "ok");
    tok_ids_free(&got);
}

#define IDS(...) ((const int32_t[]){__VA_ARGS__, -1})

static void test_merge_order(void)
{
    /* Lower rank merges first, whatever its position. */
    vocab_spec spec = {
        "gpt2", "deepseek-v3", {"bb", "ab"}, {0}, {"b b", "a b"}, 0, -1};
    tok *t = load_ok(&spec);
    if (t)
        expect_ids(t, "abb", false, IDS('a', 256), "rank 0 merge 'b b'");
    tok_free(t);

    vocab_spec swapped = {
        "gpt2", "deepseek-v3", {"bb", "ab"}, {0}, {"a b", "b b"}, 0, -1};
    t = load_ok(&swapped);
    if (t)
        expect_ids(t, "abb", false, IDS(257, 'b'), "rank 0 merge 'a b'");
    tok_free(t);

    /* Equal ranks (the same pair twice): the leftmost merges first. */
    vocab_spec tie = {"gpt2", "deepseek-v3", {"aa"}, {0}, {"a a"}, 0, -1};
    t = load_ok(&tie);
    if (t) {
        expect_ids(t, "aaa", false, IDS(256, 'a'), "leftmost first");
        expect_ids(t, "aaaa", false, IDS(256, 256), "pairs");
    }
    tok_free(t);

    /* Merges chain through merged tokens; a merge whose result is not a
     * token is ignored. */
    vocab_spec chain = {"gpt2", "deepseek-v3",          {"ab", "abc"},
                        {0},    {"x y", "a b", "ab c"}, 0,
                        -1};
    t = load_ok(&chain);
    if (t) {
        expect_ids(t, "abc", false, IDS(257), "chained merges");
        expect_ids(t, "xy", false, IDS('x', 'y'), "merge without result");
    }
    tok_free(t);
}

static void test_special_matching(void)
{
    /* 4 = user-defined (always matched), 3 = control (parse_special). */
    vocab_spec spec = {"gpt2",
                       "deepseek-v3",
                       {"ab", "bcd", "<c>", "xbc", "aa"},
                       {4, 4, 3, 4, 4},
                       {"x x"},
                       0,
                       -1};
    tok *t = load_ok(&spec);
    if (!t)
        return;
    /* llama.cpp tries longer special texts first over the whole text; a
     * left-to-right longest match would give "ab" + "c" + "d". */
    expect_ids(t, "abcd", false, IDS('a', 257), "longer first");
    /* Equal lengths: the lower id wins ("bcd" 257 before "xbc" 259), even
     * when the other starts further left. */
    expect_ids(t, "xbcd", false, IDS('x', 257), "equal length tie");
    /* One token's occurrences do not overlap: left to right. */
    expect_ids(t, "aaa", false, IDS(260, 'a'), "non-overlapping");
    /* Control tokens only with parse_special. */
    expect_ids(t, "x<c>y", true, IDS('x', 258, 'y'), "control parsed");
    expect_ids(t, "x<c>y", false, IDS('x', '<', 'c', '>', 'y'),
               "control as text");
    /* Decoding renders control tokens only on request; user-defined
     * tokens always. */
    int32_t ids[] = {'x', 258, 257};
    char out[16];
    size_t len;
    char err[128];
    tok_decode(t, ids, 3, true, out, sizeof out, &len, err, sizeof err);
    CHECK(len == 7 && memcmp(out, "x<c>bcd", 7) == 0, "rendered: %.*s",
          (int)len, out);
    tok_decode(t, ids, 3, false, out, sizeof out, &len, err, sizeof err);
    CHECK(len == 4 && memcmp(out, "xbcd", 4) == 0, "not rendered: %.*s",
          (int)len, out);
    tok_free(t);
}

static void expect_load_error(const vocab_spec *spec, dsvk_status want,
                              const char *needle)
{
    char err[256] = "";
    dsvk_status st;
    tok *t = load_spec(spec, &st, err, sizeof err);
    CHECK(!t && st == want && strstr(err, needle),
          "want status %d and an error about '%s', got %d: %s", want, needle,
          st, err);
    CHECK(!strchr(err, '\n'), "error is one line: %s", err);
    tok_free(t);
}

static void test_load_errors(void)
{
    vocab_spec no_model = {NULL, "deepseek-v3", {0}, {0}, {"a b"}, 0, -1};
    expect_load_error(&no_model, DSVK_ERROR_BAD_FILE, "tokenizer.ggml.model");
    vocab_spec spm = {"llama", "deepseek-v3", {0}, {0}, {"a b"}, 0, -1};
    expect_load_error(&spm, DSVK_ERROR_BAD_MODEL, "'llama'");
    vocab_spec qwen = {"gpt2", "qwen2", {0}, {0}, {"a b"}, 0, -1};
    expect_load_error(&qwen, DSVK_ERROR_BAD_MODEL, "'qwen2'");
    vocab_spec no_pre = {"gpt2", NULL, {0}, {0}, {"a b"}, 0, -1};
    expect_load_error(&no_pre, DSVK_ERROR_BAD_MODEL, "tokenizer.ggml.pre");
    vocab_spec no_merges = {"gpt2", "deepseek-v3", {0}, {0}, {0}, 0, -1};
    expect_load_error(&no_merges, DSVK_ERROR_BAD_FILE, "tokenizer.ggml.merges");
    vocab_spec dup = {"gpt2", "deepseek-v3", {"ab", "ab"}, {0}, {"a b"}, 0, -1};
    expect_load_error(&dup, DSVK_ERROR_BAD_FILE, "duplicate token 'ab'");
    vocab_spec bad_bos = {"gpt2", "deepseek-v3", {0}, {0}, {"a b"}, 0, 9999};
    expect_load_error(&bad_bos, DSVK_ERROR_BAD_FILE, "bos_token_id 9999");
    vocab_spec short_types = {"gpt2", "deepseek-v3", {0}, {0}, {"a b"}, 5, -1};
    expect_load_error(&short_types, DSVK_ERROR_BAD_FILE, "token_type");

    /* No BOS in the file: asking for one is an error, not a guess. */
    vocab_spec plain = {"gpt2", "deepseek-v3", {0}, {0}, {"a b"}, 0, -1};
    tok *t = load_ok(&plain);
    if (t) {
        tok_ids ids = {0};
        char err[256] = "";
        CHECK(tok_bos(t) == TOK_NONE, "no bos expected");
        CHECK(tok_encode(t, "a", 1, true, false, &ids, err, sizeof err) ==
                      DSVK_ERROR_INVALID_ARGUMENT &&
                  ids.count == 0,
              "BOS without a BOS token must fail cleanly");
        tok_ids_free(&ids);
    }
    tok_free(t);
}

int main(void)
{
    test_merge_order();
    test_special_matching();
    test_load_errors();
    return test_finish("test_tokenizer_rules");
}
