/* Fuzz target: chat formatting of untrusted conversations. The first input
 * byte chooses the format and the generation prompt; the rest is split at
 * NUL bytes into messages, each a role byte (value % 4; 3 is no role) and
 * its content. Checks chat.h's promises: rendering the first k messages
 * and then the rest gives the whole rendering (chat sessions rely on it),
 * the text starts with BOS and holds every content, a failed call leaves
 * the output as it was. The raw input also goes to chat_format_detect and
 * chat_reply_content. */
#include "fuzz.h"
#include "text/chat.h"

#include <string.h>

/* Enough for every interleaving the split check cares about, small enough
 * that its quadratic cost stays low. */
#define MAX_MESSAGES 64

/* The texts of DeepSeek-V2's and V3's BOS and EOS tokens. */
#define BOS_TEXT "<｜begin▁of▁sentence｜>"
#define EOS_TEXT "<｜end▁of▁sentence｜>"

static bool ends_with(const chat_text *text, const char *suffix)
{
    size_t n = strlen(suffix);
    return text->len >= n && memcmp(text->data + text->len - n, suffix, n) == 0;
}

/* Renders messages[0..k) and appends messages[k..n) to it; this must give
 * `whole`, except in deepseek3 when a system message is among the later
 * ones: then the second call fails and leaves the first part as it was. */
static void check_split(const chat_template *t, const chat_message *m, size_t n,
                        size_t k, bool gen, const chat_text *whole)
{
    char err[256];
    chat_text text = {0};
    FUZZ_CHECK(chat_render(t, m, k, 0, false, &text, err, sizeof err) ==
               DSVK_OK);
    bool refused = false;
    for (size_t i = k; i < n; i++)
        refused |=
            t->format == CHAT_FORMAT_DEEPSEEK3 && m[i].role == CHAT_ROLE_SYSTEM;
    size_t first_len = text.len;
    char *first = strdup(text.data);
    FUZZ_CHECK(first != NULL);
    dsvk_status st = chat_render(t, m, n, k, gen, &text, err, sizeof err);
    if (refused) {
        FUZZ_CHECK(st == DSVK_ERROR_INVALID_ARGUMENT);
        FUZZ_CHECK(text.len == first_len && strcmp(text.data, first) == 0);
    } else {
        FUZZ_CHECK(st == DSVK_OK && text.len == whole->len &&
                   memcmp(text.data, whole->data, whole->len) == 0);
    }
    free(first);
    chat_text_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    chat_template t = {
        .format = data[0] & 1 ? CHAT_FORMAT_DEEPSEEK3 : CHAT_FORMAT_DEEPSEEK2,
        .bos = BOS_TEXT,
        .bos_len = strlen(BOS_TEXT),
        .eos = EOS_TEXT,
        .eos_len = strlen(EOS_TEXT),
    };
    bool gen = data[0] & 2;

    /* The messages point into a NUL-terminated copy of the input. */
    char *text = malloc(size);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    chat_message m[MAX_MESSAGES] = {0}; /* gcc cannot tell n bounds reads */
    size_t n = 0;
    bool roles_valid = true;
    for (char *p = text; p < text + size - 1 && n < MAX_MESSAGES;
         p += strlen(p) + 1) {
        m[n].role = (chat_role)((unsigned char)*p % 4);
        m[n].content = *p ? p + 1 : p;
        roles_valid &= m[n].role <= CHAT_ROLE_ASSISTANT;
        n++;
    }

    char err[256];
    chat_text whole = {0};
    dsvk_status st = chat_render(&t, m, n, 0, gen, &whole, err, sizeof err);
    if (!roles_valid) {
        FUZZ_CHECK(st == DSVK_ERROR_INVALID_ARGUMENT && whole.len == 0);
    } else {
        FUZZ_CHECK(st == DSVK_OK && strlen(whole.data) == whole.len);
        FUZZ_CHECK(strncmp(whole.data, BOS_TEXT, strlen(BOS_TEXT)) == 0);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(strstr(whole.data, m[i].content) != NULL);
        if (gen)
            FUZZ_CHECK(ends_with(&whole, t.format == CHAT_FORMAT_DEEPSEEK2
                                             ? "Assistant:"
                                             : "<｜Assistant｜>"));
        /* From k = 1: rendering no message at all still writes BOS, so the
         * split at k = 0 would repeat it. */
        for (size_t k = 1; k <= n; k++)
            check_split(&t, m, n, k, gen, &whole);
        chat_text after_end = whole;
        FUZZ_CHECK(chat_render(&t, m, n, n + 1, gen, &whole, err, sizeof err) ==
                       DSVK_ERROR_INVALID_ARGUMENT &&
                   whole.len == after_end.len);
    }
    chat_text_free(&whole);
    free(text);

    chat_format detected;
    if (chat_format_detect((const char *)data, size, &detected))
        FUZZ_CHECK(chat_format_name(detected) != NULL);
    FUZZ_CHECK(chat_reply_content(&t, (const char *)data, size) <= size);
    return 0;
}
