/* serve_request_parse: the OpenAI request bodies of request.h, read with
 * cJSON. Every field is looked up by name in the top-level object; unknown
 * fields are ignored, whatever their type, as the OpenAI clients send
 * fields a server may not know. */
#include "request.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const invalid_request = "invalid_request_error";

bool serve_fail(serve_error *err, int http_status, const char *type,
                const char *param, const char *fmt, ...)
{
    err->http_status = http_status;
    err->type = type;
    err->code = NULL;
    snprintf(err->param, sizeof err->param, "%s", param ? param : "");
    va_list args;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return false;
}

/* Every refusal of the parser is a 400 invalid_request_error. */
#define BAD(err, param, ...)                                                   \
    serve_fail(err, 400, invalid_request, param, __VA_ARGS__)

static bool out_of_memory(serve_error *err)
{
    return serve_fail(err, 500, "server_error", "",
                      "out of memory reading the request");
}

/* The field, or NULL when it is absent or JSON null (the same thing to
 * OpenAI's API). */
static const cJSON *field(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsNull(item) ? NULL : item;
}

/* A finite number; *present says whether the field was given. */
static bool read_number(const cJSON *root, const char *name, bool *present,
                        double *out, serve_error *err)
{
    const cJSON *item = field(root, name);
    *present = item != NULL;
    if (!item)
        return true;
    if (!cJSON_IsNumber(item))
        return BAD(err, name, "'%s' must be a number", name);
    /* cJSON reads 1e999 as infinity. */
    if (!isfinite(item->valuedouble))
        return BAD(err, name, "'%s' must be a finite number", name);
    *out = item->valuedouble;
    return true;
}

/* An integer in [min, max]: JSON has only numbers, so 2.0 counts and 2.5
 * does not. The bounds are doubles: int64's limits, 2^63, are exact. */
static bool read_integer(const cJSON *root, const char *name, double min,
                         double max, bool *present, double *out,
                         serve_error *err)
{
    if (!read_number(root, name, present, out, err))
        return false;
    if (!*present)
        return true;
    if (floor(*out) != *out)
        return BAD(err, name, "'%s' must be an integer", name);
    if (!(*out >= min && *out <= max))
        return BAD(err, name, "'%s' must be an integer from %.0f to %.0f", name,
                   min, max);
    return true;
}

/* A number in [lo, hi], stored as a float setting. */
static bool read_setting(const cJSON *root, const char *name, double lo,
                         double hi, float *setting, serve_error *err)
{
    bool present;
    double v = 0; /* set when present; -O3 cannot see that */
    if (!read_number(root, name, &present, &v, err))
        return false;
    if (!present)
        return true;
    if (!(v >= lo && v <= hi))
        return BAD(err, name, "'%s' must be from %g to %g", name, lo, hi);
    *setting = (float)v;
    return true;
}

static bool read_bool(const cJSON *object, const char *name, const char *param,
                      bool *out, serve_error *err)
{
    const cJSON *item = field(object, name);
    if (!item)
        return true;
    if (!cJSON_IsBool(item))
        return BAD(err, param, "'%s' must be a boolean", param);
    *out = cJSON_IsTrue(item);
    return true;
}

/* Whether a field the server cannot honour was really asked for: null,
 * false, 0, "" and empty arrays and objects ask for nothing. */
static bool given(const cJSON *item)
{
    if (!item || cJSON_IsNull(item) || cJSON_IsFalse(item))
        return false;
    if (cJSON_IsNumber(item))
        return item->valuedouble != 0.0;
    if (cJSON_IsString(item))
        return item->valuestring[0] != '\0';
    if (cJSON_IsArray(item) || cJSON_IsObject(item))
        return item->child != NULL;
    return true;
}

static bool check_unsupported(const cJSON *root, serve_error *err)
{
    static const char *const refused[] = {
        "tools", "functions", "logprobs",  "top_logprobs",
        "echo",  "suffix",    "logit_bias"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (given(field(root, refused[i])))
            return BAD(err, refused[i], "'%s' is not supported by dsvk serve",
                       refused[i]);
    /* Without tools, "none" and "auto" both mean plain text. */
    const cJSON *choice = field(root, "tool_choice");
    if (choice &&
        !(cJSON_IsString(choice) && (strcmp(choice->valuestring, "none") == 0 ||
                                     strcmp(choice->valuestring, "auto") == 0)))
        return BAD(err, "tool_choice",
                   "'tool_choice' is not supported by "
                   "dsvk serve: it has no tools");
    bool present;
    double best_of;
    if (!read_integer(root, "best_of", 1, 1e9, &present, &best_of, err))
        return false;
    if (present && best_of > 1)
        return BAD(err, "best_of", "'best_of' above 1 is not supported");
    const cJSON *format = field(root, "response_format");
    if (format) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(format, "type");
        if (!cJSON_IsObject(format) || !cJSON_IsString(type))
            return BAD(err, "response_format",
                       "'response_format' must be an object with a 'type'");
        if (strcmp(type->valuestring, "text") != 0)
            return BAD(err, "response_format",
                       "'response_format' of type other than 'text' is not "
                       "supported");
    }
    return true;
}

/* dsvk_sampler_defaults(), then the request's fields. The ranges are
 * OpenAI's (and llama.cpp's for its extensions); each is inside what
 * dsvk_sampler_create accepts, which the fuzz target checks. */
static bool read_sampling(const cJSON *root, serve_request *r, serve_error *err)
{
    dsvk_sampler_settings *s = &r->sampling;
    *s = dsvk_sampler_defaults();
    /* top_p 0 reads as "off" in the public sampler settings. */
    if (!read_setting(root, "temperature", 0, 2, &s->temperature, err) ||
        !read_setting(root, "top_p", 0, 1, &s->top_p, err) ||
        !read_setting(root, "min_p", 0, 1, &s->min_p, err) ||
        !read_setting(root, "presence_penalty", -2, 2, &s->presence_penalty,
                      err) ||
        !read_setting(root, "frequency_penalty", -2, 2, &s->frequency_penalty,
                      err))
        return false;
    bool present;
    double v = 0; /* set when present; -O3 cannot see that */
    if (!read_number(root, "repeat_penalty", &present, &v, err))
        return false;
    /* Above FLT_MAX the float would be infinite, which the sampler refuses;
     * no useful penalty is anywhere near it. */
    if (present && !(v > 0 && v <= 1e6))
        return BAD(err, "repeat_penalty",
                   "'repeat_penalty' must be above 0 and at most 1e6");
    if (present)
        s->repeat_penalty = (float)v;
    if (!read_integer(root, "top_k", 0, UINT32_MAX, &present, &v, err))
        return false;
    if (present)
        s->top_k = (uint32_t)v;
    /* OpenAI's seed is a signed 64-bit integer; its bits are the seed. */
    if (!read_integer(root, "seed", -0x1p63, 0x1p63 - 1024, &present, &v, err))
        return false;
    if (present) {
        s->seed = (uint64_t)(int64_t)v;
        r->has_seed = true;
    }
    return true;
}

static bool read_max_tokens(const cJSON *root, serve_request *r,
                            serve_error *err)
{
    /* max_completion_tokens is the newer name and wins. */
    static const char *const names[] = {"max_tokens", "max_completion_tokens"};
    for (size_t i = 0; i < 2; i++) {
        bool present;
        double v;
        if (!read_integer(root, names[i], 1, UINT32_MAX, &present, &v, err))
            return false;
        if (present)
            r->max_tokens = (uint32_t)v;
    }
    return true;
}

static bool read_stop(const cJSON *root, serve_request *r, serve_error *err)
{
    const cJSON *stop = field(root, "stop");
    if (!stop)
        return true;
    if (cJSON_IsString(stop)) {
        if (stop->valuestring[0] == '\0')
            return true;
        r->stop[0] = strdup(stop->valuestring);
        if (!r->stop[0])
            return out_of_memory(err);
        r->n_stop = 1;
        return true;
    }
    if (!cJSON_IsArray(stop))
        return BAD(err, "stop",
                   "'stop' must be a string or an array of "
                   "strings");
    if (cJSON_GetArraySize(stop) > SERVE_MAX_STOP)
        return BAD(err, "stop", "'stop' may hold at most %d strings",
                   SERVE_MAX_STOP);
    const cJSON *item;
    cJSON_ArrayForEach(item, stop)
    {
        if (!cJSON_IsString(item))
            return BAD(err, "stop",
                       "'stop' must be a string or an array of "
                       "strings");
        /* An empty stop string would end every reply before it began. */
        if (item->valuestring[0] == '\0')
            continue;
        r->stop[r->n_stop] = strdup(item->valuestring);
        if (!r->stop[r->n_stop])
            return out_of_memory(err);
        r->n_stop++;
    }
    return true;
}

/* A message's content: a string, or an array of text parts joined. */
static bool read_content(const cJSON *content, size_t index, char **out,
                         serve_error *err)
{
    char param[64];
    snprintf(param, sizeof param, "messages[%zu].content", index);
    if (cJSON_IsString(content)) {
        *out = strdup(content->valuestring);
        return *out ? true : out_of_memory(err);
    }
    if (!cJSON_IsArray(content))
        return BAD(err, param, "'%s' must be a string or an array of parts",
                   param);
    size_t len = 0, j = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (!cJSON_IsObject(part) || !cJSON_IsString(type))
            return BAD(err, param, "'%s[%zu]' must be an object with a 'type'",
                       param, j);
        if (strcmp(type->valuestring, "text") != 0)
            return BAD(err, param,
                       "content parts of type other than 'text' are not "
                       "supported (%s[%zu])",
                       param, j);
        if (!cJSON_IsString(text))
            return BAD(err, param, "'%s[%zu].text' must be a string", param, j);
        len += strlen(text->valuestring);
        j++;
    }
    char *joined = malloc(len + 1);
    if (!joined)
        return out_of_memory(err);
    size_t at = 0;
    cJSON_ArrayForEach(part, content)
    {
        const char *text =
            cJSON_GetObjectItemCaseSensitive(part, "text")->valuestring;
        size_t n = strlen(text);
        memcpy(joined + at, text, n);
        at += n;
    }
    joined[at] = '\0';
    *out = joined;
    return true;
}

static bool read_messages(const cJSON *root, serve_request *r, serve_error *err)
{
    const cJSON *messages = field(root, "messages");
    if (!messages)
        return BAD(err, "messages", "'messages' is required");
    if (!cJSON_IsArray(messages) || !messages->child)
        return BAD(err, "messages", "'messages' must be a non-empty array");
    size_t n = (size_t)cJSON_GetArraySize(messages);
    r->messages = calloc(n, sizeof *r->messages);
    if (!r->messages)
        return out_of_memory(err);
    const cJSON *m;
    cJSON_ArrayForEach(m, messages)
    {
        size_t i = r->n_messages;
        char param[64];
        snprintf(param, sizeof param, "messages[%zu]", i);
        if (!cJSON_IsObject(m))
            return BAD(err, param, "'%s' must be an object", param);
        snprintf(param, sizeof param, "messages[%zu].role", i);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role))
            return BAD(err, param, "'%s' must be a string", param);
        const char *name = role->valuestring;
        dsvk_role parsed;
        if (strcmp(name, "system") == 0 || strcmp(name, "developer") == 0)
            parsed = DSVK_ROLE_SYSTEM;
        else if (strcmp(name, "user") == 0)
            parsed = DSVK_ROLE_USER;
        else if (strcmp(name, "assistant") == 0)
            parsed = DSVK_ROLE_ASSISTANT;
        else
            return BAD(err, param,
                       "'%s' must be system, developer, user or assistant "
                       "(tool messages are not supported)",
                       param);
        const cJSON *content = field(m, "content");
        if (!content && parsed != DSVK_ROLE_ASSISTANT) {
            snprintf(param, sizeof param, "messages[%zu].content", i);
            return BAD(err, param, "'%s' is required", param);
        }
        /* An assistant turn that only called tools has no content. */
        char *text = content ? NULL : strdup("");
        if (content && !read_content(content, i, &text, err))
            return false;
        if (!text)
            return out_of_memory(err);
        r->messages[i] = (serve_message){.role = parsed, .content = text};
        r->n_messages++;
    }
    return true;
}

static bool read_prompt(const cJSON *root, serve_request *r, serve_error *err)
{
    const cJSON *prompt = field(root, "prompt");
    if (!prompt)
        return BAD(err, "prompt", "'prompt' is required");
    if (cJSON_IsArray(prompt) && cJSON_GetArraySize(prompt) == 1 &&
        cJSON_IsString(prompt->child))
        prompt = prompt->child;
    if (!cJSON_IsString(prompt)) {
        if (cJSON_IsArray(prompt) && cJSON_IsNumber(prompt->child))
            return BAD(err, "prompt", "token-id prompts are not supported");
        if (cJSON_IsArray(prompt) && cJSON_GetArraySize(prompt) > 1)
            return BAD(err, "prompt",
                       "only one prompt per request is "
                       "supported");
        return BAD(err, "prompt", "'prompt' must be a string");
    }
    r->prompt = strdup(prompt->valuestring);
    if (!r->prompt)
        return out_of_memory(err);
    r->prompt_len = strlen(r->prompt);
    return true;
}

static bool read_request(const cJSON *root, serve_request *r, serve_error *err)
{
    if (!check_unsupported(root, err) || !read_sampling(root, r, err) ||
        !read_max_tokens(root, r, err) || !read_stop(root, r, err))
        return false;
    bool present;
    double n;
    if (!read_integer(root, "n", -1e9, 1e9, &present, &n, err))
        return false;
    if (present && n != 1)
        return BAD(err, "n", "'n' must be 1: one choice per request");
    if (!read_bool(root, "stream", "stream", &r->stream, err))
        return false;
    const cJSON *options = field(root, "stream_options");
    if (options && !cJSON_IsObject(options))
        return BAD(err, "stream_options", "'stream_options' must be an object");
    if (options &&
        !read_bool(options, "include_usage", "stream_options.include_usage",
                   &r->include_usage, err))
        return false;
    const cJSON *model = field(root, "model");
    if (model && !cJSON_IsString(model))
        return BAD(err, "model", "'model' must be a string");
    if (model && !(r->model = strdup(model->valuestring)))
        return out_of_memory(err);
    const cJSON *user = field(root, "user");
    if (user && !cJSON_IsString(user))
        return BAD(err, "user", "'user' must be a string");
    return r->endpoint == SERVE_CHAT ? read_messages(root, r, err)
                                     : read_prompt(root, r, err);
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The length of the UTF-8 character at s[0..n), or 0 when the bytes there
 * do not form one: Unicode's well-formed sequences (§3.9, table 3-7), so
 * no overlong forms, surrogates or code points above U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    size_t len;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        lo = s[0] == 0xe0 ? 0xa0 : 0x80;
        hi = s[0] == 0xed ? 0x9f : 0xbf;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        lo = s[0] == 0xf0 ? 0x90 : 0x80;
        hi = s[0] == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* What cJSON lets through and request.h's strings cannot hold, checked on
 * a body it parsed. Bytes that are not UTF-8: JSON text is UTF-8 (RFC 8259
 * §8.1), and cJSON copies any byte into a string. Control characters but
 * tab, line feed and carriage return: JSON allows them neither between
 * values nor raw in strings, but cJSON skips them as whitespace and copies
 * them into strings, a NUL too, which cuts the C string short. And \u0000,
 * valid JSON but just as cut short: the prompt or a stop string would
 * silently lose its end. */
static bool check_characters(const char *text, size_t len, serve_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_length(s + i, len - i);
        if (n == 0)
            return BAD(err, "", "the body is not valid UTF-8 (near byte %zu)",
                       i);
        if (s[i] < 0x20 && !is_json_space((char)s[i]))
            return BAD(err, "",
                       "the body is not valid JSON (near byte %zu): control "
                       "character 0x%02x",
                       i, s[i]);
        /* In a body cJSON parsed, a backslash begins an escape in a string
         * and the character escaped is ASCII. */
        if (s[i] == '\\') {
            if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
                return BAD(err, "",
                           "strings may not hold \\u0000 (near byte %zu)", i);
            n = 2;
        }
        i += n;
    }
    return true;
}

bool serve_request_parse(serve_endpoint endpoint, const char *body, size_t len,
                         serve_request *out, serve_error *err)
{
    *out = (serve_request){.endpoint = endpoint};
    *err = (serve_error){0};
    if (len == 0)
        return BAD(err, "", "the body is empty: a JSON object is expected");
    /* A NUL-terminated copy: cJSON is given the length, but a terminator
     * keeps any read past it inside the buffer. */
    char *text = malloc(len + 1);
    if (!text)
        return out_of_memory(err);
    memcpy(text, body, len);
    text[len] = '\0';
    /* Not require_null_terminated: cJSON then wants a NUL inside the
     * length. The end is checked below instead. */
    const char *end = NULL;
    /* cJSON records a failed parse's position in a global as well, so
     * the server's connection threads parse one at a time. */
    static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&parse_lock);
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    pthread_mutex_unlock(&parse_lock);
    size_t at =
        end && end >= text && end <= text + len ? (size_t)(end - text) : len;
    bool ok = false;
    if (!root) {
        BAD(err, "", "the body is not valid JSON (near byte %zu)", at);
    } else {
        while (at < len && is_json_space(text[at]))
            at++;
        if (at < len)
            BAD(err, "",
                "the body is not valid JSON (near byte %zu): "
                "it goes on after the value",
                at);
        else if (!cJSON_IsObject(root))
            BAD(err, "", "the body must be a JSON object");
        else
            ok = check_characters(text, len, err) &&
                 read_request(root, out, err);
    }
    cJSON_Delete(root);
    free(text);
    if (!ok)
        serve_request_free(out);
    else
        *err = (serve_error){0};
    return ok;
}

void serve_request_free(serve_request *r)
{
    for (size_t i = 0; i < r->n_messages; i++)
        free(r->messages[i].content);
    free(r->messages);
    free(r->prompt);
    free(r->model);
    for (size_t i = 0; i < SERVE_MAX_STOP; i++)
        free(r->stop[i]);
    *r = (serve_request){0};
}
