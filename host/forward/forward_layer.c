/* One block of the model for a step of T tokens, as DESIGN.md §2 writes
 * it: attention (query, latent and rope key, cache write, absorbed MLA),
 * then the dense SwiGLU or the DeepSeekMoE feed-forward, each added to the
 * residual stream. Every call appends dispatches to the step's recorder. */
#include "forward_private.h"

rt_view forward_rows(const forward *f, uint64_t offset, uint32_t rows,
                     uint32_t cols)
{
    return (rt_view){&f->activations, offset, rows, cols, cols};
}

dsvk_status forward_product(const forward *f, const rt_weight *w, rt_view x,
                            rt_view y, rt_epilogue epilogue,
                            const rt_norm_after *norm)
{
    const rt_product p = {w, 0, x, y, epilogue, norm};
    if (x.rows <= FORWARD_MATVEC_MAX_TOKENS)
        return rt_op_matvec(&f->ops, &p);
    return rt_op_matmul(&f->ops, &p);
}

/* a, then b, over the same x: one dispatch for decode where the weights
 * allow (rt_op_matvec_pair). */
static dsvk_status forward_product_pair(const forward *f, const rt_product *a,
                                        const rt_product *b)
{
    if (a->x.rows <= FORWARD_MATVEC_MAX_TOKENS)
        return rt_op_matvec_pair(&f->ops, a, b);
    dsvk_status status = rt_op_matmul(&f->ops, a);
    return status == DSVK_OK ? rt_op_matmul(&f->ops, b) : status;
}

/* RMSNorm(h) with `weight` into plan.normed, as a product adding to h
 * does it after itself: in the product's dispatch for decode, where a
 * dispatch costs more than the norm. Prompts (NULL) keep the norm's own
 * dispatch, and only where it is needed. */
static const rt_norm_after *norm_after_add(const forward *f,
                                           const rt_weight *weight, uint32_t T,
                                           rt_norm_after *out)
{
    if (!weight || T > FORWARD_MATVEC_MAX_TOKENS)
        return NULL;
    *out = (rt_norm_after){
        .weight = weight,
        .eps = f->m->hp.rms_eps,
        .result = forward_rows(f, f->plan.normed, T, f->m->hp.n_embd),
        .counter = &f->activations,
        .counter_offset = f->plan.norm_counter};
    return out;
}

moe_routes forward_layer_routes(const forward *f, uint32_t layer, uint32_t T)
{
    const model_hparams *hp = &f->m->hp;
    uint64_t at = f->plan.routes + (uint64_t)(layer - hp->n_layer_dense_lead) *
                                       f->plan.route_layer_bytes;
    return (moe_routes){&f->activations, at, at + f->plan.route_weights_offset,
                        T, hp->n_expert_used};
}

/* h += attn_output · MLA(x) for x = plan.normed, then `norm`. */
static dsvk_status record_attention(forward *f, uint32_t il, uint32_t T,
                                    uint32_t pos0, const rt_norm_after *norm)
{
    const model_hparams *hp = &f->m->hp;
    const gpu_layer *g = &f->w->layers[il];
    const forward_plan *p = &f->plan;
    const rt_ops *ops = &f->ops;
    const uint32_t H = hp->n_head, r = hp->kv_lora_rank, rq = hp->q_lora_rank;
    const uint32_t dn = hp->qk_nope_head_dim, dr = hp->qk_rope_head_dim;
    const rt_view x = forward_rows(f, p->normed, T, hp->n_embd);
    const rt_view q = forward_rows(f, p->q, T, H * (dn + dr));
    const rt_view kv = forward_rows(f, p->kv, T, r + dr);

    /* The query (or its compression) and the latent read the same x: one
     * dispatch (model loading places the two weights side by side). */
    const rt_view q_a = forward_rows(f, p->q_a, T, rq);
    const rt_product query = {.w = rq ? &g->attn_q_a : &g->attn_q,
                              .x = x,
                              .y = rq ? q_a : q,
                              .epilogue = RT_EPILOGUE_STORE};
    const rt_product latent_kv = {
        .w = &g->attn_kv_a_mqa, .x = x, .y = kv, .epilogue = RT_EPILOGUE_STORE};
    dsvk_status status = forward_product_pair(f, &query, &latent_kv);
    if (status == DSVK_OK && rq)
        status = rt_op_rms_norm(ops, q_a, &g->attn_q_a_norm, hp->rms_eps, q_a);
    if (status == DSVK_OK && rq)
        status =
            forward_product(f, &g->attn_q_b, q_a, q, RT_EPILOGUE_STORE, NULL);

    /* c = RMSNorm(kv[0:r]), RoPE on kv[r:r+dr], both cached; RoPE on the
     * last dr of every head's query (H rows per position). */
    const mla_prepare_desc prepare = {
        .kv = kv,
        .q = forward_rows(f, p->q, T * H, dn + dr),
        .norm = &g->attn_kv_a_norm,
        .eps = hp->rms_eps,
        .rope = &f->rope,
        .pos0 = pos0,
        .cache = &f->caches[il],
    };
    if (status == DSVK_OK)
        status = mla_prepare(ops, &f->mla, &prepare);

    const rt_view heads = forward_rows(f, p->heads, T * H, hp->v_head_dim);
    const mla_attention_desc attention = {
        .q = forward_rows(f, p->q, T * H, dn + dr),
        .pos0 = pos0,
        .cache = &f->caches[il],
        .k_b = &g->attn_k_b,
        .v_b = &g->attn_v_b,
        .scale = hp->attn_scale,
        .scratch = &f->activations,
        .scratch_offset = p->mla_scratch,
    };
    if (status == DSVK_OK)
        status = mla_attention(ops, &f->mla, &attention, heads);
    if (status == DSVK_OK)
        status = forward_product(
            f, &g->attn_output,
            forward_rows(f, p->heads, T, H * hp->v_head_dim),
            forward_rows(f, p->hidden, T, hp->n_embd), RT_EPILOGUE_ADD, norm);
    return status;
}

/* h += down · (silu(gate · x) * (up · x)), a dense layer's SwiGLU, through
 * plan.ffn: gate and up in one dispatch for decode; then `norm`. */
static dsvk_status record_dense_ffn(forward *f, const gpu_layer *g, rt_view x,
                                    rt_view hidden, const rt_norm_after *norm)
{
    const rt_swiglu_ffn ffn = {&g->ffn_gate, &g->ffn_up, &g->ffn_down};
    const rt_view inner = {&f->activations, f->plan.ffn, x.rows,
                           g->ffn_gate.rows, g->ffn_gate.rows};
    return rt_op_swiglu_ffn(&f->ops, &ffn, x, inner,
                            x.rows <= FORWARD_MATVEC_MAX_TOKENS,
                            RT_EPILOGUE_ADD, hidden, norm);
}

/* h += sum_k w_k E_k(x) + S(x) for x = plan.normed: routing on the GPU
 * (with the router's product in the same dispatch for decode, where it
 * fits), then the routed and shared experts together. */
static dsvk_status record_moe(forward *f, uint32_t il, uint32_t T)
{
    const model_hparams *hp = &f->m->hp;
    const gpu_layer *g = &f->w->layers[il];
    const forward_plan *p = &f->plan;
    const rt_view x = forward_rows(f, p->normed, T, hp->n_embd);
    const rt_view hidden = forward_rows(f, p->hidden, T, hp->n_embd);
    const rt_view logits = forward_rows(f, p->router, T, hp->n_expert);
    const moe_routes routes = forward_layer_routes(f, il, T);

    const rt_weight *bias = g->exp_probs_b.buffer ? &g->exp_probs_b : NULL;
    dsvk_status status = DSVK_OK;
    if (moe_route_product_fits(&f->router, &g->ffn_gate_inp, x)) {
        status = moe_route_product(&f->ops, &f->router, &g->ffn_gate_inp, x,
                                   bias, &routes);
    } else {
        status = forward_product(f, &g->ffn_gate_inp, x, logits,
                                 RT_EPILOGUE_STORE, NULL);
        if (status == DSVK_OK)
            status = moe_route(&f->ops, &f->router, logits, bias, &routes);
    }
    const moe_experts experts = {&g->ffn_gate_exps, &g->ffn_up_exps,
                                 &g->ffn_down_exps};
    const moe_experts shared = {&g->ffn_gate_shexp, &g->ffn_up_shexp,
                                &g->ffn_down_shexp};
    const moe_experts_desc desc = {
        .experts = &experts,
        .routes = &routes,
        .x = x,
        .scratch = &f->activations,
        .scratch_offset = p->moe_scratch,
        .path = MOE_PATH_AUTO,
        .accumulate = true,
        .shared = g->ffn_gate_shexp.buffer ? &shared : NULL,
    };
    if (status == DSVK_OK)
        status = moe_experts_forward(&f->ops, &desc, hidden);
    return status;
}

dsvk_status forward_record_layer(forward *f, uint32_t layer, uint32_t T,
                                 uint32_t pos0, const rt_weight *next_norm,
                                 bool *normed)
{
    const model_hparams *hp = &f->m->hp;
    const gpu_layer *g = &f->w->layers[layer];
    const rt_view hidden = forward_rows(f, f->plan.hidden, T, hp->n_embd);
    const rt_view normed_rows = forward_rows(f, f->plan.normed, T, hp->n_embd);
    const bool moe = model_layer_is_moe(f->m, layer);
    rt_norm_after ffn_norm, out_norm;
    const rt_norm_after *after_attention =
        norm_after_add(f, &g->ffn_norm, T, &ffn_norm);
    /* The MoE's last dispatch does no norm. */
    const rt_norm_after *after_ffn =
        moe ? NULL : norm_after_add(f, next_norm, T, &out_norm);

    dsvk_status status = DSVK_OK;
    if (!*normed)
        status = rt_op_rms_norm(&f->ops, hidden, &g->attn_norm, hp->rms_eps,
                                normed_rows);
    if (status == DSVK_OK)
        status = record_attention(f, layer, T, pos0, after_attention);
    if (status == DSVK_OK && !after_attention)
        status = rt_op_rms_norm(&f->ops, hidden, &g->ffn_norm, hp->rms_eps,
                                normed_rows);
    if (status == DSVK_OK && moe)
        status = record_moe(f, layer, T);
    else if (status == DSVK_OK)
        status = record_dense_ffn(f, g, normed_rows, hidden, after_ffn);
    *normed = after_ffn != NULL;
    return status;
}
