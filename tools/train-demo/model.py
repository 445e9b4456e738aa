"""The demo model: a plain PyTorch DeepSeek-V2-style transformer with exactly
the math of DESIGN.md section 2 (llama.cpp `deepseek2`, no query compression,
legacy `attn_kv_b` layout, softmax gating, no YaRN).

Parameter names are the GGUF tensor names with '.' replaced by '_' inside a
block, so export.py maps them 1:1:

  token_embd [V, d]                       output_norm [d]   output [V, d]
  blk.L: attn_norm [d]
         attn_q        [H*(dn+dr), d]     per head: dn "nope" rows, then dr rope rows
         attn_kv_a_mqa [r+dr, d]          r latent rows, then dr shared rope-key rows
         attn_kv_a_norm [r]
         attn_kv_b     [H*(dn+dv), r]     per head: dn rows of W_UK, then dv rows of W_UV
         attn_output   [d, H*dv]
         ffn_norm [d]
    dense (L < n_dense):  ffn_gate, ffn_up [n_ff, d], ffn_down [d, n_ff]
    MoE:   ffn_gate_inp [E, d]
           ffn_gate_exps, ffn_up_exps [E, n_ff_exp, d], ffn_down_exps [E, d, n_ff_exp]
           ffn_gate_shexp, ffn_up_shexp [S*n_ff_exp, d], ffn_down_shexp [d, S*n_ff_exp]
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    n_vocab: int = 258          # BOS, EOS, 256 bytes
    n_ctx: int = 256
    n_embd: int = 128
    n_layer: int = 4
    n_dense: int = 1            # leading dense blocks
    n_head: int = 4
    dn: int = 32                # qk_nope_head_dim
    dr: int = 16                # qk_rope_head_dim
    dv: int = 32                # v_head_dim
    r: int = 64                 # kv_lora_rank
    n_ff: int = 384             # dense FFN width
    n_expert: int = 8
    n_expert_used: int = 2
    n_expert_shared: int = 1
    n_ff_exp: int = 128
    rms_eps: float = 1e-6
    rope_base: float = 10000.0

    def to_dict(self):
        return asdict(self)


def rms_norm(x, w, eps):
    x32 = x.float()
    return x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(n_pos, dr, base, device=None):
    """cos/sin [n_pos, dr/2] with theta_i = base^(-2i/dr), angle = pos*theta_i."""
    i = torch.arange(dr // 2, dtype=torch.float64, device=device)
    theta = base ** (-2.0 * i / dr)
    ang = torch.arange(n_pos, dtype=torch.float64, device=device)[:, None] * theta[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def rope_adjacent(x, cos, sin):
    """RoPE on ADJACENT pairs (x0,x1),(x2,x3),... (llama.cpp LLAMA_ROPE_TYPE_NORM,
    not the NeoX half split). x [..., T, dr]; cos/sin [T, dr/2] broadcast over
    the leading dims via the caller's reshape."""
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack((y0, y1), dim=-1).flatten(-2)


def _param(*shape):
    return nn.Parameter(torch.empty(*shape))


class Block(nn.Module):
    def __init__(self, cfg: Config, dense: bool):
        super().__init__()
        c = cfg
        self.cfg = c
        self.dense = dense
        d, H = c.n_embd, c.n_head
        self.attn_norm = nn.Parameter(torch.ones(d))
        self.attn_q = _param(H * (c.dn + c.dr), d)
        self.attn_kv_a_mqa = _param(c.r + c.dr, d)
        self.attn_kv_a_norm = nn.Parameter(torch.ones(c.r))
        self.attn_kv_b = _param(H * (c.dn + c.dv), c.r)
        self.attn_output = _param(d, H * c.dv)
        self.ffn_norm = nn.Parameter(torch.ones(d))
        if dense:
            self.ffn_gate = _param(c.n_ff, d)
            self.ffn_up = _param(c.n_ff, d)
            self.ffn_down = _param(d, c.n_ff)
        else:
            E, f = c.n_expert, c.n_ff_exp
            fs = c.n_expert_shared * f
            self.ffn_gate_inp = _param(E, d)
            self.ffn_gate_exps = _param(E, f, d)
            self.ffn_up_exps = _param(E, f, d)
            self.ffn_down_exps = _param(E, d, f)
            self.ffn_gate_shexp = _param(fs, d)
            self.ffn_up_shexp = _param(fs, d)
            self.ffn_down_shexp = _param(d, fs)

    _bias = {}
    attn_scale = None   # only check_math.py overrides this (YaRN fixture); training: 1/sqrt(dn+dr)

    @classmethod
    def causal_bias(cls, T, device):
        key = (T, str(device))
        if key not in cls._bias:
            cls._bias[key] = torch.full((T, T), float("-inf"), device=device).triu(1)
        return cls._bias[key]

    # ---- attention (decompressed form; the absorbed form is the same math)
    def attention(self, x, cos, sin):
        c = self.cfg
        B, T, _ = x.shape
        H, dn, dr, dv, r = c.n_head, c.dn, c.dr, c.dv, c.r
        q = F.linear(x, self.attn_q).view(B, T, H, dn + dr)
        qp = rope_adjacent(q[..., dn:].transpose(1, 2), cos, sin)            # B,H,T,dr
        kv = F.linear(x, self.attn_kv_a_mqa)                                 # B,T,r+dr
        lat = rms_norm(kv[..., :r], self.attn_kv_a_norm, c.rms_eps)          # B,T,r
        kpe = rope_adjacent(kv[..., r:], cos, sin)                           # B,T,dr
        kvb = F.linear(lat, self.attn_kv_b).view(B, T, H, dn + dv)
        kn = kvb[..., :dn].transpose(1, 2)                                   # B,H,T,dn
        v = kvb[..., dn:].transpose(1, 2).reshape(B * H, T, dv)              # B*H,T,dv
        # score = qn.(W_UK c) + qp.kpe: one matmul over the concatenated dn+dr dims
        qc = torch.cat((q[..., :dn].transpose(1, 2), qp), dim=-1).reshape(B * H, T, dn + dr)
        kc = torch.cat((kn, kpe.unsqueeze(1).expand(B, H, T, dr)), dim=-1).reshape(B * H, T, dn + dr)
        scale = self.attn_scale if self.attn_scale is not None else 1.0 / math.sqrt(dn + dr)
        s = torch.baddbmm(self.causal_bias(T, x.device), qc, kc.transpose(1, 2), alpha=scale)
        p = torch.softmax(s, dim=-1)
        o = torch.bmm(p, v).view(B, H, T, dv).transpose(1, 2).reshape(B, T, H * dv)
        return F.linear(o, self.attn_output)

    # ---- feed-forward
    def moe(self, x):
        """Returns (y, aux_loss). softmax over all E experts, top-k by prob,
        weights = chosen probs (not renormalised, scale 1), plus shared expert."""
        c = self.cfg
        shp = x.shape
        xf = x.reshape(-1, shp[-1])
        N = xf.shape[0]
        logits = F.linear(xf, self.ffn_gate_inp)                  # N,E
        probs = torch.softmax(logits.float(), dim=-1)
        topw, topi = probs.topk(c.n_expert_used, dim=-1)          # N,k
        y = F.linear(F.silu(F.linear(xf, self.ffn_gate_shexp)) *
                     F.linear(xf, self.ffn_up_shexp), self.ffn_down_shexp)
        flat_i = topi.reshape(-1)
        flat_w = topw.reshape(-1)
        tok = torch.arange(N, device=x.device).repeat_interleave(c.n_expert_used)
        order = torch.argsort(flat_i, stable=True)
        counts = torch.bincount(flat_i, minlength=c.n_expert).tolist()
        start = 0
        outs = []
        for e in range(c.n_expert):
            n = counts[e]
            if n == 0:
                continue
            sel = order[start:start + n]
            start += n
            t = tok[sel]
            xe = xf.index_select(0, t)
            h = F.silu(F.linear(xe, self.ffn_gate_exps[e])) * F.linear(xe, self.ffn_up_exps[e])
            oe = F.linear(h, self.ffn_down_exps[e]) * flat_w[sel].unsqueeze(1)
            outs.append((t, oe))
        for t, oe in outs:
            y = y.index_add(0, t, oe)
        # DeepSeek-V2 expert-level balance loss: sum_i f_i * P_i
        f = torch.bincount(flat_i, minlength=c.n_expert).float() * (c.n_expert / (c.n_expert_used * N))
        P = probs.mean(0)
        aux = (f * P).sum()
        return y.reshape(shp), aux

    def forward(self, h, cos, sin):
        c = self.cfg
        h = h + self.attention(rms_norm(h, self.attn_norm, c.rms_eps), cos, sin)
        x = rms_norm(h, self.ffn_norm, c.rms_eps)
        if self.dense:
            y = F.linear(F.silu(F.linear(x, self.ffn_gate)) * F.linear(x, self.ffn_up), self.ffn_down)
            aux = None
        else:
            y, aux = self.moe(x)
        return h + y, aux


class DeepSeekDemo(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Parameter(torch.empty(cfg.n_vocab, cfg.n_embd))
        self.blk = nn.ModuleList([Block(cfg, i < cfg.n_dense) for i in range(cfg.n_layer)])
        self.output_norm = nn.Parameter(torch.ones(cfg.n_embd))
        self.output = nn.Parameter(torch.empty(cfg.n_vocab, cfg.n_embd))
        cos, sin = rope_tables(cfg.n_ctx, cfg.dr, cfg.rope_base)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def init_weights(self, gen):
        """Normal(0, 0.02) matrices; residual-output projections scaled by
        1/sqrt(2*n_layer); norms 1."""
        std = 0.02
        res_std = std / math.sqrt(2 * self.cfg.n_layer)
        for name, p in self.named_parameters():
            base = name.split(".")[-1]
            if p.dim() == 1:
                with torch.no_grad():
                    p.fill_(1.0)
            elif base in ("attn_output", "ffn_down", "ffn_down_exps", "ffn_down_shexp"):
                with torch.no_grad():
                    p.normal_(0.0, res_std, generator=gen)
            else:
                with torch.no_grad():
                    p.normal_(0.0, std, generator=gen)

    def gguf_tensors(self):
        """(gguf_name, tensor) in GGUF order."""
        out = [("token_embd.weight", self.token_embd)]
        for i, b in enumerate(self.blk):
            names = ["attn_norm", "attn_q", "attn_kv_a_mqa", "attn_kv_a_norm",
                     "attn_kv_b", "attn_output", "ffn_norm"]
            if b.dense:
                names += ["ffn_gate", "ffn_up", "ffn_down"]
            else:
                names += ["ffn_gate_inp", "ffn_gate_exps", "ffn_up_exps",
                          "ffn_down_exps", "ffn_gate_shexp", "ffn_up_shexp",
                          "ffn_down_shexp"]
            out += [(f"blk.{i}.{n}.weight", getattr(b, n)) for n in names]
        out += [("output_norm.weight", self.output_norm), ("output.weight", self.output)]
        return out

    def forward(self, tokens, targets=None):
        """tokens [B, T] (positions 0..T-1). Returns (logits [B,T,V], ce, aux)."""
        B, T = tokens.shape
        assert T <= self.cfg.n_ctx
        cos = self.rope_cos[:T]
        sin = self.rope_sin[:T]
        h = F.embedding(tokens, self.token_embd)
        aux_total = h.new_zeros(())
        for b in self.blk:
            h, aux = b(h, cos, sin)
            if aux is not None:
                aux_total = aux_total + aux
        h = rms_norm(h, self.output_norm, self.cfg.rms_eps)
        logits = F.linear(h, self.output)
        ce = None
        if targets is not None:
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, ce, aux_total
