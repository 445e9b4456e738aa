/* The tensor list of a deepseek2 model, in the order llama.cpp's converter
 * writes it (see tests/fixtures/models/tiny-v2.gguf.json). */
#include "tensors.h"
#include "tensor_type.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many tensors per layer: with query compression and the
 * split layout, 9 for attention (norm, q_a, q_a_norm, q_b, kv_a_mqa,
 * kv_a_norm, k_b, v_b, output) and, in an MoE layer with a choice bias, 9
 * for the FFN (norm, router, bias, 3 expert stacks, 3 shared). */
#define MAX_TENSORS_PER_LAYER 18

typedef struct plan_builder {
    const model_config *cfg;
    tensor_plan *plan;
    uint64_t capacity;
} plan_builder;

/* Seed of a value stream: the model seed and a tensor name (FNV-1a). */
static uint64_t stream_of(uint64_t seed, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = name; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
    return values_mix(seed ^ h);
}

static planned_tensor *add(plan_builder *b, weight_init init, uint32_t n_dims,
                           const uint64_t *ne, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static planned_tensor *add(plan_builder *b, weight_init init, uint32_t n_dims,
                           const uint64_t *ne, const char *fmt, ...)
{
    assert(b->plan->count < b->capacity);
    planned_tensor *t = &b->plan->tensors[b->plan->count++];
    memset(t, 0, sizeof *t);
    va_list args;
    va_start(args, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, args);
    va_end(args);
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < 4; d++)
        t->ne[d] = d < n_dims ? ne[d] : 1;
    t->init = init;
    t->fan_in = ne[0];
    t->source = SOURCE_OWN;
    t->stream = stream_of(b->cfg->seed, t->name);
    t->type = tensor_type_choose(b->cfg, t->name, n_dims, ne[0]);
    return t;
}

#define NE(...) ((const uint64_t[]){__VA_ARGS__})
#define N_DIMS(...) (sizeof(NE(__VA_ARGS__)) / sizeof(uint64_t))
#define MATRIX(b, init, name_fmt, layer, ...)                                  \
    add((b), (init), (uint32_t)N_DIMS(__VA_ARGS__), NE(__VA_ARGS__),           \
        (name_fmt), (layer))

static void add_attention(plan_builder *b, uint32_t il)
{
    const model_config *c = b->cfg;
    uint64_t d = c->n_embd, H = c->n_head, r = c->kv_lora_rank;
    uint64_t dn = c->qk_nope_head_dim, dr = c->qk_rope_head_dim;
    uint64_t dv = c->v_head_dim, rq = c->q_lora_rank;

    MATRIX(b, INIT_NORM, "blk.%u.attn_norm.weight", il, d);
    if (rq) {
        MATRIX(b, INIT_LINEAR, "blk.%u.attn_q_a.weight", il, d, rq);
        MATRIX(b, INIT_NORM, "blk.%u.attn_q_a_norm.weight", il, rq);
        MATRIX(b, INIT_LINEAR, "blk.%u.attn_q_b.weight", il, rq, H * (dn + dr));
    } else {
        MATRIX(b, INIT_LINEAR, "blk.%u.attn_q.weight", il, d, H * (dn + dr));
    }
    MATRIX(b, INIT_LINEAR, "blk.%u.attn_kv_a_mqa.weight", il, d, r + dr);
    MATRIX(b, INIT_NORM, "blk.%u.attn_kv_a_norm.weight", il, r);

    char kv_b_name[TENSOR_NAME_MAX];
    snprintf(kv_b_name, sizeof kv_b_name, "blk.%u.attn_kv_b.weight", il);
    if (c->layout == LAYOUT_LEGACY) {
        MATRIX(b, INIT_LINEAR, "blk.%u.attn_kv_b.weight", il, r, H * (dn + dv));
    } else {
        planned_tensor *k_b =
            MATRIX(b, INIT_LINEAR, "blk.%u.attn_k_b.weight", il, dn, r, H);
        planned_tensor *v_b =
            MATRIX(b, INIT_LINEAR, "blk.%u.attn_v_b.weight", il, r, dv, H);
        /* Same values as attn_kv_b, whose rows have length r. */
        k_b->source = SOURCE_K_OF_KV_B;
        v_b->source = SOURCE_V_OF_KV_B;
        k_b->fan_in = v_b->fan_in = r;
        k_b->stream = v_b->stream = stream_of(c->seed, kv_b_name);
    }
    MATRIX(b, INIT_LINEAR, "blk.%u.attn_output.weight", il, H * dv, d);
}

static void add_feed_forward(plan_builder *b, uint32_t il)
{
    const model_config *c = b->cfg;
    uint64_t d = c->n_embd, E = c->n_expert, f = c->n_ff_exp;
    uint64_t shared = (uint64_t)c->n_expert_shared * c->n_ff_exp;

    MATRIX(b, INIT_NORM, "blk.%u.ffn_norm.weight", il, d);
    if (il < c->n_layer_dense_lead) {
        MATRIX(b, INIT_LINEAR, "blk.%u.ffn_gate.weight", il, d, c->n_ff);
        MATRIX(b, INIT_LINEAR, "blk.%u.ffn_up.weight", il, d, c->n_ff);
        MATRIX(b, INIT_LINEAR, "blk.%u.ffn_down.weight", il, c->n_ff, d);
        return;
    }
    MATRIX(b, INIT_LINEAR, "blk.%u.ffn_gate_inp.weight", il, d, E);
    if (c->exp_probs_b)
        MATRIX(b, INIT_BIAS, "blk.%u.exp_probs_b.bias", il, E);
    MATRIX(b, INIT_LINEAR, "blk.%u.ffn_gate_exps.weight", il, d, f, E);
    MATRIX(b, INIT_LINEAR, "blk.%u.ffn_up_exps.weight", il, d, f, E);
    MATRIX(b, INIT_LINEAR, "blk.%u.ffn_down_exps.weight", il, f, d, E);
    MATRIX(b, INIT_LINEAR, "blk.%u.ffn_gate_shexp.weight", il, d, shared);
    MATRIX(b, INIT_LINEAR, "blk.%u.ffn_up_shexp.weight", il, d, shared);
    MATRIX(b, INIT_LINEAR, "blk.%u.ffn_down_shexp.weight", il, shared, d);
}

bool tensor_plan_build(const model_config *cfg, tensor_plan *plan, char *err,
                       size_t err_size)
{
    uint64_t capacity = (uint64_t)cfg->n_layer * MAX_TENSORS_PER_LAYER + 3;
    plan->count = 0;
    plan->tensors = calloc(capacity, sizeof *plan->tensors);
    if (!plan->tensors) {
        snprintf(err, err_size, "out of memory for %llu tensor descriptions",
                 (unsigned long long)capacity);
        return false;
    }
    plan_builder b = {cfg, plan, capacity};
    uint64_t d = cfg->n_embd, V = cfg->n_vocab;
    add(&b, INIT_EMBEDDING, 2, NE(d, V), "token_embd.weight");
    for (uint32_t il = 0; il < cfg->n_layer; il++) {
        add_attention(&b, il);
        add_feed_forward(&b, il);
    }
    add(&b, INIT_NORM, 1, NE(d), "output_norm.weight");
    add(&b, INIT_LINEAR, 2, NE(d, V), "output.weight");
    return true;
}

void tensor_plan_free(tensor_plan *plan)
{
    free(plan->tensors);
    plan->tensors = NULL;
    plan->count = 0;
}
