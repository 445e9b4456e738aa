/* GGUF reader on hostile input: each case takes a valid fixture, breaks one
 * field (located through the parsed original) and checks for a clean error
 * naming the precise problem. Every candidate is opened from an
 * exactly-sized heap copy, so under ASan any read past the end is caught. */
#include "gguf/gguf.h"
#include "shared.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    uint8_t *bytes;
    size_t size;
    gguf_file *parsed; /* the unmodified file, to find fields */
} fixture;

static bool load(const char *name, fixture *fx)
{
    char err[512] = "";
    fx->bytes = (uint8_t *)test_read_file(test_fixture(name), &fx->size);
    fx->parsed = NULL;
    if (fx->bytes)
        gguf_open_memory(fx->bytes, fx->size, &fx->parsed, err, sizeof err);
    CHECK(fx->parsed, "cannot load %s: %s", name, err);
    return fx->parsed != NULL;
}

static void unload(fixture *fx)
{
    gguf_close(fx->parsed);
    free(fx->bytes);
}

static size_t offset_of(const fixture *fx, const void *p)
{
    return (size_t)((const uint8_t *)p - fx->bytes);
}

static void store_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Opens bytes[0..size) from a fresh copy. Returns the status; err holds the
 * message. A successful open is closed again at once. */
static dsvk_status open_copy(const uint8_t *bytes, size_t size, char *err,
                             size_t err_size)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, bytes, size);
    gguf_file *f = NULL;
    err[0] = 0;
    dsvk_status status = gguf_open_memory(copy, size, &f, err, err_size);
    CHECK((status == DSVK_OK) == (f != NULL), "status %d with file %p", status,
          (void *)f);
    if (f) {
        /* Whatever was accepted must lie inside the buffer. */
        for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
            const gguf_tensor *t = gguf_tensor_at(f, i);
            CHECK(t->data >= copy && t->n_bytes <= size &&
                      (size_t)(t->data - copy) <= size - t->n_bytes,
                  "tensor %llu outside the buffer", (unsigned long long)i);
        }
    }
    gguf_close(f);
    free(copy);
    return status;
}

static void expect_error_in(const uint8_t *bytes, size_t size,
                            const char *expected, const char *label)
{
    char err[512];
    dsvk_status status = open_copy(bytes, size, err, sizeof err);
    CHECK(status == DSVK_ERROR_BAD_FILE, "%s: status %d", label, status);
    CHECK(strstr(err, expected) != NULL, "%s: expected '%s' in '%s'", label,
          expected, err);
    CHECK(strncmp(err, "<memory>: ", 10) == 0 && !strchr(err, '\n'),
          "%s: not one line naming the file: '%s'", label, err);
}

/* Copies the fixture, stores `value` (n bytes) at `offset`, expects an
 * error containing `expected`. */
static void expect_patch_error(const fixture *fx, size_t offset, uint64_t value,
                               unsigned n, const char *expected)
{
    uint8_t *copy = malloc(fx->size);
    memcpy(copy, fx->bytes, fx->size);
    store_le(copy + offset, value, n);
    expect_error_in(copy, fx->size, expected, expected);
    free(copy);
}

static void expect_rename_error(const fixture *fx, gguf_str name,
                                const char *new_name, const char *expected)
{
    CHECK(name.len == strlen(new_name), "rename must keep the length");
    uint8_t *copy = malloc(fx->size);
    memcpy(copy, fx->bytes, fx->size);
    memcpy(copy + offset_of(fx, name.data), new_name, name.len);
    expect_error_in(copy, fx->size, expected, expected);
    free(copy);
}

static uint64_t kv_index(const fixture *fx, const char *key)
{
    const gguf_kv *kv = gguf_find_kv(fx->parsed, key);
    return kv ? (uint64_t)(kv - gguf_kv_at(fx->parsed, 0)) : 0;
}

/* Offsets of a tensor info's fields, which follow its name. */
static size_t tensor_dims_at(const fixture *fx, const gguf_tensor *t)
{
    return offset_of(fx, t->name.data) + t->name.len;
}
static size_t tensor_type_at(const fixture *fx, const gguf_tensor *t)
{
    return tensor_dims_at(fx, t) + 4 + 8 * t->n_dims;
}

static void test_header(const fixture *fx)
{
    expect_patch_error(fx, 0, 'X', 1, "not a GGUF file (bad magic");
    expect_patch_error(fx, 4, 1, 4, "GGUF version 1 is not supported");
    expect_patch_error(fx, 4, 99, 4, "unsupported GGUF version 99");
    expect_patch_error(fx, 4, 0x03000000, 4, "big-endian");
    expect_patch_error(fx, 8, 1ull << 40, 8,
                       "header claims 40 key/values "
                       "and 1099511627776 tensors, more "
                       "than");
    expect_patch_error(fx, 16, UINT64_MAX, 8, "more than the");
    expect_error_in(fx->bytes, 0, "truncated in header", "empty");
    expect_error_in(fx->bytes, 20, "truncated in header", "short header");
}

static void test_key_values(const fixture *fx)
{
    const gguf_kv *arch = gguf_find_kv(fx->parsed, "general.architecture");
    const gguf_kv *tokens = gguf_find_kv(fx->parsed, "tokenizer.ggml.tokens");
    const gguf_kv *types =
        gguf_find_kv(fx->parsed, "tokenizer.ggml.token_type");
    const gguf_kv *merges = gguf_find_kv(fx->parsed, "tokenizer.ggml.merges");
    if (!arch || !tokens || !types || !merges) {
        CHECK(false, "fixture lacks the keys these cases patch");
        return;
    }
    char expected[256];

    expect_patch_error(fx, 24, UINT64_MAX - 3, 8,
                       "truncated in key/value 0 key: needs "
                       "18446744073709551612 bytes");
    expect_patch_error(fx, offset_of(fx, arch->v.str.data) - 8, 1ull << 50, 8,
                       "truncated in key/value 0 ('general.architecture') "
                       "value");
    expect_patch_error(fx, offset_of(fx, arch->key.data) + arch->key.len, 13, 4,
                       "key/value 0 ('general.architecture') has unknown "
                       "value type 13");

    /* Array headers: element type 4 bytes, then count 8 bytes. */
    size_t tokens_count = offset_of(fx, tokens->v.arr.data) - 8;
    snprintf(expected, sizeof expected,
             "truncated in key/value %llu ('tokenizer.ggml.tokens') array of "
             "2305843009213693952 strings",
             (unsigned long long)kv_index(fx, "tokenizer.ggml.tokens"));
    expect_patch_error(fx, tokens_count, 1ull << 61, 8, expected);
    size_t types_count = offset_of(fx, types->v.arr.data) - 8;
    expect_patch_error(fx, types_count, UINT64_MAX / 2, 8,
                       "array of 9223372036854775807 elements");
    expect_patch_error(fx, types_count - 4, GGUF_TYPE_ARRAY, 4,
                       "('tokenizer.ggml.token_type') is an array of arrays");
    expect_patch_error(fx, types_count - 4, 13, 4,
                       "is an array of unknown value type 13");

    /* A file cut inside a string array names the element. (Cut early, the
     * count check - the strings could not fit - speaks first.) */
    uint64_t last = merges->v.arr.count - 1;
    gguf_str element = gguf_array_str(merges, last);
    snprintf(expected, sizeof expected,
             "truncated in key/value %llu ('tokenizer.ggml.merges') string "
             "array element %llu",
             (unsigned long long)kv_index(fx, "tokenizer.ggml.merges"),
             (unsigned long long)last);
    expect_error_in(fx->bytes, offset_of(fx, element.data) + 1, expected,
                    "cut in merges");
    snprintf(expected, sizeof expected,
             "('tokenizer.ggml.merges') array of %llu strings: needs",
             (unsigned long long)merges->v.arr.count);
    expect_error_in(fx->bytes, offset_of(fx, merges->v.arr.data) + 100,
                    expected, "cut early in merges");

    const gguf_kv *bos =
        gguf_find_kv(fx->parsed, "tokenizer.ggml.add_bos_token");
    if (bos)
        expect_rename_error(fx, bos->key, "tokenizer.ggml.add_eos_token",
                            "duplicate key 'tokenizer.ggml.add_eos_token'");
    expect_patch_error(fx, offset_of(fx, arch->key.data) + 3, 0, 1,
                       "the key holds a NUL byte");
}

/* general.file_type has the same length as general.alignment, so renaming
 * it adds an alignment key without moving anything. */
static void test_alignment(const fixture *fx)
{
    const gguf_kv *file_type = gguf_find_kv(fx->parsed, "general.file_type");
    if (!file_type || file_type->type != GGUF_TYPE_UINT32) {
        CHECK(false, "fixture lacks a u32 general.file_type");
        return;
    }
    size_t value_at =
        offset_of(fx, file_type->key.data) + file_type->key.len + 4;
    static const uint32_t alignments[] = {0, 48, 32};
    for (size_t i = 0; i < 3; i++) {
        uint8_t *copy = malloc(fx->size);
        memcpy(copy, fx->bytes, fx->size);
        memcpy(copy + offset_of(fx, file_type->key.data), "general.alignment",
               17);
        store_le(copy + value_at, alignments[i], 4);
        char err[512];
        dsvk_status status = open_copy(copy, fx->size, err, sizeof err);
        if (alignments[i] == 32) {
            CHECK(status == DSVK_OK, "explicit alignment 32: %s", err);
        } else {
            char expected[64];
            snprintf(expected, sizeof expected,
                     "general.alignment %u is not a power of two",
                     alignments[i]);
            CHECK(status == DSVK_ERROR_BAD_FILE && strstr(err, expected),
                  "expected '%s' in '%s'", expected, err);
        }
        free(copy);
    }
}

static void test_tensor_infos(const fixture *fx)
{
    const gguf_tensor *embd = gguf_find_tensor(fx->parsed, "token_embd.weight");
    const gguf_tensor *norm =
        gguf_find_tensor(fx->parsed, "blk.1.attn_norm.weight");
    if (!embd || !norm || embd->n_dims != 2) {
        CHECK(false, "fixture lacks the tensors these cases patch");
        return;
    }
    size_t dims = tensor_dims_at(fx, embd), type = tensor_type_at(fx, embd);
    size_t offset = type + 4;
    uint64_t relative = load_le(fx->bytes + offset, 8);

    expect_patch_error(fx, dims, 0, 4,
                       "tensor 0 ('token_embd.weight') has 0 dimensions "
                       "(must be 1 to 4)");
    expect_patch_error(fx, dims, 5, 4, "has 5 dimensions (must be 1 to 4)");
    expect_patch_error(fx, dims + 12, 0, 8, "dimension 1 is 0");
    expect_patch_error(fx, dims + 12, 1ull << 62, 8,
                       "('token_embd.weight') element count overflows");
    expect_patch_error(fx, dims + 12, 1ull << 40, 8,
                       "tensor 0 ('token_embd.weight') data (offset 0, "
                       "281474976710656 bytes) runs past the end of the file");
    expect_patch_error(fx, type, 4, 4,
                       "('token_embd.weight') has unknown "
                       "type 4");
    expect_patch_error(fx, type, 1000, 4, "has unknown type 1000");
    expect_patch_error(fx, offset, relative + 4, 8,
                       "data offset 4 is not a multiple of the alignment 32");
    expect_patch_error(fx, offset, relative + (1ull << 40), 8,
                       "runs past the end of the file");
    expect_patch_error(fx, offset, UINT64_MAX - 31, 8,
                       "runs past the end of the file");
    expect_rename_error(fx, norm->name, "blk.0.attn_norm.weight",
                        "duplicate tensor name 'blk.0.attn_norm.weight'");
    expect_patch_error(fx, offset_of(fx, norm->name.data) + 2, 0, 1,
                       "the name holds a NUL byte");
}

static void test_block_size(const fixture *q8)
{
    for (uint64_t i = 0; i < gguf_tensor_count(q8->parsed); i++) {
        const gguf_tensor *t = gguf_tensor_at(q8->parsed, i);
        if (t->type != DSVK_TYPE_Q8_0)
            continue;
        expect_patch_error(q8, tensor_dims_at(q8, t) + 4, 48, 8,
                           "row length 48 is not a multiple of the Q8_0 "
                           "block size 32");
        return;
    }
    CHECK(false, "no Q8_0 tensor in the q8 fixture");
}

/* Cuts the file at every byte before `every_byte_until` and every `step`
 * bytes after it. */
static void test_truncation(const fixture *fx, size_t every_byte_until,
                            size_t step)
{
    size_t cases = 0;
    for (size_t size = 0; size < fx->size;
         size += size < every_byte_until ? 1 : step) {
        char err[512];
        dsvk_status status = open_copy(fx->bytes, size, err, sizeof err);
        bool clean = status == DSVK_ERROR_BAD_FILE &&
                     (strstr(err, ": truncated in ") ||
                      strstr(err, "runs past the end of the file") ||
                      strstr(err, "more than the"));
        CHECK(clean, "cut at %zu: status %d '%s'", size, status, err);
        cases++;
    }
    char err[512];
    CHECK(open_copy(fx->bytes, fx->size - 1, err, sizeof err) != DSVK_OK,
          "last byte missing");
    CHECK(cases > 1000, "only %zu truncation cases", cases);
}

/* Random byte changes in the metadata: any outcome but a crash, a hang or
 * an accepted tensor outside the buffer is fine. */
static void test_random_damage(const fixture *fx)
{
    const gguf_tensor *first = gguf_tensor_at(fx->parsed, 0);
    size_t header_end = first ? (size_t)first->file_offset : fx->size;
    test_rng rng = test_rng_seed(7);
    uint8_t *copy = malloc(fx->size);
    for (int round = 0; round < 500; round++) {
        memcpy(copy, fx->bytes, fx->size);
        int changes = 1 + round % 4;
        for (int c = 0; c < changes; c++) {
            size_t at = (size_t)test_rng_uniform(&rng, 0, (float)header_end);
            copy[at < header_end ? at : 0] =
                (uint8_t)test_rng_uniform(&rng, 0, 256);
        }
        char err[512];
        open_copy(copy, fx->size, err, sizeof err);
    }
    free(copy);
}

int main(void)
{
    fixture v2, q8, vocab;
    if (load("models/tiny-v2.gguf", &v2)) {
        test_header(&v2);
        test_key_values(&v2);
        test_alignment(&v2);
        test_tensor_infos(&v2);
        /* Every byte of the metadata, and a little of the data. */
        const gguf_tensor *first = gguf_tensor_at(v2.parsed, 0);
        test_truncation(&v2, (size_t)first->file_offset + 64, 4999);
        test_random_damage(&v2);
        unload(&v2);
    }
    if (load("models/tiny-v2-q8.gguf", &q8)) {
        test_block_size(&q8);
        unload(&q8);
    }
    /* A big vocabulary: a cut anywhere in its 129280 tokens is caught. */
    if (load("tokenizer/ggml-vocab-deepseek-v3.gguf", &vocab)) {
        test_truncation(&vocab, 4096, 40009);
        unload(&vocab);
    }
    return test_finish("gguf_corrupt");
}
