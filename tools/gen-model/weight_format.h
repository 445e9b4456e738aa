/* The --type choices and the row encoders behind them. Adding a weight type
 * (Q4_0, Q4_K, ...) means one encoder in encode.c, one row in the encoder
 * table and one row in the format table (weight_format.c). */
#ifndef GEN_MODEL_WEIGHT_FORMAT_H
#define GEN_MODEL_WEIGHT_FORMAT_H

#include <stdint.h>

/* Encodes n floats (a whole row, a multiple of the type's block size) into
 * the type's GGUF bytes. */
typedef void (*encode_row_fn)(const float *x, uint64_t n, uint8_t *out);

typedef struct weight_format {
    const char *name;   /* --type value */
    uint32_t type;      /* DSVK_TYPE_* of the weight matrices */
    uint32_t fallback;  /* for matrices whose row length the blocks do not
                           divide (gguf-py falls back to F16 for Q8_0) */
    uint32_t file_type; /* general.file_type (llama.cpp's llama_ftype) */
} weight_format;

/* NULL for an unknown name. */
const weight_format *weight_format_find(const char *name);
/* "f32|f16|...", for --help and error messages. */
const char *weight_format_names(void);

/* Encoder of a storage type; NULL when gen-model cannot write it. */
encode_row_fn weight_encoder(uint32_t type);

#endif
