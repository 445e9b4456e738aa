/* GPT-2's byte-level alphabet (bytes_to_unicode): every byte is shown as
 * one printable code point, so a byte-level BPE vocabulary stores any byte
 * string as ordinary text. Printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC,
 * U+00AE..U+00FF) stand for themselves; the other 68 bytes map in order to
 * U+0100..U+0143 (so the space 0x20 is 'Ġ' U+0120). */
#ifndef DSVK_HOST_BYTE_LEVEL_H
#define DSVK_HOST_BYTE_LEVEL_H

#include <stdint.h>

/* The code point that stands for a byte (always below U+0144). */
uint32_t tok_byte_to_cp(uint8_t byte);

/* The byte a code point stands for, or -1 when it is not in the alphabet. */
int tok_cp_to_byte(uint32_t cp);

#endif
