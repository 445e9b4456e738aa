/* gen-model's command line. */
#ifndef GEN_MODEL_FLAGS_H
#define GEN_MODEL_FLAGS_H

#include "config.h"

typedef enum flags_result {
    FLAGS_RUN,   /* cfg and *output are set */
    FLAGS_HELP,  /* --help was printed */
    FLAGS_ERROR, /* err holds one line */
} flags_result;

flags_result flags_parse(int argc, char **argv, model_config *cfg,
                         const char **output, char *err, size_t err_size);

#endif
