/* dsvk_model_open and what a model says about itself (dsvk.h): every
 * fixture model opened on the host agrees with the same file loaded onto a
 * device and with host/gguf's own reading of it; vocab-only files in both
 * modes; metadata as text; bad files refused with a line naming them.
 *
 * Usage: test_api_inspect [--host-only]
 * --host-only leaves out the comparisons with a loaded model, which need a
 * device: api.cmake runs it so as a `host` test, which tools/test.sh
 * repeats under ASan+UBSan. */
#include "test_api_support.h"
#include "testlib.h"

#include "gguf/gguf.h"
#include "text/tokenizer.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_IDS 256

/* Control tokens, bytes of several lengths, a newline and a tab. */
static const char sample[] = "Hello world! <｜User｜>héllo 123\n\t😀 done";

/* dsvk_model_open with *out set beforehand, so that the checks see it
 * reset on failure. */
static dsvk_status open_model(const char *path, dsvk_open_mode mode,
                              dsvk_model **out, char *err, size_t err_size)
{
    static char sentinel;
    *out = (dsvk_model *)&sentinel;
    return dsvk_model_open(path, mode, out, err, err_size);
}

/* Opens a file that must open; NULL (a failed check) otherwise. */
static dsvk_model *must_open(const char *path, dsvk_open_mode mode)
{
    char err[512] = "";
    dsvk_model *model;
    dsvk_status status = open_model(path, mode, &model, err, sizeof err);
    CHECK(status == DSVK_OK && model, "open %s (mode %d): %s: %s", path,
          (int)mode, dsvk_status_string(status), err);
    return status == DSVK_OK ? model : NULL;
}

/* The ids of `text` with parse_special, and BOS where the model wants it;
 * their count, or 0 (a failed check) on failure. */
static size_t tokenize(const dsvk_model *model, const char *text,
                       dsvk_token ids[MAX_IDS])
{
    dsvk_model_info info;
    dsvk_model_get_info(model, &info);
    size_t n = 0;
    dsvk_status status = dsvk_tokenize(model, text, strlen(text), info.add_bos,
                                       true, ids, MAX_IDS, &n);
    CHECK(status == DSVK_OK && n > 0, "tokenize: %s: %s",
          dsvk_status_string(status), dsvk_model_error(model));
    return status == DSVK_OK ? n : 0;
}

static void check_same_ids(const char *what, const dsvk_model *a,
                           const dsvk_model *b, const char *text)
{
    dsvk_token ids_a[MAX_IDS], ids_b[MAX_IDS];
    const size_t n_a = tokenize(a, text, ids_a);
    const size_t n_b = tokenize(b, text, ids_b);
    CHECK(n_a == n_b && memcmp(ids_a, ids_b, n_a * sizeof ids_a[0]) == 0,
          "%s: %zu and %zu ids differ", what, n_a, n_b);
}

/* A session needs a device: refused with a detail that says why. */
static void check_no_session(const char *name, const dsvk_model *model)
{
    static char sentinel;
    dsvk_session *session = (dsvk_session *)&sentinel;
    dsvk_status status = dsvk_session_create(model, NULL, &session);
    CHECK(status == DSVK_ERROR_UNSUPPORTED && !session,
          "%s: session on an opened model: %s", name,
          dsvk_status_string(status));
    CHECK(strstr(dsvk_model_error(model), "dsvk_model_open"), "%s: error '%s'",
          name, dsvk_model_error(model));
}

/* Tensors and keys as host/gguf reads the file: count, names, types,
 * shapes, sizes, in file order. */
static void check_against_reader(const char *name, const char *path,
                                 const dsvk_model *model)
{
    char err[512] = "";
    gguf_file *f = NULL;
    CHECK(gguf_open(path, &f, err, sizeof err) == DSVK_OK, "%s", err);
    if (!f)
        return;
    dsvk_model_info info;
    dsvk_model_get_info(model, &info);
    CHECK(info.n_tensors == gguf_tensor_count(f) &&
              info.gguf_version == gguf_version(f),
          "%s: %u tensors in GGUF v%u, the reader says %llu in v%u", name,
          info.n_tensors, info.gguf_version,
          (unsigned long long)gguf_tensor_count(f), gguf_version(f));
    for (uint32_t i = 0; i < info.n_tensors; i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        dsvk_tensor_info out;
        CHECK(dsvk_model_tensor(model, i, &out) == DSVK_OK, "%s: tensor %u",
              name, i);
        bool same = t && gguf_str_eq(t->name, out.name) &&
                    strcmp(out.type, gguf_type_name(t->type)) == 0 &&
                    out.n_dims == t->n_dims &&
                    out.n_elements == t->n_elements &&
                    out.file_bytes == t->n_bytes;
        for (uint32_t d = 0; same && d < 4; d++)
            same = out.dims[d] == t->ne[d];
        CHECK(same, "%s: tensor %u ('%s') differs from the reader's", name, i,
              out.name);
    }
    dsvk_tensor_info past;
    CHECK(dsvk_model_tensor(model, info.n_tensors, &past) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              strstr(dsvk_model_error(model), "tensors"),
          "%s: tensor past the last: '%s'", name, dsvk_model_error(model));

    const uint32_t n_keys = dsvk_model_metadata_count(model);
    CHECK(n_keys == gguf_kv_count(f), "%s: %u keys, the reader says %llu", name,
          n_keys, (unsigned long long)gguf_kv_count(f));
    for (uint32_t i = 0; i < n_keys; i++) {
        const char *key = dsvk_model_metadata_key(model, i);
        const gguf_kv *kv = gguf_kv_at(f, i);
        CHECK(key && kv && gguf_str_eq(kv->key, key),
              "%s: key %u ('%s') differs from the reader's", name, i,
              key ? key : "(null)");
    }
    CHECK(dsvk_model_metadata_key(model, n_keys) == NULL, "%s: key past last",
          name);
    gguf_close(f);
}

/* A fixture model on the host: bound as a model, no device; read as a
 * tokenizer alone, its shape is 0 and its tokens the same. */
static void check_opened(dsvk_context *ctx, const char *name, const char *path)
{
    (void)ctx; /* none: nothing here needs a device */
    dsvk_model *model = must_open(path, DSVK_OPEN_MODEL);
    dsvk_model *vocab = must_open(path, DSVK_OPEN_VOCAB);
    if (!model || !vocab) {
        dsvk_model_destroy(model);
        dsvk_model_destroy(vocab);
        return;
    }
    dsvk_model_info info, vinfo;
    dsvk_model_get_info(model, &info);
    dsvk_model_get_info(vocab, &vinfo);
    CHECK(info.has_weights && !info.on_device && info.weight_bytes == 0 &&
              info.n_params > 0 && info.cache_bytes_per_token > 0 &&
              info.n_tensors > 0 && info.gguf_version == 3 &&
              info.rms_norm_eps > 0 && info.attention_scale > 0,
          "%s: opened as a model", name);
    CHECK(!vinfo.has_weights && !vinfo.on_device && vinfo.n_layer == 0 &&
              vinfo.n_embd == 0 && vinfo.n_params == 0 && vinfo.n_ctx == 0 &&
              vinfo.cache_bytes_per_token == 0 && !vinfo.kv_b_split &&
              vinfo.n_vocab == info.n_vocab &&
              vinfo.n_tensors == info.n_tensors &&
              dsvk_cache_bytes_per_token(vocab, DSVK_CACHE_F16) == 0,
          "%s: opened as a tokenizer", name);
    check_same_ids(name, model, vocab, sample);
    check_against_reader(name, path, model);
    check_against_reader(name, path, vocab);
    check_no_session(name, model);
    check_no_session(name, vocab);
    dsvk_model_destroy(model);
    dsvk_model_destroy(vocab);
}

static void check_same_weight_types(const char *name, const dsvk_model *a,
                                    const dsvk_model *b)
{
    dsvk_weight_type_usage ta[64], tb[64];
    uint32_t na = 0, nb = 0;
    dsvk_model_weight_types(a, ta, 64, &na);
    dsvk_model_weight_types(b, tb, 64, &nb);
    bool same = na == nb && na > 0 && na <= 64;
    for (uint32_t i = 0; same && i < na; i++)
        same = strcmp(ta[i].type, tb[i].type) == 0 &&
               ta[i].n_tensors == tb[i].n_tensors &&
               ta[i].n_params == tb[i].n_params &&
               ta[i].file_bytes == tb[i].file_bytes;
    CHECK(same, "%s: weight types differ (%u and %u types)", name, na, nb);
}

/* Opened and loaded, the same file says the same about itself, but for
 * where it is: a loaded model is on the device, in weight_bytes of it. */
static void check_against_load(dsvk_context *ctx, const char *name,
                               const char *path)
{
    dsvk_model *opened = must_open(path, DSVK_OPEN_MODEL);
    dsvk_model *vocab = must_open(path, DSVK_OPEN_VOCAB);
    dsvk_model *loaded = test_api_load(ctx, path);
    if (!opened || !vocab) {
        dsvk_model_destroy(opened);
        dsvk_model_destroy(vocab);
        dsvk_model_destroy(loaded);
        return;
    }
    dsvk_model_info a, b;
    dsvk_model_get_info(opened, &a);
    dsvk_model_get_info(loaded, &b);
    CHECK(!a.on_device && b.on_device && a.weight_bytes == 0 &&
              b.weight_bytes > 0,
          "%s: on the device %d and %d, %llu and %llu bytes", name, a.on_device,
          b.on_device, (unsigned long long)a.weight_bytes,
          (unsigned long long)b.weight_bytes);
    /* The fields this issue added, by name, then every field: get_info
     * zeroes the padding, so the structs compare bytewise. */
#define SAME(field) CHECK(a.field == b.field, "%s: " #field " differs", name)
    SAME(gguf_version);
    SAME(has_weights);
    SAME(n_tensors);
    SAME(rms_norm_eps);
    SAME(attention_scale);
    SAME(kv_b_split);
    SAME(rope_scaling);
    SAME(yarn_log_multiplier);
    SAME(yarn_ramp[0]);
    SAME(yarn_ramp[1]);
    SAME(expert_weights_norm);
    SAME(expert_weights_scale);
    SAME(n_vocab);
    SAME(n_ctx);
    SAME(n_params);
    SAME(cache_bytes_per_token);
#undef SAME
    a.on_device = b.on_device;
    a.weight_bytes = b.weight_bytes;
    CHECK(memcmp(&a, &b, sizeof a) == 0, "%s: the infos differ", name);
    CHECK(dsvk_cache_bytes_per_token(opened, DSVK_CACHE_Q8_0) ==
              dsvk_cache_bytes_per_token(loaded, DSVK_CACHE_Q8_0),
          "%s: q8_0 cache bytes differ", name);
    check_same_weight_types(name, opened, loaded);
    check_same_ids(name, opened, loaded, sample);
    check_same_ids(name, vocab, loaded, sample);
    dsvk_model_destroy(opened);
    dsvk_model_destroy(vocab);
    dsvk_model_destroy(loaded);
}

/* Each kind of value as text, and the size rules. */
static void check_metadata(void)
{
    dsvk_model *model =
        must_open(test_fixture("models/tiny-v2.gguf"), DSVK_OPEN_MODEL);
    if (!model)
        return;
    static const struct {
        const char *key, *text;
    } values[] = {
        {"general.architecture", "deepseek2"},                   /* string */
        {"deepseek2.block_count", "3"},                          /* u32 */
        {"deepseek2.attention.layer_norm_rms_epsilon", "1e-06"}, /* f32 */
        {"tokenizer.ggml.add_bos_token", "true"},                /* bool */
        {"tokenizer.ggml.add_eos_token", "false"},
        {"tokenizer.ggml.tokens", "[512 string]"}, /* arrays */
        {"tokenizer.ggml.token_type", "[512 int32]"},
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char out[64];
        size_t len = 0;
        dsvk_status status =
            dsvk_model_metadata(model, values[i].key, out, sizeof out, &len);
        CHECK(status == DSVK_OK && strcmp(out, values[i].text) == 0 &&
                  len == strlen(values[i].text),
              "%s: %s '%s' (%zu bytes), expected '%s'", values[i].key,
              dsvk_status_string(status), status == DSVK_OK ? out : "", len,
              values[i].text);
    }

    size_t len = 99;
    CHECK(dsvk_model_metadata(model, "general.no_such_key", NULL, 0, &len) ==
                  DSVK_ERROR_NOT_FOUND &&
              len == 0 && strstr(dsvk_model_error(model), "no_such_key"),
          "missing key: %zu, '%s'", len, dsvk_model_error(model));
    /* "deepseek2" is 9 bytes: 9 are too few with the NUL, and nothing is
     * written; 10 are enough. */
    char out[10];
    memset(out, 'x', sizeof out);
    CHECK(dsvk_model_metadata(model, "general.architecture", out, 9, &len) ==
                  DSVK_ERROR_BUFFER_TOO_SMALL &&
              len == 9 && out[0] == 'x' &&
              strstr(dsvk_model_error(model), "10 bytes"),
          "9-byte buffer: %zu, '%s'", len, dsvk_model_error(model));
    CHECK(dsvk_model_metadata(model, "general.architecture", NULL, 0, &len) ==
                  DSVK_ERROR_BUFFER_TOO_SMALL &&
              len == 9,
          "size query: %zu", len);
    CHECK(dsvk_model_metadata(model, "general.architecture", out, 10, &len) ==
                  DSVK_OK &&
              len == 9 && strcmp(out, "deepseek2") == 0,
          "10-byte buffer");
    dsvk_model_destroy(model);
}

/* llama.cpp's vocab-only files: the DeepSeek-V3 one is a deepseek2 file
 * without tensors; the DeepSeek-LLM one is a llama file, a tokenizer to
 * dsvk_model_open only. */
static void check_vocab_files(void)
{
    char v3[4096];
    snprintf(v3, sizeof v3, "%s",
             test_fixture("tokenizer/ggml-vocab-deepseek-v3.gguf"));
    dsvk_model *model = must_open(v3, DSVK_OPEN_MODEL);
    dsvk_model *vocab = must_open(v3, DSVK_OPEN_VOCAB);
    if (model && vocab) {
        dsvk_model_info info, vinfo;
        dsvk_model_get_info(model, &info);
        dsvk_model_get_info(vocab, &vinfo);
        uint32_t n_types = 99;
        dsvk_model_weight_types(model, NULL, 0, &n_types);
        CHECK(!info.has_weights && !info.on_device && info.n_tensors == 0 &&
                  n_types == 0 && info.n_layer == 61 &&
                  info.kv_lora_rank == 512 && info.n_vocab == 129280 &&
                  info.rope_scaling == DSVK_ROPE_SCALING_YARN &&
                  info.expert_weights_norm &&
                  info.expert_weights_scale == 2.5f && info.n_params == 0 &&
                  info.cache_bytes_per_token == 0 && !info.kv_b_split,
              "V3 vocab as a model");
        CHECK(!vinfo.has_weights && vinfo.n_layer == 0 &&
                  vinfo.n_vocab == 129280,
              "V3 vocab as a tokenizer");
        check_same_ids("V3 vocab", model, vocab, sample);
        dsvk_chat_format format = DSVK_CHAT_FORMAT_AUTO;
        CHECK(dsvk_chat_resolve_format(vocab, DSVK_CHAT_FORMAT_AUTO, &format) ==
                      DSVK_OK &&
                  format == DSVK_CHAT_FORMAT_DEEPSEEK3,
              "V3 chat format: %s", dsvk_model_error(vocab));
        check_no_session("V3 vocab", model);
    }
    dsvk_model_destroy(model);
    dsvk_model_destroy(vocab);

    char llm[4096];
    snprintf(llm, sizeof llm, "%s",
             test_fixture("tokenizer/ggml-vocab-deepseek-llm.gguf"));
    char err[512] = "";
    dsvk_status status =
        open_model(llm, DSVK_OPEN_MODEL, &model, err, sizeof err);
    CHECK(status == DSVK_ERROR_BAD_MODEL && !model &&
              strstr(err, "ggml-vocab-deepseek-llm.gguf: ") &&
              strstr(err, "'llama'"),
          "llama vocab as a model: %s: '%s'", dsvk_status_string(status), err);
    vocab = must_open(llm, DSVK_OPEN_VOCAB);
    if (!vocab)
        return;
    /* The first of llama.cpp's own vectors for this file (its .inp/.out). */
    static const dsvk_token expected[] = {1052, 207, 19, 207, 19109, 4223};
    dsvk_token ids[MAX_IDS];
    size_t n = 0;
    const char *text = "ied 4 ½ months";
    CHECK(dsvk_tokenize(vocab, text, strlen(text), false, true, ids, MAX_IDS,
                        &n) == DSVK_OK &&
              n == 6 && memcmp(ids, expected, sizeof expected) == 0,
          "llama vocab: '%s' gives %zu ids", text, n);
    /* And the sample as host/text's tokenizer reads the same file. */
    gguf_file *f = NULL;
    tok *t = NULL;
    tok_ids want = {0};
    if (gguf_open(llm, &f, err, sizeof err) == DSVK_OK &&
        tok_load(f, &t, err, sizeof err) == DSVK_OK &&
        tok_encode(t, sample, strlen(sample), false, true, &want, err,
                   sizeof err) == DSVK_OK) {
        CHECK(dsvk_tokenize(vocab, sample, strlen(sample), false, true, ids,
                            MAX_IDS, &n) == DSVK_OK &&
                  n == want.count &&
                  memcmp(ids, want.ids, n * sizeof ids[0]) == 0,
              "llama vocab: %zu ids, the tokenizer's %zu", n, want.count);
    } else {
        CHECK(false, "host/text tokenizer: %s", err);
    }
    tok_ids_free(&want);
    tok_free(t);
    gguf_close(f);
    /* Everything else that reads a model works without a device. */
    dsvk_model_info info;
    dsvk_model_get_info(vocab, &info);
    char text_out[256];
    size_t len = 0;
    CHECK(dsvk_detokenize(vocab, expected, 6, false, text_out, sizeof text_out,
                          &len) == DSVK_OK &&
              len == strlen(text) && memcmp(text_out, text, len) == 0,
          "llama vocab: detokenize");
    CHECK(dsvk_token_is_eog(vocab, info.eos) && !dsvk_token_is_eog(vocab, 1052),
          "llama vocab: end of generation");
    dsvk_text_stream stream = {0};
    CHECK(dsvk_text_stream_push(&stream, vocab, 1052, false, text_out,
                                sizeof text_out, &len) == DSVK_OK &&
              len == 3 && memcmp(text_out, "ied", 3) == 0,
          "llama vocab: text stream");
    const dsvk_chat_message hello = {DSVK_ROLE_USER, "Hi"};
    CHECK(dsvk_chat_apply(vocab, DSVK_CHAT_FORMAT_DEEPSEEK2, &hello, 1, 0, true,
                          text_out, sizeof text_out, &len) == DSVK_OK &&
              strstr(text_out, "User: Hi"),
          "llama vocab: chat: %s", dsvk_model_error(vocab));
    check_no_session("llama vocab", vocab);
    dsvk_model_destroy(vocab);
}

/* Copies a fixture without its last `drop` bytes, or (head) only its first
 * `drop` bytes, into a new file in the working directory (ctest: the build
 * tree) named from the mkstemp template `path`; false when it cannot. */
static bool write_truncated(const char *from, size_t drop, bool head,
                            char *path)
{
    size_t have = 0;
    char *bytes = test_read_file(from, &have);
    int fd = bytes && drop < have ? mkstemp(path) : -1;
    const size_t size = head ? drop : have - drop;
    bool ok = fd >= 0 && write(fd, bytes, size) == (ssize_t)size;
    if (fd >= 0)
        close(fd);
    free(bytes);
    return ok;
}

static void check_bad_file(const char *what, const char *path, dsvk_status want)
{
    for (int mode = DSVK_OPEN_MODEL; mode <= DSVK_OPEN_VOCAB; mode++) {
        char err[512] = "";
        dsvk_model *model;
        dsvk_status status =
            open_model(path, (dsvk_open_mode)mode, &model, err, sizeof err);
        CHECK(status == want && !model &&
                  strncmp(err, path, strlen(path)) == 0 && !strchr(err, '\n'),
              "%s (mode %d): %s: '%s'", what, mode, dsvk_status_string(status),
              err);
        /* Without a buffer for the detail, the status alone. */
        status = open_model(path, (dsvk_open_mode)mode, &model, NULL, 0);
        CHECK(status == want && !model, "%s without err: %s", what,
              dsvk_status_string(status));
    }
}

static void check_bad_files(void)
{
    char tiny[4096];
    snprintf(tiny, sizeof tiny, "%s", test_fixture("models/tiny-v2.gguf"));
    check_bad_file("README.md", test_fixture("models/README.md"),
                   DSVK_ERROR_BAD_FILE);
    check_bad_file("missing file", "/nonexistent/dir/model.gguf",
                   DSVK_ERROR_IO);
    /* Cut inside the metadata, and inside the last tensor's data. */
    for (int head = 0; head < 2; head++) {
        /* A mkstemp template, in the test's working directory. */
        char path[] = "dsvk-inspect-truncated-XXXXXX";
        if (write_truncated(tiny, 1000, head, path))
            check_bad_file("truncated copy", path, DSVK_ERROR_BAD_FILE);
        else
            CHECK(false, "cannot write a truncated copy of %s", tiny);
        unlink(path);
    }
    char err[512] = "";
    dsvk_model *model;
    CHECK(open_model(tiny, (dsvk_open_mode)2, &model, err, sizeof err) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              !model && strstr(err, "tiny-v2.gguf"),
          "mode 2: '%s'", err);
    CHECK(open_model(NULL, DSVK_OPEN_MODEL, &model, err, sizeof err) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              !model,
          "NULL path");
}

/* Calls fn(ctx, name, path) for every .gguf of tests/fixtures/models. */
static void for_each_fixture_model(dsvk_context *ctx,
                                   void (*fn)(dsvk_context *ctx,
                                              const char *name,
                                              const char *path))
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_fixture("models"));
    DIR *d = opendir(dir);
    CHECK(d, "cannot list %s", dir);
    unsigned n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        const size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".gguf") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fn(ctx, e->d_name, path);
        n++;
    }
    if (d)
        closedir(d);
    CHECK(n >= 7, "%u fixture models", n);
}

int main(int argc, char **argv)
{
    const bool host_only = argc > 1 && strcmp(argv[1], "--host-only") == 0;
    for_each_fixture_model(NULL, check_opened);
    check_metadata();
    check_vocab_files();
    check_bad_files();
    if (host_only)
        return test_finish("api_inspect (host only)");

    const dsvk_context_desc desc = test_api_desc();
    dsvk_context *ctx = test_api_context(&desc);
    for_each_fixture_model(ctx, check_against_load);
    return test_api_finish(ctx, "api_inspect");
}
