#include "byte_level.h"

#include <stdbool.h>

static bool stands_for_itself(uint32_t c)
{
    return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) ||
           (c >= 0xAE && c <= 0xFF);
}

/* The bytes that are not printable, in increasing order, are 0x00..0x20
 * (33 bytes), 0x7F..0xA0 (34 bytes) and 0xAD: they take U+0100 onwards. */
uint32_t tok_byte_to_cp(uint8_t byte)
{
    if (stands_for_itself(byte))
        return byte;
    if (byte <= 0x20)
        return 0x100u + byte;
    if (byte >= 0x7F && byte <= 0xA0)
        return 0x100u + 33 + (byte - 0x7Fu);
    return 0x100u + 33 + 34; /* 0xAD, the soft hyphen */
}

int tok_cp_to_byte(uint32_t cp)
{
    if (stands_for_itself(cp))
        return (int)cp;
    if (cp >= 0x100 && cp < 0x100 + 33)
        return (int)(cp - 0x100);
    if (cp >= 0x100 + 33 && cp < 0x100 + 33 + 34)
        return (int)(cp - 0x100 - 33 + 0x7F);
    if (cp == 0x100 + 33 + 34)
        return 0xAD;
    return -1;
}
