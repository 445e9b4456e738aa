/* Random weight values. Element i of a tensor is a hash of (stream, i)
 * (splitmix64 in counter mode), so any slice can be generated on its own,
 * in any order, and the split attn_k_b / attn_v_b can read the legacy
 * attn_kv_b's values directly. */
#include "tensors.h"

#include <math.h>

#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ull

uint64_t values_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1): variance 1/3. */
static float uniform(uint64_t stream, uint64_t index)
{
    uint64_t bits = values_mix(stream + (index + 1) * GOLDEN_GAMMA);
    return (float)(bits >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

/* Index into the attn_kv_b [r, H*(dn+dv)] value stream: head h's rows are
 * dn rows of W_UK_h, then dv rows of W_UV_h, each r long. */
static uint64_t kv_b_index(const model_config *c, const planned_tensor *t,
                           uint64_t e)
{
    uint64_t r = c->kv_lora_rank, dn = c->qk_nope_head_dim;
    uint64_t dv = c->v_head_dim;
    if (t->source == SOURCE_K_OF_KV_B) {
        /* attn_k_b ne [dn, r, H]: element (h, j, i) = W_UK_h[i][j]. */
        uint64_t i = e % dn, j = e / dn % r, h = e / (dn * r);
        return (h * (dn + dv) + i) * r + j;
    }
    /* attn_v_b ne [r, dv, H]: element (h, i, j) = W_UV_h[i][j]. */
    uint64_t j = e % r, i = e / r % dv, h = e / (r * dv);
    return (h * (dn + dv) + dn + i) * r + j;
}

void tensor_values(const model_config *cfg, const planned_tensor *t,
                   uint64_t first, uint64_t count, float *out)
{
    /* sqrt(3) turns uniform [-1, 1) into unit standard deviation. */
    const float unit_std = 1.7320508f;
    float scale, offset = 0.0f;
    switch (t->init) {
    case INIT_NORM:
        scale = 0.1f;
        offset = 1.0f;
        break;
    case INIT_EMBEDDING:
        scale = unit_std;
        break;
    case INIT_BIAS:
        scale = 0.1f * unit_std;
        break;
    default:
        scale = unit_std / sqrtf((float)t->fan_in);
        break;
    }
    for (uint64_t k = 0; k < count; k++) {
        uint64_t e = first + k;
        uint64_t index = t->source == SOURCE_OWN ? e : kv_b_index(cfg, t, e);
        out[k] = offset + scale * uniform(t->stream, index);
    }
}
