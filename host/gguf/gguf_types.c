/* Block geometry of every ggml tensor type a GGUF file may name. The reader
 * only needs sizes; which types the model can compute is decided by the
 * model layer. Numbering is ggml's (enum ggml_type); gaps are ids ggml has
 * retired (Q4_2, Q4_3, the Q4_0_4_4-style repacks), which no valid file
 * uses. */
#include "gguf.h"
#include "shared.h"

typedef struct gguf_type_info {
    const char *name;
    uint32_t block_elements; /* 0: not a type */
    uint32_t block_bytes;
} gguf_type_info;

static const gguf_type_info gguf_types[] = {
    [DSVK_TYPE_F32] = {"F32", 1, 4},
    [DSVK_TYPE_F16] = {"F16", 1, 2},
    [DSVK_TYPE_Q4_0] = {"Q4_0", 32, 18}, /* f16 d, 16 bytes of nibbles */
    [DSVK_TYPE_Q4_1] = {"Q4_1", 32, 20}, /* f16 d, f16 m, 16 bytes of nibbles */
    [DSVK_TYPE_Q5_0] = {"Q5_0", 32,
                        22}, /* f16 d, 4 bytes high bits, 16 of nibbles */
    [DSVK_TYPE_Q5_1] = {"Q5_1", 32, 24}, /* f16 d, f16 m, 4 + 16 */
    [DSVK_TYPE_Q8_0] = {"Q8_0", 32, 34}, /* f16 d, 32 int8 */
    [9] = {"Q8_1", 32, 36},              /* f16 d, f16 s, 32 int8 */
    [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110},
    [DSVK_TYPE_Q4_K] = {"Q4_K", 256, 144},
    [DSVK_TYPE_Q5_K] = {"Q5_K", 256, 176},
    [DSVK_TYPE_Q6_K] = {"Q6_K", 256, 210},
    [15] = {"Q8_K", 256, 292},
    [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74},
    [18] = {"IQ3_XXS", 256, 98},
    [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},
    [21] = {"IQ3_S", 256, 110},
    [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136},
    [24] = {"I8", 1, 1},
    [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},
    [27] = {"I64", 1, 8},
    [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56},
    [DSVK_TYPE_BF16] = {"BF16", 1, 2},
    [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},
    [39] = {"MXFP4", 32, 17},
};

static const gguf_type_info *type_info(uint32_t type)
{
    if (type >= sizeof gguf_types / sizeof gguf_types[0] ||
        gguf_types[type].block_elements == 0)
        return NULL;
    return &gguf_types[type];
}

bool gguf_type_block(uint32_t type, uint32_t *block_elements,
                     uint32_t *block_bytes)
{
    const gguf_type_info *info = type_info(type);
    if (!info)
        return false;
    *block_elements = info->block_elements;
    *block_bytes = info->block_bytes;
    return true;
}

uint64_t gguf_row_bytes(uint32_t type, uint64_t n)
{
    const gguf_type_info *info = type_info(type);
    uint64_t bytes;
    if (!info || n % info->block_elements != 0 ||
        __builtin_mul_overflow(n / info->block_elements, info->block_bytes,
                               &bytes))
        return 0;
    return bytes;
}

const char *gguf_type_name(uint32_t type)
{
    const gguf_type_info *info = type_info(type);
    return info ? info->name : "unknown";
}
