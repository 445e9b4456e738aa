/* The model `dsvk run` and `dsvk chat` use when no -m is given: the small
 * trained demo model (assets/demo-kjv.gguf, trained on the King James
 * Bible) when it can be found, else a random-weight model written once
 * with gen-model's code and cached. */
#ifndef DSVK_CLI_DEMO_MODEL_H
#define DSVK_CLI_DEMO_MODEL_H

#include <stdbool.h>

typedef struct demo_model {
    char path[4096];
    bool trained; /* false: random weights, the output is gibberish */
} demo_model;

/* Finds the trained demo model: in the source tree when this dsvk runs
 * from its build tree, else in ../share/dsvk/ next to the executable.
 * Failing that, writes the random demo model (deterministic: the same
 * file every time) unless it is already cached: in the build tree's
 * demo/ folder, else in $XDG_CACHE_HOME/dsvk (~/.cache/dsvk). Prints
 * one line to stderr saying which model it is. Returns false after
 * printing the error. */
bool demo_model_find(demo_model *out);

#endif
