/* The --type choices and the row encoders behind them. Adding a weight type
 * means one encoder (encode.c / encode_kquants.c), one row in the encoder
 * table and one row in the format table (weight_format.c); which tensor
 * gets which type is tensor_type.c's job. */
#ifndef GEN_MODEL_WEIGHT_FORMAT_H
#define GEN_MODEL_WEIGHT_FORMAT_H

#include <stdint.h>

/* Encodes n floats (a whole row, a multiple of the type's block size) into
 * the type's GGUF bytes. */
typedef void (*encode_row_fn)(const float *x, uint64_t n, uint8_t *out);

/* How the matrices' types are chosen (tensor_type.c). */
typedef enum weight_mix {
    MIX_CONVERTER, /* every matrix in `type`, as llama.cpp's converter
                      writes float and Q8_0 files */
    MIX_QUANTIZE,  /* as llama-quantize writes the ftype: `type`, except
                      output.weight in Q6_K */
    MIX_Q4_K_M,    /* llama-quantize's Q4_K_M: as MIX_QUANTIZE, plus Q6_K
                      for ffn_down in some layers and Q5_K attn_output
                      with 8 experts */
} weight_mix;

typedef struct weight_format {
    const char *name;   /* --type value */
    uint32_t type;      /* DSVK_TYPE_* of most matrices */
    weight_mix mix;     /* exceptions to `type` */
    uint32_t file_type; /* general.file_type (llama.cpp's llama_ftype) */
} weight_format;

/* NULL for an unknown name. */
const weight_format *weight_format_find(const char *name);
/* "f32|f16|...", for --help and error messages. */
const char *weight_format_names(void);

/* Encoder of a storage type; NULL when gen-model cannot write it. */
encode_row_fn weight_encoder(uint32_t type);

#endif
