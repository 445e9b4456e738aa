/* The tensors of a deepseek2 model, with llama.cpp's names, shapes (ggml
 * order: ne[0] is the row length) and order, and how each one's random
 * values are drawn. */
#ifndef GEN_MODEL_TENSORS_H
#define GEN_MODEL_TENSORS_H

#include "config.h"

#define TENSOR_NAME_MAX 64

typedef enum weight_init {
    INIT_LINEAR,    /* uniform, standard deviation 1/sqrt(fan_in) */
    INIT_EMBEDDING, /* uniform, standard deviation 1 */
    INIT_NORM,      /* 1 +- 0.1 */
    INIT_BIAS,      /* uniform, standard deviation 0.1 (exp_probs_b) */
} weight_init;

/* Where element i of the tensor comes from. attn_k_b and attn_v_b are
 * slices (k_b transposed) of the attn_kv_b the legacy layout would hold, so
 * both layouts of one seed are the same model. */
typedef enum weight_source {
    SOURCE_OWN,
    SOURCE_K_OF_KV_B,
    SOURCE_V_OF_KV_B,
} weight_source;

typedef struct planned_tensor {
    char name[TENSOR_NAME_MAX];
    uint32_t n_dims;
    uint64_t ne[4];
    uint32_t type; /* storage type */
    weight_init init;
    uint64_t fan_in;
    weight_source source;
    uint64_t stream; /* seed of the values (from the source's name) */
} planned_tensor;

typedef struct tensor_plan {
    planned_tensor *tensors;
    uint64_t count;
} tensor_plan;

/* Lists every tensor of cfg; false (with err) on out of memory. */
bool tensor_plan_build(const model_config *cfg, tensor_plan *plan, char *err,
                       size_t err_size);
void tensor_plan_free(tensor_plan *plan);

/* splitmix64's finaliser: a bijective 64-bit hash. */
uint64_t values_mix(uint64_t z);

/* Writes count consecutive elements (row-major, from flat index `first`)
 * of t's f32 values: a pure function of (seed, tensor, index). */
void tensor_values(const model_config *cfg, const planned_tensor *t,
                   uint64_t first, uint64_t count, float *out);

#endif
