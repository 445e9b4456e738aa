/* The DeepSeek chat formats: exact text against the official templates'
 * output, exact ids on the real DeepSeek-V3 vocabulary, the incremental
 * rendering a chat session relies on, and format detection. */
#include "testlib.h"
#include "text/chat.h"

#include <string.h>

#define BOS "<｜begin▁of▁sentence｜>"
#define EOS "<｜end▁of▁sentence｜>"

/* llama.cpp's test conversation (tests/test-chat-template.cpp). */
static const chat_message conversation[] = {
    {CHAT_ROLE_SYSTEM, "You are a helpful assistant"},
    {CHAT_ROLE_USER, "Hello"},
    {CHAT_ROLE_ASSISTANT, "Hi there"},
    {CHAT_ROLE_USER, "Who are you"},
    {CHAT_ROLE_ASSISTANT, "   I am an assistant   "},
    {CHAT_ROLE_USER, "Another question"},
};
#define N_CONVERSATION (sizeof conversation / sizeof conversation[0])

static chat_template literal(chat_format format, const char *bos)
{
    return (chat_template){format, bos, strlen(bos), EOS, strlen(EOS)};
}

static void expect_render(const chat_template *t, const chat_message *m,
                          size_t n, size_t from, bool gen, const char *expected,
                          const char *what)
{
    chat_text out = {0};
    char err[256] = "";
    dsvk_status st = chat_render(t, m, n, from, gen, &out, err, sizeof err);
    CHECK(st == DSVK_OK, "%s: %s", what, err);
    CHECK(st != DSVK_OK || strcmp(out.data, expected) == 0,
          "%s:\n  got      [%s]\n  expected [%s]", what, out.data, expected);
    chat_text_free(&out);
}

static void test_v2_text(void)
{
    /* DeepSeek-V2-Chat's template renders this (llama.cpp's expected
     * output, with bos_token empty as there). */
    chat_template t = literal(CHAT_FORMAT_DEEPSEEK2, "");
    expect_render(&t, conversation, N_CONVERSATION, 0, true,
                  "You are a helpful assistant\n\nUser: Hello\n\nAssistant: "
                  "Hi there" EOS "User: Who are you\n\nAssistant:    I am an "
                  "assistant   " EOS "User: Another question\n\nAssistant:",
                  "deepseek2 conversation");
    t = literal(CHAT_FORMAT_DEEPSEEK2, BOS);
    expect_render(&t, conversation + 1, 2, 0, false,
                  BOS "User: Hello\n\nAssistant: Hi there" EOS,
                  "deepseek2 without generation prompt");
    expect_render(&t, conversation, 0, 0, true,
                  BOS "Assistant:", "deepseek2 empty conversation");
}

static void test_v3_text(void)
{
    /* The official V3 template (the fixture vocab's): the system prompt
     * directly after BOS, no separator before the first user turn. */
    chat_template t = literal(CHAT_FORMAT_DEEPSEEK3, BOS);
    expect_render(&t, conversation, N_CONVERSATION, 0, true,
                  BOS
                  "You are a helpful assistant<｜User｜>Hello<｜Assistant｜>"
                  "Hi there" EOS "<｜User｜>Who are you<｜Assistant｜>   I "
                  "am an assistant   " EOS
                  "<｜User｜>Another question<｜Assistant｜>",
                  "deepseek3 conversation");
    const chat_message two_systems[] = {
        {CHAT_ROLE_SYSTEM, "Be brief."},
        {CHAT_ROLE_USER, "hi"},
        {CHAT_ROLE_SYSTEM, "Be kind."},
    };
    expect_render(&t, two_systems, 3, 0, false,
                  BOS "Be brief.\n\nBe kind.<｜User｜>hi",
                  "deepseek3 gathers system messages");
    expect_render(&t, conversation + 1, 1, 0, false, BOS "<｜User｜>Hello",
                  "deepseek3 without system prompt");
    t = literal(CHAT_FORMAT_DEEPSEEK3, "");
    expect_render(&t, conversation, 0, 0, false, "",
                  "deepseek3 empty conversation, no BOS");
}

/* render(0, k) + render(k, n) == render(0, n) for every k > 0, both
 * formats, with and without generation prompt. */
static void test_incremental(void)
{
    const chat_format formats[] = {CHAT_FORMAT_DEEPSEEK2,
                                   CHAT_FORMAT_DEEPSEEK3};
    for (size_t f = 0; f < 2; f++) {
        chat_template t = literal(formats[f], BOS);
        for (size_t k = 1; k <= N_CONVERSATION; k++) {
            for (int gen = 0; gen < 2; gen++) {
                chat_text whole = {0}, parts = {0};
                char err[256] = "";
                dsvk_status a = chat_render(&t, conversation, N_CONVERSATION, 0,
                                            gen, &whole, err, sizeof err);
                dsvk_status b = chat_render(&t, conversation, k, 0, false,
                                            &parts, err, sizeof err);
                dsvk_status c = chat_render(&t, conversation, N_CONVERSATION, k,
                                            gen, &parts, err, sizeof err);
                CHECK(a == DSVK_OK && b == DSVK_OK && c == DSVK_OK &&
                          strcmp(whole.data, parts.data) == 0,
                      "%s k=%zu gen=%d: %s\n  whole [%s]\n  parts [%s]",
                      chat_format_name(formats[f]), k, gen, err, whole.data,
                      parts.data);
                chat_text_free(&whole);
                chat_text_free(&parts);
            }
        }
    }
}

/* A session prefills the prompt with generation prompt, the model writes
 * the reply and EOS: that text is the rendering with the reply added. */
static void test_reply(void)
{
    const chat_format formats[] = {CHAT_FORMAT_DEEPSEEK2,
                                   CHAT_FORMAT_DEEPSEEK3};
    /* What each model writes after its generation prompt. */
    const char *generated[] = {" Hi there", "Hi there"};
    for (size_t f = 0; f < 2; f++) {
        chat_template t = literal(formats[f], BOS);
        const char *reply = generated[f];
        size_t skip = chat_reply_content(&t, reply, strlen(reply));
        CHECK(skip == (f == 0 ? 1u : 0u), "%s reply content at %zu",
              chat_format_name(formats[f]), skip);
        chat_message m[3] = {conversation[0],
                             conversation[1],
                             {CHAT_ROLE_ASSISTANT, reply + skip}};
        chat_text seen = {0}, after = {0};
        chat_render(&t, m, 2, 0, true, &seen, NULL, 0);
        chat_render(&t, m, 3, 0, false, &after, NULL, 0);
        char expected[512];
        snprintf(expected, sizeof expected, "%s%s%s", seen.data, reply, EOS);
        CHECK(after.data && strcmp(after.data, expected) == 0,
              "%s: prompt + reply + EOS is not the rendering:\n  [%s]\n  [%s]",
              chat_format_name(formats[f]), expected, after.data);
        chat_text_free(&seen);
        chat_text_free(&after);
    }
    chat_template v2 = literal(CHAT_FORMAT_DEEPSEEK2, BOS);
    CHECK(chat_reply_content(&v2, "Hi", 2) == 0, "no space to skip");
    CHECK(chat_reply_content(&v2, "", 0) == 0, "empty reply");
}

static void test_render_errors(void)
{
    chat_template t = literal(CHAT_FORMAT_DEEPSEEK3, BOS);
    chat_text out = {0};
    char err[256] = "";
    chat_render(&t, conversation, 2, 0, false, &out, err, sizeof err);
    const size_t len = out.len;

    const chat_message late_system[] = {
        {CHAT_ROLE_USER, "hi"},
        {CHAT_ROLE_SYSTEM, "Be kind."},
    };
    CHECK(chat_render(&t, late_system, 2, 1, false, &out, err, sizeof err) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              strstr(err, "system message"),
          "deepseek3 cannot add a system message incrementally: %s", err);
    CHECK(chat_render(&t, conversation, 2, 3, false, &out, err, sizeof err) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "from beyond the conversation");
    const chat_message bad_role[] = {{(chat_role)7, "x"}};
    CHECK(chat_render(&t, bad_role, 1, 0, false, &out, err, sizeof err) ==
              DSVK_ERROR_INVALID_ARGUMENT,
          "unknown role");
    chat_template bad_format = literal((chat_format)9, BOS);
    CHECK(chat_render(&bad_format, conversation, 1, 0, false, &out, err,
                      sizeof err) == DSVK_ERROR_INVALID_ARGUMENT,
          "unknown format");
    CHECK(out.len == len && strlen(out.data) == len,
          "a failed render changed the output");

    /* deepseek2 renders system messages in place: fine incrementally. */
    t.format = CHAT_FORMAT_DEEPSEEK2;
    CHECK(chat_render(&t, late_system, 2, 1, false, &out, err, sizeof err) ==
              DSVK_OK,
          "deepseek2 system message later: %s", err);
    chat_text_free(&out);
}

/* DeepSeek-V2-Chat's tokenizer_config.json chat_template, verbatim. */
static const char v2_template[] =
    "{% if not add_generation_prompt is defined %}{% set "
    "add_generation_prompt = false %}{% endif %}{{ bos_token }}{% for "
    "message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + "
    "message['content'] + '\n\n' }}{% elif message['role'] == 'assistant' "
    "%}{{ 'Assistant: ' + message['content'] + eos_token }}{% elif "
    "message['role'] == 'system' %}{{ message['content'] + '\n\n' }}{% endif "
    "%}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif "
    "%}";

static void test_names_and_detection(void)
{
    chat_format f = 0;
    CHECK(chat_format_from_name("deepseek2", &f) && f == CHAT_FORMAT_DEEPSEEK2,
          "deepseek2 by name");
    CHECK(chat_format_from_name("deepseek3", &f) && f == CHAT_FORMAT_DEEPSEEK3,
          "deepseek3 by name");
    CHECK(!chat_format_from_name("chatml", &f) &&
              !chat_format_from_name("", &f),
          "unknown names");
    CHECK(strcmp(chat_format_name(CHAT_FORMAT_DEEPSEEK2), "deepseek2") == 0 &&
              strcmp(chat_format_name(CHAT_FORMAT_DEEPSEEK3), "deepseek3") ==
                  0 &&
              chat_format_name((chat_format)0) == NULL,
          "format names");

    CHECK(chat_format_detect(v2_template, strlen(v2_template), &f) &&
              f == CHAT_FORMAT_DEEPSEEK2,
          "the V2 template");
    const char *others[] = {
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + "
        "'\\n' + message['content'] + '<|im_end|>\\n'}}{% endfor %}",
        "{{ messages }}",
        /* V3 markers, but not all three. */
        "<｜User｜>{{ content }}<｜Assistant｜>",
        "",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        CHECK(!chat_format_detect(others[i], strlen(others[i]), &f),
              "template %zu recognised as %d", i, (int)f);
}

static gguf_file *open_vocab(const char *name, tok **t)
{
    gguf_file *f = NULL;
    char err[512] = "";
    *t = NULL;
    dsvk_status st = gguf_open(test_fixture(name), &f, err, sizeof err);
    if (st == DSVK_OK)
        st = tok_load(f, t, err, sizeof err);
    CHECK(st == DSVK_OK, "%s: %s", name, err);
    return f;
}

static void encode(const tok *t, const chat_text *text, tok_ids *ids)
{
    char err[256] = "";
    dsvk_status st =
        tok_encode(t, text->data, text->len, false, true, ids, err, sizeof err);
    CHECK(st == DSVK_OK, "tok_encode: %s", err);
}

static bool same_ids(const tok_ids *a, const int32_t *b, size_t n)
{
    return a->count == n && memcmp(a->ids, b, n * sizeof *b) == 0;
}

/* A session prefills only the new turn after the EOS that ended a reply:
 * its ids must be the ids of the full rendering's tail. */
static void check_incremental_ids(const chat_template *t, const tok *vocab,
                                  const chat_message *m, size_t n)
{
    for (size_t k = 1; k < n; k++) {
        if (m[k - 1].role != CHAT_ROLE_ASSISTANT)
            continue;
        chat_text whole = {0}, head = {0}, tail = {0};
        tok_ids ids_whole = {0}, ids_parts = {0};
        chat_render(t, m, n, 0, true, &whole, NULL, 0);
        chat_render(t, m, k, 0, false, &head, NULL, 0);
        chat_render(t, m, n, k, true, &tail, NULL, 0);
        encode(vocab, &whole, &ids_whole);
        encode(vocab, &head, &ids_parts);
        encode(vocab, &tail, &ids_parts);
        CHECK(ids_whole.count == ids_parts.count &&
                  same_ids(&ids_parts, ids_whole.ids, ids_whole.count),
              "%s: ids of turn %zu prefilled alone differ from the whole "
              "rendering's",
              chat_format_name(t->format), k);
        tok_ids_free(&ids_whole);
        tok_ids_free(&ids_parts);
        chat_text_free(&whole);
        chat_text_free(&head);
        chat_text_free(&tail);
    }
}

static void test_v3_vocab(void)
{
    tok *vocab = NULL;
    gguf_file *f = open_vocab("tokenizer/ggml-vocab-deepseek-v3.gguf", &vocab);
    if (!vocab) {
        gguf_close(f);
        return;
    }
    /* The special ids, as the fixture README and deepseek-v3.public.jsonl
     * give them. */
    CHECK(tok_find(vocab, "<｜User｜>", strlen("<｜User｜>")) == 128803 &&
              tok_find(vocab, "<｜Assistant｜>", strlen("<｜Assistant｜>")) ==
                  128804 &&
              tok_bos(vocab) == 0 && tok_eos(vocab) == 1,
          "special token ids of the V3 vocabulary");

    chat_template t;
    char err[256] = "";
    CHECK(chat_template_for_model(f, vocab, NULL, &t, err, sizeof err) ==
                  DSVK_OK &&
              t.format == CHAT_FORMAT_DEEPSEEK3 && t.bos_len == strlen(BOS) &&
              memcmp(t.bos, BOS, t.bos_len) == 0 && t.eos_len == strlen(EOS) &&
              memcmp(t.eos, EOS, t.eos_len) == 0,
          "V3 vocab: detected template and BOS/EOS texts: %s", err);

    /* Contents whose ids deepseek-v3.public.jsonl lists (HF tokenizers):
     * "Hello, World! How are you today?", "hi", "Hello world",
     * "don't won't can't shouldn't". */
    const chat_message m[] = {
        {CHAT_ROLE_SYSTEM, "Hello, World! How are you today?"},
        {CHAT_ROLE_USER, "hi"},
        {CHAT_ROLE_ASSISTANT, "Hello world"},
        {CHAT_ROLE_USER, "don't won't can't shouldn't"},
    };
    const int32_t expected[] = {
        0,    19923,  14,   4495,   3,     1730,  477,  440,    4316,
        33,   128803, 6366, 128804, 19923, 2058,  1,    128803, 20385,
        1664, 5646,   1664, 588,    1664,  22054, 1664, 128804,
    };
    chat_text text = {0};
    tok_ids ids = {0};
    chat_render(&t, m, 4, 0, true, &text, err, sizeof err);
    encode(vocab, &text, &ids);
    CHECK(same_ids(&ids, expected, sizeof expected / sizeof expected[0]),
          "V3 conversation ids differ (%zu ids, expected %zu)", ids.count,
          sizeof expected / sizeof expected[0]);
    tok_ids_free(&ids);
    chat_text_free(&text);
    check_incremental_ids(&t, vocab, conversation, N_CONVERSATION);

    CHECK(chat_template_for_model(f, vocab, "deepseek2", &t, err, sizeof err) ==
                  DSVK_OK &&
              t.format == CHAT_FORMAT_DEEPSEEK2,
          "a name overrides the template: %s", err);
    CHECK(chat_template_for_model(f, vocab, "llama3", &t, err, sizeof err) ==
                  DSVK_ERROR_INVALID_ARGUMENT &&
              strstr(err, "llama3"),
          "unknown name: %s", err);
    tok_free(vocab);
    gguf_close(f);
}

/* The DeepSeek-LLM/V2 vocabulary has no chat template in its GGUF. */
static void test_v2_vocab(void)
{
    tok *vocab = NULL;
    gguf_file *f = open_vocab("tokenizer/ggml-vocab-deepseek-llm.gguf", &vocab);
    if (!vocab) {
        gguf_close(f);
        return;
    }
    chat_template t;
    char err[256] = "";
    CHECK(chat_template_for_model(f, vocab, NULL, &t, err, sizeof err) ==
                  DSVK_ERROR_UNSUPPORTED &&
              strstr(err, "no chat template"),
          "no template must fail and say so: %s", err);
    CHECK(chat_template_for_model(f, vocab, "deepseek2", &t, err, sizeof err) ==
                  DSVK_OK &&
              t.format == CHAT_FORMAT_DEEPSEEK2 && t.bos_len == strlen(BOS) &&
              memcmp(t.bos, BOS, t.bos_len) == 0,
          "deepseek2 by name on the V2 vocabulary: %s", err);

    /* BOS and EOS are single ids where the format puts them. */
    chat_text text = {0};
    tok_ids ids = {0};
    chat_render(&t, conversation + 1, 3, 0, true, &text, NULL, 0);
    encode(vocab, &text, &ids);
    size_t eos_at = 0, n_eos = 0;
    for (size_t i = 0; i < ids.count; i++)
        if (ids.ids[i] == 100001) {
            eos_at = i;
            n_eos++;
        }
    CHECK(ids.count > 0 && ids.ids[0] == 100000 && n_eos == 1,
          "V2: BOS first (%d) and one EOS (%zu)",
          ids.count ? (int)ids.ids[0] : -1, n_eos);
    /* The EOS follows "Hi there" and precedes "User: Who are you". */
    size_t len = 0;
    const char *before = tok_text(vocab, ids.ids[eos_at - 1], &len);
    CHECK(n_eos == 1 && eos_at > 0 && before && len >= 5 &&
              memcmp(before + len - 5, "there", 5) == 0,
          "V2: EOS ends the reply");
    tok_ids_free(&ids);
    chat_text_free(&text);
    check_incremental_ids(&t, vocab, conversation, N_CONVERSATION);
    tok_free(vocab);
    gguf_close(f);
}

int main(void)
{
    test_v2_text();
    test_v3_text();
    test_incremental();
    test_reply();
    test_render_errors();
    test_names_and_detection();
    test_v3_vocab();
    test_v2_vocab();
    return test_finish("test_chat");
}
