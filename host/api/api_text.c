/* Text and tokens in the public API (dsvk.h): tokenizing, detokenizing and
 * the streaming detokenizer, over host/text/tokenizer.h. The tokenizer reports
 * a full caller buffer as an invalid argument; the API tells the two apart
 * (DSVK_ERROR_BUFFER_TOO_SMALL) from the sizes it returns. */
#include "api_private.h"

#include <string.h>

_Static_assert(DSVK_TOKEN_NONE == TOK_NONE, "token 'none' values differ");
_Static_assert(sizeof(((dsvk_text_stream *)0)->held_) >=
                   sizeof(((tok_stream *)0)->held),
               "dsvk_text_stream must hold what tok_stream holds");

dsvk_status dsvk_tokenize(const dsvk_model *model, const char *text, size_t len,
                          bool add_bos, bool parse_special, dsvk_token *tokens,
                          size_t capacity, size_t *n_tokens)
{
    char err[API_ERROR_SIZE];
    dsvk_status status =
        tok_encode_to(model->vocab, text, len, add_bos, parse_special, tokens,
                      capacity, n_tokens, err, sizeof err);
    if (status == DSVK_ERROR_INVALID_ARGUMENT && *n_tokens > capacity)
        status = DSVK_ERROR_BUFFER_TOO_SMALL;
    if (status != DSVK_OK)
        return api_model_fail(model, status, "tokenizing: %s", err);
    return DSVK_OK;
}

dsvk_status dsvk_detokenize(const dsvk_model *model, const dsvk_token *tokens,
                            size_t n_tokens, bool render_special, char *out,
                            size_t out_size, size_t *len)
{
    char err[API_ERROR_SIZE];
    *len = 0;
    dsvk_status status =
        tok_decode(model->vocab, tokens, n_tokens, render_special, out,
                   out_size, len, err, sizeof err);
    if (status == DSVK_ERROR_INVALID_ARGUMENT && *len > out_size)
        status = DSVK_ERROR_BUFFER_TOO_SMALL;
    if (status != DSVK_OK)
        return api_model_fail(model, status, "detokenizing: %s", err);
    return DSVK_OK;
}

bool dsvk_token_is_eog(const dsvk_model *model, dsvk_token token)
{
    return tok_is_eog(model->vocab, token);
}

dsvk_status dsvk_text_stream_push(dsvk_text_stream *stream,
                                  const dsvk_model *model, dsvk_token token,
                                  bool render_special, char *out,
                                  size_t out_size, size_t *len)
{
    *len = 0;
    size_t piece_len;
    if (!tok_piece(model->vocab, token, render_special, &piece_len))
        return api_model_fail(model, DSVK_ERROR_INVALID_ARGUMENT,
                              "token %d is outside the vocabulary of %u",
                              (int)token, tok_vocab_size(model->vocab));
    tok_stream s = {.n_held = stream->n_held_};
    memcpy(s.held, stream->held_, sizeof s.held);
    char err[API_ERROR_SIZE];
    /* The id is valid, so the only failure left is a short buffer, which
     * consumes nothing. */
    if (tok_stream_push(&s, model->vocab, token, render_special, out, out_size,
                        len, err, sizeof err) != DSVK_OK)
        return api_model_fail(model, DSVK_ERROR_BUFFER_TOO_SMALL, "%s", err);
    memcpy(stream->held_, s.held, sizeof s.held);
    stream->n_held_ = s.n_held;
    return DSVK_OK;
}

size_t dsvk_text_stream_flush(dsvk_text_stream *stream, char out[4])
{
    const size_t n = stream->n_held_;
    memcpy(out, stream->held_, n);
    stream->n_held_ = 0;
    return n;
}
