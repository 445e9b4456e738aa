/* dsvk serve's streaming text filters (tools/serve): the stop matcher, on
 * the stop strings fuzz_serve_request found it mishandled. */
#include "stop.h"
#include "testlib.h"

#include <string.h>

typedef struct released {
    char text[256];
    size_t len;
} released;

static void collect(void *user, const char *s, size_t n)
{
    released *r = user;
    if (r->len + n < sizeof r->text) {
        memcpy(r->text + r->len, s, n);
        r->len += n;
        r->text[r->len] = '\0';
    }
}

/* Streams `text` one byte at a time through a matcher for `stops`. */
static void expect_stop(char *const *stops, size_t n, const char *text,
                        bool want_match, const char *want)
{
    stop_match m;
    CHECK(stop_match_init(&m, stops, n), "init");
    released out = {0};
    bool matched = false;
    for (size_t i = 0; text[i]; i++)
        matched = stop_match_push(&m, text + i, 1, collect, &out);
    stop_match_finish(&m, collect, &out);
    stop_match_free(&m);
    CHECK(matched == want_match && strcmp(out.text, want) == 0,
          "%s: matched %d, released [%s], expected %d [%s]", text, matched,
          out.text, want_match, want);
}

static void test_stop_failure_function(void)
{
    /* "aab": its failure function falls back from the border "a" at 'b',
     * which read fail[0] before it was set (fuzzer finding
     * tests/fuzz-corpus/serve_request/stop-border-fallback). Only the
     * ASan build shows it every time: it fills new blocks with 0xbe. */
    char *aab[] = {"aab"};
    expect_stop(aab, 1, "xaaab!", true, "xa");
    expect_stop(aab, 1, "xaaa", false, "xaaa");
    char *finding[] = {"\n", "The end", "nullhe ende"};
    expect_stop(finding, 3, "Once, nullhe end nullhe ende.", true,
                "Once, nullhe end ");
}

int main(void)
{
    test_stop_failure_function();
    return test_finish("test_serve_text");
}
