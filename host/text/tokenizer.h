/* The tokenizer of a DeepSeek model, read from its GGUF metadata:
 * byte-level BPE (`tokenizer.ggml.model = gpt2`) with the pre-tokenizer
 * named by `tokenizer.ggml.pre` (deepseek-llm, deepseek-v3, deepseek-coder).
 * It reproduces llama.cpp's tokenizer token for token, including how
 * special tokens written in the text are recognised (pretokenize.h names
 * the known differences).
 *
 * A loaded tok is immutable: every function below may be called from
 * several threads at once on the same tok. Encoding and decoding are safe
 * on untrusted input (any bytes, any ids). */
#ifndef DSVK_HOST_TOKENIZER_H
#define DSVK_HOST_TOKENIZER_H

#include "dsvk.h"
#include "gguf/gguf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tok tok;

/* Token attributes (llama.cpp's llama_token_attr), from
 * `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control,
 * 4 user-defined, 5 unused, 6 byte. A token can gain TOK_ATTR_CONTROL at
 * load time: llama.cpp's "control-looking" texts such as
 * "<｜end▁of▁sentence｜>" or "<｜fim▁hole｜>" are forced to control. */
enum {
    TOK_ATTR_NORMAL = 1 << 0,
    TOK_ATTR_UNKNOWN = 1 << 1,
    TOK_ATTR_CONTROL = 1 << 2,
    TOK_ATTR_USER_DEFINED = 1 << 3,
    TOK_ATTR_UNUSED = 1 << 4,
    TOK_ATTR_BYTE = 1 << 5,
};

#define TOK_NONE (-1) /* "no such token", e.g. a model without BOS */

/* Reads the tokenizer from a GGUF file (a full model or a vocab-only
 * file). The tok copies what it needs: f may be closed afterwards.
 * Errors: DSVK_ERROR_BAD_MODEL (not a gpt2 BPE vocabulary, unknown
 * pre-tokenizer), DSVK_ERROR_BAD_FILE (missing or malformed keys,
 * duplicate tokens, ids out of range), DSVK_ERROR_OUT_OF_HOST_MEMORY;
 * err receives one line. */
dsvk_status tok_load(const gguf_file *f, tok **out, char *err, size_t err_size);
void tok_free(tok *t); /* accepts NULL */

uint32_t tok_vocab_size(const tok *t);
int32_t tok_bos(const tok *t); /* TOK_NONE when the model has none */
int32_t tok_eos(const tok *t);
int32_t tok_pad(const tok *t);
/* `tokenizer.ggml.add_bos_token`: whether prompts should start with BOS. */
bool tok_wants_bos(const tok *t);

/* The vocabulary's own text of a token (byte-level form for normal tokens,
 * e.g. "Ġthe"), not NUL-terminated; NULL for an id out of range. */
const char *tok_text(const tok *t, int32_t id, size_t *len);
/* TOK_ATTR_* bits; 0 for an id out of range. */
unsigned tok_attr(const tok *t, int32_t id);
bool tok_is_control(const tok *t, int32_t id);
/* End of generation: EOS, EOT/EOM and the texts llama.cpp treats so. */
bool tok_is_eog(const tok *t, int32_t id);
/* The id of an exact vocabulary text (as tok_text returns), or TOK_NONE. */
int32_t tok_find(const tok *t, const char *text, size_t len);

/* A growable id list; zero-initialise it, free it with tok_ids_free. */
typedef struct tok_ids {
    int32_t *ids;
    size_t count;
    size_t capacity;
} tok_ids;
void tok_ids_free(tok_ids *ids);

/* Encodes len bytes of text and appends the ids to out.
 * add_bos: start with the BOS token (an error if the model has none).
 * parse_special: control tokens written in the text (e.g.
 * "<｜User｜>") become their ids; otherwise they are tokenized as plain
 * text. User-defined tokens are always recognised, as in llama.cpp.
 * Text need not be valid UTF-8: each byte that does not start a valid
 * character is encoded as U+FFFD (EF BF BD), as llama.cpp does. NUL bytes
 * are ordinary characters. */
dsvk_status tok_encode(const tok *t, const char *text, size_t len, bool add_bos,
                       bool parse_special, tok_ids *out, char *err,
                       size_t err_size);

/* The same into a caller buffer of `capacity` ids. *n_ids always receives
 * the number of ids the text needs; when that exceeds capacity the call
 * fails with DSVK_ERROR_INVALID_ARGUMENT and the buffer holds the first
 * `capacity` ids. */
dsvk_status tok_encode_to(const tok *t, const char *text, size_t len,
                          bool add_bos, bool parse_special, int32_t *ids,
                          size_t capacity, size_t *n_ids, char *err,
                          size_t err_size);

/* The bytes a token stands for, not NUL-terminated (may be empty). Control
 * and unknown tokens give their text when render_special is true and
 * nothing otherwise; user-defined tokens always give their text; unused
 * tokens give nothing. NULL for an id out of range. A piece may end or
 * start in the middle of a UTF-8 character. */
const char *tok_piece(const tok *t, int32_t id, bool render_special,
                      size_t *len);
/* The longest piece of any token, in bytes. */
size_t tok_max_piece_len(const tok *t);

/* Decodes ids to bytes into out (out_size bytes, no NUL added).
 * *out_len always receives the full decoded length; when it exceeds
 * out_size the call fails with DSVK_ERROR_INVALID_ARGUMENT and out holds
 * the first out_size bytes. An id out of range fails with
 * DSVK_ERROR_INVALID_ARGUMENT. */
dsvk_status tok_decode(const tok *t, const int32_t *ids, size_t n_ids,
                       bool render_special, char *out, size_t out_size,
                       size_t *out_len, char *err, size_t err_size);

/* Streaming decoder for generated tokens: never emits part of a UTF-8
 * character. Bytes that begin a character the token did not finish are
 * held back until a later token completes it; bytes that can never become
 * valid UTF-8 are passed through unchanged. Zero-initialise; one stream
 * per generated sequence. */
typedef struct tok_stream {
    char held[3];
    uint8_t n_held;
} tok_stream;

/* Output needed by one tok_stream_push call at most. */
#define TOK_STREAM_OUT_SIZE(t) (tok_max_piece_len(t) + 3)

/* Feeds one token and writes the bytes that are ready to out (out_size of
 * at least TOK_STREAM_OUT_SIZE(t) is always enough); *out_len receives
 * their count. DSVK_ERROR_INVALID_ARGUMENT for an id out of range or a
 * buffer too small for this token (nothing is consumed then). */
dsvk_status tok_stream_push(tok_stream *s, const tok *t, int32_t id,
                            bool render_special, char *out, size_t out_size,
                            size_t *out_len, char *err, size_t err_size);
/* Ends the sequence: writes the held bytes (at most 3) as they are and
 * resets the stream; returns their count. */
size_t tok_stream_flush(tok_stream *s, char out[3]);

#endif
