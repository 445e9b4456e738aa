#include "pretokenize.h"

#include "tok_error.h"
#include "ucd_classes.h" /* generated: cmake/unicode.cmake */
#include "utf8.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REGEXES 6

/* llama.cpp's regex lists (src/llama-vocab.cpp, llm_tokenizer_bpe), same
 * patterns in the same order. Their non-ASCII characters are written as
 * \x{...} escapes: several of them (U+2126 OHM SIGN, U+212A KELVIN SIGN,
 * U+1F7D, U+1FBE, U+1FD3, U+1FDB) change under Unicode normalisation,
 * which editors and tools apply silently, and "K-ℭ" would then become
 * "K-ℭ", a range from ASCII 'K'. "[\r\n]" holds a literal CR and LF.
 *
 * llama.cpp's \p{L}, \p{M}, \p{N}, \p{P} and \p{S} are UCD_L ... UCD_S:
 * letters, marks, numbers, punctuation and symbols of the Unicode
 * Character Database the build found (ucd_classes.h, made by
 * tools/gen-unicode), not PCRE2's \p tables, which are older than the
 * Unicode of DeepSeek's tokenizers (Debian 12's PCRE2 has 14.0). As in
 * llama.cpp (unicode_regex_split), a regex that names classes runs on
 * class-collapsed text, where every non-ASCII letter is replaced by one
 * representative letter, every mark by one mark, and so on: UCD_L is the
 * ASCII letters and the letter representatives, [^\r\n UCD_L UCD_P
 * UCD_S] is everything else. Unlike llama.cpp's one byte per code point,
 * a representative has the UTF-8 length of the code point it replaces,
 * so offsets are the same in both texts. (Spelling each class out as its
 * hundreds of ranges says the same, but PCRE2 10.42 tries a class's
 * ranges one by one, even in JIT code: that made the pre-tokenizer 1.6 to
 * 4 times slower.) Regexes with non-ASCII literals (CJK ranges,
 * deepseek-llm's letters) run on the text itself; none may have both. */
typedef struct pretok_def {
    const char *name;
    const char *regex[MAX_REGEXES + 1]; /* NULL-terminated */
} pretok_def;

static const pretok_def pretok_defs[] = {
    {"deepseek-llm", /* LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM */
     {
         "[\r\n]",
         "\\s?"
         "[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}"
         "-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}"
         "\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}"
         "\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}"
         "\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-"
         "\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}"
         "\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-"
         "\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}"
         "\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
         "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}"
         "\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-"
         "\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}"
         "\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-"
         "\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-"
         "\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-"
         "\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
         "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-"
         "\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"
         "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
         "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}"
         "\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
         "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}"
         "\\x{3000}-\\x{3002}]+",
         "\\s+$",
         "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
         "[" UCD_N "]+",
         NULL,
     }},
    {"deepseek-v3", /* LLAMA_VOCAB_PRE_TYPE_DEEPSEEK3_LLM */
     {
         "[" UCD_N "]{1,3}",
         "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
         "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
         "|[^\r\n" UCD_L UCD_P UCD_S "]?[" UCD_L UCD_M "]+"
         "| ?[" UCD_P UCD_S "]+[\r\n]*"
         "|\\s*[\r\n]+"
         "|\\s+(?!\\S)"
         "|\\s+",
         NULL,
     }},
    {"deepseek-coder", /* LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_CODER */
     {
         "[\r\n]",
         "\\s?[" UCD_L "]+",
         "\\s?[" UCD_P "]+",
         "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
         "[" UCD_N "]",
         NULL,
     }},
};

#define N_PRETOK_DEFS (sizeof pretok_defs / sizeof pretok_defs[0])

struct tok_pretokenizer {
    size_t n_regex;
    pcre2_code *regex[MAX_REGEXES];
    bool on_classes[MAX_REGEXES]; /* runs on the class-collapsed text */
    bool any_on_classes;
};

const char *tok_unicode_version(void)
{
    return UCD_VERSION;
}

void tok_span_list_free(tok_span_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = list->capacity = 0;
}

static bool span_push(tok_span_list *list, size_t offset, size_t length)
{
    if (list->count == list->capacity) {
        size_t cap = list->capacity ? list->capacity * 2 : 64;
        tok_span *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return false;
        list->items = items;
        list->capacity = cap;
    }
    list->items[list->count++] = (tok_span){offset, length};
    return true;
}

void tok_pretokenizer_destroy(tok_pretokenizer *pre)
{
    if (!pre)
        return;
    for (size_t i = 0; i < pre->n_regex; i++)
        pcre2_code_free(pre->regex[i]);
    free(pre);
}

/* The class sets the patterns name, as they appear in the pattern text. */
static const char *const class_sets[] = {UCD_L, UCD_M, UCD_N, UCD_P, UCD_S};

static size_t class_set_length_at(const char *p)
{
    for (size_t k = 0; k < sizeof class_sets / sizeof class_sets[0]; k++) {
        size_t n = strlen(class_sets[k]);
        if (strncmp(p, class_sets[k], n) == 0)
            return n;
    }
    return 0;
}

/* Which text a pattern runs on: the class-collapsed text when it names
 * the classes, else the text itself. False when it names classes and has
 * non-ASCII literals too, or uses PCRE2's own Unicode tables (\p{..}):
 * both would be bugs here, which the tokenizer tests would see. */
static bool choose_subject(const char *pattern, bool *on_classes)
{
    bool classes = false, literals = false;
    for (const char *p = pattern; *p;) {
        size_t n = class_set_length_at(p);
        if (n) {
            classes = true;
            p += n;
            continue;
        }
        if ((unsigned char)*p >= 0x80)
            literals = true;
        if (p[0] == '\\' && p[1] == 'p' && p[2] == '{')
            return false;
        if (p[0] == '\\' && p[1] == 'x' && p[2] == '{' &&
            strtoul(p + 3, NULL, 16) >= 0x80)
            literals = true;
        /* Over an escape pair at once: the x of \\x starts no escape. */
        p += p[0] == '\\' && p[1] ? 2 : 1;
    }
    *on_classes = classes;
    return !(classes && literals);
}

static const pretok_def *find_def(const char *name, size_t name_len)
{
    for (size_t i = 0; i < N_PRETOK_DEFS; i++) {
        const char *n = pretok_defs[i].name;
        if (strlen(n) == name_len && memcmp(n, name, name_len) == 0)
            return &pretok_defs[i];
    }
    return NULL;
}

dsvk_status tok_pretokenizer_create(const char *name, size_t name_len,
                                    tok_pretokenizer **out, char *err,
                                    size_t err_size)
{
    *out = NULL;
    const pretok_def *def = find_def(name, name_len);
    if (!def)
        return tok_fail(err, err_size, DSVK_ERROR_BAD_MODEL,
                        "unsupported pre-tokenizer '%.*s' (supported: "
                        "deepseek-llm, deepseek-v3, deepseek-coder)",
                        (int)(name_len > 64 ? 64 : name_len), name);
    tok_pretokenizer *pre = calloc(1, sizeof *pre);
    if (!pre)
        return tok_fail(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                        "out of memory creating the pre-tokenizer");
    for (size_t i = 0; def->regex[i]; i++) {
        bool on_classes;
        if (!choose_subject(def->regex[i], &on_classes)) {
            tok_pretokenizer_destroy(pre);
            return tok_fail(err, err_size, DSVK_ERROR_UNSUPPORTED,
                            "pre-tokenizer '%s' regex %zu mixes Unicode "
                            "classes with non-ASCII literals or \\p{..}",
                            def->name, i);
        }
        int code;
        PCRE2_SIZE where;
        /* No PCRE2_UCP: \s must stay ASCII, because non-ASCII spaces are
         * rewritten to '\v' first (see the header). Nothing here uses
         * PCRE2's Unicode tables. $ only at the very end, as in
         * ECMAScript. */
        pcre2_code *re = pcre2_compile(
            (PCRE2_SPTR)def->regex[i], PCRE2_ZERO_TERMINATED,
            PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &code, &where, NULL);
        if (!re) {
            char msg[160];
            pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof msg);
            tok_pretokenizer_destroy(pre);
            return tok_fail(err, err_size, DSVK_ERROR_UNSUPPORTED,
                            "pre-tokenizer '%s' regex %zu does not compile "
                            "at offset %zu: %s",
                            def->name, i, (size_t)where, msg);
        }
        /* JIT is an optimisation: without it (no JIT support in PCRE2, or
         * executable memory refused) the interpreter gives the same
         * results. It also keeps `\s+$` linear on long runs of spaces,
         * where the interpreter backtracks quadratically. */
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        pre->on_classes[pre->n_regex] = on_classes;
        pre->any_on_classes |= on_classes;
        pre->regex[pre->n_regex++] = re;
    }
    *out = pre;
    return DSVK_OK;
}

/* The class of a character that tok_utf8_decode read as cp, n bytes long:
 * UCD_WIDE_SPACE for U+0085 and the other non-ASCII code points of
 * Unicode's White_Space (in Unicode 15.0: U+00A0, U+1680, U+2000..U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000), the set llama.cpp's
 * unicode_cpt_flags marks as whitespace. ASCII is UCD_OTHER: the regexes
 * see it as is. */
static enum ucd_class class_of(uint32_t cp, size_t n)
{
    return n > 1 ? ucd_class(cp) : UCD_OTHER;
}

/* Writes the texts the regexes see. In `spaced` each non-ASCII space
 * becomes '\v'; `collapsed` (when not NULL) is the same with each other
 * non-ASCII letter, mark, number, punctuation or symbol replaced by its
 * class's representative of the same length. Returns false when the text
 * has no such space (then `spaced` is the text as is). */
static bool rewrite_text(const char *text, size_t len, char *spaced,
                         char *collapsed, size_t *out_len)
{
    bool any = false;
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = tok_utf8_decode(text + i, len - i, &cp);
        if (n == 0) /* not reached for valid input; copy byte as is */
            n = 1;
        enum ucd_class c = class_of(cp, n);
        if (c == UCD_WIDE_SPACE) {
            spaced[w] = '\v';
            if (collapsed)
                collapsed[w] = '\v';
            w++;
            any = true;
        } else {
            memcpy(spaced + w, text + i, n);
            if (collapsed && c == UCD_OTHER)
                memcpy(collapsed + w, text + i, n);
            else if (collapsed)
                tok_utf8_encode(ucd_representative[c][n - 2], collapsed + w);
            w += n;
        }
        i += n;
    }
    *out_len = w;
    return any;
}

/* Maps spans over the rewritten text back onto the original. The spans
 * tile the rewritten text in order, so one walk over both suffices. */
static void map_spans_back(const char *text, size_t len, tok_span_list *spans)
{
    size_t orig = 0, seen = 0;
    for (size_t s = 0; s < spans->count; s++) {
        size_t end = spans->items[s].offset + spans->items[s].length;
        size_t start = orig;
        while (seen < end && orig < len) {
            uint32_t cp = 0;
            size_t n = tok_utf8_decode(text + orig, len - orig, &cp);
            if (n == 0)
                n = 1;
            seen += class_of(cp, n) == UCD_WIDE_SPACE ? 1 : n;
            orig += n;
        }
        spans->items[s] = (tok_span){start, orig - start};
    }
}

/* One regex over every current piece: matches and the gaps between them
 * become pieces (empty ones are dropped, as BPE would make nothing of
 * them). */
static dsvk_status split_pieces(const pcre2_code *re, pcre2_match_data *md,
                                pcre2_match_context *mctx, const char *subject,
                                const tok_span_list *in, tok_span_list *out,
                                char *err, size_t err_size)
{
    out->count = 0;
    for (size_t s = 0; s < in->count; s++) {
        /* Each piece is its own subject, so $ and (?!\S) see the piece's
         * end as the end of input, like llama.cpp's per-piece iterator. */
        PCRE2_SPTR piece = (PCRE2_SPTR)subject + in->items[s].offset;
        size_t n = in->items[s].length, base = in->items[s].offset;
        /* PCRE2's default limit (10 million backtracking steps) stops
         * `\s*[\r\n]+` on a run of 10 million spaces, which these patterns
         * handle in linear time; scale it with the piece, keeping it as a
         * guard against runaway matching. */
        uint64_t limit = 10000000u + 16u * (uint64_t)n;
        pcre2_set_match_limit(mctx, limit > UINT32_MAX ? UINT32_MAX
                                                       : (uint32_t)limit);
        size_t pos = 0, prev = 0;
        while (pos < n) {
            int rc =
                pcre2_match(re, piece, n, pos, PCRE2_NO_UTF_CHECK, md, mctx);
            if (rc == PCRE2_ERROR_NOMATCH)
                break;
            if (rc < 0) {
                char msg[160];
                pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
                return tok_fail(err, err_size, DSVK_ERROR_INVALID_ARGUMENT,
                                "pre-tokenizer regex failed on a %zu-byte "
                                "piece: %s",
                                n, msg);
            }
            const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t ms = ov[0], me = ov[1];
            if (me <= ms) { /* empty match: search on from the next char */
                uint32_t cp;
                size_t step =
                    tok_utf8_decode((const char *)piece + ms, n - ms, &cp);
                pos = ms + (step ? step : 1);
                continue;
            }
            if ((ms > prev && !span_push(out, base + prev, ms - prev)) ||
                !span_push(out, base + ms, me - ms))
                return tok_fail(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                                "out of memory splitting text");
            prev = pos = me;
        }
        if (prev < n && !span_push(out, base + prev, n - prev))
            return tok_fail(err, err_size, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                            "out of memory splitting text");
    }
    return DSVK_OK;
}

dsvk_status tok_pretokenize(const tok_pretokenizer *pre, const char *text,
                            size_t len, tok_span_list *out, char *err,
                            size_t err_size)
{
    out->count = 0;
    if (len == 0)
        return DSVK_OK;
    dsvk_status st = DSVK_ERROR_OUT_OF_HOST_MEMORY;
    tok_span_list next = {0};
    pcre2_match_data *md = NULL;
    pcre2_match_context *mctx = NULL;
    pcre2_jit_stack *jit_stack = NULL;
    /* The text with spaces rewritten, then its class-collapsed form. */
    char *spaced = malloc(pre->any_on_classes ? 2 * len : len);
    char *collapsed = pre->any_on_classes ? spaced + len : NULL;
    if (!spaced || !span_push(out, 0, len))
        goto done;
    size_t subject_len;
    bool rewrote = rewrite_text(text, len, spaced, collapsed, &subject_len);
    out->items[0].length = subject_len;

    mctx = pcre2_match_context_create(NULL);
    if (!mctx)
        goto done;
    /* 1 MiB is ample: these patterns keep little backtracking state. No
     * stack (PCRE2 without JIT) is fine: the interpreter needs none. */
    jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (jit_stack)
        pcre2_jit_stack_assign(mctx, NULL, jit_stack);

    for (size_t r = 0; r < pre->n_regex; r++) {
        pcre2_match_data_free(md);
        md = pcre2_match_data_create_from_pattern(pre->regex[r], NULL);
        if (!md)
            goto done;
        st = split_pieces(pre->regex[r], md, mctx,
                          pre->on_classes[r] ? collapsed : spaced, out, &next,
                          err, err_size);
        if (st != DSVK_OK)
            goto done;
        tok_span_list swap = *out;
        *out = next;
        next = swap;
    }
    if (rewrote)
        map_spans_back(text, len, out);
    st = DSVK_OK;
done:
    if (st == DSVK_ERROR_OUT_OF_HOST_MEMORY)
        tok_fail(err, err_size, st, "out of memory splitting text");
    if (st != DSVK_OK)
        out->count = 0;
    tok_span_list_free(&next);
    pcre2_match_data_free(md);
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(mctx);
    free(spaced);
    return st;
}
