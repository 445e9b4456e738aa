/* Loading the tokenizer from GGUF metadata, and the vocabulary queries. */
#include "tokenizer_private.h"

#include "byte_level.h"
#include "tok_error.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

/* Tokens llama.cpp recognises by their text at load time ("control-looking"
 * tokens): one per role, used only when the GGUF does not name that role's
 * id, and forced to CONTROL. This is why deepseek-coder's fim tokens,
 * USER_DEFINED in its GGUF, are not matched in text without parse_special.
 * Lists from llama.cpp's llama_vocab::impl::load. */
enum role {
    ROLE_EOT,
    ROLE_EOM,
    ROLE_FIM_PRE,
    ROLE_FIM_SUF,
    ROLE_FIM_MID,
    ROLE_FIM_PAD,
    ROLE_FIM_REP,
    ROLE_FIM_SEP,
    N_ROLES
};

/* The GGUF keys naming each role (the second is a deprecated alias). */
static const char *const role_keys[N_ROLES][2] = {
    [ROLE_EOT] = {"tokenizer.ggml.eot_token_id", NULL},
    [ROLE_EOM] = {"tokenizer.ggml.eom_token_id", NULL},
    [ROLE_FIM_PRE] = {"tokenizer.ggml.fim_pre_token_id",
                      "tokenizer.ggml.prefix_token_id"},
    [ROLE_FIM_SUF] = {"tokenizer.ggml.fim_suf_token_id",
                      "tokenizer.ggml.suffix_token_id"},
    [ROLE_FIM_MID] = {"tokenizer.ggml.fim_mid_token_id",
                      "tokenizer.ggml.middle_token_id"},
    [ROLE_FIM_PAD] = {"tokenizer.ggml.fim_pad_token_id", NULL},
    [ROLE_FIM_REP] = {"tokenizer.ggml.fim_rep_token_id", NULL},
    [ROLE_FIM_SEP] = {"tokenizer.ggml.fim_sep_token_id", NULL},
};

static const struct {
    enum role role;
    const char *text;
} role_texts[] = {
    {ROLE_EOT, "<|eot_id|>"},
    {ROLE_EOT, "<|im_end|>"},
    {ROLE_EOT, "<|end|>"},
    {ROLE_EOT, "<end_of_turn>"},
    {ROLE_EOT, "<|endoftext|>"},
    {ROLE_EOT, "<|end_of_text|>"},
    {ROLE_EOT, "<EOT>"},
    {ROLE_EOT, "_<EOT>"},
    {ROLE_EOT, "[EOT]"},
    {ROLE_EOT, "<｜end▁of▁sentence｜>"},
    {ROLE_EOT, "<end_of_utterance>"},
    {ROLE_EOM, "<|eom_id|>"},
    {ROLE_FIM_PRE, "<|fim_prefix|>"},
    {ROLE_FIM_PRE, "<fim-prefix>"},
    {ROLE_FIM_PRE, "<fim_prefix>"},
    {ROLE_FIM_PRE, "<｜fim▁begin｜>"},
    {ROLE_FIM_PRE, "<PRE>"},
    {ROLE_FIM_PRE, "▁<PRE>"},
    {ROLE_FIM_PRE, "<|code_prefix|>"},
    {ROLE_FIM_PRE, "<|prefix|>"},
    {ROLE_FIM_SUF, "<|fim_suffix|>"},
    {ROLE_FIM_SUF, "<fim-suffix>"},
    {ROLE_FIM_SUF, "<fim_suffix>"},
    {ROLE_FIM_SUF, "<｜fim▁hole｜>"},
    {ROLE_FIM_SUF, "<SUF>"},
    {ROLE_FIM_SUF, "▁<SUF>"},
    {ROLE_FIM_SUF, "<|code_suffix|>"},
    {ROLE_FIM_SUF, "<|suffix|>"},
    {ROLE_FIM_MID, "<|fim_middle|>"},
    {ROLE_FIM_MID, "<fim-middle>"},
    {ROLE_FIM_MID, "<fim_middle>"},
    {ROLE_FIM_MID, "<｜fim▁end｜>"},
    {ROLE_FIM_MID, "<MID>"},
    {ROLE_FIM_MID, "▁<MID>"},
    {ROLE_FIM_MID, "<|code_middle|>"},
    {ROLE_FIM_MID, "<|middle|>"},
    {ROLE_FIM_PAD, "<|fim_pad|>"},
    {ROLE_FIM_PAD, "<fim-pad>"},
    {ROLE_FIM_PAD, "<fim_pad>"},
    {ROLE_FIM_PAD, "<PAD>"},
    {ROLE_FIM_PAD, "[PAD]"},
    {ROLE_FIM_REP, "<|fim_repo|>"},
    {ROLE_FIM_REP, "<|repo_name|>"},
    {ROLE_FIM_REP, "<fim-repo>"},
    {ROLE_FIM_REP, "<REPO>"},
    {ROLE_FIM_REP, "<reponame>"},
    {ROLE_FIM_SEP, "<|file_sep|>"},
};

/* Texts that end generation (and are forced to CONTROL). llama.cpp's
 * exceptions for other model families (gpt-oss "<|end|>", Gemma "</s>")
 * are left out: dsvk runs deepseek2 models only. */
static const char *const eog_texts[] = {
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<｜end▁of▁sentence｜>",
};

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

void tok_free(tok *t)
{
    if (!t)
        return;
    free(t->text);
    free(t->text_start);
    free(t->attr);
    free(t->piece);
    free(t->piece_start);
    tok_text_map_free(&t->by_text);
    tok_merge_map_free(&t->merges);
    free(t->special);
    free(t->trie);
    tok_pretokenizer_destroy(t->pre);
    free(t);
}

static const gguf_kv *string_array(const gguf_file *f, const char *key)
{
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv || kv->type != GGUF_TYPE_ARRAY ||
        kv->v.arr.type != GGUF_TYPE_STRING)
        return NULL;
    return kv;
}

/* Copies the token texts into one block owned by the tok. */
static dsvk_status copy_texts(tok *t, const gguf_kv *tokens, char *err,
                              size_t err_size)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < t->n_tokens; i++)
        total += gguf_array_str(tokens, i).len; /* each < file size */
    if (total >= SIZE_MAX / 2)
        return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                        "token texts too large (%llu bytes)",
                        (unsigned long long)total);
    t->text = malloc((size_t)total + 1);
    t->text_start = malloc((t->n_tokens + 1) * sizeof *t->text_start);
    t->attr = malloc(t->n_tokens);
    if (!t->text || !t->text_start || !t->attr)
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    size_t at = 0;
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        gguf_str s = gguf_array_str(tokens, i);
        t->text_start[i] = at;
        if (s.len)
            memcpy(t->text + at, s.data, s.len);
        at += s.len;
    }
    t->text_start[t->n_tokens] = at;
    return DSVK_OK;
}

/* token_type values (llama.cpp's llama_token_type) to attributes. */
static dsvk_status read_attrs(tok *t, const gguf_file *f, char *err,
                              size_t err_size)
{
    const gguf_kv *types = gguf_find_kv(f, "tokenizer.ggml.token_type");
    if (types &&
        (types->type != GGUF_TYPE_ARRAY || types->v.arr.count < t->n_tokens))
        return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                        "tokenizer.ggml.token_type is not an array of at "
                        "least %u integers",
                        t->n_tokens);
    static const uint8_t by_type[7] = {
        0,
        TOK_ATTR_NORMAL,
        TOK_ATTR_UNKNOWN,
        TOK_ATTR_CONTROL,
        TOK_ATTR_USER_DEFINED,
        TOK_ATTR_UNUSED,
        TOK_ATTR_BYTE,
    };
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        int64_t type = 1; /* no token_type: every token is normal */
        if (types && !gguf_array_int(types, i, &type))
            return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                            "tokenizer.ggml.token_type is not an integer "
                            "array");
        t->attr[i] = type >= 0 && type < 7 ? by_type[type] : 0;
    }
    return DSVK_OK;
}

static dsvk_status index_texts(tok *t, char *err, size_t err_size)
{
    if (!tok_text_map_init(&t->by_text, t->n_tokens))
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        size_t len;
        const char *s = tok_text_at(t, (int32_t)i, &len);
        if (len == 0) /* can never be produced or matched */
            continue;
        int32_t other = tok_text_map_add(&t->by_text, t, (int32_t)i);
        char name[GGUF_QUOTE_MAX + 4];
        if (other != TOK_NONE)
            return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                            "duplicate token '%s' (ids %d and %u)",
                            gguf_quote((gguf_str){s, len}, name), (int)other,
                            i);
    }
    for (int b = 0; b < 256; b++) {
        char utf8[4];
        size_t n = tok_utf8_encode(tok_byte_to_cp((uint8_t)b), utf8);
        t->byte_token[b] = tok_find(t, utf8, n);
    }
    return DSVK_OK;
}

/* Merges are "left right" strings; the rank is the index. A merge whose
 * parts or result are not tokens can never apply to token ids and is
 * skipped (llama.cpp would merge the strings and then fail to look the
 * result up). */
static dsvk_status read_merges(tok *t, const gguf_file *f, char *err,
                               size_t err_size)
{
    const gguf_kv *merges = string_array(f, "tokenizer.ggml.merges");
    if (!merges)
        return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                        "tokenizer.ggml.merges is missing or not a string "
                        "array");
    uint64_t n = merges->v.arr.count;
    if (n > INT32_MAX)
        return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                        "too many merges (%llu)", (unsigned long long)n);
    if (!tok_merge_map_init(&t->merges, (size_t)n))
        return DSVK_ERROR_OUT_OF_HOST_MEMORY;
    char *joined = NULL;
    size_t joined_cap = 0;
    for (uint64_t i = 0; i < n; i++) {
        gguf_str m = gguf_array_str(merges, i);
        /* The separator is the first space after the first byte, as in
         * llama.cpp (word.find(' ', 1)). */
        const char *space =
            m.len > 1 ? memchr(m.data + 1, ' ', m.len - 1) : NULL;
        if (!space)
            continue;
        size_t left_len = (size_t)(space - m.data);
        size_t right_len = m.len - left_len - 1;
        if (left_len + right_len > joined_cap) {
            joined_cap = 2 * (left_len + right_len);
            char *grown = realloc(joined, joined_cap);
            if (!grown) {
                free(joined);
                return DSVK_ERROR_OUT_OF_HOST_MEMORY;
            }
            joined = grown;
        }
        memcpy(joined, m.data, left_len);
        memcpy(joined + left_len, space + 1, right_len);
        int32_t left = tok_find(t, m.data, left_len);
        int32_t right = tok_find(t, space + 1, right_len);
        int32_t result = tok_find(t, joined, left_len + right_len);
        if (left != TOK_NONE && right != TOK_NONE && result != TOK_NONE)
            tok_merge_map_add(&t->merges, left, right, (int32_t)i, result);
    }
    free(joined);
    return DSVK_OK;
}

/* An optional token id key: TOK_NONE when absent, an error when out of
 * range. */
static dsvk_status read_id(const tok *t, const gguf_file *f, const char *key,
                           int32_t *id, char *err, size_t err_size)
{
    uint32_t v;
    *id = TOK_NONE;
    if (!key || !gguf_get_u32(f, key, &v))
        return DSVK_OK;
    if (v >= t->n_tokens)
        return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                        "%s %u is out of range (vocabulary has %u tokens)", key,
                        v, t->n_tokens);
    *id = (int32_t)v;
    return DSVK_OK;
}

static void add_eog(tok *t, int32_t id)
{
    if (id == TOK_NONE)
        return;
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id)
            return;
    if (t->n_eog < TOK_MAX_EOG)
        t->eog[t->n_eog++] = id;
}

static int32_t find_cstr(const tok *t, const char *text)
{
    return tok_find(t, text, strlen(text));
}

/* Special ids, llama.cpp's control-looking overrides and the EOG set. */
static dsvk_status read_specials(tok *t, const gguf_file *f, char *err,
                                 size_t err_size)
{
    dsvk_status st;
    if ((st = read_id(t, f, "tokenizer.ggml.bos_token_id", &t->bos, err,
                      err_size)) ||
        (st = read_id(t, f, "tokenizer.ggml.eos_token_id", &t->eos, err,
                      err_size)) ||
        (st = read_id(t, f, "tokenizer.ggml.padding_token_id", &t->pad, err,
                      err_size)))
        return st;
    bool wants_bos = false;
    if (gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &wants_bos))
        t->wants_bos = wants_bos;

    int32_t role_id[N_ROLES];
    for (int r = 0; r < N_ROLES; r++) {
        if ((st = read_id(t, f, role_keys[r][0], &role_id[r], err, err_size)))
            return st;
        if (role_id[r] == TOK_NONE &&
            (st = read_id(t, f, role_keys[r][1], &role_id[r], err, err_size)))
            return st;
    }
    for (size_t i = 0; i < N_ITEMS(role_texts); i++) {
        enum role r = role_texts[i].role;
        if (role_id[r] != TOK_NONE)
            continue;
        role_id[r] = find_cstr(t, role_texts[i].text);
        if (role_id[r] != TOK_NONE)
            t->attr[role_id[r]] |= TOK_ATTR_CONTROL;
    }
    add_eog(t, t->eos);
    add_eog(t, role_id[ROLE_EOT]);
    add_eog(t, role_id[ROLE_EOM]);
    add_eog(t, role_id[ROLE_FIM_PAD]);
    add_eog(t, role_id[ROLE_FIM_REP]);
    add_eog(t, role_id[ROLE_FIM_SEP]);
    for (size_t i = 0; i < N_ITEMS(eog_texts); i++) {
        int32_t id = find_cstr(t, eog_texts[i]);
        if (id != TOK_NONE) {
            t->attr[id] |= TOK_ATTR_CONTROL;
            add_eog(t, id);
        }
    }
    return DSVK_OK;
}

dsvk_status tok_load(const gguf_file *f, tok **out, char *err, size_t err_size)
{
    *out = NULL;
    gguf_str model, pre;
    char name[GGUF_QUOTE_MAX + 4];
    if (!gguf_get_str(f, "tokenizer.ggml.model", &model))
        return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                        "no tokenizer: tokenizer.ggml.model is missing");
    if (!gguf_str_eq(model, "gpt2"))
        return tok_fail(err, err_size, DSVK_ERROR_BAD_MODEL,
                        "tokenizer model '%s' is not supported (only "
                        "byte-level BPE, 'gpt2')",
                        gguf_quote(model, name));
    if (!gguf_get_str(f, "tokenizer.ggml.pre", &pre))
        return tok_fail(err, err_size, DSVK_ERROR_BAD_MODEL,
                        "tokenizer.ggml.pre is missing: the pre-tokenizer "
                        "is unknown");
    const gguf_kv *tokens = string_array(f, "tokenizer.ggml.tokens");
    if (!tokens || tokens->v.arr.count == 0 || tokens->v.arr.count >= INT32_MAX)
        return tok_fail(err, err_size, DSVK_ERROR_BAD_FILE,
                        "tokenizer.ggml.tokens is missing, empty or not a "
                        "string array");

    tok *t = calloc(1, sizeof *t);
    if (!t)
        return tok_fail(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                        "out of memory loading the tokenizer");
    t->n_tokens = (uint32_t)tokens->v.arr.count;
    dsvk_status st =
        tok_pretokenizer_create(pre.data, pre.len, &t->pre, err, err_size);
    if (st == DSVK_OK)
        st = copy_texts(t, tokens, err, err_size);
    if (st == DSVK_OK)
        st = read_attrs(t, f, err, err_size);
    if (st == DSVK_OK)
        st = index_texts(t, err, err_size);
    if (st == DSVK_OK)
        st = read_merges(t, f, err, err_size);
    if (st == DSVK_OK)
        st = read_specials(t, f, err, err_size);
    if (st == DSVK_OK)
        st = tok_special_init(t, err, err_size);
    if (st == DSVK_OK)
        st = tok_pieces_init(t, err, err_size);
    if (st == DSVK_ERROR_OUT_OF_HOST_MEMORY)
        tok_fail(err, err_size, st, "out of memory loading the tokenizer");
    if (st != DSVK_OK) {
        tok_free(t);
        return st;
    }
    *out = t;
    return DSVK_OK;
}

uint32_t tok_vocab_size(const tok *t)
{
    return t->n_tokens;
}

int32_t tok_bos(const tok *t)
{
    return t->bos;
}

int32_t tok_eos(const tok *t)
{
    return t->eos;
}

int32_t tok_pad(const tok *t)
{
    return t->pad;
}

bool tok_wants_bos(const tok *t)
{
    return t->wants_bos;
}

const char *tok_text(const tok *t, int32_t id, size_t *len)
{
    *len = 0;
    if (id < 0 || (uint32_t)id >= t->n_tokens)
        return NULL;
    return tok_text_at(t, id, len);
}

unsigned tok_attr(const tok *t, int32_t id)
{
    return id >= 0 && (uint32_t)id < t->n_tokens ? t->attr[id] : 0;
}

bool tok_is_control(const tok *t, int32_t id)
{
    return (tok_attr(t, id) & TOK_ATTR_CONTROL) != 0;
}

bool tok_is_eog(const tok *t, int32_t id)
{
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id)
            return true;
    return false;
}

int32_t tok_find(const tok *t, const char *text, size_t len)
{
    if (len == 0)
        return TOK_NONE;
    return tok_text_map_find(&t->by_text, t, text, len);
}
