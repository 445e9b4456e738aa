/* Shared by the forward-pass tests: a model opened on the GPU and on the
 * CPU reference, feeding a sequence in chunks, router logs from both, and
 * running a program (gen-model, dsvk) as a child. */
#ifndef DSVK_TEST_FORWARD_SUPPORT_H
#define DSVK_TEST_FORWARD_SUPPORT_H

#include "forward/forward.h"
#include "reference/reference.h"

/* A model file opened for both implementations. */
typedef struct fwd_model {
    gguf_file *file;
    model *m;
    gpu_weights *weights;
    forward *f;
    ref *r;
} fwd_model;

/* Router choices per MoE layer and position, from either implementation;
 * margin and probs only from the reference. */
typedef struct routing_log {
    uint32_t n_layer, n_ctx, n_used, n_expert;
    uint32_t *chosen; /* [n_layer][n_ctx][n_used] */
    float *probs;     /* [n_layer][n_ctx][n_expert] */
    float *margin;    /* [n_layer][n_ctx] */
    bool *seen;       /* [n_layer][n_ctx] */
} routing_log;

bool routing_log_init(routing_log *log, const model *m, uint32_t n_ctx);
void routing_log_free(routing_log *log);
/* on_routing callbacks that fill a routing_log (user = the log). */
void routing_log_gpu(const forward_routing *r, void *user);
void routing_log_ref(const ref_routing *r, void *user);

/* Opens path, loads the model and uploads it with desc (gpu_log: routes
 * go there when not NULL) and creates the reference with n_ctx positions
 * (ref_log likewise). Returns the status of the first failing step with
 * its message in err; *out holds what was created (fwd_close frees it). */
dsvk_status fwd_open(rt_device *dev, const char *path, forward_desc desc,
                     routing_log *gpu_log, routing_log *ref_log, fwd_model *out,
                     char *err, size_t err_size);
void fwd_close(fwd_model *fm);

/* Feeds tokens[0..n) from position 0 in chunks of `chunk` (0: all at
 * once) into logits[n][n_vocab]; greedy[n] (may be NULL) gets the GPU's
 * argmax. False (with a CHECK failure) on any error. */
bool fwd_eval_gpu(forward *f, uint32_t n_vocab, const uint32_t *tokens,
                  uint32_t n, uint32_t chunk, float *logits, uint32_t *greedy);
/* The reference, all n tokens at once (its logits do not depend on the
 * feeding). */
bool fwd_eval_ref(ref *r, const uint32_t *tokens, uint32_t n, float *logits);

/* Largest |x| of n values. */
double fwd_max_abs(const float *x, size_t n);
/* Index of the largest of n values and the gap to the second largest. */
uint32_t fwd_argmax(const float *x, uint32_t n, double *gap);

/* Runs argv (NULL-terminated) as a child with stdout and stderr going to
 * output_path; returns its exit status, or -1 when it did not exit. */
int fwd_run(const char *const *argv, const char *output_path);

/* Router decisions closer than this may go either way between two f32
 * implementations (their probabilities differ by ~1e-6). */
#define FWD_ROUTING_TIE 1e-3f

/* Marks in excused[] the positions < n_tokens where the GPU's router chose
 * other experts than the reference's at a near tie (margin below
 * FWD_ROUTING_TIE); any clearer difference fails. */
void fwd_compare_routing(const char *label, const routing_log *gpu,
                         const routing_log *ref, const model *m,
                         uint32_t n_tokens, bool *excused);

/* Compares n_tokens rows of GPU logits with the reference's, leaving out
 * excused rows: max |dlogit| <= relative_bound * max(1, max |logit|), and
 * the same argmax wherever the reference's top-2 gap exceeds twice that;
 * greedy (the GPU's own argmax per row, or NULL) must match its logits. */
void fwd_compare_logits(const char *label, uint32_t n_vocab, uint32_t n_tokens,
                        double relative_bound, const float *ref,
                        const float *gpu, const uint32_t *greedy,
                        const bool *excused);

/* One way of feeding a sequence: chunk tokens per evaluation (0: whole). */
typedef struct fwd_mode {
    const char *name;
    uint32_t chunk;
} fwd_mode;

/* Feeds n_tokens seeded random tokens to the reference once and to the GPU
 * in every mode, and compares routing and logits (fwd_compare_routing,
 * fwd_compare_logits); with check_greedy, also the GPU's own argmax. */
void fwd_compare_modes(const fwd_model *fm, routing_log *gpu_log,
                       const routing_log *ref_log, const char *name,
                       const fwd_mode *modes, size_t n_modes, uint32_t n_tokens,
                       uint64_t seed, double relative_bound, bool check_greedy);

#endif
