#include "utf8.h"

/* Valid range of the second byte for each lead byte, per RFC 3629 table:
 * this is what rules out overlong forms, surrogates and > U+10FFFF. */
static bool second_byte_ok(uint8_t lead, uint8_t b)
{
    if (lead == 0xE0)
        return b >= 0xA0 && b <= 0xBF;
    if (lead == 0xED)
        return b >= 0x80 && b <= 0x9F;
    if (lead == 0xF0)
        return b >= 0x90 && b <= 0xBF;
    if (lead == 0xF4)
        return b >= 0x80 && b <= 0x8F;
    return b >= 0x80 && b <= 0xBF;
}

/* Length of the character a lead byte announces, 0 for a byte that can
 * never start one (continuation bytes, C0, C1, F5..FF). */
static size_t sequence_length(uint8_t lead)
{
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

size_t tok_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t n = sequence_length(u[0]);
    if (n == 0 || n > len)
        return 0;
    if (n == 1) {
        *cp = u[0];
        return 1;
    }
    if (!second_byte_ok(u[0], u[1]))
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((u[i] & 0xC0) != 0x80)
            return 0;
    uint32_t c = u[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        c = (c << 6) | (u[i] & 0x3F);
    *cp = c;
    return n;
}

size_t tok_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t tok_utf8_sanitize(const char *s, size_t len, char *out)
{
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tok_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            w += tok_utf8_encode(TOK_UTF8_REPLACEMENT, out + w);
            i += 1;
            continue;
        }
        for (size_t k = 0; k < n; k++)
            out[w++] = s[i + k];
        i += n;
    }
    return w;
}

bool tok_utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tok_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t tok_utf8_incomplete_tail(const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)s;
    /* A character is at most 4 bytes, so only the last 3 can be the start
     * of an unfinished one. Find the last non-continuation byte. */
    size_t back = 1;
    while (back <= 3 && back <= len && (u[len - back] & 0xC0) == 0x80)
        back++;
    if (back > 3 || back > len)
        return 0;
    size_t start = len - back;
    size_t need = sequence_length(u[start]);
    if (need <= back) /* complete, or a byte that starts nothing */
        return 0;
    if (back >= 2 && !second_byte_ok(u[start], u[start + 1]))
        return 0; /* can never become valid: emit as it is */
    return back;
}
