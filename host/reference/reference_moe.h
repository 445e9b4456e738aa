/* Feed-forward parts of the CPU reference (reference.h): the SwiGLU MLP and
 * the DeepSeekMoE block with its router. Internal to reference.c; weights
 * are f32, row-major ("[rows][cols]": y = W x has len(x) = cols). */
#ifndef DSVK_HOST_REFERENCE_MOE_H
#define DSVK_HOST_REFERENCE_MOE_H

#include "model/model.h"
#include "reference.h"

/* y = W x for W [rows][cols], summed in double. */
void ref_matvec(const float *w, const float *x, float *y, uint32_t rows,
                uint32_t cols);

typedef struct ref_mlp {
    const float *gate; /* [n_ff][d] */
    const float *up;   /* [n_ff][d] */
    const float *down; /* [d][n_ff] */
} ref_mlp;

typedef struct ref_moe {
    const float *router;      /* [E][d] */
    const float *choice_bias; /* [E] exp_probs_b, or NULL */
    const float *gate_exps;   /* [E][n_ff_exp][d] */
    const float *up_exps;     /* [E][n_ff_exp][d] */
    const float *down_exps;   /* [E][d][n_ff_exp] */
    ref_mlp shared; /* width n_ff_exp * n_expert_shared; NULLs when none */
} ref_moe;

/* Working memory for one token. */
typedef struct ref_moe_scratch {
    float *probs;      /* [E] s */
    float *choice;     /* [E] s + bias, groups outside the kept ones -inf */
    float *group;      /* [n_expert_groups] group scores */
    bool *group_kept;  /* [n_expert_groups] */
    bool *taken;       /* [E] experts already chosen */
    uint32_t *chosen;  /* [k] */
    float *weights;    /* [k] */
    float margin;      /* see ref_routing */
    float *gate;       /* [max MLP width] */
    float *up;         /* [max MLP width] */
    float *expert_out; /* [d] */
} ref_moe_scratch;

bool ref_moe_scratch_init(ref_moe_scratch *s, const model_hparams *hp);
void ref_moe_scratch_free(ref_moe_scratch *s);

/* y = down (silu(gate x) * up x); `gate` and `up` are n_ff of scratch. */
void ref_mlp_forward(const ref_mlp *mlp, uint32_t n_ff, uint32_t d,
                     const float *x, float *y, float *gate, float *up);

/* y = sum_k w_k E_k(x) + S(x) (DESIGN.md §2). Fills routing's expert
 * fields (layer and position are the caller's) with pointers into s. */
void ref_moe_forward(const model_hparams *hp, const ref_moe *moe,
                     ref_moe_scratch *s, const float *x, float *y,
                     ref_routing *routing);

#endif
