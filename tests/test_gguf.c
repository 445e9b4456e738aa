/* GGUF reader on real files: every fixture opens, and known values read
 * back through every getter. The fixtures were written by llama.cpp's own
 * gguf-py, so agreeing with them means agreeing with llama.cpp. */
#include "gguf/gguf.h"
#include "shared.h"
#include "testlib.h"

#include <math.h>
#include <string.h>

static const char *const fixtures[] = {
    "models/tiny-v2.gguf",
    "models/tiny-v2-legacy.gguf",
    "models/tiny-v2-q8.gguf",
    "models/tiny-v2-q4_0.gguf",
    "models/tiny-v2-q4_k_m.gguf",
    "models/tiny-v3.gguf",
    "models/tiny-v3-q6_k.gguf",
    "tokenizer/ggml-vocab-deepseek-coder.gguf",
    "tokenizer/ggml-vocab-deepseek-llm.gguf",
    "tokenizer/ggml-vocab-deepseek-v3.gguf",
};

static gguf_file *open_fixture(const char *name)
{
    char err[512] = "";
    gguf_file *f = NULL;
    dsvk_status status = gguf_open(test_fixture(name), &f, err, sizeof err);
    CHECK(status == DSVK_OK && f, "%s: %s", name, err);
    return f;
}

/* Every tensor's data lies aligned inside the file, and sizes agree with
 * the shape and type. */
static void check_tensor_layout(const char *name, const gguf_file *f)
{
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        uint64_t rows = t->n_elements / t->ne[0];
        CHECK(t->file_offset % 32 == 0, "%s tensor %llu offset %llu", name,
              (unsigned long long)i, (unsigned long long)t->file_offset);
        CHECK(t->n_bytes == rows * gguf_row_bytes(t->type, t->ne[0]),
              "%s tensor %llu size", name, (unsigned long long)i);
        CHECK(gguf_find_tensor(f, "") == NULL, "%s empty name", name);
        char tensor_name[256];
        snprintf(tensor_name, sizeof tensor_name, "%.*s", (int)t->name.len,
                 t->name.data);
        CHECK(gguf_find_tensor(f, tensor_name) == t, "%s find %s", name,
              tensor_name);
    }
}

static void test_all_fixtures_open(void)
{
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        gguf_file *f = open_fixture(fixtures[i]);
        if (!f)
            continue;
        CHECK(gguf_version(f) == 3, "%s version %u", fixtures[i],
              gguf_version(f));
        check_tensor_layout(fixtures[i], f);
        for (uint64_t k = 0; k < gguf_kv_count(f); k++) {
            const gguf_kv *kv = gguf_kv_at(f, k);
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)kv->key.len, kv->key.data);
            CHECK(gguf_find_kv(f, key) == kv, "%s find %s", fixtures[i], key);
        }
        gguf_close(f);
    }
}

static void test_tiny_v2_values(void)
{
    gguf_file *f = open_fixture("models/tiny-v2.gguf");
    if (!f)
        return;
    gguf_str arch;
    CHECK(gguf_get_str(f, "general.architecture", &arch) &&
              gguf_str_eq(arch, "deepseek2"),
          "general.architecture");
    uint32_t u32 = 0;
    CHECK(gguf_get_u32(f, "deepseek2.block_count", &u32) && u32 == 3,
          "block_count %u", u32);
    uint64_t u64 = 0;
    CHECK(gguf_get_u64(f, "deepseek2.attention.kv_lora_rank", &u64) &&
              u64 == 32,
          "kv_lora_rank %llu", (unsigned long long)u64);
    float eps = 0;
    CHECK(gguf_get_f32(f, "deepseek2.attention.layer_norm_rms_epsilon", &eps) &&
              eps == 1e-6f,
          "rms eps %g", eps);
    bool add_bos = false;
    CHECK(gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &add_bos) && add_bos,
          "add_bos_token");
    /* Getters refuse incompatible types and absent keys. */
    CHECK(!gguf_get_u32(f, "general.architecture", &u32), "str as u32");
    CHECK(!gguf_get_str(f, "deepseek2.block_count", &arch), "u32 as str");
    CHECK(!gguf_get_f32(f, "deepseek2.block_count", &eps), "u32 as f32");
    CHECK(!gguf_get_bool(f, "deepseek2.block_count", &add_bos), "u32 as bool");
    CHECK(!gguf_get_u32(f, "deepseek2.no_such_key", &u32), "absent key");
    CHECK(gguf_find_kv(f, "deepseek2.block_coun") == NULL, "prefix match");

    CHECK(gguf_tensor_count(f) == 44, "tensor count %llu",
          (unsigned long long)gguf_tensor_count(f));
    const gguf_tensor *embd = gguf_find_tensor(f, "token_embd.weight");
    CHECK(embd && embd->type == DSVK_TYPE_F32 && embd->n_dims == 2 &&
              embd->ne[0] == 64 && embd->ne[1] == 512 && embd->ne[2] == 1 &&
              embd->n_bytes == 64 * 512 * 4,
          "token_embd.weight");
    const gguf_tensor *k_b = gguf_find_tensor(f, "blk.2.attn_k_b.weight");
    CHECK(k_b && k_b->n_dims == 3 && k_b->ne[0] == 16 && k_b->ne[1] == 32 &&
              k_b->ne[2] == 4,
          "attn_k_b shape");
    CHECK(gguf_find_tensor(f, "blk.3.attn_k_b.weight") == NULL, "absent");
    CHECK(gguf_tensor_at(f, 44) == NULL && gguf_kv_at(f, 40) == NULL,
          "index past the end");
    /* Norm weights were written near 1: a sanity check that the data
     * pointer is the tensor's, not its neighbour's. */
    const gguf_tensor *norm = gguf_find_tensor(f, "output_norm.weight");
    if (norm) {
        float first;
        memcpy(&first, norm->data, sizeof first);
        CHECK(fabsf(first - 1.0f) < 0.5f, "output_norm[0] = %g", first);
    }
    gguf_close(f);
}

static void test_vocab_v3_values(void)
{
    gguf_file *f = open_fixture("tokenizer/ggml-vocab-deepseek-v3.gguf");
    if (!f)
        return;
    CHECK(gguf_tensor_count(f) == 0, "tensors");
    const gguf_kv *tokens = gguf_find_kv(f, "tokenizer.ggml.tokens");
    CHECK(tokens && tokens->type == GGUF_TYPE_ARRAY &&
              tokens->v.arr.type == GGUF_TYPE_STRING &&
              tokens->v.arr.count == 129280,
          "token count");
    CHECK(gguf_str_eq(gguf_array_str(tokens, 0),
                      "<\xef\xbd\x9c"
                      "begin\xe2\x96\x81of\xe2\x96\x81"
                      "sentence\xef\xbd\x9c>"),
          "token 0");
    CHECK(gguf_array_str(tokens, 129280).data == NULL, "past the end");
    const gguf_kv *types = gguf_find_kv(f, "tokenizer.ggml.token_type");
    int64_t type = 0;
    CHECK(gguf_array_int(types, 0, &type) && type == 3, "token 0 CONTROL");
    CHECK(!gguf_array_int(types, 129280, &type), "type past the end");
    CHECK(gguf_array_str(types, 0).data == NULL, "int array as strings");
    float score;
    CHECK(!gguf_array_f32(types, 0, &score), "int array as floats");
    uint32_t bos = 99;
    CHECK(gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &bos) && bos == 0,
          "bos %u", bos);
    gguf_close(f);
}

static void test_type_table(void)
{
    uint32_t elements = 0, bytes = 0;
    CHECK(gguf_type_block(DSVK_TYPE_Q6_K, &elements, &bytes) &&
              elements == 256 && bytes == 210,
          "Q6_K block");
    CHECK(gguf_row_bytes(DSVK_TYPE_Q8_0, 64) == 68, "Q8_0 row");
    CHECK(gguf_row_bytes(DSVK_TYPE_Q4_K, 512) == 288, "Q4_K row");
    CHECK(gguf_row_bytes(DSVK_TYPE_Q4_K, 100) == 0, "partial block");
    CHECK(gguf_row_bytes(DSVK_TYPE_BF16, 3) == 6, "BF16 row");
    CHECK(gguf_row_bytes(4, 32) == 0, "retired Q4_2");
    CHECK(gguf_row_bytes(1000, 32) == 0, "out of table");
    CHECK(gguf_row_bytes(DSVK_TYPE_F32, UINT64_MAX / 2) == 0, "overflow");
    CHECK(strcmp(gguf_type_name(DSVK_TYPE_Q5_K), "Q5_K") == 0, "name");
    CHECK(strcmp(gguf_type_name(5), "unknown") == 0, "unknown name");
}

/* A hand-built file with the value types the fixtures lack. */
typedef struct byte_writer {
    uint8_t bytes[512];
    size_t size;
} byte_writer;

static void put(byte_writer *w, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        w->bytes[w->size++] = (uint8_t)(v >> (8 * i));
}

static void put_key(byte_writer *w, const char *key, uint32_t type)
{
    put(w, strlen(key), 8);
    memcpy(w->bytes + w->size, key, strlen(key));
    w->size += strlen(key);
    put(w, type, 4);
}

static void test_value_types(void)
{
    byte_writer w = {.size = 0};
    put(&w, 0x46554747, 4); /* "GGUF" */
    put(&w, 2, 4);          /* version 2 reads like 3 */
    put(&w, 0, 8);          /* tensors */
    put(&w, 6, 8);          /* key/values */
    put_key(&w, "neg", GGUF_TYPE_INT32);
    put(&w, (uint32_t)-5, 4);
    put_key(&w, "big", GGUF_TYPE_UINT64);
    put(&w, 1ull << 40, 8);
    put_key(&w, "half", GGUF_TYPE_FLOAT64);
    put(&w, 0x3fe0000000000000ull, 8); /* 0.5 */
    put_key(&w, "floats", GGUF_TYPE_ARRAY);
    put(&w, GGUF_TYPE_FLOAT32, 4);
    put(&w, 2, 8);
    put(&w, 0x3f800000, 4); /* 1.0 */
    put(&w, 0xc0000000, 4); /* -2.0 */
    put_key(&w, "int8s", GGUF_TYPE_ARRAY);
    put(&w, GGUF_TYPE_INT8, 4);
    put(&w, 1, 8);
    put(&w, 0xff, 1); /* -1 */
    put_key(&w, "u64s", GGUF_TYPE_ARRAY);
    put(&w, GGUF_TYPE_UINT64, 4);
    put(&w, 1, 8);
    put(&w, UINT64_MAX, 8);

    char err[256] = "";
    gguf_file *f = NULL;
    CHECK(gguf_open_memory(w.bytes, w.size, &f, err, sizeof err) == DSVK_OK,
          "%s", err);
    if (!f)
        return;
    uint32_t u32 = 7;
    uint64_t u64 = 0;
    float f32 = 0;
    int64_t i64 = 0;
    CHECK(gguf_version(f) == 2, "version");
    CHECK(!gguf_get_u32(f, "neg", &u32) && u32 == 7, "negative as u32");
    CHECK(!gguf_get_u32(f, "big", &u32), "2^40 as u32");
    CHECK(gguf_get_u64(f, "big", &u64) && u64 == 1ull << 40, "u64");
    CHECK(gguf_get_f32(f, "half", &f32) && f32 == 0.5f, "f64 as f32");
    const gguf_kv *floats = gguf_find_kv(f, "floats");
    CHECK(gguf_array_f32(floats, 1, &f32) && f32 == -2.0f, "f32 array");
    CHECK(!gguf_array_int(floats, 0, &i64), "floats as ints");
    CHECK(gguf_array_int(gguf_find_kv(f, "int8s"), 0, &i64) && i64 == -1,
          "int8 array");
    CHECK(!gguf_array_int(gguf_find_kv(f, "u64s"), 0, &i64),
          "u64 above INT64_MAX");
    gguf_close(f);
}

static void test_open_errors(void)
{
    char err[512] = "";
    gguf_file *f = (gguf_file *)&err; /* must be reset to NULL */
    dsvk_status status =
        gguf_open(test_fixture("models/no-such.gguf"), &f, err, sizeof err);
    CHECK(status == DSVK_ERROR_IO && f == NULL, "status %d", status);
    CHECK(strstr(err, "no-such.gguf: cannot open") != NULL, "%s", err);
    status = gguf_open(test_fixture("models"), &f, err, sizeof err);
    CHECK(status != DSVK_OK && f == NULL, "directory opened");
    gguf_close(NULL);
}

int main(void)
{
    test_all_fixtures_open();
    test_tiny_v2_values();
    test_vocab_v3_values();
    test_type_table();
    test_value_types();
    test_open_errors();
    return test_finish("gguf");
}
