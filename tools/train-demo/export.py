"""Export the trained demo model as a llama.cpp `deepseek2` GGUF (legacy
`attn_kv_b` layout, no query compression), and write PyTorch reference
outputs computed with exactly the (F16-rounded) weights that were exported.

Metadata mirrors tests/fixtures/models/tiny-v2-legacy.gguf key for key and
type for type (u32 / f32 / bool / str / arrays), except:
  * no deepseek2.rope.scaling.* keys: the demo uses plain RoPE (no YaRN);
  * deepseek2.expert_weights_scale (f32 1.0) and expert_weights_norm (bool
    false) are written explicitly (types as in tiny-v3.gguf), since some
    llama.cpp versions require the scale key;
  * general.file_type 1 (mostly F16).
Tensor types: F16 for matrices (token_embd, attention, FFN, experts, output),
F32 for the 1-D norms and for ffn_gate_inp (the router), as in the fixtures.
ggml ne = reversed PyTorch shape (a Linear weight [out, in] has ne [in, out];
expert stacks [E, out, in] have ne [in, out, E]).

Run alone to re-check an exported file:
    /usr/bin/python3 tools/train-demo/export.py --check FILE.gguf
"""
import json
import struct
import sys

import numpy as np
import torch

import gguf_io as G
from model import Config, DeepSeekDemo

BOS_TEXT = "<｜begin▁of▁sentence｜>"
EOS_TEXT = "<｜end▁of▁sentence｜>"
BOS_ID, EOS_ID = 0, 1
BYTE0 = 2                      # token id of byte b is BYTE0 + b
REF_PROMPT = "In the beginning God created"
REF_N_GREEDY = 32


def bytes_to_unicode():
    """GPT-2's byte -> printable unicode character map."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
          list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def vocab():
    b2u = bytes_to_unicode()
    tokens = [BOS_TEXT, EOS_TEXT] + [b2u[b] for b in range(256)]
    types = [3, 3] + [1] * 256
    return tokens, types


def encode(text, bos=True):
    return ([BOS_ID] if bos else []) + [BYTE0 + b for b in text.encode("utf-8")]


def decode(ids):
    return bytes(i - BYTE0 for i in ids if i >= BYTE0).decode("utf-8", "replace")


def is_f32_tensor(name, t):
    return t.dim() == 1 or name.endswith("ffn_gate_inp.weight")


def rounded_state(model):
    """{gguf name: float32 tensor as stored in the GGUF} (F16 ones rounded)."""
    out = {}
    for name, p in model.gguf_tensors():
        t = p.detach().float().contiguous()
        if not is_f32_tensor(name, t):
            t = t.half().float()
        out[name] = t
    return out


def write_gguf(model: DeepSeekDemo, path, name="dsvk-demo-kjv"):
    c: Config = model.cfg
    w = G.GGUFWriter()
    A = "deepseek2."
    w.add("general.architecture", G.STR, "deepseek2")
    w.add("general.name", G.STR, name)
    w.add("general.type", G.STR, "model")
    w.add("general.file_type", G.U32, 1)
    w.add("general.quantization_version", G.U32, 2)
    w.add(A + "context_length", G.U32, c.n_ctx)
    w.add(A + "embedding_length", G.U32, c.n_embd)
    w.add(A + "block_count", G.U32, c.n_layer)
    w.add(A + "feed_forward_length", G.U32, c.n_ff)
    w.add(A + "attention.head_count", G.U32, c.n_head)
    w.add(A + "attention.layer_norm_rms_epsilon", G.F32, c.rms_eps)
    w.add(A + "rope.freq_base", G.F32, c.rope_base)
    w.add(A + "rope.dimension_count", G.U32, c.dr)
    w.add(A + "vocab_size", G.U32, c.n_vocab)
    w.add(A + "leading_dense_block_count", G.U32, c.n_dense)
    w.add(A + "attention.q_lora_rank", G.U32, 0)
    w.add(A + "attention.kv_lora_rank", G.U32, c.r)
    w.add(A + "attention.head_count_kv", G.U32, c.n_head)
    w.add(A + "attention.key_length", G.U32, c.dn + c.dr)
    w.add(A + "attention.value_length", G.U32, c.dv)
    w.add(A + "expert_count", G.U32, c.n_expert)
    w.add(A + "expert_used_count", G.U32, c.n_expert_used)
    w.add(A + "expert_shared_count", G.U32, c.n_expert_shared)
    w.add(A + "expert_feed_forward_length", G.U32, c.n_ff_exp)
    w.add(A + "expert_gating_func", G.U32, 1)            # 1 = softmax (V2)
    w.add(A + "expert_weights_scale", G.F32, 1.0)
    w.add(A + "expert_weights_norm", G.BOOL, False)
    tokens, types = vocab()
    assert len(tokens) == c.n_vocab
    w.add("tokenizer.ggml.model", G.STR, "gpt2")
    w.add("tokenizer.ggml.pre", G.STR, "deepseek-v3")
    w.add("tokenizer.ggml.tokens", G.ARR, (G.STR, tokens))
    w.add("tokenizer.ggml.token_type", G.ARR, (G.I32, types))
    # byte-level vocabulary without merges; llama.cpp's gpt2 loader requires
    # the key to exist, so it is written as an empty string array.
    w.add("tokenizer.ggml.merges", G.ARR, (G.STR, []))
    w.add("tokenizer.ggml.bos_token_id", G.U32, BOS_ID)
    w.add("tokenizer.ggml.eos_token_id", G.U32, EOS_ID)
    w.add("tokenizer.ggml.add_bos_token", G.BOOL, True)
    w.add("tokenizer.ggml.add_eos_token", G.BOOL, False)
    for tname, p in model.gguf_tensors():
        t = p.detach().float().contiguous()
        ne = list(reversed(t.shape))
        if is_f32_tensor(tname, t):
            w.add_tensor(tname, ne, G.GGML_F32, t.numpy().astype("<f4").tobytes())
        else:
            w.add_tensor(tname, ne, G.GGML_F16, t.half().numpy().astype("<f2").tobytes())
    w.write(path)


def expected_ne(c: Config):
    """Tensor name -> ne, following tiny-v2-legacy.gguf's conventions."""
    d, H, V = c.n_embd, c.n_head, c.n_vocab
    fs = c.n_expert_shared * c.n_ff_exp
    e = {"token_embd.weight": [d, V], "output_norm.weight": [d], "output.weight": [d, V]}
    for i in range(c.n_layer):
        b = f"blk.{i}."
        e[b + "attn_norm.weight"] = [d]
        e[b + "attn_q.weight"] = [d, H * (c.dn + c.dr)]
        e[b + "attn_kv_a_mqa.weight"] = [d, c.r + c.dr]
        e[b + "attn_kv_a_norm.weight"] = [c.r]
        e[b + "attn_kv_b.weight"] = [c.r, H * (c.dn + c.dv)]
        e[b + "attn_output.weight"] = [H * c.dv, d]
        e[b + "ffn_norm.weight"] = [d]
        if i < c.n_dense:
            e[b + "ffn_gate.weight"] = [d, c.n_ff]
            e[b + "ffn_up.weight"] = [d, c.n_ff]
            e[b + "ffn_down.weight"] = [c.n_ff, d]
        else:
            e[b + "ffn_gate_inp.weight"] = [d, c.n_expert]
            e[b + "ffn_gate_exps.weight"] = [d, c.n_ff_exp, c.n_expert]
            e[b + "ffn_up_exps.weight"] = [d, c.n_ff_exp, c.n_expert]
            e[b + "ffn_down_exps.weight"] = [c.n_ff_exp, d, c.n_expert]
            e[b + "ffn_gate_shexp.weight"] = [d, fs]
            e[b + "ffn_up_shexp.weight"] = [d, fs]
            e[b + "ffn_down_shexp.weight"] = [fs, d]
    return e


def config_from_gguf(r: G.GGUFReader):
    A = "deepseek2."
    g = r.get
    ff_sh = r.tensors["blk.%d.ffn_up_shexp.weight" % g(A + "leading_dense_block_count")]["ne"][1]
    return Config(n_vocab=g(A + "vocab_size"), n_ctx=g(A + "context_length"),
                  n_embd=g(A + "embedding_length"), n_layer=g(A + "block_count"),
                  n_dense=g(A + "leading_dense_block_count"),
                  n_head=g(A + "attention.head_count"),
                  dn=g(A + "attention.key_length") - g(A + "rope.dimension_count"),
                  dr=g(A + "rope.dimension_count"), dv=g(A + "attention.value_length"),
                  r=g(A + "attention.kv_lora_rank"), n_ff=g(A + "feed_forward_length"),
                  n_expert=g(A + "expert_count"), n_expert_used=g(A + "expert_used_count"),
                  n_expert_shared=ff_sh // g(A + "expert_feed_forward_length"),
                  n_ff_exp=g(A + "expert_feed_forward_length"),
                  rms_eps=g(A + "attention.layer_norm_rms_epsilon"),
                  rope_base=g(A + "rope.freq_base"))


def check_gguf(path, fixture=None, model=None):
    """Re-reads `path` with our reader and checks: every key of the fixture's
    deepseek2.* / general.* / tokenizer.* (minus YaRN keys) present with the
    same value type; every tensor's ne and type as expected; the tokenizer;
    and (if model given) that the data round-trips to the F16-rounded weights.
    Returns the list of problems (empty = OK) and the reader."""
    r = G.GGUFReader(path)
    problems = []
    if fixture:
        fx = G.GGUFReader(fixture)
        for k, (t, v) in fx.kv.items():
            if k.startswith("deepseek2.rope.scaling."):
                continue
            if k not in r.kv:
                problems.append(f"missing key {k}")
            elif r.kv[k][0] != t:
                problems.append(f"key {k}: type {G.TYPE_NAMES[r.kv[k][0]]}, fixture {G.TYPE_NAMES[t]}")
            elif t == G.ARR and r.kv[k][1][0] != v[0]:
                problems.append(f"key {k}: element type differs")
        for k in r.kv:
            if k not in fx.kv and k not in ("deepseek2.expert_weights_scale",
                                            "deepseek2.expert_weights_norm"):
                problems.append(f"extra key {k}")
        # fixture conventions on shared tensor kinds (same order of dims)
        for n, ti in fx.tensors.items():
            if n not in r.tensors:
                problems.append(f"fixture tensor {n} missing")
    c = config_from_gguf(r)
    exp = expected_ne(c)
    if set(exp) != set(r.tensors):
        problems.append(f"tensor set differs: missing {sorted(set(exp) - set(r.tensors))}, "
                        f"extra {sorted(set(r.tensors) - set(exp))}")
    for n, ti in r.tensors.items():
        if n in exp and ti["ne"] != exp[n]:
            problems.append(f"{n}: ne {ti['ne']}, expected {exp[n]}")
        want = "F32" if (len(ti["ne"]) == 1 or n.endswith("ffn_gate_inp.weight")) else "F16"
        if ti["type_name"] != want:
            problems.append(f"{n}: type {ti['type_name']}, expected {want}")
    toks = r.get("tokenizer.ggml.tokens")[1]
    tt = r.get("tokenizer.ggml.token_type")[1]
    if toks != vocab()[0] or tt != vocab()[1]:
        problems.append("tokenizer tokens/types differ from the byte vocabulary")
    if model is not None:
        ref = rounded_state(model)
        for n, ti in r.tensors.items():
            dt = "<f4" if ti["type_name"] == "F32" else "<f2"
            a = np.frombuffer(ti["data"], dtype=dt).astype("float32")
            t = torch.from_numpy(a.copy()).reshape(list(reversed(ti["ne"])))
            if not torch.equal(t, ref[n]):
                problems.append(f"{n}: data does not round-trip")
    return problems, r


def load_gguf_model(path):
    """Builds a float32 DeepSeekDemo from an exported GGUF (values exactly as
    stored, F16 widened to F32)."""
    r = G.GGUFReader(path)
    c = config_from_gguf(r)
    m = DeepSeekDemo(c)
    params = dict(m.gguf_tensors())
    with torch.no_grad():
        for n, ti in r.tensors.items():
            dt = "<f4" if ti["type_name"] == "F32" else "<f2"
            a = np.frombuffer(ti["data"], dtype=dt).astype("float32")
            params[n].copy_(torch.from_numpy(a.copy()).reshape(params[n].shape))
    return m.eval()


@torch.no_grad()
def reference(model_f32, prompt=REF_PROMPT, n_greedy=REF_N_GREEDY):
    """Prompt logits [n_pos][n_vocab] (whole prompt in one pass, float32) and
    greedy continuation (full re-evaluation each step, no cache)."""
    toks = encode(prompt)
    x = torch.tensor([toks])
    logits, _, _ = model_f32(x)
    prompt_logits = logits[0].float().contiguous()
    seq = list(toks)
    greedy, gaps = [], []
    for _ in range(n_greedy):
        lg, _, _ = model_f32(torch.tensor([seq]))
        last = lg[0, -1]
        top2 = torch.topk(last, 2)
        nxt = int(top2.indices[0])
        gaps.append(float(top2.values[0] - top2.values[1]))
        greedy.append(nxt)
        seq.append(nxt)
    return toks, prompt_logits, greedy, gaps


def write_reference(gguf_path, json_path, bin_path):
    m = load_gguf_model(gguf_path)
    toks, pl, greedy, gaps = reference(m)
    with open(bin_path, "wb") as f:
        f.write(pl.numpy().astype("<f4").tobytes())
    info = {
        "model": gguf_path.split("/")[-1],
        "prompt": REF_PROMPT,
        "add_bos": True,
        "tokens": toks,
        "n_vocab": m.cfg.n_vocab,
        "logits_file": bin_path.split("/")[-1],
        "logits_layout": "little-endian float32 [n_pos][n_vocab], n_pos = len(tokens); "
                         "row i = raw logits for the token following tokens[0..i] "
                         "(whole prompt in one forward pass)",
        "greedy": greedy,
        "greedy_text": decode(greedy),
        "greedy_top2_gap": [round(g, 6) for g in gaps],
        "greedy_semantics": "32 argmax tokens continuing the prompt, each from a full "
                            "float32 re-evaluation of tokens + greedy[0..j-1]",
        "computed_with": f"PyTorch {torch.__version__}, float32, CPU, from the weights "
                         "exactly as stored in the GGUF (F16 widened to F32); "
                         "softmax router over all experts, top-k, no renormalisation",
    }
    with open(json_path, "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    return info


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", required=True)
    ap.add_argument("--fixture", default="tests/fixtures/models/tiny-v2-legacy.gguf")
    a = ap.parse_args()
    probs, r = check_gguf(a.check, a.fixture)
    print(G.describe(a.check))
    print("problems:", probs or "none")
    sys.exit(1 if probs else 0)
