"""Radioactivity experiment, training side: a tiny teacher on Debian's
/usr/share/common-licenses, kgw-watermarked (gamma 0.25, delta 3, h 2) and
unwatermarked teacher outputs through the pedigree-wm-v1 PRF (wm.py), students
trained on mixtures with a watermarked fraction rho, exported to GGUF.

    PEDIGREE_SAMPLES_MAKE=samples/make python3 bench/distill/distill.py OUT_DIR [stage...]

Stages (default all): teacher, generate, students, export. Every stage is
seeded and single-threaded; results and timings go to OUT_DIR/log.json.
The model code (tinyllama.py, export_tinyllama.py) is imported from
samples/make/ (PEDIGREE_SAMPLES_MAKE overrides the location).
"""
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.environ.get("PEDIGREE_SAMPLES_MAKE", os.path.join(REPO, "samples", "make")))
import wm  # noqa: E402
import tinyllama  # noqa: E402

# Student architecture: tinyllama.py's Llama at half width with a 64-token
# context, so six students train in minutes on a shared CPU.
tinyllama.CONFIG.update(hidden_size=32, intermediate_size=86, num_attention_heads=2, num_key_value_heads=2,
                        head_dim=16, max_position_embeddings=64)
C = tinyllama.CONFIG
VOCAB = C["vocab_size"]
BOS = C["bos_token_id"]
SEQ = C["max_position_embeddings"]  # 64
PROMPT_LEN = 16
GEN_LEN = SEQ - PROMPT_LEN - 1  # BOS + prompt + completion fill the context
N_SEQS = int(os.environ.get("DISTILL_N_SEQS", "4096"))
N_HELDOUT = 128
STUDENT_STEPS = int(os.environ.get("DISTILL_STUDENT_STEPS", "240"))
RHOS = [int(r) for r in os.environ.get("DISTILL_RHOS", "0,1,5,10,50,100").split(",")]
GAMMA, DELTA, H = 0.25, 3.0, 2
# The provider's secret: fixed here so the experiment is reproducible.
KEY = bytes.fromhex("5eed" * 16)
SEED = 20241


def corpus_bytes():
    d = "/usr/share/common-licenses"
    names = sorted(n for n in os.listdir(d) if not os.path.islink(os.path.join(d, n)))
    return b"\n\n".join(open(os.path.join(d, n), "rb").read() for n in names)


def setup(seed):
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def train(model, seqs, masks, steps, lr, seed, batch=32, label=""):
    """seqs: LongTensor (N, SEQ) starting with BOS; masks: BoolTensor (N, SEQ-1) of scored targets."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    t0 = time.time()
    losses = []
    for step in range(steps):
        cur = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = cur
        idx = torch.randint(0, seqs.shape[0], (batch,), generator=gen)
        x = seqs[idx]
        m = masks[idx]
        logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), x[:, 1:].reshape(-1), reduction="none")
        loss = (loss * m.reshape(-1)).sum() / m.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == steps - 1:
            print(f"{label} step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    model.eval()
    return dict(steps=steps, batch=batch, lr=lr, mean_loss_last_50=round(sum(losses[-50:]) / min(50, len(losses)), 4),
                seconds=round(time.time() - t0, 1))


def stage_teacher(out):
    """The teacher: an interpolated trigram model of the corpus (counts with
    add-one backoff to bigram and unigram), over the tokens the corpus uses."""
    data = np.array(tinyllama.encode(corpus_bytes()), dtype=np.int64)
    uni = np.bincount(data, minlength=VOCAB).astype(np.float64)
    bi = np.zeros((VOCAB, VOCAB))
    np.add.at(bi, (data[:-1], data[1:]), 1)
    tri = {}
    for a, b, c in zip(data[:-2].tolist(), data[1:-1].tolist(), data[2:].tolist()):
        tri.setdefault((a, b), np.zeros(VOCAB))[c] += 1
    np.savez_compressed(os.path.join(out, "teacher.npz"), uni=uni, bi=bi,
                        tri_keys=np.array(list(tri.keys())), tri_vals=np.stack(list(tri.values())))
    return dict(corpus_bytes=int(len(data)), trigram_contexts=len(tri), used_tokens=int((uni > 0).sum()))


class Teacher:
    def __init__(self, out):
        z = np.load(os.path.join(out, "teacher.npz"))
        self.allowed = z["uni"] > 0
        self.p_uni = z["uni"] / z["uni"].sum()
        self.bi = z["bi"]
        self.tri = {tuple(k): v for k, v in zip(z["tri_keys"].tolist(), z["tri_vals"])}

    def logits(self, a, b):
        row = self.bi[b]
        p_bi = (row + self.p_uni) / (row.sum() + 1)
        t = self.tri.get((a, b))
        p = p_bi if t is None else (t + p_bi) / (t.sum() + 1)
        with np.errstate(divide="ignore"):
            return np.where(self.allowed, np.log(p), -np.inf)


class GreenCache:
    """Green-list masks per context, computed through wm.prf_u once per context."""

    def __init__(self, key):
        self.key = key
        self.masks = {}

    def mask(self, ctx):
        m = self.masks.get(ctx)
        if m is None:
            m = np.array([wm.prf_u(self.key, ctx, v) < GAMMA for v in range(VOCAB)])
            self.masks[ctx] = m
        return m


def generate(teacher, prompt, gen_len, greens, rng):
    """Samples at temperature 1; with `greens`, adds DELTA to green logits (kgw)."""
    seq = list(prompt)
    for _ in range(gen_len):
        lg = teacher.logits(seq[-2], seq[-1])
        if greens is not None:
            lg = lg + DELTA * greens.mask((seq[-2], seq[-1]))
        p = np.exp(lg - lg.max())
        seq.append(int(rng.choice(VOCAB, p=p / p.sum())))
    return seq


def prompt_starts(data):
    rng = np.random.default_rng(SEED + 1)
    return rng.integers(0, len(data) - PROMPT_LEN, N_SEQS + N_HELDOUT).tolist()


def stage_generate(out):
    teacher = Teacher(out)
    data = tinyllama.encode(corpus_bytes())
    prompts = [[BOS] + data[s:s + PROMPT_LEN] for s in prompt_starts(data)]
    greens = GreenCache(KEY)
    rng_wm, rng_clean = np.random.default_rng(SEED + 2), np.random.default_rng(SEED + 3)
    t0 = time.time()
    res = {"wm": [], "clean": []}
    for i, p in enumerate(prompts[:N_SEQS]):
        res["wm"].append(generate(teacher, p, GEN_LEN, greens, rng_wm))
        res["clean"].append(generate(teacher, p, GEN_LEN, None, rng_clean))
    json.dump({"wm": res["wm"], "clean": res["clean"], "prompt_len": PROMPT_LEN + 1},
              open(os.path.join(out, "teacher_outputs.json"), "w"))
    rates = {}
    for k in ("wm", "clean"):
        g = n = 0
        for s in res[k]:
            for t in range(PROMPT_LEN + 1, len(s)):
                g += bool(greens.mask((s[t - 2], s[t - 1]))[s[t]])
                n += 1
        rates[k] = round(g / n, 4)
    return dict(seconds=round(time.time() - t0, 1), n_seqs=N_SEQS, gen_len=GEN_LEN, green_rate=rates,
                contexts=len(greens.masks), sample_wm=tinyllama.decode(res["wm"][0][1:]).decode("latin-1"),
                sample_clean=tinyllama.decode(res["clean"][0][1:]).decode("latin-1"))


def text_of(ids):
    return tinyllama.decode(ids).decode("utf-8", "replace")


def stage_pack(out):
    """Auditor-side files: key, reference text (watermarked completions of the
    first 256 training sequences), held-out prompts, and pack JSONs."""
    tout = json.load(open(os.path.join(out, "teacher_outputs.json")))
    plen = tout["prompt_len"]
    data = tinyllama.encode(corpus_bytes())
    heldout = [text_of(data[s:s + PROMPT_LEN]) for s in prompt_starts(data)[N_SEQS:]]
    with open(os.path.join(out, "reference.jsonl"), "w") as f:
        for s in tout["wm"][:256]:
            f.write(json.dumps(text_of(s[plen:])) + "\n")
    key = {"scheme": "kgw", "gamma": GAMMA, "h": H, "delta": DELTA, "key_hex": KEY.hex()}
    json.dump(key, open(os.path.join(out, "key.json"), "w"), sort_keys=True)
    base = {"scheme": "kgw", "gamma": GAMMA, "h": H, "key_fingerprints": [wm.key_fingerprint(KEY)],
            "tokenizer": "student-rho0.gguf", "modes": ["closed", "reading"], "reference": "reference.jsonl", "prompts": heldout,
            "max_tokens": GEN_LEN, "temperature": 1.0, "samples_per_prompt": 4, "seed": 1,
            "reading_context": SEQ - 2, "threshold": 1e-6}
    json.dump({"kind": "watermark", "watermark": base}, open(os.path.join(out, "pack.json"), "w"), indent=1,
              sort_keys=True)
    return dict(heldout_prompts=len(heldout), reference_docs=256, key_fingerprint=wm.key_fingerprint(KEY))


def stage_students(out):
    tout = json.load(open(os.path.join(out, "teacher_outputs.json")))
    wmseqs, clean = tout["wm"], tout["clean"]
    plen = tout["prompt_len"]
    perm = np.random.default_rng(SEED + 2).permutation(len(wmseqs))
    info = {}
    for rho in RHOS:
        path = os.path.join(out, f"student-rho{rho}.pt")
        if os.path.exists(path):
            continue
        setup(SEED + 3)
        n_wm = int(round(len(wmseqs) * rho / 100))
        is_wm = np.zeros(len(wmseqs), bool)
        is_wm[perm[:n_wm]] = True
        seqs = torch.tensor([wmseqs[i] if is_wm[i] else clean[i] for i in range(len(wmseqs))], dtype=torch.long)
        masks = torch.zeros(seqs.shape[0], SEQ - 1, dtype=torch.bool)
        masks[:, plen - 1:] = True  # loss on the teacher's completions only
        model = tinyllama.TinyLlamaForCausalLM()
        init = os.environ.get("DISTILL_INIT_DIR")  # continue training earlier students (second schedule)
        if init:
            model.load_state_dict(torch.load(os.path.join(init, f"student-rho{rho}.pt")))
        lr = float(os.environ.get("DISTILL_STUDENT_LR", "5e-3"))
        info[rho] = train(model, seqs, masks, STUDENT_STEPS, lr, SEED + 4 + (1 if init else 0), label=f"rho={rho}")
        info[rho]["init"] = init or "random"
        info[rho]["watermarked_seqs"] = n_wm
        torch.save(model.state_dict(), path)
    return info


def stage_export(out):
    import export_tinyllama as ex
    info = {}
    for rho in RHOS:
        sd = torch.load(os.path.join(out, f"student-rho{rho}.pt"))
        npsd = {k: v.detach().numpy().copy() for k, v in sd.items()}
        path = os.path.join(out, f"student-rho{rho}.gguf")
        ex.write_gguf_file(path, npsd, f16=False)
        info[rho] = os.path.getsize(path)
    return info


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    stages = sys.argv[2:] or ["teacher", "generate", "pack", "students", "export"]
    logp = os.path.join(out, "log.json")
    log = json.load(open(logp)) if os.path.exists(logp) else {}
    for st in stages:
        if st == "students":  # several student processes may run at once: one log file each
            logp = os.path.join(out, "log-students-%s.json" % "-".join(map(str, RHOS)))
        t0 = time.time()
        log[st] = globals()["stage_" + st](out)
        log[st + "_wall_seconds"] = round(time.time() - t0, 1)
        json.dump(log, open(logp, "w"), indent=2, sort_keys=True)
        print(st, "done", round(time.time() - t0, 1), "s", flush=True)


if __name__ == "__main__":
    main()
