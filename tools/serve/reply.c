/* The reply bodies of reply.h, built as cJSON trees and printed
 * unformatted. Text goes through valid_utf8 first: cJSON escapes what JSON
 * requires but copies other bytes as they are, and a client's JSON parser
 * may refuse a body that is not UTF-8. */
#include "reply.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* The length of the well-formed UTF-8 character at s[0..n), or 0 when the
 * bytes there do not begin one; *bad then gets the length of the maximal
 * ill-formed subpart (Unicode §3.9, "U+FFFD substitution of maximal
 * subparts", as browsers and Python do). Overlong forms, surrogates and
 * code points above U+10FFFF are ill-formed. */
static size_t utf8_char(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c < 0x80)
        return c != 0 ? 1 : (*bad = 1, 0); /* NUL would end a C string */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i < len && i < n; i++) {
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
        if (s[i] < min || s[i] > max)
            break;
    }
    if (i == len)
        return len;
    *bad = i;
    return 0;
}

/* A NUL-terminated copy of s[0..n) with every ill-formed subpart, and every
 * NUL byte (a C string cannot hold one), replaced by U+FFFD. */
static char *valid_utf8(const char *s, size_t n)
{
    /* U+FFFD is 3 bytes and replaces at least one. */
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    size_t at = 0;
    for (size_t i = 0; i < n;) {
        size_t bad = 0, len = utf8_char(u + i, n - i, &bad);
        if (len) {
            memcpy(out + at, s + i, len);
            at += len;
            i += len;
        } else {
            memcpy(out + at, "\xef\xbf\xbd", 3);
            at += 3;
            i += bad;
        }
    }
    out[at] = '\0';
    return out;
}

/* Adds name: s[0..n) as a string; false when out of memory. */
static bool add_text(cJSON *object, const char *name, const char *s, size_t n)
{
    char *text = valid_utf8(s ? s : "", s ? n : 0);
    bool ok = text && cJSON_AddStringToObject(object, name, text);
    free(text);
    return ok;
}

static bool add_string(cJSON *object, const char *name, const char *s)
{
    return add_text(object, name, s, s ? strlen(s) : 0);
}

/* "finish_reason": the reason, or null in the chunks before the last. */
static bool add_finish(cJSON *object, const char *reason)
{
    return reason ? add_string(object, "finish_reason", reason)
                  : cJSON_AddNullToObject(object, "finish_reason") != NULL;
}

/* The header every completion and chunk shares. */
static cJSON *start(const serve_reply *r, const char *object)
{
    cJSON *root = cJSON_CreateObject();
    if (root && add_string(root, "id", r->id) &&
        cJSON_AddStringToObject(root, "object", object) &&
        cJSON_AddNumberToObject(root, "created", (double)r->created) &&
        add_string(root, "model", r->model))
        return root;
    cJSON_Delete(root);
    return NULL;
}

static bool add_usage(cJSON *root, const serve_reply *r)
{
    cJSON *usage = cJSON_AddObjectToObject(root, "usage");
    cJSON *details = usage ? cJSON_CreateObject() : NULL;
    if (!details)
        return false;
    cJSON_AddItemToObject(usage, "prompt_tokens_details", details);
    cJSON *timings = cJSON_AddObjectToObject(root, "timings");
    /* A cache can only hold tokens of the prompt; clamp a caller's slip
     * rather than print a negative count. */
    uint32_t cached = r->cached_tokens < r->prompt_tokens ? r->cached_tokens
                                                          : r->prompt_tokens;
    return cJSON_AddNumberToObject(usage, "prompt_tokens", r->prompt_tokens) &&
           cJSON_AddNumberToObject(usage, "completion_tokens",
                                   r->completion_tokens) &&
           cJSON_AddNumberToObject(usage, "total_tokens",
                                   (double)r->prompt_tokens +
                                       r->completion_tokens) &&
           cJSON_AddNumberToObject(details, "cached_tokens", cached) &&
           timings &&
           cJSON_AddNumberToObject(timings, "prompt_n",
                                   r->prompt_tokens - cached) &&
           cJSON_AddNumberToObject(timings, "prompt_ms", r->prompt_ms) &&
           cJSON_AddNumberToObject(timings, "predicted_n",
                                   r->completion_tokens) &&
           cJSON_AddNumberToObject(timings, "predicted_ms", r->predicted_ms);
}

/* The one choice of a reply, added to a new "choices" array. */
static cJSON *add_choice(cJSON *root)
{
    cJSON *choices = cJSON_AddArrayToObject(root, "choices");
    cJSON *choice = choices ? cJSON_CreateObject() : NULL;
    if (!choice)
        return NULL;
    cJSON_AddItemToArray(choices, choice);
    return cJSON_AddNumberToObject(choice, "index", 0) ? choice : NULL;
}

/* Prints and frees the tree; NULL when building it ran out of memory. */
static char *finish(cJSON *root, bool ok)
{
    char *text = ok && root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

/* The assistant's text: "content", and "reasoning_content" when there is
 * reasoning. In a chunk's delta the content too is left out when empty. */
static bool add_message_text(cJSON *message, const serve_reply *r, bool delta)
{
    if ((!delta || r->content_len > 0) &&
        !add_text(message, "content", r->content, r->content_len))
        return false;
    return r->reasoning_len == 0 || add_text(message, "reasoning_content",
                                             r->reasoning, r->reasoning_len);
}

char *serve_reply_body(const serve_reply *r)
{
    bool chat = r->endpoint == SERVE_CHAT;
    cJSON *root = start(r, chat ? "chat.completion" : "text_completion");
    cJSON *choice = root ? add_choice(root) : NULL;
    bool ok = choice != NULL;
    if (ok && chat) {
        cJSON *message = cJSON_AddObjectToObject(choice, "message");
        ok = message && cJSON_AddStringToObject(message, "role", "assistant") &&
             add_message_text(message, r, false);
    } else if (ok) {
        ok = add_text(choice, "text", r->content, r->content_len);
    }
    ok = ok && cJSON_AddNullToObject(choice, "logprobs") &&
         add_finish(choice, r->finish_reason) && add_usage(root, r);
    return finish(root, ok);
}

char *serve_reply_chunk(const serve_reply *r)
{
    bool chat = r->endpoint == SERVE_CHAT;
    cJSON *root = start(r, chat ? "chat.completion.chunk" : "text_completion");
    if (!root)
        return NULL;
    bool says_something = r->content_len > 0 || r->reasoning_len > 0 ||
                          r->finish_reason || (chat && r->first);
    bool ok;
    if (r->usage && !says_something) {
        /* OpenAI's last chunk with stream_options.include_usage. */
        ok = cJSON_AddArrayToObject(root, "choices") != NULL;
    } else {
        cJSON *choice = add_choice(root);
        ok = choice != NULL;
        if (ok && chat) {
            cJSON *delta = cJSON_AddObjectToObject(choice, "delta");
            ok = delta &&
                 (!r->first ||
                  cJSON_AddStringToObject(delta, "role", "assistant")) &&
                 add_message_text(delta, r, true);
        } else if (ok) {
            ok = add_text(choice, "text", r->content, r->content_len);
        }
        ok = ok && cJSON_AddNullToObject(choice, "logprobs") &&
             add_finish(choice, r->finish_reason);
    }
    /* Usage may also ride on a chunk with text, as llama-server's timings
     * do on its last one. */
    ok = ok && (!r->usage || add_usage(root, r));
    return finish(root, ok);
}

char *serve_reply_models(const char *model_id, int64_t created)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = root && cJSON_AddStringToObject(root, "object", "list");
    cJSON *data = ok ? cJSON_AddArrayToObject(root, "data") : NULL;
    cJSON *model = data ? cJSON_CreateObject() : NULL;
    if (!model)
        return finish(root, false);
    cJSON_AddItemToArray(data, model);
    ok = add_string(model, "id", model_id) &&
         cJSON_AddStringToObject(model, "object", "model") &&
         cJSON_AddNumberToObject(model, "created", (double)created) &&
         cJSON_AddStringToObject(model, "owned_by", "dsvk");
    return finish(root, ok);
}

char *serve_reply_error(const serve_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *error = root ? cJSON_AddObjectToObject(root, "error") : NULL;
    if (!error)
        return finish(root, false);
    /* The fixed arrays may lack a NUL if a caller filled them by hand. */
    size_t message_len = strnlen(err->message, sizeof err->message);
    size_t param_len = strnlen(err->param, sizeof err->param);
    bool ok = add_text(error, "message", err->message, message_len) &&
              add_string(error, "type",
                         err->type ? err->type : "invalid_request_error") &&
              (param_len ? add_text(error, "param", err->param, param_len)
                         : cJSON_AddNullToObject(error, "param") != NULL) &&
              (err->code ? add_string(error, "code", err->code)
                         : cJSON_AddNullToObject(error, "code") != NULL);
    return finish(root, ok);
}
