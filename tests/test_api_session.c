/* The public API's model and sessions (dsvk.h) on the tiny-v2 fixture:
 * model info, independent sessions sharing one model, chunked evaluation,
 * rewinding, a full context, argument errors, GPU timings, and text. */
#include "test_api_support.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_VOCAB 512 /* of the fixture */

/* Batching changes which shader computes a product (matvec for one token,
 * tiled matmul for several) and so the order of f32 sums; on this F32 model
 * that moves logits by ~1e-6 of their scale. 1e-4 absolute on logits of
 * size ~1-10 allows that with margin while catching any wrong position or
 * cache entry, which moves logits by O(0.1). */
#define BATCH_TOLERANCE 1e-4

static const dsvk_token prompt[] = {0,   17, 300, 42,  99,  7, 255,
                                    128, 64, 3,   511, 200, 5};
#define N_PROMPT (uint32_t)(sizeof prompt / sizeof prompt[0])

static void check_info(const dsvk_model *model)
{
    dsvk_model_info info;
    dsvk_model_get_info(model, &info);
    /* The numbers of tests/fixtures/models/tiny-v2.gguf.json (text.cmake's
     * cli_info test derives them). */
    CHECK(info.n_vocab == N_VOCAB, "n_vocab %u", info.n_vocab);
    CHECK(info.n_layer == 3 && info.n_layer_dense == 1, "layers %u/%u",
          info.n_layer, info.n_layer_dense);
    CHECK(info.n_expert == 8 && info.n_expert_used == 2 &&
              info.n_expert_shared == 2,
          "experts %u/%u/%u", info.n_expert, info.n_expert_used,
          info.n_expert_shared);
    CHECK(info.kv_lora_rank == 32 && info.qk_rope_head_dim == 8,
          "latent %u + %u", info.kv_lora_rank, info.qk_rope_head_dim);
    CHECK(info.gating == DSVK_GATING_SOFTMAX, "gating %d", (int)info.gating);
    CHECK(info.n_params == 265248, "params %llu",
          (unsigned long long)info.n_params);
    CHECK(info.n_params_active == 191520, "active %llu",
          (unsigned long long)info.n_params_active);
    CHECK(info.cache_bytes_per_token == 240 &&
              info.mha_cache_bytes_per_token == 960,
          "cache %llu / %llu", (unsigned long long)info.cache_bytes_per_token,
          (unsigned long long)info.mha_cache_bytes_per_token);
    /* The trained context (256) is below the 4096 cap. */
    CHECK(info.n_ctx_train == 256 && info.n_ctx == 256, "n_ctx %u/%u",
          info.n_ctx_train, info.n_ctx);
    CHECK(info.weight_bytes >= 4 * info.n_params, "weight bytes %llu",
          (unsigned long long)info.weight_bytes);
    CHECK(info.bos == 0 && info.add_bos, "bos %d", info.bos);
    CHECK(info.rope_scaling_factor == 4.0f && info.rope_original_context == 64,
          "rope %g %u", info.rope_scaling_factor, info.rope_original_context);

    dsvk_weight_type_usage types[4];
    uint32_t n_types;
    dsvk_model_weight_types(model, types, 4, &n_types);
    CHECK(n_types == 1 && strcmp(types[0].type, "F32") == 0 &&
              types[0].n_tensors == 44 && types[0].n_params == 265248 &&
              types[0].file_bytes == 4 * 265248ull,
          "types: %u, %s x%u", n_types, n_types ? types[0].type : "-",
          n_types ? types[0].n_tensors : 0);
}

static dsvk_session *new_session(const dsvk_model *model,
                                 const dsvk_session_desc *desc)
{
    dsvk_session *s = NULL;
    dsvk_status status = dsvk_session_create(model, desc, &s);
    CHECK(status == DSVK_OK, "dsvk_session_create: %s",
          dsvk_model_error(model));
    return s;
}

static bool eval(dsvk_session *s, const dsvk_token *tokens, uint32_t n,
                 dsvk_logits which, float *logits, size_t capacity)
{
    dsvk_status status =
        dsvk_session_eval(s, tokens, n, which, logits, capacity);
    CHECK(status == DSVK_OK, "dsvk_session_eval: %s: %s",
          dsvk_status_string(status), dsvk_session_error(s));
    return status == DSVK_OK;
}

/* Two sessions on one model: identical input gives identical logits, and
 * what one evaluates never shows in the other. */
static void test_two_sessions(const dsvk_model *model)
{
    dsvk_session *a = new_session(model, NULL);
    dsvk_session *b = new_session(model, NULL);
    dsvk_session *ref = new_session(model, NULL);
    float *la = malloc(sizeof(float) * N_VOCAB * N_PROMPT);
    float *lb = malloc(sizeof(float) * N_VOCAB * N_PROMPT);
    if (!a || !b || !ref || !la || !lb)
        goto done;
    const size_t all = (size_t)N_VOCAB * N_PROMPT;
    eval(a, prompt, N_PROMPT, DSVK_LOGITS_ALL, la, all);
    eval(b, prompt, N_PROMPT, DSVK_LOGITS_ALL, lb, all);
    /* Same device, same steps, same shaders: bit for bit. */
    CHECK(memcmp(la, lb, sizeof(float) * all) == 0,
          "two sessions differ on the same prompt (max %g)",
          test_max_abs_diff(la, lb, all));

    /* b overwrites its whole cache with another prompt; a must not see it:
     * a's next logits must equal those of a fresh session fed the same. */
    dsvk_token other[N_PROMPT];
    for (uint32_t i = 0; i < N_PROMPT; i++)
        other[i] = (prompt[i] * 7 + 1) % N_VOCAB;
    CHECK(dsvk_session_rewind(b, 0) == DSVK_OK, "rewind to 0");
    eval(b, other, N_PROMPT, DSVK_LOGITS_NONE, NULL, 0);
    const dsvk_token next = 123;
    eval(a, &next, 1, DSVK_LOGITS_LAST, la, N_VOCAB);
    eval(ref, prompt, N_PROMPT, DSVK_LOGITS_NONE, NULL, 0);
    eval(ref, &next, 1, DSVK_LOGITS_LAST, lb, N_VOCAB);
    CHECK(memcmp(la, lb, sizeof(float) * N_VOCAB) == 0,
          "session a changed by session b (max %g)",
          test_max_abs_diff(la, lb, N_VOCAB));

    /* Rewinding b over its other prompt and feeding the original gives a's
     * logits again: positions past the rewind are overwritten. */
    CHECK(dsvk_session_rewind(b, 4) == DSVK_OK, "rewind to 4");
    CHECK(dsvk_session_position(b) == 4, "position %u",
          dsvk_session_position(b));
    eval(b, prompt, 4, DSVK_LOGITS_NONE, NULL, 0); /* positions 4..7 */
    CHECK(dsvk_session_rewind(b, 0) == DSVK_OK, "rewind to 0");
    eval(b, prompt, N_PROMPT, DSVK_LOGITS_NONE, NULL, 0);
    eval(b, &next, 1, DSVK_LOGITS_LAST, lb, N_VOCAB);
    CHECK(memcmp(la, lb, sizeof(float) * N_VOCAB) == 0,
          "rewound session differs (max %g)",
          test_max_abs_diff(la, lb, N_VOCAB));
    CHECK(dsvk_session_rewind(b, N_PROMPT + 2) == DSVK_ERROR_INVALID_ARGUMENT,
          "rewind past the position");
    CHECK(strstr(dsvk_session_error(b), "cannot rewind"), "error '%s'",
          dsvk_session_error(b));
done:
    free(la);
    free(lb);
    dsvk_session_destroy(a);
    dsvk_session_destroy(b);
    dsvk_session_destroy(ref);
}

/* The same prompt in one step, in steps of 4 and token by token. */
static void test_chunks(const dsvk_model *model)
{
    dsvk_session *whole = new_session(model, NULL);
    dsvk_session *chunked =
        new_session(model, &(dsvk_session_desc){.max_batch = 4});
    dsvk_session *single = new_session(model, NULL);
    const size_t all = (size_t)N_VOCAB * N_PROMPT;
    float *lw = malloc(sizeof(float) * all);
    float *lc = malloc(sizeof(float) * all);
    float *ls = malloc(sizeof(float) * all);
    if (!whole || !chunked || !single || !lw || !lc || !ls)
        goto done;
    dsvk_session_info info;
    dsvk_session_get_info(chunked, &info);
    CHECK(info.max_batch == 4 && info.n_ctx == 256 && info.position == 0,
          "chunked session info %u %u %u", info.max_batch, info.n_ctx,
          info.position);
    CHECK(info.cache_bytes == 240ull * 256, "cache bytes %llu",
          (unsigned long long)info.cache_bytes);
    eval(whole, prompt, N_PROMPT, DSVK_LOGITS_ALL, lw, all);
    eval(chunked, prompt, N_PROMPT, DSVK_LOGITS_ALL, lc, all);
    for (uint32_t i = 0; i < N_PROMPT; i++)
        eval(single, &prompt[i], 1, DSVK_LOGITS_LAST, ls + (size_t)i * N_VOCAB,
             N_VOCAB);
    double d_chunk = test_max_abs_diff(lc, lw, all);
    double d_single = test_max_abs_diff(ls, lw, all);
    printf("max |logit difference| vs one step: steps of 4 %.3g, token by "
           "token %.3g\n",
           d_chunk, d_single);
    CHECK(d_chunk <= BATCH_TOLERANCE, "chunked differs by %g", d_chunk);
    CHECK(d_single <= BATCH_TOLERANCE, "token by token differs by %g",
          d_single);
    CHECK(dsvk_session_position(single) == N_PROMPT, "position %u",
          dsvk_session_position(single));
done:
    free(lw);
    free(lc);
    free(ls);
    dsvk_session_destroy(whole);
    dsvk_session_destroy(chunked);
    dsvk_session_destroy(single);
}

/* Cache types: names, sizes per token (tiny-v2: 3 layers of r 32 and dr 8;
 * q8_0 keeps 32 + 4 bytes of c and 8 + 4 of kpe), a q8_0 session and
 * an unknown type refused. */
static void test_cache_types(const dsvk_model *model)
{
    dsvk_cache_type type = DSVK_CACHE_F16;
    CHECK(dsvk_cache_type_from_name("q8_0", &type) == DSVK_OK &&
              type == DSVK_CACHE_Q8_0 &&
              strcmp(dsvk_cache_type_name(type), "q8_0") == 0 &&
              strcmp(dsvk_cache_type_name(DSVK_CACHE_F16), "f16") == 0,
          "cache type names");
    CHECK(dsvk_cache_type_from_name("q4_0", &type) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              dsvk_cache_type_from_name(NULL, &type) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              dsvk_cache_type_name((dsvk_cache_type)7) == NULL,
          "unknown cache type names");
    CHECK(
        dsvk_cache_bytes_per_token(model, DSVK_CACHE_F16) == 240 &&
            dsvk_cache_bytes_per_token(model, DSVK_CACHE_Q8_0) == 144 &&
            dsvk_cache_bytes_per_token(model, (dsvk_cache_type)7) == 0,
        "cache bytes per token %llu / %llu",
        (unsigned long long)dsvk_cache_bytes_per_token(model, DSVK_CACHE_F16),
        (unsigned long long)dsvk_cache_bytes_per_token(model, DSVK_CACHE_Q8_0));

    dsvk_session *q8 =
        new_session(model, &(dsvk_session_desc){.cache_type = DSVK_CACHE_Q8_0});
    if (q8) {
        dsvk_session_info info;
        dsvk_session_get_info(q8, &info);
        CHECK(info.cache_type == DSVK_CACHE_Q8_0 &&
                  info.cache_bytes == 144ull * 256,
              "q8_0 session: type %d, %llu bytes", (int)info.cache_type,
              (unsigned long long)info.cache_bytes);
        float logits[N_VOCAB];
        eval(q8, prompt, N_PROMPT, DSVK_LOGITS_LAST, logits, N_VOCAB);
        CHECK(dsvk_session_position(q8) == N_PROMPT, "q8_0 position %u",
              dsvk_session_position(q8));
    }
    dsvk_session_destroy(q8);

    dsvk_session *bad = NULL;
    dsvk_status status = dsvk_session_create(
        model, &(dsvk_session_desc){.cache_type = (dsvk_cache_type)7}, &bad);
    CHECK(status == DSVK_ERROR_INVALID_ARGUMENT && !bad &&
              strstr(dsvk_model_error(model), "cache type"),
          "unknown cache type: %s, '%s'", dsvk_status_string(status),
          dsvk_model_error(model));
}

/* A full context, bad ids and short buffers fail without evaluating. */
static void test_limits(const dsvk_model *model)
{
    dsvk_session *s = new_session(model, &(dsvk_session_desc){.n_ctx = 16});
    float logits[N_VOCAB];
    if (!s)
        return;
    eval(s, prompt, 10, DSVK_LOGITS_NONE, NULL, 0);
    dsvk_status status =
        dsvk_session_eval(s, prompt, 7, DSVK_LOGITS_LAST, logits, N_VOCAB);
    CHECK(status == DSVK_ERROR_CONTEXT_FULL, "7 more tokens at 10 of 16: %s",
          dsvk_status_string(status));
    CHECK(strstr(dsvk_session_error(s), "context full"), "error '%s'",
          dsvk_session_error(s));
    CHECK(dsvk_session_position(s) == 10, "position %u after a full context",
          dsvk_session_position(s));
    eval(s, prompt, 6, DSVK_LOGITS_LAST, logits, N_VOCAB);
    CHECK(dsvk_session_eval(s, prompt, 1, DSVK_LOGITS_NONE, NULL, 0) ==
              DSVK_ERROR_CONTEXT_FULL,
          "a 17th token");

    CHECK(dsvk_session_rewind(s, 0) == DSVK_OK, "rewind");
    const dsvk_token bad[] = {5, -1};
    CHECK(dsvk_session_eval(s, bad, 2, DSVK_LOGITS_NONE, NULL, 0) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "token -1");
    CHECK(strstr(dsvk_session_error(s), "-1 (index 1)"), "error '%s'",
          dsvk_session_error(s));
    const dsvk_token past[] = {N_VOCAB};
    CHECK(dsvk_session_eval(s, past, 1, DSVK_LOGITS_NONE, NULL, 0) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "token n_vocab");
    CHECK(dsvk_session_eval(s, prompt, 2, DSVK_LOGITS_LAST, logits,
                            N_VOCAB - 1) == DSVK_ERROR_BUFFER_TOO_SMALL,
          "short logits buffer");
    CHECK(dsvk_session_eval(s, prompt, 2, DSVK_LOGITS_ALL, logits, N_VOCAB) ==
              DSVK_ERROR_BUFFER_TOO_SMALL,
          "ALL logits in a one-row buffer");
    CHECK(dsvk_session_eval(s, prompt, 0, DSVK_LOGITS_LAST, logits, N_VOCAB) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "last logits of no tokens");
    CHECK(dsvk_session_position(s) == 0, "position %u after failures",
          dsvk_session_position(s));
    dsvk_session_destroy(s);

    /* A huge step is cut to what the expert grouping's loop bound allows:
     * 8192 assignments (host/forward/ops_moe.h). */
    dsvk_model_info mi;
    dsvk_model_get_info(model, &mi);
    dsvk_session *wide = new_session(
        model, &(dsvk_session_desc){.n_ctx = 16, .max_batch = 1u << 20});
    if (!wide)
        return;
    dsvk_session_info info;
    dsvk_session_get_info(wide, &info);
    CHECK(info.max_batch * mi.n_expert_used <= 8192 &&
              (info.max_batch + 1) * mi.n_expert_used > 8192,
          "max batch %u with %u experts per token", info.max_batch,
          mi.n_expert_used);
    dsvk_session_destroy(wide);
}

static void test_timings(const dsvk_model *model)
{
    dsvk_session *s =
        new_session(model, &(dsvk_session_desc){.timestamps = true});
    if (!s)
        return;
    float logits[N_VOCAB];
    eval(s, prompt, 3, DSVK_LOGITS_LAST, logits, N_VOCAB);
    dsvk_session_info info;
    dsvk_session_get_info(s, &info);
    uint32_t count = 0;
    dsvk_session_timings(s, NULL, 0, &count);
    if (!info.timestamps) {
        printf("note: the device has no timestamps\n");
        CHECK(count == 0, "%u timings without timestamps", count);
    } else {
        dsvk_op_timing *t = calloc(count, sizeof *t);
        uint32_t again = 0;
        dsvk_session_timings(s, t, count, &again);
        double total = 0;
        bool labelled = true;
        for (uint32_t i = 0; t && i < again; i++) {
            total += t[i].microseconds;
            labelled = labelled && t[i].op && t[i].op[0];
        }
        /* One step of 3 layers records dozens of dispatches. */
        CHECK(count > 20 && again == count && labelled && total > 0,
              "%u timings, %g us", count, total);
        printf("last step: %u dispatches, %.1f us on the GPU\n", count, total);
        free(t);
    }
    dsvk_session_destroy(s);
}

/* Valid UTF-8 from the start of s, of exactly len bytes. */
static bool whole_utf8(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)s[i + k] >> 6) != 2)
                return false;
        i += n;
    }
    return true;
}

static void test_text(const dsvk_model *model)
{
    /* Multi-byte characters that the fixture's byte-level vocabulary
     * splits over several tokens. */
    const char *text = "h\xc3\xa9llo \xe2\x82\xac 42 \xf0\x9f\x98\x80!";
    const size_t len = strlen(text);
    size_t n = 0;
    CHECK(dsvk_tokenize(model, text, len, true, false, NULL, 0, &n) ==
              DSVK_ERROR_BUFFER_TOO_SMALL,
          "size query");
    dsvk_token tokens[64];
    CHECK(n > 1 && n <= 64, "%zu tokens", n);
    if (n <= 1 || n > 64)
        return;
    size_t again = 0;
    CHECK(dsvk_tokenize(model, text, len, true, false, tokens, n, &again) ==
                  DSVK_OK &&
              again == n && tokens[0] == 0,
          "tokenize: %s", dsvk_model_error(model));
    char out[128];
    size_t out_len = 0;
    CHECK(dsvk_detokenize(model, tokens + 1, n - 1, false, out, sizeof out,
                          &out_len) == DSVK_OK &&
              out_len == len && memcmp(out, text, len) == 0,
          "round trip: '%.*s'", (int)out_len, out);
    CHECK(dsvk_detokenize(model, tokens, n, false, out, 3, &out_len) ==
                  DSVK_ERROR_BUFFER_TOO_SMALL &&
              out_len == len,
          "short detokenize buffer: %zu", out_len);

    /* Streamed one token at a time: every piece whole UTF-8, the same text
     * in the end, and at least one token held back. */
    dsvk_model_info info;
    dsvk_model_get_info(model, &info);
    dsvk_text_stream stream = {0};
    char streamed[128];
    size_t total = 0;
    bool all_whole = true, some_empty = false;
    for (size_t i = 1; i < n; i++) {
        char piece[64];
        size_t piece_len;
        CHECK(info.max_piece_bytes + 4 <= sizeof piece, "max piece %zu",
              info.max_piece_bytes);
        if (dsvk_text_stream_push(&stream, model, tokens[i], false, piece,
                                  sizeof piece, &piece_len) != DSVK_OK ||
            total + piece_len > sizeof streamed) {
            CHECK(false, "stream push: %s", dsvk_model_error(model));
            return;
        }
        all_whole = all_whole && whole_utf8(piece, piece_len);
        some_empty = some_empty || piece_len == 0;
        memcpy(streamed + total, piece, piece_len);
        total += piece_len;
    }
    char held[4];
    CHECK(dsvk_text_stream_flush(&stream, held) == 0, "bytes held at the end");
    CHECK(all_whole && some_empty, "pieces whole %d, some held back %d",
          all_whole, some_empty);
    CHECK(total == len && memcmp(streamed, text, len) == 0, "streamed '%.*s'",
          (int)total, streamed);
    char piece[4];
    size_t piece_len;
    CHECK(dsvk_text_stream_push(&stream, model, N_VOCAB, false, piece,
                                sizeof piece,
                                &piece_len) == DSVK_ERROR_INVALID_ARGUMENT,
          "stream: id out of range");
    CHECK(dsvk_token_is_eog(model, info.eos) &&
              !dsvk_token_is_eog(model, tokens[1]) &&
              !dsvk_token_is_eog(model, -3),
          "end of generation: EOS %d", info.eos);
}

int main(void)
{
    const dsvk_context_desc desc = test_api_desc();
    dsvk_context *ctx = test_api_context(&desc);
    dsvk_device_info device;
    dsvk_context_device(ctx, &device);
    printf("device %u: %s (%s), emulation %s\n", device.index, device.name,
           device.driver_name, dsvk_emulation_name(desc.emulation));
    CHECK(device.chosen && device.usable && device.name[0], "device info");

    dsvk_model *model = test_api_load(ctx, test_fixture("models/tiny-v2.gguf"));
    check_info(model);
    test_two_sessions(model);
    test_chunks(model);
    test_limits(model);
    test_cache_types(model);
    test_timings(model);
    test_text(model);
    dsvk_model_destroy(model);
    return test_api_finish(ctx, "api_session");
}
