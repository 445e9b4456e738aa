"""Checks the demo model's math before spending an hour and a half training it.

1. Loads tests/fixtures/models/tiny-v2-legacy.gguf (llama.cpp `deepseek2`,
   legacy attn_kv_b layout, q_lora 0, softmax gating, 2 shared experts) into
   model.DeepSeekDemo and compares its logits with the llama.cpp CPU logits in
   tiny-v2-legacy.ref.json. The fixture uses YaRN (factor 4, original context
   64), which the demo model does not; this script alone adds it (DESIGN.md
   section 2: YaRN-ramped angles, cos/sin unscaled, attention scale mscale^2 /
   sqrt(dn+dr), mscale = 1 + yarn_log_multiplier * ln(factor)).
2. Compares model.DeepSeekDemo with an independent, per-token, ABSORBED-form
   implementation written straight from DESIGN.md (loops, no batching) on a
   random demo-shaped model without YaRN, so the plain-RoPE path the demo
   actually uses is checked too.

    /usr/bin/python3 tools/train-demo/check_math.py
"""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import export  # noqa: E402
from model import Config, DeepSeekDemo, Block  # noqa: E402

FIX = os.path.join(REPO, "tests", "fixtures", "models")


def yarn_tables(n_pos, dr, base, factor, orig_ctx, beta_fast=32.0, beta_slow=1.0):
    """ggml rope_yarn angles for adjacent pairs (ext_factor 1), unscaled."""
    def corr_dim(n_rot):
        return dr * math.log(orig_ctx / (n_rot * 2 * math.pi)) / (2 * math.log(base))
    low = max(0.0, math.floor(corr_dim(beta_fast)))
    high = min(dr - 1.0, math.ceil(corr_dim(beta_slow)))
    cos = torch.empty(n_pos, dr // 2, dtype=torch.float64)
    sin = torch.empty_like(cos)
    for i in range(dr // 2):
        y = (i - low) / max(0.001, high - low)
        ramp = 1 - min(1.0, max(0.0, y))
        for p in range(n_pos):
            extrap = p * base ** (-2.0 * i / dr)
            interp = extrap / factor
            th = interp * (1 - ramp) + extrap * ramp
            cos[p, i] = math.cos(th)
            sin[p, i] = math.sin(th)
    return cos.float(), sin.float()


def check_fixture():
    path = os.path.join(FIX, "tiny-v2-legacy.gguf")
    m = export.load_gguf_model(path)
    r = export.G.GGUFReader(path)
    c = m.cfg
    A = "deepseek2."
    factor = r.get(A + "rope.scaling.factor")
    orig = r.get(A + "rope.scaling.original_context_length")
    logmul = r.get(A + "rope.scaling.yarn_log_multiplier")
    cos, sin = yarn_tables(c.n_ctx, c.dr, c.rope_base, factor, orig)
    m.rope_cos.copy_(cos)
    m.rope_sin.copy_(sin)
    mscale = 1.0 + logmul * math.log(factor)
    Block.attn_scale = mscale * mscale / math.sqrt(c.dn + c.dr)
    ref = json.load(open(os.path.join(FIX, "tiny-v2-legacy.ref.json")))
    ok = True
    try:
        for p, pr in ref["prompts"].items():
            toks = pr["tokens"]
            with torch.no_grad():
                lg, _, _ = m(torch.tensor([toks]))
            want = torch.tensor(pr["cpu"]["logits"])
            d = (lg[0] - want).abs()
            bound = max(0.02, 2 * ref["agreement"][p]["cpu_vs_vulkan"]["max_abs_logit"])
            argmax = bool((lg[0].argmax(-1) == want.argmax(-1)).all())
            print(f"fixture {p}: {len(toks)} tokens, max |dlogit| {float(d.max()):.2e}, "
                  f"rms {float(d.pow(2).mean().sqrt()):.2e} (bound {bound:.3f}), argmax equal {argmax}")
            ok &= float(d.max()) <= bound and argmax
    finally:
        Block.attn_scale = None
    return ok


def rms(x, w, eps):
    return x / math.sqrt(float((x * x).mean()) + eps) * w


def naive_forward(m: DeepSeekDemo, toks):
    """Per-token absorbed-form forward from DESIGN.md section 2 (float64)."""
    c = m.cfg
    P = {n: t.detach().double() for n, t in m.gguf_tensors()}
    H, dn, dr, dv, r = c.n_head, c.dn, c.dr, c.dv, c.r
    T = len(toks)

    def rope(v, pos):
        out = v.clone()
        for i in range(dr // 2):
            th = pos * c.rope_base ** (-2.0 * i / dr)
            x0, x1 = v[2 * i], v[2 * i + 1]
            out[2 * i] = x0 * math.cos(th) - x1 * math.sin(th)
            out[2 * i + 1] = x0 * math.sin(th) + x1 * math.cos(th)
        return out

    def swiglu(x, g, u, d):
        a = g @ x
        return d @ (a / (1 + torch.exp(-a)) * (u @ x))

    hs = [P["token_embd.weight"][t].clone() for t in toks]
    for L in range(c.n_layer):
        b = f"blk.{L}."
        kvb = P[b + "attn_kv_b.weight"].view(H, dn + dv, r)
        W_UK = kvb[:, :dn, :]          # [H, dn, r]
        W_UV = kvb[:, dn:, :]          # [H, dv, r]
        lat, kpe = [], []
        xs = [rms(h, P[b + "attn_norm.weight"], c.rms_eps) for h in hs]
        for t in range(T):
            kv = P[b + "attn_kv_a_mqa.weight"] @ xs[t]
            lat.append(rms(kv[:r], P[b + "attn_kv_a_norm.weight"], c.rms_eps))
            kpe.append(rope(kv[r:], t))
        new = []
        for t in range(T):
            q = (P[b + "attn_q.weight"] @ xs[t]).view(H, dn + dr)
            o = []
            for h in range(H):
                qn, qp = q[h, :dn], rope(q[h, dn:], t)
                ql = W_UK[h].t() @ qn                       # absorbed query, length r
                sc = torch.tensor([(ql @ lat[s] + qp @ kpe[s]) / math.sqrt(dn + dr)
                                   for s in range(t + 1)], dtype=torch.float64)
                p = torch.softmax(sc, 0)
                cl = sum(p[s] * lat[s] for s in range(t + 1))
                o.append(W_UV[h] @ cl)
            h1 = hs[t] + P[b + "attn_output.weight"] @ torch.cat(o)
            x = rms(h1, P[b + "ffn_norm.weight"], c.rms_eps)
            if L < c.n_dense:
                y = swiglu(x, P[b + "ffn_gate.weight"], P[b + "ffn_up.weight"], P[b + "ffn_down.weight"])
            else:
                s = torch.softmax(P[b + "ffn_gate_inp.weight"] @ x, 0)
                top = torch.topk(s, c.n_expert_used).indices.tolist()
                y = swiglu(x, P[b + "ffn_gate_shexp.weight"], P[b + "ffn_up_shexp.weight"],
                           P[b + "ffn_down_shexp.weight"])
                for e in top:
                    y = y + s[e] * swiglu(x, P[b + "ffn_gate_exps.weight"][e],
                                          P[b + "ffn_up_exps.weight"][e],
                                          P[b + "ffn_down_exps.weight"][e])
            new.append(h1 + y)
        hs = new
    return torch.stack([P["output.weight"] @ rms(h, P["output_norm.weight"], c.rms_eps) for h in hs])


def check_naive():
    torch.manual_seed(0)
    m = DeepSeekDemo(Config())
    m.init_weights(torch.Generator().manual_seed(7))
    with torch.no_grad():   # larger weights so attention/routing are not trivial
        for n, p in m.named_parameters():
            if p.dim() >= 2:
                p.mul_(5.0)
            else:
                p.add_(0.1 * torch.randn(p.shape))
    toks = export.encode("In the beginning God created the heaven")
    with torch.no_grad():
        lg, _, _ = m(torch.tensor([toks]))
    want = naive_forward(m, toks)
    d = (lg[0].double() - want).abs()
    print(f"naive absorbed-form vs model (demo shape, plain RoPE): {len(toks)} tokens, "
          f"max |dlogit| {float(d.max()):.2e} (logit scale {float(want.abs().max()):.1f})")
    return float(d.max()) < 1e-3 * max(1.0, float(want.abs().max()))


if __name__ == "__main__":
    torch.set_num_threads(1)
    a = check_fixture()
    b = check_naive()
    print("OK" if a and b else "FAILED")
    sys.exit(0 if a and b else 1)
