/* Chat formats in the public API (dsvk.h), over host/text/chat.h. */
#include "api_private.h"

#include "text/chat.h"

#include <stdlib.h>
#include <string.h>

_Static_assert((int)DSVK_CHAT_FORMAT_DEEPSEEK2 == (int)CHAT_FORMAT_DEEPSEEK2 &&
                   (int)DSVK_CHAT_FORMAT_DEEPSEEK3 ==
                       (int)CHAT_FORMAT_DEEPSEEK3,
               "public and internal chat formats share their numbering");
_Static_assert((int)DSVK_ROLE_SYSTEM == (int)CHAT_ROLE_SYSTEM &&
                   (int)DSVK_ROLE_USER == (int)CHAT_ROLE_USER &&
                   (int)DSVK_ROLE_ASSISTANT == (int)CHAT_ROLE_ASSISTANT,
               "public and internal roles share their numbering");
_Static_assert(sizeof(dsvk_chat_message) == sizeof(chat_message) &&
                   offsetof(dsvk_chat_message, content) ==
                       offsetof(chat_message, content),
               "dsvk_chat_message is read as a chat_message");

const char *dsvk_chat_format_name(dsvk_chat_format format)
{
    if (format == DSVK_CHAT_FORMAT_AUTO)
        return "auto";
    return chat_format_name((chat_format)format);
}

dsvk_status dsvk_chat_format_from_name(const char *name, dsvk_chat_format *out)
{
    chat_format format;
    if (!name)
        return DSVK_ERROR_INVALID_ARGUMENT;
    if (strcmp(name, "auto") == 0) {
        *out = DSVK_CHAT_FORMAT_AUTO;
        return DSVK_OK;
    }
    if (!chat_format_from_name(name, &format))
        return DSVK_ERROR_INVALID_ARGUMENT;
    *out = (dsvk_chat_format)format;
    return DSVK_OK;
}

/* The template for `format`; errors go to the model. */
static dsvk_status template_of(const dsvk_model *model, dsvk_chat_format format,
                               chat_template *out)
{
    const char *name = NULL;
    if (format != DSVK_CHAT_FORMAT_AUTO) {
        name = chat_format_name((chat_format)format);
        if (!name)
            return api_model_fail(model, DSVK_ERROR_INVALID_ARGUMENT,
                                  "unknown chat format %d", (int)format);
    }
    char err[API_ERROR_SIZE];
    dsvk_status status = chat_template_for_model(model->file, model->vocab,
                                                 name, out, err, sizeof err);
    if (status != DSVK_OK)
        return api_model_fail(model, status, "%s", err);
    return DSVK_OK;
}

dsvk_status dsvk_chat_resolve_format(const dsvk_model *model,
                                     dsvk_chat_format format,
                                     dsvk_chat_format *out)
{
    chat_template t;
    dsvk_status status = template_of(model, format, &t);
    if (status == DSVK_OK)
        *out = (dsvk_chat_format)t.format;
    return status;
}

/* Renders into a chat_text the caller frees. */
static dsvk_status render(const dsvk_model *model, dsvk_chat_format format,
                          const dsvk_chat_message *messages, size_t n,
                          size_t from, bool add_generation_prompt,
                          chat_text *text)
{
    chat_template t;
    dsvk_status status = template_of(model, format, &t);
    if (status != DSVK_OK)
        return status;
    char err[API_ERROR_SIZE];
    status = chat_render(&t, (const chat_message *)messages, n, from,
                         add_generation_prompt, text, err, sizeof err);
    if (status != DSVK_OK)
        return api_model_fail(model, status, "chat: %s", err);
    return DSVK_OK;
}

dsvk_status dsvk_chat_apply(const dsvk_model *model, dsvk_chat_format format,
                            const dsvk_chat_message *messages, size_t n,
                            size_t from, bool add_generation_prompt, char *out,
                            size_t out_size, size_t *len)
{
    chat_text text = {0};
    *len = 0;
    dsvk_status status =
        render(model, format, messages, n, from, add_generation_prompt, &text);
    if (status == DSVK_OK) {
        *len = text.len;
        if (text.len + 1 > out_size)
            status = api_model_fail(model, DSVK_ERROR_BUFFER_TOO_SMALL,
                                    "the chat text needs %zu bytes with its "
                                    "NUL, the buffer holds %zu",
                                    text.len + 1, out_size);
        else
            memcpy(out, text.data ? text.data : "", text.len + 1);
    }
    chat_text_free(&text);
    return status;
}

dsvk_status dsvk_chat_tokenize(const dsvk_model *model, dsvk_chat_format format,
                               const dsvk_chat_message *messages, size_t n,
                               size_t from, bool add_generation_prompt,
                               dsvk_token *tokens, size_t capacity,
                               size_t *n_tokens)
{
    chat_text text = {0};
    *n_tokens = 0;
    dsvk_status status =
        render(model, format, messages, n, from, add_generation_prompt, &text);
    /* The text holds BOS and the turn markers as text: parse them as
     * special tokens, and add no second BOS. */
    if (status == DSVK_OK)
        status = dsvk_tokenize(model, text.data ? text.data : "", text.len,
                               false, true, tokens, capacity, n_tokens);
    chat_text_free(&text);
    return status;
}

size_t dsvk_chat_reply_start(dsvk_chat_format format, const char *reply,
                             size_t len)
{
    if (format != DSVK_CHAT_FORMAT_DEEPSEEK2 &&
        format != DSVK_CHAT_FORMAT_DEEPSEEK3)
        return 0;
    /* chat_reply_content reads only the template's format. */
    const chat_template t = {.format = (chat_format)format};
    return chat_reply_content(&t, reply, len);
}
