/* Fuzz target: a GGUF file from an untrusted source, the input the whole
 * program starts from. Opens it with gguf_open_memory and, when it opens,
 * reads everything the reader hands out (every key, value, array element,
 * tensor and its data range) and checks the reader's promises about them;
 * then gives the file to the three consumers of its metadata: model_load,
 * tok_load and chat_template_for_model (plus a short encode, decode and
 * chat rendering when they succeed, to run the tokenizer on strange
 * vocabularies). ASan reports any pointer that escapes the input. */
#include "fuzz.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "text/chat.h"
#include "text/tokenizer.h"

#include <string.h>

/* Loads that only feed this variable cannot be optimised away. */
static volatile uint8_t sink;

/* Reads the first and last byte of a range the reader returned: both in
 * the input means all of it is. */
static void touch(const void *p, uint64_t n)
{
    if (n > 0) {
        const volatile uint8_t *b = p;
        sink ^= b[0] ^ b[n - 1];
    }
}

/* s as a C string in buf; false when it does not fit or holds a NUL (the
 * lookups take C strings, so such names cannot be looked up). */
static bool c_string(gguf_str s, char *buf, size_t size)
{
    if (s.len >= size)
        return false;
    for (uint64_t i = 0; i < s.len; i++)
        if ((buf[i] = s.data[i]) == '\0')
            return false;
    buf[s.len] = '\0';
    return true;
}

static void walk_array(const gguf_kv *kv)
{
    uint64_t n = kv->v.arr.count;
    for (uint64_t i = 0; i < n; i++) {
        if (kv->v.arr.type == GGUF_TYPE_STRING) {
            gguf_str s = gguf_array_str(kv, i);
            touch(s.data, s.len);
        } else {
            int64_t iv;
            float fv;
            sink ^= (uint8_t)gguf_array_int(kv, i, &iv);
            sink ^= (uint8_t)gguf_array_f32(kv, i, &fv);
        }
    }
    /* One past the end is "no such element". */
    FUZZ_CHECK(gguf_array_str(kv, n).data == NULL);
    int64_t iv;
    float fv;
    FUZZ_CHECK(!gguf_array_int(kv, n, &iv) && !gguf_array_f32(kv, n, &fv));
}

static void walk_kvs(const gguf_file *f)
{
    char key[512];
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        FUZZ_CHECK(kv != NULL);
        touch(kv->key.data, kv->key.len);
        if (kv->type == GGUF_TYPE_STRING)
            touch(kv->v.str.data, kv->v.str.len);
        else if (kv->type == GGUF_TYPE_ARRAY)
            walk_array(kv);
        if (!c_string(kv->key, key, sizeof key))
            continue;
        const gguf_kv *found = gguf_find_kv(f, key);
        FUZZ_CHECK(found != NULL && gguf_str_eq(found->key, key));
        uint32_t u32;
        uint64_t u64;
        float f32;
        bool b;
        gguf_str s;
        sink ^=
            (uint8_t)(gguf_get_u32(f, key, &u32) ^ gguf_get_u64(f, key, &u64) ^
                      gguf_get_f32(f, key, &f32) ^ gguf_get_bool(f, key, &b) ^
                      gguf_get_str(f, key, &s));
    }
    FUZZ_CHECK(gguf_kv_at(f, gguf_kv_count(f)) == NULL);
}

static void walk_tensors(const gguf_file *f, const uint8_t *data, size_t size)
{
    char name[512];
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        FUZZ_CHECK(t != NULL);
        touch(t->name.data, t->name.len);
        FUZZ_CHECK(t->n_dims >= 1 && t->n_dims <= GGUF_MAX_DIMS);
        uint64_t elements = 1;
        for (uint32_t d = 0; d < t->n_dims; d++)
            elements *= t->ne[d];
        FUZZ_CHECK(elements == t->n_elements);
        /* The data range lies in the input, where file_offset says. */
        FUZZ_CHECK(t->file_offset <= size &&
                   t->n_bytes <= size - t->file_offset);
        FUZZ_CHECK(t->data == data + t->file_offset);
        touch(t->data, t->n_bytes);
        sink ^= (uint8_t)gguf_type_name(t->type)[0];
        if (c_string(t->name, name, sizeof name)) {
            const gguf_tensor *found = gguf_find_tensor(f, name);
            FUZZ_CHECK(found != NULL && gguf_str_eq(found->name, name));
        }
    }
    FUZZ_CHECK(gguf_tensor_at(f, gguf_tensor_count(f)) == NULL);
}

/* A vocabulary from the file: encode and decode a text with every kind of
 * character, and render a conversation with the file's chat template. */
static void use_vocabulary(const gguf_file *f, const tok *t)
{
    static const char text[] = "Hello world! 123 你好 <｜User｜> \xff";
    tok_ids ids = {0};
    char err[256];
    if (tok_encode(t, text, sizeof text - 1, false, true, &ids, err,
                   sizeof err) == DSVK_OK) {
        char out[1024];
        size_t len;
        sink ^= (uint8_t)tok_decode(t, ids.ids, ids.count, true, out,
                                    sizeof out, &len, err, sizeof err);
    }
    tok_ids_free(&ids);

    chat_template tmpl;
    if (chat_template_for_model(f, t, NULL, &tmpl, err, sizeof err) ==
        DSVK_OK) {
        chat_message m[] = {{CHAT_ROLE_SYSTEM, "s"}, {CHAT_ROLE_USER, "u"}};
        chat_text rendered = {0};
        FUZZ_CHECK(chat_render(&tmpl, m, 2, 0, true, &rendered, err,
                               sizeof err) == DSVK_OK);
        chat_text_free(&rendered);
    }
}

/* The loaders' error contract: on failure no object and one non-empty
 * line in err (the CLI prints it as it is). */
static void check_failure(const void *object, const char *err)
{
    FUZZ_CHECK(object == NULL);
    FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gguf_file *f = NULL;
    char err[512] = "";
    if (gguf_open_memory(data, size, &f, err, sizeof err) != DSVK_OK) {
        check_failure(f, err);
        return 0;
    }
    sink ^= (uint8_t)gguf_version(f);
    walk_kvs(f);
    walk_tensors(f, data, size);

    model *m = NULL;
    err[0] = '\0';
    if (model_load(f, &m, err, sizeof err) == DSVK_OK)
        FUZZ_CHECK(m != NULL);
    else
        check_failure(m, err);
    model_free(m);

    tok *t = NULL;
    err[0] = '\0';
    if (tok_load(f, &t, err, sizeof err) == DSVK_OK)
        use_vocabulary(f, t);
    else
        check_failure(t, err);
    tok_free(t);
    gguf_close(f);
    return 0;
}
