/* llama-quantize's type rules, reduced to the tensors a deepseek2 model
 * has (llama.cpp src/llama-quant.cpp, llama_tensor_get_type):
 *  - 1-D tensors (norms, exp_probs_b) and the router ffn_gate_inp stay F32;
 *  - output.weight becomes Q6_K unless the format is Q8_0;
 *  - Q4_K_M: every ffn_down* (dense, routed and shared) of the layers
 *    use_more_bits picks becomes Q6_K, and attn_output becomes Q5_K when
 *    the model has exactly 8 experts. Its attn_v rule never fires: deepseek2
 *    has no attn_v.weight (attn_v_b and attn_kv_b keep Q4_K);
 *  - a type whose blocks do not divide the row falls back: Q4_K to Q5_0,
 *    Q5_K to Q5_1, Q6_K to Q8_0, and anything else (where llama-quantize
 *    would give up) to F16, as llama.cpp's converter does for Q8_0. */
#include "tensor_type.h"
#include "gguf/gguf.h"
#include "shared.h"
#include "weight_format.h"

#include <stdio.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers and
 * every third one in between. */
static bool use_more_bits(int layer, int n_layer)
{
    return layer < n_layer / 8 || layer >= 7 * n_layer / 8 ||
           (layer - n_layer / 8) % 3 == 2;
}

static uint32_t q4_k_m_type(const model_config *cfg, const char *name)
{
    int layer;
    if (sscanf(name, "blk.%d.", &layer) != 1)
        return DSVK_TYPE_Q4_K;
    if (strstr(name, "ffn_down") && use_more_bits(layer, (int)cfg->n_layer))
        return DSVK_TYPE_Q6_K;
    if (ends_with(name, "attn_output.weight") && cfg->n_expert == 8)
        return DSVK_TYPE_Q5_K;
    return DSVK_TYPE_Q4_K;
}

static uint32_t fallback(uint32_t type)
{
    switch (type) {
    case DSVK_TYPE_Q4_K:
        return DSVK_TYPE_Q5_0;
    case DSVK_TYPE_Q5_K:
        return DSVK_TYPE_Q5_1;
    case DSVK_TYPE_Q6_K:
        return DSVK_TYPE_Q8_0;
    default:
        return DSVK_TYPE_F16;
    }
}

uint32_t tensor_type_choose(const model_config *cfg, const char *name,
                            uint32_t n_dims, uint64_t row_length)
{
    if (n_dims == 1 || ends_with(name, "ffn_gate_inp.weight"))
        return DSVK_TYPE_F32;
    const weight_format *f = cfg->format;
    uint32_t type = f->type;
    if (f->mix != MIX_CONVERTER && strcmp(name, "output.weight") == 0)
        type = DSVK_TYPE_Q6_K;
    else if (f->mix == MIX_Q4_K_M)
        type = q4_k_m_type(cfg, name);
    /* Terminates: F16 divides every row. */
    while (gguf_row_bytes(type, row_length) == 0)
        type = fallback(type);
    return type;
}
