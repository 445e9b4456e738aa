/* Writes a whole generated model file. */
#ifndef GEN_MODEL_MODEL_FILE_H
#define GEN_MODEL_MODEL_FILE_H

#include "config.h"

typedef struct model_file_stats {
    uint64_t n_tensors;
    uint64_t n_params;
    uint64_t n_bytes;
} model_file_stats;

/* cfg must have passed config_check. */
bool model_file_write(const model_config *cfg, const char *path,
                      model_file_stats *stats, char *err, size_t err_size);

#endif
