/* dsvk serve's request parser (tools/serve/request.h): the characters it
 * refuses that cJSON lets through, as fuzz_serve_request found (invalid
 * UTF-8) and review found (a NUL, raw or \u0000, cut strings short). */
#include "request.h"
#include "testlib.h"

#include <string.h>

/* Parses a body written as a C literal (its NULs included). */
#define PARSE(endpoint, literal, r, err)                                       \
    serve_request_parse(endpoint, literal, sizeof literal - 1, r, err)

/* The body must be refused with a 400 naming `why` in its message. */
#define EXPECT_REFUSED(endpoint, literal, why)                                 \
    do {                                                                       \
        serve_request r;                                                       \
        serve_error err;                                                       \
        bool ok = PARSE(endpoint, literal, &r, &err);                          \
        CHECK(!ok && err.http_status == 400 && strstr(err.message, why),       \
              "%s: ok %d, %d: %s", #literal, ok, err.http_status,              \
              err.message);                                                    \
        CHECK(!r.messages && !r.prompt && r.n_stop == 0, "%s: not empty",      \
              #literal);                                                       \
        serve_request_free(&r);                                                \
    } while (0)

static void test_invalid_utf8(void)
{
    /* A stop string, content, prompt and model each not UTF-8: a lone
     * continuation byte, a truncated character, an overlong '/', a
     * surrogate, a code point above U+10FFFF (fuzzer finding
     * tests/fuzz-corpus/serve_request/stop-invalid-utf8). */
    EXPECT_REFUSED(SERVE_COMPLETION, "{\"prompt\":\"x\",\"stop\":\"t\x99\"}",
                   "not valid UTF-8 (near byte 23)");
    EXPECT_REFUSED(
        SERVE_CHAT,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"\xe2\x82\"}]}",
        "not valid UTF-8");
    EXPECT_REFUSED(SERVE_COMPLETION, "{\"prompt\":\"\xc0\xaf\"}",
                   "not valid UTF-8");
    EXPECT_REFUSED(SERVE_COMPLETION, "{\"prompt\":\"\xed\xa0\x80\"}",
                   "not valid UTF-8");
    EXPECT_REFUSED(SERVE_COMPLETION,
                   "{\"prompt\":\"x\",\"model\":\"\xf4\x90\x80\x80\"}",
                   "not valid UTF-8");
    /* An unknown field is ignored, but not the bytes it holds. */
    EXPECT_REFUSED(SERVE_COMPLETION, "{\"prompt\":\"x\",\"meta\":\"\xff\"}",
                   "not valid UTF-8");
}

static void test_nul_and_control(void)
{
    /* Before, each of these parsed, with the prompt, role or stop string
     * cut at the NUL: "a", "user", no stop at all. */
    EXPECT_REFUSED(SERVE_COMPLETION, "{\"prompt\":\"a\\u0000b\"}",
                   "\\u0000 (near byte 12)");
    EXPECT_REFUSED(SERVE_CHAT,
                   "{\"messages\":[{\"role\":\"user\\u0000x\",\"content\":"
                   "\"c\"}]}",
                   "\\u0000");
    EXPECT_REFUSED(SERVE_COMPLETION, "{\"prompt\":\"x\",\"stop\":\"\\u0000\"}",
                   "\\u0000");
    EXPECT_REFUSED(SERVE_COMPLETION, "{\"prompt\":\"a\0b\"}",
                   "control character 0x00");
    /* cJSON takes control characters for whitespace. */
    EXPECT_REFUSED(SERVE_COMPLETION, "{\x01\"prompt\":\"x\"}",
                   "control character 0x01");
    EXPECT_REFUSED(SERVE_COMPLETION, "{\"prompt\":\"bell\x07\"}",
                   "control character 0x07");
}

static void test_accepted_text(void)
{
    /* Every length of UTF-8, escapes (a surrogate pair, an escaped
     * backslash before "u0000"), a BOM, and a raw tab and line feed: not
     * JSON inside a string, but harmless, and cJSON copies them. */
    static const char body[] =
        "\xef\xbb\xbf{\"prompt\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 "
        "\\ud83d\\ude00 \\\\u0000\t\n\",\"stop\":[\"\xf4\x8f\xbf\xbf\"]}";
    serve_request r;
    serve_error err;
    bool ok = PARSE(SERVE_COMPLETION, body, &r, &err);
    CHECK(ok, "%s", err.message);
    const char *want = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 "
                       "\xf0\x9f\x98\x80 \\u0000\t\n";
    CHECK(ok && strcmp(r.prompt, want) == 0 && r.prompt_len == strlen(want),
          "prompt [%s]", ok ? r.prompt : "");
    CHECK(ok && r.n_stop == 1 && strcmp(r.stop[0], "\xf4\x8f\xbf\xbf") == 0,
          "stop");
    serve_request_free(&r);
}

int main(void)
{
    test_invalid_utf8();
    test_nul_and_control();
    test_accepted_text();
    return test_finish("test_serve_request");
}
