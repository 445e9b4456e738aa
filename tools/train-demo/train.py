"""Train the dsvk demo model (DeepSeek-V2 architecture, byte vocabulary) on the
King James Bible, then export assets/demo-kjv.gguf, its PyTorch reference
outputs and assets/README.md.

    cd <repo> && /usr/bin/python3 tools/train-demo/train.py --out-dir assets --steps N

--out-dir gets only the deliverables (demo-kjv.gguf, demo-kjv.ref.json,
demo-kjv.ref.bin, README.md); --work-dir (default build-train/, git-ignored)
gets the corpus text, metrics and the resumable checkpoint. A run is a pure
function of its arguments (fixed seeds, 1 torch thread, deterministic CPU ops),
so the command in the README reproduces the file.

--timing N runs N steps only and prints tokens/s and the step count that fits
a wall-clock budget (--budget-min), to choose --steps.
"""
import argparse
import json
import math
import os
import platform
import shlex
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import data  # noqa: E402
import export  # noqa: E402
from model import Config, DeepSeekDemo  # noqa: E402

FIXTURE = os.path.join(REPO, "tests", "fixtures", "models", "tiny-v2-legacy.gguf")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", required=True, help="where the deliverables go")
    ap.add_argument("--work-dir", default=os.path.join(REPO, "build-train"),
                    help="corpus, metrics, checkpoint (default build-train/)")
    ap.add_argument("--steps", type=int, default=3600)
    ap.add_argument("--batch", type=int, default=16, help="sequences per step")
    ap.add_argument("--seq", type=int, default=256, help="tokens per sequence (BOS + bytes)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--aux-alpha", type=float, default=0.01,
                    help="weight of the expert load-balancing loss (per MoE layer)")
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-windows", type=int, default=64)
    ap.add_argument("--ckpt-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--resume", action="store_true", help="continue from work-dir checkpoint")
    ap.add_argument("--timing", type=int, default=0, help="only time this many steps")
    ap.add_argument("--budget-min", type=float, default=95.0)
    return ap.parse_args(argv)


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


class Batches:
    """Training windows: BOS + `seq` bytes starting at a random line start;
    inputs are the first `seq` tokens, targets the next ones."""

    def __init__(self, buf, starts, seq, gen):
        self.ids = torch.tensor(list(buf), dtype=torch.long) + export.BYTE0
        self.seq = seq
        self.starts = torch.tensor([s for s in starts if s + seq <= len(buf)], dtype=torch.long)
        self.gen = gen

    def window(self, s):
        return torch.cat((torch.tensor([export.BOS_ID]), self.ids[s:s + self.seq]))

    def sample(self, B):
        idx = torch.randint(len(self.starts), (B,), generator=self.gen)
        w = torch.stack([self.window(int(self.starts[i])) for i in idx])
        return w[:, :-1], w[:, 1:]

    def fixed(self, n):
        """n windows at evenly spaced line starts (validation)."""
        pick = torch.linspace(0, len(self.starts) - 1, n).round().long()
        w = torch.stack([self.window(int(self.starts[i])) for i in pick])
        return w[:, :-1], w[:, 1:]


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = (step - a.warmup) / max(1, a.steps - a.warmup)
    lo = a.lr * a.min_lr_frac
    return lo + 0.5 * (a.lr - lo) * (1 + math.cos(math.pi * min(1.0, t)))


@torch.no_grad()
def evaluate(model, x, y, chunk=16):
    model.eval()
    tot, n = 0.0, 0
    for i in range(0, x.shape[0], chunk):
        _, ce, _ = model(x[i:i + chunk], y[i:i + chunk])
        k = y[i:i + chunk].numel()
        tot += float(ce) * k
        n += k
    model.train()
    return tot / n


@torch.no_grad()
def sample_text(model, prompt, n, temperature, seed):
    g = torch.Generator().manual_seed(seed)
    seq = export.encode(prompt)
    model.eval()
    for _ in range(n):
        lg, _, _ = model(torch.tensor([seq[-model.cfg.n_ctx:]]))
        p = torch.softmax(lg[0, -1] / temperature, -1)
        seq.append(int(torch.multinomial(p, 1, generator=g)))
    model.train()
    return export.decode(seq[1:])


def make_optimizer(model, a):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=a.lr, betas=(0.9, 0.95), eps=1e-8)


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    os.makedirs(a.work_dir, exist_ok=True)
    os.makedirs(a.out_dir, exist_ok=True)
    command = "/usr/bin/python3 " + " ".join(shlex.quote(x) for x in
                                             [os.path.relpath(os.path.abspath(sys.argv[0]), REPO)]
                                             + sys.argv[1:])
    log(f"command (from {REPO}): {command}")
    log(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")

    corp = data.corpus()
    with open(os.path.join(a.work_dir, "kjv.txt"), "w") as f:
        f.write(corp["text"])
    log(f"corpus: {len(corp['text'])} bytes sha256 {corp['sha256']}; train {len(corp['train'])} "
        f"val {len(corp['val'])} bytes")

    torch.manual_seed(a.seed)
    cfg = Config(n_ctx=a.seq)
    model = DeepSeekDemo(cfg)
    model.init_weights(torch.Generator().manual_seed(a.seed))
    n_params = sum(p.numel() for p in model.parameters())
    log(f"config {json.dumps(cfg.to_dict())}; {n_params} parameters")
    opt = make_optimizer(model, a)
    gen = torch.Generator().manual_seed(a.seed + 1)
    train = Batches(corp["train"], corp["line_starts_train"], a.seq, gen)
    valset = Batches(corp["val"], corp["line_starts_val"], a.seq, None)
    vx, vy = valset.fixed(a.eval_windows)
    n_moe = cfg.n_layer - cfg.n_dense

    ckpt_path = os.path.join(a.work_dir, "ckpt.pt")
    metrics_path = os.path.join(a.work_dir, "metrics.json")
    step0, rows, elapsed0 = 0, [], 0.0
    if a.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        step0, rows, elapsed0 = ck["step"], ck["rows"], ck["elapsed"]
        log(f"resumed at step {step0}")

    tokens_per_step = a.batch * a.seq
    t_start = time.time() - elapsed0
    n_steps = a.timing if a.timing else a.steps
    run_ce, run_aux, run_n = 0.0, 0.0, 0
    t_timing = None
    model.train()
    for step in range(step0, n_steps):
        if a.timing and step == 2:
            t_timing = time.time()
        lr = lr_at(step, a)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = train.sample(a.batch)
        _, ce, aux = model(x, y)
        loss = ce + a.aux_alpha * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
        opt.step()
        run_ce += float(ce)
        run_aux += float(aux) / n_moe
        run_n += 1
        done = step + 1
        if a.timing:
            continue
        if done % a.eval_every == 0 or done == a.steps or done == 1:
            el = time.time() - t_start
            vl = evaluate(model, vx, vy)
            row = dict(step=done, train=run_ce / run_n, val=vl, aux=run_aux / run_n,
                       lr=lr, elapsed=el)
            rows.append(row)
            log(f"step {done}/{a.steps} train {row['train']:.4f} val {vl:.4f} nats/byte "
                f"aux {row['aux']:.3f} lr {lr:.2e} gnorm {float(gn):.2f} "
                f"{el / 60:.1f} min, {done * tokens_per_step / el:.0f} tok/s")
            run_ce, run_aux, run_n = 0.0, 0.0, 0
            with open(metrics_path, "w") as f:
                json.dump(rows, f, indent=1)
        if done % a.ckpt_every == 0 and done < a.steps:
            tmp = ckpt_path + ".tmp"
            torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), gen=gen.get_state(),
                            step=done, rows=rows, elapsed=time.time() - t_start), tmp)
            os.replace(tmp, ckpt_path)

    if a.timing:
        dt = time.time() - t_timing
        sps = dt / (a.timing - 2)
        tps = tokens_per_step / sps
        # evaluation costs about a 1/3-step forward per eval window batch
        est = int(a.budget_min * 60 / (sps * (1 + (a.eval_windows / a.batch) / 3 / a.eval_every)))
        log(f"timing: {sps:.3f} s/step, {tps:.0f} tokens/s; "
            f"~{est} steps fit in {a.budget_min} min")
        return

    train_time = time.time() - t_start
    log(f"training done: {train_time / 60:.1f} min")
    finish(a, model, rows, train_time, command, corp, n_params, t_start)


def finish(a, model, rows, train_time, command, corp, n_params, t_start):
    gguf = os.path.join(a.out_dir, "demo-kjv.gguf")
    export.write_gguf(model, gguf)
    problems, r = export.check_gguf(gguf, FIXTURE if os.path.exists(FIXTURE) else None, model)
    for p in problems:
        log(f"EXPORT CHECK: {p}")
    if problems:
        raise SystemExit("export check failed")
    log(f"wrote {gguf} ({os.path.getsize(gguf)} bytes); re-read OK: "
        f"{len(r.tensors)} tensors, {len(r.kv)} keys, shapes/types as expected")
    info = export.write_reference(gguf, os.path.join(a.out_dir, "demo-kjv.ref.json"),
                                  os.path.join(a.out_dir, "demo-kjv.ref.bin"))
    log(f"reference: greedy {info['greedy_text']!r}")
    m16 = export.load_gguf_model(gguf)
    corp_val = Batches(corp["val"], corp["line_starts_val"], a.seq, None)
    vx, vy = corp_val.fixed(a.eval_windows)
    val16 = evaluate(m16, vx, vy)
    samples = [sample_text(m16, p, 300, 0.8, a.seed + i) for i, p in
               enumerate(("In the beginning God created", "And Jesus said unto them,",
                          "The LORD is my shepherd"))]
    total = time.time() - t_start
    write_readme(a, rows, train_time, total, command, corp, n_params, gguf, info, val16, samples,
                 m16.cfg)
    log(f"all done: {total / 60:.1f} min total; F16 model val {val16:.4f} nats/byte")


def write_readme(a, rows, train_time, total, command, corp, n_params, gguf, info, val16,
                 samples, c):
    tps = a.steps * a.batch * a.seq / train_time
    table = "\n".join(f"| {r['step']} | {r['train']:.4f} | {r['val']:.4f} | {r['aux']:.3f} | "
                      f"{r['lr']:.2e} | {r['elapsed'] / 60:.1f} |" for r in rows)
    sample_md = "\n\n".join("```\n" + s + "\n```" for s in samples)
    size = os.path.getsize(gguf)
    text = f"""# Demo model: `demo-kjv.gguf`

A small but real, trained DeepSeek-V2-architecture model (llama.cpp `deepseek2`
GGUF), so `dsvk run` has something to say without a download. It writes
King James Bible English, byte by byte. Everything here is produced by one
command (tools/train-demo/train.py); nothing is hand-edited.

| file | what |
|---|---|
| `demo-kjv.gguf` | the model, {size:,} bytes: F16 matrices, F32 norms and router |
| `demo-kjv.ref.json` | reference run: prompt tokens (BOS + bytes of "{info['prompt']}"), {len(info['greedy'])} greedy continuation ids, their text, top-2 logit gaps |
| `demo-kjv.ref.bin` | PyTorch's logits at every prompt position, little-endian float32 [{len(info['tokens'])}][{info['n_vocab']}] |
| `README.md` | this file (written by the training script) |

## Architecture (DESIGN.md §2)

{n_params:,} parameters. n_embd {c.n_embd}, {c.n_layer} layers (first {c.n_dense} dense SwiGLU,
n_ff {c.n_ff}; the others MoE), {c.n_head} heads, MLA without query compression:
qk_nope {c.dn}, qk_rope {c.dr}, v {c.dv}, kv_lora_rank {c.r}, legacy `attn_kv_b` layout
(per head {c.dn} W_UK rows then {c.dv} W_UV rows). RoPE on adjacent pairs, base
{c.rope_base:g}, no YaRN (no `rope.scaling.*` keys), attention scale 1/sqrt({c.dn}+{c.dr}).
MoE: {c.n_expert} routed experts (n_ff_exp {c.n_ff_exp}), top-{c.n_expert_used} of softmax over all
{c.n_expert} (`expert_gating_func` 1), weights = the chosen probabilities (not
renormalised, `expert_weights_norm` false, `expert_weights_scale` 1.0), plus
{c.n_expert_shared} shared expert. RMSNorm eps {c.rms_eps:g}, untied output head, context {c.n_ctx}.

Tokenizer: `gpt2` model, pre `deepseek-v3`, {info['n_vocab']} tokens: id 0
`<｜begin▁of▁sentence｜>` (BOS), id 1 `<｜end▁of▁sentence｜>` (EOS), both type 3
(control); ids 2..257 are the 256 bytes (GPT-2 bytes_to_unicode strings, type 1).
`tokenizer.ggml.merges` is an empty array: every byte is one token.
`add_bos_token` true. The model was trained with a BOS before every window,
each window starting at the start of a line.

## Corpus

The KJV text of Debian's `bible-kjv-text` (read with `bible -l 100000
gen1:1-rev22:21` from package `bible-kjv`), references and verse numbers
stripped: a book-name line at the start of each book, one verse per line, a
blank line between chapters. {len(corp['text']):,} bytes, sha256
`{corp['sha256']}`. Validation: the last 2 % ({len(corp['val']):,} bytes, from
2 Peter 3 to the end of Revelation); training: the rest. Validation loss is
measured on {a.eval_windows} fixed windows of {a.seq} tokens (BOS + bytes) at evenly
spaced line starts; loss is cross-entropy in nats per byte.

## Reproduce

```
cd <repository root>
{command}
```

(`--out-dir` gets the four files, `{os.path.relpath(a.work_dir, REPO)}/` the corpus copy,
metrics and the checkpoint.) Fixed seeds ({a.seed}); the result is deterministic on
the same PyTorch build and CPU. Threads: `torch.set_num_threads({a.threads})`, OpenBLAS
at its defaults (OPENBLAS_NUM_THREADS {os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}); one torch
thread was measured fastest on the 2-core build machine (more threads only
contend). PyTorch {torch.__version__} (Debian python3-torch), CPU.

Training: {a.steps} steps of {a.batch} x {a.seq} tokens ({a.steps * a.batch * a.seq:,} tokens, about
{a.steps * a.batch * a.seq / len(corp['train']):.1f} epochs), AdamW (betas 0.9/0.95, weight decay
{a.weight_decay} on matrices), peak LR {a.lr:g} after {a.warmup} warmup steps, cosine decay to
{a.lr * a.min_lr_frac:g}, gradient clipping {a.grad_clip}, load-balancing loss
{a.aux_alpha} x sum_i f_i P_i per MoE layer (DeepSeek-V2 expert-level; `aux` below
is its mean per layer, 1.0 = perfectly balanced).
Training time {train_time / 60:.1f} min ({tps:.0f} tokens/s); with export {total / 60:.1f} min.

Final validation loss: {rows[-1]['val']:.4f} nats/byte in training (float32), {val16:.4f}
nats/byte with the exported F16 weights.

## Loss curve

| step | train loss | val loss | aux | lr | elapsed (min) |
|---|---|---|---|---|---|
{table}

(train loss: mean over the steps since the previous row.)

## Reference outputs (`demo-kjv.ref.*`)

Computed by tools/train-demo/export.py with PyTorch in float32 from the
weights exactly as stored in the GGUF (F16 widened to F32), so a correct
implementation differs only by arithmetic. Prompt tokens:
`{info['tokens']}`.
Greedy continuation ids: `{info['greedy']}` = {json.dumps(info['greedy_text'])}.
The smallest top-2 logit gap along the greedy path is
{min(info['greedy_top2_gap']):.4f} (see `greedy_top2_gap`).

## Samples (temperature 0.8, seeds {a.seed}, {a.seed + 1}, {a.seed + 2}; exported weights)

{sample_md}
"""
    with open(os.path.join(a.out_dir, "README.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
