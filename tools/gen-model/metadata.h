/* The GGUF key/values of a generated model. */
#ifndef GEN_MODEL_METADATA_H
#define GEN_MODEL_METADATA_H

#include "config.h"
#include "gguf_writer.h"
#include "tokenizer.h"

/* Adds general.*, deepseek2.* and tokenizer.* keys, in the order and with
 * the types llama.cpp's converter uses. */
void metadata_write(gguf_writer *w, const model_config *cfg,
                    const vocabulary *vocab);

#endif
