/* dsvk serve's reply bodies (tools/serve/reply.h), read back with cJSON:
 * whole chat and text completions, streamed chunks (the first with the
 * role, text, the finish, the usage-only last one), usage and timings with
 * a cache count clamped to the prompt, text that is not UTF-8 made valid,
 * the model list and error bodies. */
#include "reply.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Parses a builder's result (freeing it); fails the test on NULL or on
 * JSON that does not parse. */
static cJSON *parsed(char *json, const char *what)
{
    CHECK(json != NULL, "%s: no body", what);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    CHECK(root != NULL, "%s: not JSON: %s", what, json ? json : "");
    free(json);
    return root;
}

/* The string at a path of object keys (NULL where it is missing). */
static const char *string_at(const cJSON *node, const char *a, const char *b,
                             const char *c)
{
    const char *keys[3] = {a, b, c};
    for (int i = 0; i < 3 && keys[i] && node; i++)
        node = cJSON_GetObjectItemCaseSensitive(node, keys[i]);
    return cJSON_IsString(node) ? node->valuestring : NULL;
}

static double number_at(const cJSON *node, const char *a, const char *b)
{
    node = cJSON_GetObjectItemCaseSensitive(node, a);
    if (b)
        node = cJSON_GetObjectItemCaseSensitive(node, b);
    return cJSON_IsNumber(node) ? node->valuedouble : -1;
}

static bool is_null_at(const cJSON *node, const char *key)
{
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(node, key));
}

static const cJSON *first_choice(const cJSON *root)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"),
                              0);
}

#define EXPECT_STRING(got, want, what)                                         \
    CHECK((got) && strcmp((got), (want)) == 0, "%s: \"%s\", expected \"%s\"",  \
          what, (got) ? (got) : "(missing)", want)

static serve_reply chat_reply(void)
{
    return (serve_reply){.endpoint = SERVE_CHAT,
                         .id = "chatcmpl-7",
                         .model = "tiny",
                         .created = 1700000000,
                         .content = "Hello there",
                         .content_len = 5,
                         .reasoning = "hm",
                         .reasoning_len = 2,
                         .finish_reason = "stop",
                         .prompt_tokens = 10,
                         .completion_tokens = 5,
                         .cached_tokens = 4,
                         .prompt_ms = 12.5,
                         .predicted_ms = 30.0};
}

static void test_chat_body(void)
{
    serve_reply r = chat_reply();
    cJSON *root = parsed(serve_reply_body(&r), "chat body");
    EXPECT_STRING(string_at(root, "object", NULL, NULL), "chat.completion",
                  "object");
    EXPECT_STRING(string_at(root, "id", NULL, NULL), "chatcmpl-7", "id");
    EXPECT_STRING(string_at(root, "model", NULL, NULL), "tiny", "model");
    CHECK(number_at(root, "created", NULL) == 1700000000, "created");
    const cJSON *choice = first_choice(root);
    EXPECT_STRING(string_at(choice, "message", "role", NULL), "assistant",
                  "role");
    /* content_len bounds the text: "Hello", not "Hello there". */
    EXPECT_STRING(string_at(choice, "message", "content", NULL), "Hello",
                  "content");
    EXPECT_STRING(string_at(choice, "message", "reasoning_content", NULL), "hm",
                  "reasoning");
    EXPECT_STRING(string_at(choice, "finish_reason", NULL, NULL), "stop",
                  "finish_reason");
    CHECK(is_null_at(choice, "logprobs"), "logprobs is not null");
    CHECK(number_at(root, "usage", "prompt_tokens") == 10 &&
              number_at(root, "usage", "completion_tokens") == 5 &&
              number_at(root, "usage", "total_tokens") == 15,
          "usage counts");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    CHECK(number_at(usage, "prompt_tokens_details", "cached_tokens") == 4,
          "cached tokens");
    CHECK(number_at(root, "timings", "prompt_n") == 6 &&
              number_at(root, "timings", "predicted_n") == 5 &&
              number_at(root, "timings", "prompt_ms") == 12.5 &&
              number_at(root, "timings", "predicted_ms") == 30.0,
          "timings");
    cJSON_Delete(root);

    /* No reasoning: the key is left out. A cache count past the prompt is
     * clamped to it. */
    r.reasoning_len = 0;
    r.cached_tokens = 20;
    root = parsed(serve_reply_body(&r), "chat body without reasoning");
    CHECK(!string_at(first_choice(root), "message", "reasoning_content", NULL),
          "reasoning_content without reasoning");
    usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    CHECK(number_at(usage, "prompt_tokens_details", "cached_tokens") == 10 &&
              number_at(root, "timings", "prompt_n") == 0,
          "cached tokens not clamped to the prompt");
    cJSON_Delete(root);
}

static void test_completion_body(void)
{
    serve_reply r = chat_reply();
    r.endpoint = SERVE_COMPLETION;
    r.id = "cmpl-3";
    r.finish_reason = "length";
    cJSON *root = parsed(serve_reply_body(&r), "completion body");
    EXPECT_STRING(string_at(root, "object", NULL, NULL), "text_completion",
                  "object");
    const cJSON *choice = first_choice(root);
    EXPECT_STRING(string_at(choice, "text", NULL, NULL), "Hello", "text");
    CHECK(!cJSON_GetObjectItemCaseSensitive(choice, "message"),
          "a completion has no message");
    EXPECT_STRING(string_at(choice, "finish_reason", NULL, NULL), "length",
                  "finish_reason");
    cJSON_Delete(root);
}

static void test_chunks(void)
{
    /* The first chat chunk: the role, no content yet, no finish. */
    serve_reply r = chat_reply();
    r.content_len = r.reasoning_len = 0;
    r.finish_reason = NULL;
    r.first = true;
    cJSON *root = parsed(serve_reply_chunk(&r), "first chunk");
    EXPECT_STRING(string_at(root, "object", NULL, NULL),
                  "chat.completion.chunk", "object");
    const cJSON *choice = first_choice(root);
    EXPECT_STRING(string_at(choice, "delta", "role", NULL), "assistant",
                  "role");
    CHECK(!string_at(choice, "delta", "content", NULL),
          "an empty delta has no content");
    CHECK(is_null_at(choice, "finish_reason"), "finish_reason is not null");
    CHECK(!cJSON_GetObjectItemCaseSensitive(root, "usage"), "usage early");
    cJSON_Delete(root);

    /* A piece of text: no role again. */
    r.first = false;
    r.content_len = 5;
    root = parsed(serve_reply_chunk(&r), "text chunk");
    choice = first_choice(root);
    EXPECT_STRING(string_at(choice, "delta", "content", NULL), "Hello",
                  "content");
    CHECK(!string_at(choice, "delta", "role", NULL), "role after the first");
    cJSON_Delete(root);

    /* The usage-only last chunk: empty choices. */
    r.content_len = 0;
    r.usage = true;
    root = parsed(serve_reply_chunk(&r), "usage chunk");
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    CHECK(cJSON_IsArray(choices) && cJSON_GetArraySize(choices) == 0,
          "the usage chunk has choices");
    CHECK(number_at(root, "usage", "total_tokens") == 15, "usage chunk total");
    cJSON_Delete(root);

    /* A text completion's chunk with its finish. */
    r.endpoint = SERVE_COMPLETION;
    r.usage = false;
    r.content = "end";
    r.content_len = 3;
    r.finish_reason = "stop";
    root = parsed(serve_reply_chunk(&r), "completion chunk");
    EXPECT_STRING(string_at(root, "object", NULL, NULL), "text_completion",
                  "object");
    EXPECT_STRING(string_at(first_choice(root), "text", NULL, NULL), "end",
                  "text");
    cJSON_Delete(root);
}

/* A token may end inside a UTF-8 character: the reply carries U+FFFD for
 * what is not valid, never the raw bytes (JSON must be UTF-8). */
static void test_invalid_utf8(void)
{
    serve_reply r = chat_reply();
    r.content = "ab\xe2\x82"
                "c\xff";
    r.content_len = 6;
    r.reasoning_len = 0;
    cJSON *root = parsed(serve_reply_body(&r), "invalid UTF-8");
    EXPECT_STRING(string_at(first_choice(root), "message", "content", NULL),
                  "ab\xef\xbf\xbd"
                  "c\xef\xbf\xbd",
                  "content");
    cJSON_Delete(root);
}

static void test_models_and_errors(void)
{
    cJSON *root = parsed(serve_reply_models("tiny", 42), "models");
    EXPECT_STRING(string_at(root, "object", NULL, NULL), "list", "object");
    const cJSON *model =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "data"), 0);
    EXPECT_STRING(string_at(model, "id", NULL, NULL), "tiny", "model id");
    EXPECT_STRING(string_at(model, "object", NULL, NULL), "model",
                  "model object");
    CHECK(number_at(model, "created", NULL) == 42, "model created");
    cJSON_Delete(root);

    serve_error err = {.http_status = 400,
                       .type = "invalid_request_error",
                       .code = "context_length_exceeded",
                       .param = "messages",
                       .message = "the prompt is too long"};
    root = parsed(serve_reply_error(&err), "error");
    EXPECT_STRING(string_at(root, "error", "message", NULL),
                  "the prompt is too long", "message");
    EXPECT_STRING(string_at(root, "error", "type", NULL),
                  "invalid_request_error", "type");
    EXPECT_STRING(string_at(root, "error", "param", NULL), "messages", "param");
    EXPECT_STRING(string_at(root, "error", "code", NULL),
                  "context_length_exceeded", "code");
    cJSON_Delete(root);

    /* No param, no code, no type: nulls and the default type. */
    serve_error bare = {.http_status = 404, .message = "no such route"};
    root = parsed(serve_reply_error(&bare), "bare error");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    CHECK(is_null_at(error, "param") && is_null_at(error, "code"),
          "param and code are not null");
    EXPECT_STRING(string_at(error, "type", NULL, NULL), "invalid_request_error",
                  "default type");
    cJSON_Delete(root);
}

int main(void)
{
    test_chat_body();
    test_completion_body();
    test_chunks();
    test_invalid_utf8();
    test_models_and_errors();
    return test_finish("test_serve_reply");
}
