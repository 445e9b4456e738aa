/* The chat formats of DeepSeek models: how a conversation (system prompt,
 * user and assistant turns) becomes the text a model continues.
 *
 * Two formats, each exactly as its official template (the Jinja
 * `chat_template` of the model's tokenizer_config.json) renders it, with
 * bos_token/eos_token the texts of the vocabulary's BOS and EOS tokens:
 *
 *   deepseek2  DeepSeek-V2/V2.5 and V2-Lite Chat, DeepSeek-LLM Chat:
 *              BOS, then each message in order: a system message as
 *              "CONTENT\n\n", a user message as "User: CONTENT\n\n", an
 *              assistant message as "Assistant: CONTENT" EOS; the
 *              generation prompt is "Assistant:" (no space: the model
 *              writes it).
 *   deepseek3  DeepSeek-V3 and R1: BOS, then every system message's
 *              content, joined by "\n\n" and wherever it stands in the
 *              list, then each user message as "<｜User｜>CONTENT" and each
 *              assistant message as
 * "<｜Assistant｜>CONTENT<｜end▁of▁sentence｜>"; the generation prompt is
 * "<｜Assistant｜>".
 *
 * llama.cpp's built-in (non-Jinja) deepseek3 writes "\n\n" after the system
 * prompt, which the official template does not; dsvk follows the official
 * template. Tool calls and the R1 template's removal of <think> sections
 * from earlier replies are not supported.
 *
 * The text contains the special tokens as text (BOS included): tokenize it
 * with parse_special and without adding another BOS.
 *
 * A reply ends with EOS in both formats. So a chat session prefills the
 * rendering of the conversation with the generation prompt, generates the
 * reply, evaluates the sampled EOS too, and for the next turn prefills only
 * the new messages: chat_render with `from` = the number of messages
 * already evaluated (the reply included). The invariant, for 0 < k <= n:
 *   render(m, 0, k, false) + render(m, k, n, gen) == render(m, 0, n, gen).
 * (k = 0 is excluded: from = 0 means "the whole conversation", prologue
 * included.)
 * In deepseek2 the reply follows "Assistant:" and its text starts with the
 * space the rendering puts after "Assistant:" (see chat_reply_content). */
#ifndef DSVK_HOST_CHAT_H
#define DSVK_HOST_CHAT_H

#include "dsvk.h"
#include "gguf/gguf.h"
#include "tokenizer.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum chat_format {
    CHAT_FORMAT_DEEPSEEK2 = 1,
    CHAT_FORMAT_DEEPSEEK3 = 2,
} chat_format;

typedef enum chat_role {
    CHAT_ROLE_SYSTEM,
    CHAT_ROLE_USER,
    CHAT_ROLE_ASSISTANT,
} chat_role;

typedef struct chat_message {
    chat_role role;
    const char *content; /* NUL-terminated UTF-8 */
} chat_message;

/* A format and the texts it needs from the vocabulary. */
typedef struct chat_template {
    chat_format format;
    /* Texts of the BOS and EOS tokens, not NUL-terminated, borrowed (from
     * the tok, when made by chat_template_for_model); empty when the model
     * has no such token. */
    const char *bos;
    size_t bos_len;
    const char *eos;
    size_t eos_len;
} chat_template;

/* "deepseek2" / "deepseek3"; NULL for a value outside the enum. */
const char *chat_format_name(chat_format format);
/* The format of that name; false for any other name. */
bool chat_format_from_name(const char *name, chat_format *out);

/* Recognises an official template by its content, with llama.cpp's tests:
 * deepseek2 if it contains "'Assistant: ' + message['content'] +
 * eos_token", else deepseek3 if it contains "<｜User｜>", "<｜Assistant｜>"
 * and "<｜end▁of▁sentence｜>" (the R1 templates pass this test too). False
 * for any other template. */
bool chat_format_detect(const char *tmpl, size_t len, chat_format *out);

/* The template to chat with a model: the format named `name` when it is
 * not NULL, else the one detected from the file's tokenizer.chat_template;
 * BOS and EOS texts from vocab, which must outlive the template.
 * There is no fallback for a template that is missing or not recognised:
 * guessing a format makes a model answer badly without saying why, so
 * that fails with DSVK_ERROR_UNSUPPORTED and err tells the caller to name
 * a format. DSVK_ERROR_INVALID_ARGUMENT for an unknown name. */
dsvk_status chat_template_for_model(const gguf_file *f, const tok *vocab,
                                    const char *name, chat_template *out,
                                    char *err, size_t err_size);

/* A growable, NUL-terminated text; zero-initialise, free with
 * chat_text_free. */
typedef struct chat_text {
    char *data;
    size_t len;
    size_t capacity;
} chat_text;
void chat_text_free(chat_text *text);

/* Appends to out the text of messages[from..n): with from == 0 the whole
 * conversation (BOS and system prompt first), else only what follows the
 * rendering of messages[0..from) without generation prompt. With
 * add_generation_prompt the text ends with the prompt for the assistant's
 * reply. Fails with DSVK_ERROR_INVALID_ARGUMENT when from > n, when a
 * role is not a chat_role, and in deepseek3 when from > 0 and a system
 * message is among the new ones (its content belongs at the start);
 * DSVK_ERROR_OUT_OF_HOST_MEMORY. On failure out is as it was. */
dsvk_status chat_render(const chat_template *t, const chat_message *messages,
                        size_t n, size_t from, bool add_generation_prompt,
                        chat_text *out, char *err, size_t err_size);

/* Where the content starts in the text a model generated after the
 * generation prompt: in deepseek2, after the one space that the rendering
 * writes between "Assistant:" and the content (when the reply starts with
 * it); in deepseek3, at 0. Storing the reply from there makes the
 * rendering of the conversation equal the text the model has seen. */
size_t chat_reply_content(const chat_template *t, const char *reply,
                          size_t len);

#endif
