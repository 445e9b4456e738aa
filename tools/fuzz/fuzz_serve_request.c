/* Fuzz target: dsvk serve's text layer on an untrusted request body. The
 * first input byte chooses the endpoint (bit 0: completion, else chat) and
 * the piece size of the streaming checks (the other bits); the rest is the
 * body. Checks request.h's promises: a parsed request is well-formed (chat:
 * at least one message with a role and content; completion: a prompt of
 * prompt_len bytes; strings valid UTF-8; at most SERVE_MAX_STOP non-empty
 * stop strings; sampling settings in range, which dsvk_sampler_create
 * accepts), a refusal is a 400 with one line of message and leaves the
 * request empty, and serve_request_free takes an empty request. Then the
 * request's text (the last message or the prompt; the raw body when the
 * parse failed) is streamed in pieces through the stop matcher, with the
 * request's stop strings, and the <think> splitter, whose output must not
 * depend on the pieces and must match a plain reference; and the reply
 * and error bodies built from it must be JSON that gives the text back. */
#include "fuzz.h"
#include "reply.h"
#include "request.h"
#include "stop.h"
#include "think.h"

#include <cjson/cJSON.h>
#include <string.h>

/* Whether s[0..n) is UTF-8 without NUL: no overlong forms, surrogates or
 * code points above U+10FFFF (decoded here, not as reply.c checks). */
static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = u[i] < 0x80       ? 1
                     : u[i] >> 5 == 6  ? 2
                     : u[i] >> 4 == 14 ? 3
                     : u[i] >> 3 == 30 ? 4
                                       : 0;
        if (len == 0 || u[i] == 0 || n - i < len)
            return false;
        uint32_t cp = len == 1 ? u[i] : u[i] & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if (u[i + k] >> 6 != 2)
                return false;
            cp = cp << 6 | (u[i + k] & 0x3f);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static bool valid_string(const char *s)
{
    return s && utf8_valid(s, strlen(s));
}

static void check_parsed(const serve_request *r, serve_endpoint endpoint)
{
    FUZZ_CHECK(r->endpoint == endpoint);
    if (endpoint == SERVE_CHAT) {
        FUZZ_CHECK(r->n_messages >= 1 && r->messages && !r->prompt);
        for (size_t i = 0; i < r->n_messages; i++) {
            FUZZ_CHECK(r->messages[i].role <= DSVK_ROLE_ASSISTANT);
            FUZZ_CHECK(valid_string(r->messages[i].content));
        }
    } else {
        FUZZ_CHECK(r->n_messages == 0 && !r->messages);
        FUZZ_CHECK(valid_string(r->prompt) &&
                   strlen(r->prompt) == r->prompt_len);
    }
    FUZZ_CHECK(!r->model || valid_string(r->model));
    FUZZ_CHECK(r->n_stop <= SERVE_MAX_STOP);
    for (size_t i = 0; i < SERVE_MAX_STOP; i++)
        FUZZ_CHECK(i < r->n_stop ? valid_string(r->stop[i]) && r->stop[i][0]
                                 : !r->stop[i]);
    const dsvk_sampler_settings *s = &r->sampling;
    FUZZ_CHECK(s->temperature >= 0 && s->temperature <= 2);
    FUZZ_CHECK(s->top_p >= 0 && s->top_p <= 1);
    FUZZ_CHECK(s->min_p >= 0 && s->min_p <= 1);
    FUZZ_CHECK(s->presence_penalty >= -2 && s->presence_penalty <= 2);
    FUZZ_CHECK(s->frequency_penalty >= -2 && s->frequency_penalty <= 2);
    FUZZ_CHECK(s->repeat_penalty > 0 && s->repeat_penalty <= 1e6);
    FUZZ_CHECK(r->has_seed || s->seed == dsvk_sampler_defaults().seed);
    dsvk_sampler *sampler = NULL;
    FUZZ_CHECK(dsvk_sampler_create(s, &sampler, NULL, 0) == DSVK_OK);
    dsvk_sampler_destroy(sampler);
}

static void check_empty(const serve_request *r)
{
    FUZZ_CHECK(!r->messages && r->n_messages == 0 && !r->prompt &&
               r->prompt_len == 0 && !r->model && r->n_stop == 0);
    for (size_t i = 0; i < SERVE_MAX_STOP; i++)
        FUZZ_CHECK(!r->stop[i]);
}

/* A line: NUL-terminated within its array, no line break. */
static bool one_line(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    return n < size && !memchr(s, '\n', n) && !memchr(s, '\r', n);
}

static void check_refusal(const serve_error *err)
{
    /* Only running out of memory gives another status (500). */
    FUZZ_CHECK(err->http_status == 400);
    FUZZ_CHECK(err->type && strcmp(err->type, "invalid_request_error") == 0);
    FUZZ_CHECK(one_line(err->message, sizeof err->message) && err->message[0]);
    FUZZ_CHECK(one_line(err->param, sizeof err->param));
}

/* Text collected from the streaming emitters. */
typedef struct text {
    char *data;
    size_t len;
} text;

static void append(text *t, const char *s, size_t n)
{
    t->data = realloc(t->data, t->len + n + 1);
    FUZZ_CHECK(t->data != NULL);
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static bool equals(const text *t, const char *s, size_t n)
{
    return t->len == n && (n == 0 || memcmp(t->data, s, n) == 0);
}

static void stop_emit(void *user, const char *s, size_t n)
{
    FUZZ_CHECK(n > 0);
    append(user, s, n);
}

/* The stop matcher's promise, found the plain way: the text up to the
 * first place where a stop string ends (at one end, the longest), and
 * whether there was one. */
static size_t stop_reference(const char *s, size_t n, char *const *stops,
                             size_t n_stops, bool *matched)
{
    for (size_t end = 1; end <= n; end++) {
        size_t best = 0;
        for (size_t k = 0; k < n_stops; k++) {
            size_t len = strlen(stops[k]);
            if (len > best && len <= end &&
                memcmp(s + end - len, stops[k], len) == 0)
                best = len;
        }
        if (best > 0) {
            *matched = true;
            return end - best;
        }
    }
    *matched = false;
    return n;
}

static void check_stop(const char *s, size_t n, size_t piece,
                       char *const *stops, size_t n_stops)
{
    bool want_match;
    size_t want_len = stop_reference(s, n, stops, n_stops, &want_match);
    stop_match m;
    FUZZ_CHECK(stop_match_init(&m, stops, n_stops));
    text out = {0};
    bool matched = false;
    for (size_t at = 0; at < n; at += piece) {
        size_t len = n - at < piece ? n - at : piece;
        bool was = matched;
        matched = stop_match_push(&m, s + at, len, stop_emit, &out);
        /* Once matched, a push releases nothing. */
        FUZZ_CHECK(!was || (matched && out.len == want_len));
    }
    stop_match_finish(&m, stop_emit, &out);
    stop_match_free(&m);
    FUZZ_CHECK(matched == want_match && equals(&out, s, want_len));
    free(out.data);
}

typedef struct split {
    text reasoning, content;
} split;

static void think_emit(void *user, bool is_reasoning, const char *s, size_t n)
{
    split *sp = user;
    FUZZ_CHECK(n > 0);
    append(is_reasoning ? &sp->reasoning : &sp->content, s, n);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_space(const char *s, size_t n, size_t at)
{
    while (at < n && is_space(s[at]))
        at++;
    return at;
}

/* think.h's rules, found the plain way. The splitter allows as much
 * whitespace before <think> as fits beside the tag in its held bytes. */
static void think_reference(const char *s, size_t n, split *want)
{
    static const char open[] = "<think>", close[] = "</think>";
    size_t max_space = sizeof((think_split){0}.held_) - strlen(open);
    size_t at = skip_space(s, n, 0);
    if (at > max_space || n - at < strlen(open) ||
        memcmp(s + at, open, strlen(open)) != 0) {
        append(&want->content, s, n);
        return;
    }
    at = skip_space(s, n, at + strlen(open));
    const char *end = memmem(s + at, n - at, close, strlen(close));
    size_t reasoning_end = end ? (size_t)(end - s) : n;
    append(&want->reasoning, s + at, reasoning_end - at);
    if (end) {
        at = skip_space(s, n, reasoning_end + strlen(close));
        append(&want->content, s + at, n - at);
    }
}

static void check_think(const char *s, size_t n, size_t piece, split *out)
{
    think_split t = {0};
    for (size_t at = 0; at < n; at += piece)
        think_push(&t, s + at, n - at < piece ? n - at : piece, think_emit,
                   out);
    think_finish(&t, think_emit, out);
    split want = {0};
    think_reference(s, n, &want);
    FUZZ_CHECK(
        equals(&out->reasoning, want.reasoning.data, want.reasoning.len));
    FUZZ_CHECK(equals(&out->content, want.content.data, want.content.len));
    free(want.reasoning.data);
    free(want.content.data);
}

/* The string at object.name, or NULL. */
static const char *string_at(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* A reply string that must give back s[0..n): exactly when s is valid
 * UTF-8 without NUL, else some valid UTF-8. */
static void check_text(const char *got, const char *s, size_t n)
{
    FUZZ_CHECK(valid_string(got));
    if (utf8_valid(s, n))
        FUZZ_CHECK(strlen(got) == n && (n == 0 || memcmp(got, s, n) == 0));
}

static void check_reply(serve_endpoint endpoint, const char *model,
                        const split *sp)
{
    serve_reply r = {.endpoint = endpoint,
                     .id = "chatcmpl-fuzz",
                     .model = model,
                     .content = sp->content.data,
                     .content_len = sp->content.len,
                     .reasoning = sp->reasoning.data,
                     .reasoning_len = sp->reasoning.len,
                     .finish_reason = "stop",
                     .usage = true};
    for (int chunk = 0; chunk < 2; chunk++) {
        char *body = chunk ? serve_reply_chunk(&r) : serve_reply_body(&r);
        FUZZ_CHECK(body != NULL);
        cJSON *root = cJSON_Parse(body);
        FUZZ_CHECK(cJSON_IsObject(root));
        if (model)
            check_text(string_at(root, "model"), model, strlen(model));
        const cJSON *choice =
            cJSON_GetArrayItem(cJSON_GetObjectItem(root, "choices"), 0);
        if (endpoint == SERVE_COMPLETION) {
            check_text(string_at(choice, "text"), r.content, r.content_len);
        } else {
            const cJSON *message =
                cJSON_GetObjectItem(choice, chunk ? "delta" : "message");
            const char *content = string_at(message, "content");
            /* A chunk's delta leaves out empty content. */
            if (chunk && r.content_len == 0)
                FUZZ_CHECK(!content);
            else
                check_text(content, r.content, r.content_len);
            const char *reasoning = string_at(message, "reasoning_content");
            if (r.reasoning_len > 0)
                check_text(reasoning, r.reasoning, r.reasoning_len);
            else
                FUZZ_CHECK(!reasoning);
        }
        cJSON_Delete(root);
        free(body);
    }
}

static void check_error_body(const serve_error *err)
{
    char *body = serve_reply_error(err);
    FUZZ_CHECK(body != NULL);
    cJSON *root = cJSON_Parse(body);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    const char *message = string_at(error, "message");
    FUZZ_CHECK(message && strcmp(message, err->message) == 0);
    const char *param = string_at(error, "param");
    FUZZ_CHECK(err->param[0]
                   ? param && strcmp(param, err->param) == 0
                   : cJSON_IsNull(cJSON_GetObjectItem(error, "param")));
    cJSON_Delete(root);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    serve_endpoint endpoint = data[0] & 1 ? SERVE_COMPLETION : SERVE_CHAT;
    size_t piece = 1 + (data[0] >> 1) % 16;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    serve_request r;
    serve_error err;
    const char *s = body;
    size_t n = len;
    if (serve_request_parse(endpoint, body, len, &r, &err)) {
        check_parsed(&r, endpoint);
        s = endpoint == SERVE_CHAT ? r.messages[r.n_messages - 1].content
                                   : r.prompt;
        n = strlen(s);
    } else {
        check_refusal(&err);
        check_empty(&r);
        check_error_body(&err);
    }

    check_stop(s, n, piece, r.stop, r.n_stop);
    split sp = {0};
    check_think(s, n, piece, &sp);
    check_reply(endpoint, r.model, &sp);
    free(sp.reasoning.data);
    free(sp.content.data);

    serve_request_free(&r);
    check_empty(&r);
    serve_request_free(&r);
    return 0;
}
