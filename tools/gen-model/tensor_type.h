/* The storage type of each tensor for a --type choice, following llama.cpp:
 * its converter for float and Q8_0 files, llama-quantize's
 * llama_tensor_get_type (no importance matrix) for the other formats. */
#ifndef GEN_MODEL_TENSOR_TYPE_H
#define GEN_MODEL_TENSOR_TYPE_H

#include "config.h"

/* name: the GGUF tensor name ("blk.3.ffn_down_exps.weight");
 * row_length: ne[0]. Returns a DSVK_TYPE_* whose blocks divide the row. */
uint32_t tensor_type_choose(const model_config *cfg, const char *name,
                            uint32_t n_dims, uint64_t row_length);

#endif
