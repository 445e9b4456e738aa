/* --type choices. */
#include "weight_format.h"
#include "encode.h"
#include "shared.h"

#include <stddef.h>
#include <string.h>

/* llama.cpp's llama_ftype values for general.file_type. */
#define FTYPE_ALL_F32 0
#define FTYPE_MOSTLY_F16 1
#define FTYPE_MOSTLY_Q8_0 7
#define FTYPE_MOSTLY_BF16 32

static const weight_format formats[] = {
    {"f32", DSVK_TYPE_F32, DSVK_TYPE_F32, FTYPE_ALL_F32},
    {"f16", DSVK_TYPE_F16, DSVK_TYPE_F16, FTYPE_MOSTLY_F16},
    {"bf16", DSVK_TYPE_BF16, DSVK_TYPE_BF16, FTYPE_MOSTLY_BF16},
    {"q8_0", DSVK_TYPE_Q8_0, DSVK_TYPE_F16, FTYPE_MOSTLY_Q8_0},
};

static const struct {
    uint32_t type;
    encode_row_fn encode;
} encoders[] = {
    {DSVK_TYPE_F32, encode_f32},
    {DSVK_TYPE_F16, encode_f16},
    {DSVK_TYPE_BF16, encode_bf16},
    {DSVK_TYPE_Q8_0, encode_q8_0},
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
