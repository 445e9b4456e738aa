/* --type choices. */
#include "weight_format.h"
#include "encode.h"
#include "shared.h"

#include <stddef.h>
#include <string.h>

/* llama.cpp's llama_ftype values for general.file_type. */
enum {
    FTYPE_ALL_F32 = 0,
    FTYPE_MOSTLY_F16 = 1,
    FTYPE_MOSTLY_Q4_0 = 2,
    FTYPE_MOSTLY_Q4_1 = 3,
    FTYPE_MOSTLY_Q8_0 = 7,
    FTYPE_MOSTLY_Q5_0 = 8,
    FTYPE_MOSTLY_Q5_1 = 9,
    FTYPE_MOSTLY_Q4_K_S = 14,
    FTYPE_MOSTLY_Q4_K_M = 15,
    FTYPE_MOSTLY_Q5_K_S = 16,
    FTYPE_MOSTLY_Q6_K = 18,
    FTYPE_MOSTLY_BF16 = 32,
};

/* q4_k and q5_k have no llama.cpp ftype of their own: they are labelled
 * with the nearest one (Q4_K_S, Q5_K_S), whose few extra Q5_K/Q6_K
 * tensors they leave out. */
static const weight_format formats[] = {
    {"f32", DSVK_TYPE_F32, MIX_CONVERTER, FTYPE_ALL_F32},
    {"f16", DSVK_TYPE_F16, MIX_CONVERTER, FTYPE_MOSTLY_F16},
    {"bf16", DSVK_TYPE_BF16, MIX_CONVERTER, FTYPE_MOSTLY_BF16},
    {"q8_0", DSVK_TYPE_Q8_0, MIX_CONVERTER, FTYPE_MOSTLY_Q8_0},
    {"q4_0", DSVK_TYPE_Q4_0, MIX_QUANTIZE, FTYPE_MOSTLY_Q4_0},
    {"q4_1", DSVK_TYPE_Q4_1, MIX_QUANTIZE, FTYPE_MOSTLY_Q4_1},
    {"q5_0", DSVK_TYPE_Q5_0, MIX_QUANTIZE, FTYPE_MOSTLY_Q5_0},
    {"q5_1", DSVK_TYPE_Q5_1, MIX_QUANTIZE, FTYPE_MOSTLY_Q5_1},
    {"q4_k", DSVK_TYPE_Q4_K, MIX_QUANTIZE, FTYPE_MOSTLY_Q4_K_S},
    {"q5_k", DSVK_TYPE_Q5_K, MIX_QUANTIZE, FTYPE_MOSTLY_Q5_K_S},
    {"q6_k", DSVK_TYPE_Q6_K, MIX_QUANTIZE, FTYPE_MOSTLY_Q6_K},
    {"q4_k_m", DSVK_TYPE_Q4_K, MIX_Q4_K_M, FTYPE_MOSTLY_Q4_K_M},
};

static const struct {
    uint32_t type;
    encode_row_fn encode;
} encoders[] = {
    {DSVK_TYPE_F32, encode_f32},   {DSVK_TYPE_F16, encode_f16},
    {DSVK_TYPE_BF16, encode_bf16}, {DSVK_TYPE_Q8_0, encode_q8_0},
    {DSVK_TYPE_Q4_0, encode_q4_0}, {DSVK_TYPE_Q4_1, encode_q4_1},
    {DSVK_TYPE_Q5_0, encode_q5_0}, {DSVK_TYPE_Q5_1, encode_q5_1},
    {DSVK_TYPE_Q4_K, encode_q4_k}, {DSVK_TYPE_Q5_K, encode_q5_k},
    {DSVK_TYPE_Q6_K, encode_q6_k},
};

const weight_format *weight_format_find(const char *name)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}

const char *weight_format_names(void)
{
    static char names[128];
    if (!names[0]) {
        for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
            if (i)
                strcat(names, "|");
            strcat(names, formats[i].name);
        }
    }
    return names;
}

encode_row_fn weight_encoder(uint32_t type)
{
    for (size_t i = 0; i < sizeof encoders / sizeof encoders[0]; i++)
        if (encoders[i].type == type)
            return encoders[i].encode;
    return NULL;
}
