#include "chat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V3_USER "<｜User｜>"
#define V3_ASSISTANT "<｜Assistant｜>"
/* The official V3 template writes this text itself instead of eos_token. */
#define V3_END "<｜end▁of▁sentence｜>"
#define V2_MARKER "'Assistant: ' + message['content'] + eos_token"

static void set_error(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, err_size, fmt, args);
    va_end(args);
}

static const char *const format_names[] = {
    [CHAT_FORMAT_DEEPSEEK2] = "deepseek2",
    [CHAT_FORMAT_DEEPSEEK3] = "deepseek3",
};

const char *chat_format_name(chat_format format)
{
    if (format != CHAT_FORMAT_DEEPSEEK2 && format != CHAT_FORMAT_DEEPSEEK3)
        return NULL;
    return format_names[format];
}

bool chat_format_from_name(const char *name, chat_format *out)
{
    for (chat_format f = CHAT_FORMAT_DEEPSEEK2; f <= CHAT_FORMAT_DEEPSEEK3;
         f++) {
        if (strcmp(name, format_names[f]) == 0) {
            *out = f;
            return true;
        }
    }
    return false;
}

static bool contains(const char *text, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(text + i, needle, n) == 0)
            return true;
    return false;
}

bool chat_format_detect(const char *tmpl, size_t len, chat_format *out)
{
    if (contains(tmpl, len, V2_MARKER)) {
        *out = CHAT_FORMAT_DEEPSEEK2;
        return true;
    }
    if (contains(tmpl, len, V3_USER) && contains(tmpl, len, V3_ASSISTANT) &&
        contains(tmpl, len, V3_END)) {
        *out = CHAT_FORMAT_DEEPSEEK3;
        return true;
    }
    return false;
}

/* The vocabulary's text of a special token; empty for TOK_NONE. */
static void token_text(const tok *vocab, int32_t id, const char **text,
                       size_t *len)
{
    *text = id == TOK_NONE ? NULL : tok_text(vocab, id, len);
    if (!*text) {
        *text = "";
        *len = 0;
    }
}

dsvk_status chat_template_for_model(const gguf_file *f, const tok *vocab,
                                    const char *name, chat_template *out,
                                    char *err, size_t err_size)
{
    *out = (chat_template){0};
    if (name) {
        if (!chat_format_from_name(name, &out->format)) {
            set_error(err, err_size,
                      "unknown chat format '%s' (known: deepseek2, "
                      "deepseek3)",
                      name);
            return DSVK_ERROR_INVALID_ARGUMENT;
        }
    } else {
        gguf_str tmpl;
        if (!gguf_get_str(f, "tokenizer.chat_template", &tmpl)) {
            set_error(err, err_size,
                      "the model has no chat template; name a chat format "
                      "(deepseek2 or deepseek3)");
            return DSVK_ERROR_UNSUPPORTED;
        }
        if (!chat_format_detect(tmpl.data, tmpl.len, &out->format)) {
            set_error(err, err_size,
                      "the model's chat template is not a DeepSeek format "
                      "dsvk knows; name a chat format (deepseek2 or "
                      "deepseek3)");
            return DSVK_ERROR_UNSUPPORTED;
        }
    }
    token_text(vocab, tok_bos(vocab), &out->bos, &out->bos_len);
    token_text(vocab, tok_eos(vocab), &out->eos, &out->eos_len);
    return DSVK_OK;
}

void chat_text_free(chat_text *text)
{
    free(text->data);
    *text = (chat_text){0};
}

/* Appends len bytes; false when memory runs out. */
static bool append(chat_text *out, const char *s, size_t len)
{
    if (out->len + len + 1 > out->capacity) {
        size_t cap = out->capacity ? out->capacity : 256;
        while (cap < out->len + len + 1)
            cap *= 2;
        char *data = realloc(out->data, cap);
        if (!data)
            return false;
        out->data = data;
        out->capacity = cap;
    }
    memcpy(out->data + out->len, s, len);
    out->len += len;
    out->data[out->len] = '\0';
    return true;
}

static bool append_str(chat_text *out, const char *s)
{
    return append(out, s, strlen(s));
}

static bool render_v2(const chat_template *t, const chat_message *m, size_t n,
                      size_t from, bool gen, chat_text *out)
{
    bool ok = from > 0 || append(out, t->bos, t->bos_len);
    for (size_t i = from; ok && i < n; i++) {
        switch (m[i].role) {
        case CHAT_ROLE_SYSTEM:
            ok = append_str(out, m[i].content) && append_str(out, "\n\n");
            break;
        case CHAT_ROLE_USER:
            ok = append_str(out, "User: ") && append_str(out, m[i].content) &&
                 append_str(out, "\n\n");
            break;
        case CHAT_ROLE_ASSISTANT:
            ok = append_str(out, "Assistant: ") &&
                 append_str(out, m[i].content) &&
                 append(out, t->eos, t->eos_len);
            break;
        }
    }
    return ok && (!gen || append_str(out, "Assistant:"));
}

/* V3 gathers every system message into the prologue, in order. */
static bool render_v3_prologue(const chat_template *t, const chat_message *m,
                               size_t n, chat_text *out)
{
    bool ok = append(out, t->bos, t->bos_len), first = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (m[i].role != CHAT_ROLE_SYSTEM)
            continue;
        ok =
            (first || append_str(out, "\n\n")) && append_str(out, m[i].content);
        first = false;
    }
    return ok;
}

static bool render_v3(const chat_template *t, const chat_message *m, size_t n,
                      size_t from, bool gen, chat_text *out)
{
    bool ok = from > 0 || render_v3_prologue(t, m, n, out);
    for (size_t i = from; ok && i < n; i++) {
        if (m[i].role == CHAT_ROLE_USER)
            ok = append_str(out, V3_USER) && append_str(out, m[i].content);
        else if (m[i].role == CHAT_ROLE_ASSISTANT)
            ok = append_str(out, V3_ASSISTANT) &&
                 append_str(out, m[i].content) && append_str(out, V3_END);
    }
    return ok && (!gen || append_str(out, V3_ASSISTANT));
}

static bool check_messages(const chat_template *t, const chat_message *m,
                           size_t n, size_t from, char *err, size_t err_size)
{
    if (from > n) {
        set_error(err, err_size,
                  "cannot render from message %zu of a conversation of %zu",
                  from, n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (m[i].role != CHAT_ROLE_SYSTEM && m[i].role != CHAT_ROLE_USER &&
            m[i].role != CHAT_ROLE_ASSISTANT) {
            set_error(err, err_size, "message %zu has an unknown role %d", i,
                      (int)m[i].role);
            return false;
        }
        if (t->format == CHAT_FORMAT_DEEPSEEK3 && from > 0 && i >= from &&
            m[i].role == CHAT_ROLE_SYSTEM) {
            set_error(err, err_size,
                      "message %zu: in the deepseek3 format a system message "
                      "belongs before the first turn, it cannot be added to a "
                      "conversation already under way",
                      i);
            return false;
        }
    }
    return true;
}

dsvk_status chat_render(const chat_template *t, const chat_message *messages,
                        size_t n, size_t from, bool add_generation_prompt,
                        chat_text *out, char *err, size_t err_size)
{
    if (!chat_format_name(t->format)) {
        set_error(err, err_size, "unknown chat format %d", (int)t->format);
        return DSVK_ERROR_INVALID_ARGUMENT;
    }
    if (!check_messages(t, messages, n, from, err, err_size))
        return DSVK_ERROR_INVALID_ARGUMENT;
    size_t start = out->len;
    /* The empty append makes out->data a string even when nothing else is
     * written. */
    bool ok =
        append(out, "", 0) &&
        (t->format == CHAT_FORMAT_DEEPSEEK2
             ? render_v2(t, messages, n, from, add_generation_prompt, out)
             : render_v3(t, messages, n, from, add_generation_prompt, out));
    if (!ok) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        set_error(err, err_size, "out of memory rendering a chat");
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    }
    return DSVK_OK;
}

size_t chat_reply_content(const chat_template *t, const char *reply, size_t len)
{
    bool space =
        t->format == CHAT_FORMAT_DEEPSEEK2 && len > 0 && reply[0] == ' ';
    return space ? 1 : 0;
}
