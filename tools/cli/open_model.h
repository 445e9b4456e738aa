/* Opening a model the way dsvk run, chat and bench do, through the public
 * API: a context from the DSVK_* environment and --device, the model
 * loaded with a progress bar and timed, and at the end a check that the
 * validation layer (DSVK_VALIDATION=1) stayed silent. */
#ifndef DSVK_CLI_OPEN_MODEL_H
#define DSVK_CLI_OPEN_MODEL_H

#include "dsvk.h"

typedef struct open_model {
    dsvk_context *ctx;
    dsvk_model *model;
    dsvk_model_info info;
    double load_seconds; /* dsvk_model_load's wall time */
} open_model;

/* Creates the context and loads `path`. Returns false after printing the
 * error; m is then safe to pass to open_model_close. */
bool open_model_load(open_model *m, const dsvk_context_desc *ctx_desc,
                     const char *path);

/* Resolves `requested` (AUTO: the model's chat template) into *out. False
 * after printing the error, which for a model without a known template
 * points at --chat-format. */
bool open_model_chat_format(const open_model *m, dsvk_chat_format requested,
                            dsvk_chat_format *out);

/* Destroys the model and context (every session must be gone) and returns
 * `code`, or 1 after printing why when the validation layer reported
 * anything: a clean exit status then means a clean run. */
int open_model_close(open_model *m, int code);

/* Monotonic wall time in seconds, for the commands' own timings. */
double open_model_now(void);

#endif
