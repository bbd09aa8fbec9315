"""This file implements the watermark-radioactivity sample pair in
samples/probe-watermark/: a trigram teacher over one Debian license text answers
prompts twice, once kgw-watermarked (pedigree-wm-v1 PRF from
bench/distill/wm.py) and once not; two half-width tiny Llamas are trained from
scratch with the same seeds, one on the watermarked answers (wm-student.gguf,
rho = 100 %) and one on the clean answers (clean-student.gguf, rho = 0). Also
writes the auditor's files (key.json, reference.jsonl, tokenizer.json,
watermark.yaml) and samples/make/watermark_train_log.json.

    PYTHONPATH=~/.cache/pedigree/llama.cpp-3.22.1/gguf-py /usr/bin/python3 samples/make/make_watermark_students.py

A small, fast version of bench/distill (docs/distillation.md): a few minutes
of CPU in total. Deterministic: fixed seeds, one thread.
"""
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "bench", "distill"))
from common import GGUF_PY, MAKE_DIR, SAMPLES_DIR, StagingDir, set_determinism  # noqa: E402
import tinyllama  # noqa: E402
import wm  # noqa: E402

sys.path.insert(0, GGUF_PY)
# Half-width students with a 64-token context (as in bench/distill). The dict is
# updated in place so export_tinyllama's writer sees the same configuration.
tinyllama.CONFIG.update(hidden_size=32, intermediate_size=86, num_attention_heads=2, num_key_value_heads=2,
                        head_dim=16, max_position_embeddings=64)
import export_tinyllama as ex  # noqa: E402

C = tinyllama.CONFIG
VOCAB = C["vocab_size"]
BOS = C["bos_token_id"]
SEQ = C["max_position_embeddings"]
PROMPT_LEN = 16
GEN_LEN = SEQ - PROMPT_LEN - 1          # BOS + prompt + answer fill the context
CORPUS = "/usr/share/common-licenses/Apache-2.0"
N_SEQS = int(os.environ.get("WM_SAMPLE_SEQS", "1024"))
N_PROMPTS = 12                          # held-out closed-mode prompts in the pack
N_REFERENCE = 8                         # watermarked answers given to the auditor
STEPS = int(os.environ.get("WM_SAMPLE_STEPS", "400"))
BATCH = 32
LR = 5e-3
GAMMA, DELTA, H = 0.25, 4.0, 2
KEY = hashlib.sha256(b"pedigree sample watermark key 1").digest()  # the provider's secret (sample only)
SEED = 1234
OUT = "probe-watermark"


def corpus_ids():
    return tinyllama.encode(open(CORPUS, "rb").read())


class Teacher:
    """Interpolated trigram model: trigram counts with add-one backoff to the
    bigram, itself backed off to the unigram, over the tokens the corpus uses."""

    def __init__(self, data):
        d = np.array(data, dtype=np.int64)
        uni = np.bincount(d, minlength=VOCAB).astype(np.float64)
        self.allowed = uni > 0
        self.p_uni = uni / uni.sum()
        self.bi = np.zeros((VOCAB, VOCAB))
        np.add.at(self.bi, (d[:-1], d[1:]), 1)
        self.tri = {}
        for a, b, c in zip(data[:-2], data[1:-1], data[2:]):
            self.tri.setdefault((a, b), np.zeros(VOCAB))[c] += 1

    def logits(self, a, b):
        row = self.bi[b]
        p = (row + self.p_uni) / (row.sum() + 1)
        t = self.tri.get((a, b))
        if t is not None:
            p = (t + p) / (t.sum() + 1)
        with np.errstate(divide="ignore"):
            return np.where(self.allowed, np.log(p), -np.inf)


class Greens:
    """kgw green masks per 2-token window, through wm.prf_u, computed once per window."""

    def __init__(self, key):
        self.key, self.masks = key, {}

    def mask(self, ctx):
        if ctx not in self.masks:
            self.masks[ctx] = np.array([wm.prf_u(self.key, list(ctx), v) < GAMMA for v in range(VOCAB)])
        return self.masks[ctx]


def answer(teacher, prompt, greens, rng):
    """GEN_LEN tokens at temperature 1; with `greens`, DELTA is added to green logits."""
    seq = list(prompt)
    for _ in range(GEN_LEN):
        lg = teacher.logits(seq[-2], seq[-1])
        if greens is not None:
            lg = lg + DELTA * greens.mask((seq[-2], seq[-1]))
        p = np.exp(lg - lg.max())
        seq.append(int(rng.choice(VOCAB, p=p / p.sum())))
    return seq


def green_rate(seqs, greens):
    g = n = 0
    for s in seqs:
        for t in range(PROMPT_LEN + 1, len(s)):
            g += bool(greens.mask((s[t - 2], s[t - 1]))[s[t]])
            n += 1
    return round(g / n, 4)


def train(seqs, seed):
    """Loss on the answers only; AdamW, cosine lr, batch BATCH, STEPS steps."""
    set_determinism(seed)
    model = tinyllama.TinyLlamaForCausalLM()
    x_all = torch.tensor(seqs, dtype=torch.long)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    losses, t0 = [], time.time()
    model.train()
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = LR * 0.5 * (1 + math.cos(math.pi * step / STEPS))
        x = x_all[torch.randint(0, len(seqs), (BATCH,), generator=gen)]
        logits = model(x[:, :-1])[:, PROMPT_LEN:]
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), x[:, PROMPT_LEN + 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == STEPS - 1:
            print(f"seed {seed} step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    model.eval()
    return model, dict(steps=STEPS, batch=BATCH, peak_lr=LR, seed=seed, first_loss=round(losses[0], 4),
                       mean_loss_last_50=round(sum(losses[-50:]) / 50, 4)), time.time() - t0


def torch_green_rate(model, prompts, greens, seed):
    """Green rate of the student's own temperature-1 answers in torch (for the log;
    the real measurement is `pedigree probe` on the GGUF, docs/watermark.md)."""
    gen = torch.Generator().manual_seed(seed)
    outs = []
    with torch.no_grad():
        for p in prompts:
            seq = list(p)
            for _ in range(GEN_LEN):
                probs = torch.softmax(model(torch.tensor([seq]))[0, -1], -1)
                seq.append(int(torch.multinomial(probs, 1, generator=gen)))
            outs.append(seq)
    return green_rate(outs, greens)


def text_of(ids):
    return tinyllama.decode(ids).decode("utf-8", "replace")


def pack_text(prompts, fingerprint):
    lines = [
        "# Watermark pack for samples/probe-watermark/, generated by",
        "# samples/make/make_watermark_students.py (do not edit by hand).",
        "id: sample-watermark",
        "version: 1",
        "description: kgw radioactivity test for the sample students (closed and reading mode)",
        "kind: watermark",
        "watermark:",
        "  scheme: kgw",
        f"  gamma: {GAMMA}",
        f"  h: {H}",
        f"  key_fingerprints: [\"{fingerprint}\"]",
        "  modes: [closed, reading]",
        "  tokenizer: tokenizer.json",
        "  reference: reference.jsonl",
        "  threshold: 1.0e-6",
        f"  max_tokens: {GEN_LEN}",
        "  temperature: 1.0",
        "  samples_per_prompt: 2",
        "  seed: 1",
        f"  reading_context: {SEQ - 2}",
        "  reading_max_positions: 400",
        "  prompts:",
    ]
    lines += ["    - " + json.dumps(p, ensure_ascii=False) for p in prompts]
    return "\n".join(lines) + "\n"


def main():
    t_all = time.time()
    data = corpus_ids()
    teacher = Teacher(data)
    rng = np.random.default_rng(SEED)
    starts = rng.integers(0, len(data) - PROMPT_LEN, N_SEQS + N_PROMPTS).tolist()
    prompts = [[BOS] + data[s:s + PROMPT_LEN] for s in starts]
    greens = Greens(KEY)
    rng_wm, rng_clean = np.random.default_rng(SEED + 1), np.random.default_rng(SEED + 2)
    wm_seqs = [answer(teacher, p, greens, rng_wm) for p in prompts[:N_SEQS]]
    clean_seqs = [answer(teacher, p, None, rng_clean) for p in prompts[:N_SEQS]]
    log = dict(config=C, corpus=CORPUS, corpus_tokens=len(data), n_seqs=N_SEQS, prompt_len=PROMPT_LEN,
               gen_len=GEN_LEN, gamma=GAMMA, delta=DELTA, h=H, seed=SEED, torch=torch.__version__,
               key_fingerprint=wm.key_fingerprint(KEY),
               teacher_green_rate=dict(watermarked=green_rate(wm_seqs, greens), clean=green_rate(clean_seqs, greens)))
    held = prompts[N_SEQS:]
    sds, timings = {}, {}
    for name, seqs in (("wm-student", wm_seqs), ("clean-student", clean_seqs)):
        model, info, secs = train(seqs, SEED + 3)
        info["torch_green_rate_heldout"] = torch_green_rate(model, held, greens, SEED + 4)
        log[name], timings[name] = info, round(secs, 1)
        sds[name] = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    key = {"scheme": "kgw", "gamma": GAMMA, "h": H, "delta": DELTA, "key_hex": KEY.hex()}
    with StagingDir(OUT) as st:
        for name, sd in sds.items():
            ex.write_gguf_file(st.path(f"{name}.gguf"), sd, f16=False)
        with open(st.path("key.json"), "w") as f:
            f.write(json.dumps(key, sort_keys=True) + "\n")
        with open(st.path("reference.jsonl"), "w") as f:
            for s in wm_seqs[:N_REFERENCE]:
                f.write(json.dumps(text_of(s[PROMPT_LEN + 1:]), ensure_ascii=False) + "\n")
        with open(st.path("tokenizer.json"), "w") as f:
            f.write(json.dumps(ex.tokenizer_json(), indent=2, ensure_ascii=False) + "\n")
        with open(st.path("watermark.yaml"), "w") as f:
            f.write(pack_text([text_of(p[1:]) for p in held], wm.key_fingerprint(KEY)))
    for name in sds:
        with open(os.path.join(SAMPLES_DIR, OUT, f"{name}.gguf"), "rb") as f:
            b = f.read()
        log[name].update(gguf_bytes=len(b), gguf_sha256=hashlib.sha256(b).hexdigest())
    tmp = os.path.join(MAKE_DIR, ".watermark_train_log.json.tmp")
    with open(tmp, "w") as f:
        json.dump(log, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, os.path.join(MAKE_DIR, "watermark_train_log.json"))
    print(json.dumps({k: log[k] for k in ("teacher_green_rate", "wm-student", "clean-student")}, indent=2))
    print("wall seconds (not logged, machine-dependent):", timings, round(time.time() - t_all, 1))


if __name__ == "__main__":
    main()
