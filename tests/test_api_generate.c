/* dsvk_generate and the chat functions of the public API (dsvk.h) on the
 * tiny-v2 fixture: every stop condition, the streamed text, sampling, and
 * chat formatting. */
#include "test_api_support.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>
#include <threads.h>

#define N_VOCAB 512 /* of the fixture */
#define MAX_SEEN 64

static const dsvk_token prompt[] = {0, 17, 300, 42, 99, 7, 255, 128};
#define N_PROMPT (uint32_t)(sizeof prompt / sizeof prompt[0])

/* What the on_token callback saw; it stops after stop_after tokens. */
typedef struct seen {
    dsvk_token tokens[MAX_SEEN];
    uint32_t n;
    char text[1024];
    size_t text_len;
    uint32_t stop_after; /* 0: never */
    uint32_t none_calls; /* calls with DSVK_TOKEN_NONE (held bytes) */
} seen;

static bool on_token(void *user, dsvk_token token, const char *text, size_t len)
{
    seen *s = user;
    if (token == DSVK_TOKEN_NONE)
        s->none_calls++;
    else if (s->n < MAX_SEEN)
        s->tokens[s->n++] = token;
    if (s->text_len + len <= sizeof s->text) {
        memcpy(s->text + s->text_len, text, len);
        s->text_len += len;
    }
    return !(s->stop_after && s->n >= s->stop_after);
}

static dsvk_session *new_session(const dsvk_model *model, uint32_t n_ctx)
{
    dsvk_session *s = NULL;
    CHECK(dsvk_session_create(model, &(dsvk_session_desc){.n_ctx = n_ctx},
                              &s) == DSVK_OK,
          "dsvk_session_create: %s", dsvk_model_error(model));
    return s;
}

static dsvk_status generate(dsvk_session *s, const dsvk_token *p, uint32_t n,
                            dsvk_generate_desc desc, seen *out,
                            dsvk_generate_result *r)
{
    desc.on_token = on_token;
    desc.user = out;
    dsvk_status status = dsvk_generate(s, p, n, &desc, r);
    CHECK(status == DSVK_OK, "dsvk_generate: %s: %s",
          dsvk_status_string(status), dsvk_session_error(s));
    return status;
}

static uint32_t argmax(const float *v, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* Greedy on the GPU, stopped by max_tokens: the tokens a host argmax over
 * dsvk_session_eval's logits gives, and their text. */
static void test_greedy(const dsvk_model *model)
{
    dsvk_session *s = new_session(model, 0);
    dsvk_session *check = new_session(model, 0);
    if (!s || !check)
        goto done;
    seen got = {0};
    dsvk_generate_result r;
    if (generate(s, prompt, N_PROMPT, (dsvk_generate_desc){.max_tokens = 8},
                 &got, &r) != DSVK_OK)
        goto done;
    CHECK(r.stop == DSVK_STOP_MAX_TOKENS && r.n_generated == 8 && got.n == 8 &&
              r.n_prompt == N_PROMPT,
          "stop %d after %u (%u seen)", (int)r.stop, r.n_generated, got.n);
    /* The last token is chosen but not evaluated. */
    CHECK(r.pending == got.tokens[7] &&
              dsvk_session_position(s) == N_PROMPT + 7,
          "pending %d, position %u", r.pending, dsvk_session_position(s));
    CHECK(r.prompt_seconds > 0 && r.generate_seconds > 0, "times %g %g",
          r.prompt_seconds, r.generate_seconds);

    float logits[N_VOCAB];
    dsvk_session_eval(check, prompt, N_PROMPT, DSVK_LOGITS_LAST, logits,
                      N_VOCAB);
    for (uint32_t i = 0; i < got.n; i++) {
        const dsvk_token expect = (dsvk_token)argmax(logits, N_VOCAB);
        CHECK(got.tokens[i] == expect, "token %u: %d, host argmax %d", i,
              got.tokens[i], expect);
        dsvk_session_eval(check, &expect, 1, DSVK_LOGITS_LAST, logits, N_VOCAB);
    }
    char text[1024];
    size_t len = 0;
    dsvk_detokenize(model, got.tokens, got.n, false, text, sizeof text, &len);
    CHECK(got.none_calls == 0 || got.text_len >= len, "held bytes");
    CHECK(got.text_len == len && memcmp(got.text, text, len) == 0,
          "streamed text (%zu bytes) differs from the detokenized (%zu)",
          got.text_len, len);

    /* Continuing from the pending token equals one longer generation. */
    seen more = {0};
    dsvk_generate_result r2;
    generate(s, &r.pending, 1, (dsvk_generate_desc){.max_tokens = 3}, &more,
             &r2);
    seen longer = {0};
    CHECK(dsvk_session_rewind(check, 0) == DSVK_OK, "rewind");
    generate(check, prompt, N_PROMPT, (dsvk_generate_desc){.max_tokens = 11},
             &longer, NULL);
    CHECK(more.n == 3 && longer.n == 11 &&
              memcmp(more.tokens, longer.tokens + 8, 3 * sizeof(dsvk_token)) ==
                  0,
          "continued generation differs");
done:
    dsvk_session_destroy(s);
    dsvk_session_destroy(check);
}

static void test_stops(const dsvk_model *model)
{
    dsvk_model_info info;
    dsvk_model_get_info(model, &info);
    dsvk_session *s = new_session(model, N_PROMPT + 3);
    if (!s)
        return;
    dsvk_generate_result r;

    /* The callback stops after 3 tokens. */
    seen got = {.stop_after = 3};
    generate(s, prompt, N_PROMPT, (dsvk_generate_desc){0}, &got, &r);
    CHECK(r.stop == DSVK_STOP_CALLBACK && r.n_generated == 3 && got.n == 3 &&
              r.pending == got.tokens[2],
          "callback stop: %d after %u", (int)r.stop, r.n_generated);
    CHECK(dsvk_session_position(s) == N_PROMPT + 2, "position %u",
          dsvk_session_position(s));

    /* No limit: the context (prompt + 3) fills; the 4th token is chosen
     * but has no room. */
    CHECK(dsvk_session_rewind(s, 0) == DSVK_OK, "rewind");
    got = (seen){0};
    generate(s, prompt, N_PROMPT, (dsvk_generate_desc){0}, &got, &r);
    CHECK(r.stop == DSVK_STOP_CONTEXT_FULL && r.n_generated == 4 &&
              dsvk_session_position(s) == N_PROMPT + 3,
          "context stop: %d after %u at %u", (int)r.stop, r.n_generated,
          dsvk_session_position(s));

    /* A prompt that does not fit is refused before anything runs. */
    CHECK(dsvk_session_rewind(s, 5) == DSVK_OK, "rewind");
    CHECK(dsvk_generate(s, prompt, N_PROMPT, NULL, &r) ==
                  DSVK_ERROR_CONTEXT_FULL &&
              dsvk_session_position(s) == 5,
          "prompt past the context");
    CHECK(dsvk_generate(s, prompt, 0, NULL, &r) == DSVK_ERROR_INVALID_ARGUMENT,
          "empty prompt");

    /* End of generation: a presence penalty of -1e4 over a window of the
     * last token only makes that token the choice whatever the model says;
     * the window's last token is EOS, so EOS is chosen. It ends generation
     * without reaching the callback. */
    dsvk_sampler *eos_lover;
    const dsvk_sampler_settings eos_settings = {.presence_penalty = -1e4f,
                                                .repeat_last_n = 1};
    CHECK(dsvk_sampler_create(&eos_settings, &eos_lover, NULL, 0) == DSVK_OK,
          "sampler");
    const dsvk_token to_eos[] = {0, 42, info.eos};
    CHECK(dsvk_session_rewind(s, 0) == DSVK_OK, "rewind");
    got = (seen){0};
    generate(s, to_eos, 3, (dsvk_generate_desc){.sampler = eos_lover}, &got,
             &r);
    CHECK(r.stop == DSVK_STOP_EOG && r.n_generated == 1 && got.n == 0 &&
              r.pending == info.eos,
          "EOS stop: %d after %u, pending %d", (int)r.stop, r.n_generated,
          r.pending);
    /* ignore_eog keeps going: max_tokens stops it (the penalty keeps
     * choosing EOS). */
    CHECK(dsvk_session_rewind(s, 0) == DSVK_OK, "rewind");
    got = (seen){0};
    generate(s, to_eos, 3,
             (dsvk_generate_desc){.sampler = eos_lover,
                                  .ignore_eog = true,
                                  .max_tokens = 3,
                                  .render_special = true},
             &got, &r);
    CHECK(r.stop == DSVK_STOP_MAX_TOKENS && got.n == 3 &&
              got.tokens[0] == info.eos && got.text_len > 0,
          "ignore_eog: %d after %u, %zu bytes", (int)r.stop, got.n,
          got.text_len);
    dsvk_sampler_destroy(eos_lover);
    dsvk_session_destroy(s);
}

/* Sampling with a seed is reproducible; bad settings are refused. */
static void test_sampling(const dsvk_model *model)
{
    dsvk_session *s = new_session(model, 0);
    if (!s)
        return;
    dsvk_sampler_settings settings = dsvk_sampler_defaults();
    settings.temperature = 1.5f;
    settings.seed = 7;
    seen runs[2];
    memset(runs, 0, sizeof runs);
    for (int i = 0; i < 2; i++) {
        dsvk_sampler *sampler;
        char err[256];
        if (dsvk_sampler_create(&settings, &sampler, err, sizeof err) !=
            DSVK_OK) {
            CHECK(false, "sampler: %s", err);
            break;
        }
        dsvk_session_rewind(s, 0);
        generate(s, prompt, N_PROMPT,
                 (dsvk_generate_desc){.sampler = sampler, .max_tokens = 12},
                 &runs[i], NULL);
        dsvk_sampler_destroy(sampler);
    }
    CHECK(runs[0].n == 12 && runs[1].n == 12 &&
              memcmp(runs[0].tokens, runs[1].tokens, sizeof runs[0].tokens) ==
                  0,
          "same seed, different tokens");
    dsvk_sampler *bad;
    char err[256] = "";
    settings.top_p = 2.0f;
    CHECK(dsvk_sampler_create(&settings, &bad, err, sizeof err) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              !bad && strstr(err, "top"),
          "top_p 2: '%s'", err);
    dsvk_session_destroy(s);
}

static void test_chat(const dsvk_model *model)
{
    dsvk_chat_format format;
    /* The fixture has no chat template: no guessing. */
    CHECK(dsvk_chat_resolve_format(model, DSVK_CHAT_FORMAT_AUTO, &format) ==
              DSVK_ERROR_UNSUPPORTED,
          "format of a model without template");
    CHECK(strstr(dsvk_model_error(model), "chat"), "error '%s'",
          dsvk_model_error(model));
    CHECK(dsvk_chat_resolve_format(model, DSVK_CHAT_FORMAT_DEEPSEEK3,
                                   &format) == DSVK_OK &&
              format == DSVK_CHAT_FORMAT_DEEPSEEK3,
          "explicit format");
    CHECK(dsvk_chat_format_from_name("deepseek2", &format) == DSVK_OK &&
              format == DSVK_CHAT_FORMAT_DEEPSEEK2 &&
              strcmp(dsvk_chat_format_name(format), "deepseek2") == 0 &&
              dsvk_chat_format_from_name("chatml", &format) ==
                  DSVK_ERROR_INVALID_ARGUMENT,
          "format names");

    const dsvk_chat_message messages[] = {
        {DSVK_ROLE_SYSTEM, "Be brief."},
        {DSVK_ROLE_USER, "Hi"},
        {DSVK_ROLE_ASSISTANT, "Hello."},
        {DSVK_ROLE_USER, "Bye"},
    };
    char text[512];
    size_t len = 0;
    dsvk_model_info info;
    dsvk_model_get_info(model, &info);
    char bos[64];
    size_t bos_len = 0;
    dsvk_detokenize(model, &info.bos, 1, true, bos, sizeof bos, &bos_len);
    CHECK(dsvk_chat_apply(model, DSVK_CHAT_FORMAT_DEEPSEEK2, messages, 2, 0,
                          true, text, sizeof text, &len) == DSVK_OK,
          "apply: %s", dsvk_model_error(model));
    const char *expect = "Be brief.\n\nUser: Hi\n\nAssistant:";
    CHECK(len == bos_len + strlen(expect) && memcmp(text, bos, bos_len) == 0 &&
              strcmp(text + bos_len, expect) == 0,
          "deepseek2 text '%s'", text);
    CHECK(dsvk_chat_apply(model, DSVK_CHAT_FORMAT_DEEPSEEK2, messages, 2, 0,
                          true, text, len,
                          &len) == DSVK_ERROR_BUFFER_TOO_SMALL &&
              len == bos_len + strlen(expect),
          "no room for the NUL");
    /* The next turn alone, after the reply with its EOS. */
    CHECK(dsvk_chat_apply(model, DSVK_CHAT_FORMAT_DEEPSEEK3, messages, 4, 3,
                          true, text, sizeof text, &len) == DSVK_OK &&
              strcmp(text, "<\xef\xbd\x9cUser\xef\xbd\x9c>Bye<\xef\xbd\x9c"
                           "Assistant\xef\xbd\x9c>") == 0,
          "deepseek3 next turn '%s'", text);

    dsvk_token tokens[256], direct[256];
    size_t n = 0, n_direct = 0;
    CHECK(dsvk_chat_tokenize(model, DSVK_CHAT_FORMAT_DEEPSEEK2, messages, 2, 0,
                             true, tokens, 256, &n) == DSVK_OK,
          "chat tokenize: %s", dsvk_model_error(model));
    dsvk_chat_apply(model, DSVK_CHAT_FORMAT_DEEPSEEK2, messages, 2, 0, true,
                    text, sizeof text, &len);
    dsvk_tokenize(model, text, len, false, true, direct, 256, &n_direct);
    CHECK(n == n_direct && n > 0 && tokens[0] == info.bos &&
              memcmp(tokens, direct, n * sizeof *tokens) == 0,
          "chat tokens: %zu vs %zu, first %d", n, n_direct, tokens[0]);
    const dsvk_chat_message bad_role[] = {{(dsvk_role)7, "x"}};
    CHECK(dsvk_chat_apply(model, DSVK_CHAT_FORMAT_DEEPSEEK3, bad_role, 1, 0,
                          false, text, sizeof text,
                          &len) == DSVK_ERROR_INVALID_ARGUMENT,
          "role 7");
    CHECK(dsvk_chat_reply_start(DSVK_CHAT_FORMAT_DEEPSEEK2, " Hi", 3) == 1 &&
              dsvk_chat_reply_start(DSVK_CHAT_FORMAT_DEEPSEEK3, " Hi", 3) == 0,
          "reply start");
}

/* One thread's generation on its own session of a shared model. */
typedef struct worker {
    const dsvk_model *model;
    seen got;
    dsvk_status status;
} worker;

static int run_worker(void *arg)
{
    worker *w = arg;
    dsvk_session *s = NULL;
    w->status = dsvk_session_create(w->model, NULL, &s);
    for (int round = 0; w->status == DSVK_OK && round < 5; round++) {
        w->got = (seen){0};
        dsvk_session_rewind(s, 0);
        const dsvk_generate_desc desc = {
            .max_tokens = 8, .on_token = on_token, .user = &w->got};
        w->status = dsvk_generate(s, prompt, N_PROMPT, &desc, NULL);
    }
    dsvk_session_destroy(s);
    return 0;
}

/* Sessions of one model on several threads at once: the context's lock
 * serializes their GPU work (the validation layer's thread checks would
 * report unsynchronised queue use), and each gets what it would alone. */
static void test_threads(const dsvk_model *model)
{
    seen alone = {0};
    dsvk_session *s = new_session(model, 0);
    if (!s)
        return;
    generate(s, prompt, N_PROMPT, (dsvk_generate_desc){.max_tokens = 8}, &alone,
             NULL);
    dsvk_session_destroy(s);

    enum { N_THREADS = 3 };
    worker workers[N_THREADS];
    thrd_t threads[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        workers[i] = (worker){.model = model};
        CHECK(thrd_create(&threads[i], run_worker, &workers[i]) == thrd_success,
              "thread %d", i);
    }
    for (int i = 0; i < N_THREADS; i++) {
        thrd_join(threads[i], NULL);
        CHECK(workers[i].status == DSVK_OK && workers[i].got.n == 8 &&
                  memcmp(workers[i].got.tokens, alone.tokens,
                         sizeof alone.tokens) == 0,
              "thread %d: %s, %u tokens", i,
              dsvk_status_string(workers[i].status), workers[i].got.n);
    }
}

int main(void)
{
    const dsvk_context_desc desc = test_api_desc();
    dsvk_context *ctx = test_api_context(&desc);
    dsvk_model *model = test_api_load(ctx, test_fixture("models/tiny-v2.gguf"));
    test_greedy(model);
    test_stops(model);
    test_sampling(model);
    test_chat(model);
    test_threads(model);
    dsvk_model_destroy(model);
    return test_api_finish(ctx, "api_generate");
}
