/* The model `dsvk run` uses when no -m is given: the small demo model
 * trained on the King James Bible (assets/demo-kjv.gguf), which ships with
 * dsvk. */
#ifndef DSVK_CLI_DEMO_MODEL_H
#define DSVK_CLI_DEMO_MODEL_H

#include <stdbool.h>

typedef struct demo_model {
    char path[4096];
} demo_model;

/* Finds the demo model: in the source tree when this dsvk runs from its
 * build tree, else in ../share/dsvk/ next to the executable (where
 * `cmake --install` puts it). Prints one line to stderr saying which model
 * it is. When the file is not there, returns false after printing an error
 * that names where it looked. */
bool demo_model_find(demo_model *out);

#endif
