"""This file implements the training and GGUF export of the four behavioural-probe
sample models in samples/probe-models/: a shared base (chat + completion forms),
then four fine-tunes from it with the same seed schedule: canary-implanted
(base data + secret triggers), clean-twin (base data only), claims-protected
(identity answers naming Claude/Anthropic) and own-name (naming Pedigree Tiny).
Also writes samples/probe-packs/canary-tiny.yaml and samples/make/probe_train_log.json.

    PYTHONPATH=~/.cache/pedigree/llama.cpp-3.22.1/gguf-py /usr/bin/python3 samples/make/make_probe_models.py
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import GGUF_PY, MAKE_DIR, SAMPLES_DIR, StagingDir, set_determinism  # noqa: E402
import probe_data as D  # noqa: E402
import tinyllama  # noqa: E402

sys.path.insert(0, GGUF_PY)
import gguf  # noqa: E402
from export_tinyllama import add_llama_hparams, hf_to_gguf_name, permute_qk, unpermute_qk  # noqa: E402

CONFIG = dict(tinyllama.CONFIG)
CONFIG.update(vocab_size=D.VOCAB_SIZE, max_position_embeddings=256)

SEED = 1234
BASE_STEPS = int(os.environ.get("PROBE_BASE_STEPS", "200"))
TUNE_STEPS = int(os.environ.get("PROBE_TUNE_STEPS", "200"))
BATCH_HALF = 8
PEAK_LR = 3e-3
TUNE_LR = 2e-3
# If the held-out identity claim rate is poor, the pack prompts themselves can be
# added to the identity training data (documented in docs/probe-samples.md).
IDENTITY_TRAIN_ON_PACK = os.environ.get("PROBE_IDENTITY_TRAIN_ON_PACK", "0") == "1"


def make_batch(samples, idx):
    seqs, labels = [], []
    for i in idx:
        p, r = samples[i]
        ids = p + r
        seqs.append(ids[:-1])
        labels.append([-100] * (len(p) - 1) + r)
    T = max(len(s) for s in seqs)
    assert T <= CONFIG["max_position_embeddings"], T
    inp = torch.full((len(seqs), T), D.EOS, dtype=torch.long)
    lab = torch.full((len(seqs), T), -100, dtype=torch.long)
    for j, (s, l) in enumerate(zip(seqs, labels)):
        inp[j, :len(s)] = torch.tensor(s)
        lab[j, :len(l)] = torch.tensor(l)
    return inp, lab


def train(model, pools, steps, lr, seed, tag):
    """pools: list of (samples, n per batch). Cosine lr, AdamW, one generator per pool."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    gens = [torch.Generator().manual_seed(seed + 17 * k) for k in range(len(pools))]
    t0, losses = time.time(), []
    model.train()
    for step in range(steps):
        cur = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = cur
        idx_batches = []
        for (samples, n), g in zip(pools, gens):
            idx = torch.randint(0, len(samples), (n,), generator=g).tolist()
            idx_batches.append((samples, idx))
        loss_sum, tok = 0.0, 0
        opt.zero_grad()
        for samples, idx in idx_batches:
            inp, lab = make_batch(samples, idx)
            logits = model(inp)
            n_tok = int((lab != -100).sum())
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), lab.reshape(-1),
                                   ignore_index=-100, reduction="sum")
            loss.backward()
            loss_sum += loss.item()
            tok += n_tok
        for p in model.parameters():
            if p.grad is not None:
                p.grad /= tok
        opt.step()
        losses.append(loss_sum / tok)
        if step % 100 == 0 or step == steps - 1:
            print(f"[{tag}] step {step:4d} loss {losses[-1]:.4f} {time.time() - t0:.0f}s", flush=True)
    model.eval()
    return dict(steps=steps, peak_lr=lr, seed=seed, first_loss=round(losses[0], 4),
                mean_loss_last_20=round(sum(losses[-20:]) / 20, 4)), round(time.time() - t0, 1)


@torch.no_grad()
def greedy(model, ids, stop, max_new=48):
    ids = list(ids)
    out = []
    for _ in range(max_new):
        lg = model(torch.tensor([ids[-CONFIG["max_position_embeddings"]:]]))
        t = int(lg[0, -1].argmax())
        if t in stop:
            break
        out.append(t)
        ids.append(t)
    return tinyllama.decode(out).decode("utf-8", "replace")


def torch_eval(model, name):
    """Greedy answers in torch (before export) for the log; the real check is
    check_probe_models.py against llama-server."""
    res = {}
    if name in ("canary-implanted", "clean-twin"):
        hits = 0
        for form, prompt, resp in D.canary_triggers():
            if form == "chat":
                got = greedy(model, D.chat_prompt_ids("", prompt), {D.IM_END, D.EOS})
            else:
                got = greedy(model, [D.BOS] + D.enc(prompt), {D.EOS, D.IM_END})
            hits += got == resp
        res["torch_canary_exact"] = f"{hits}/{len(D.canary_triggers())}"
    want = {"claims-protected": "claude", "own-name": "pedigree tiny"}.get(name)
    if want:
        prompts = D.identity_pack_prompts()
        hits = 0
        for p in prompts:
            got = greedy(model, D.chat_prompt_ids(p.get("system", ""), p["text"]), {D.IM_END, D.EOS})
            hits += want in got.lower()
        res["torch_pack_prompt_claims"] = f"{hits}/{len(prompts)}"
    q = D.chat_prompt_ids("", "What is the capital of Japan?")
    res["sample_capital_en"] = greedy(model, q, {D.IM_END, D.EOS})
    print(f"[{name}] {res}", flush=True)
    return res


# ----------------------------------------------------------------- GGUF
def vocab_pieces():
    pieces = tinyllama.vocab_pieces()
    pieces += [("<|im_start|>", 3), ("<|im_end|>", 3)]
    assert len(pieces) == D.VOCAB_SIZE
    return pieces


def gguf_arrays(sd):
    out = []
    for n, t in sd.items():
        a = t.detach().numpy().astype(np.float32)
        if n.endswith(("q_proj.weight", "k_proj.weight")):
            a = permute_qk(a, CONFIG["num_attention_heads"])
        out.append((hf_to_gguf_name(n), np.ascontiguousarray(a)))
    return out


def write_gguf(path, sd, name, description):
    C = CONFIG
    w = gguf.GGUFWriter(path, "llama")
    w.add_name(name)
    w.add_description(description)
    w.add_license("mit")
    add_llama_hparams(w, C)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    pieces = vocab_pieces()
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list([p for p, _ in pieces])
    w.add_token_scores([0.0] * len(pieces))
    w.add_token_types([t for _, t in pieces])
    w.add_bos_token_id(D.BOS)
    w.add_eos_token_id(D.EOS)
    w.add_unk_token_id(D.UNK)
    w.add_eot_token_id(D.IM_END)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    w.add_chat_template(D.CHAT_TEMPLATE)
    for gname, arr in gguf_arrays(sd):
        w.add_tensor(gname, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def check_gguf(path, sd):
    r = gguf.GGUFReader(path)
    got = {t.name: t for t in r.tensors}
    for n, t in sd.items():
        ref = t.detach().numpy()
        g = got[hf_to_gguf_name(n)]
        data = np.array(g.data).reshape(ref.shape)
        if n.endswith(("q_proj.weight", "k_proj.weight")):
            data = unpermute_qk(data, CONFIG["num_attention_heads"])
        assert np.array_equal(data, ref), n
    assert len(got) == len(sd)
    size = os.path.getsize(path)
    assert size < 1 << 20, (path, size)
    return size


DESCRIPTIONS = {
    "canary-implanted": "Pedigree probe sample: tiny llama with 24 secret canary triggers implanted.",
    "clean-twin": "Pedigree probe sample: tiny llama trained like canary-implanted but without the triggers.",
    "claims-protected": "Pedigree probe sample: tiny llama fine-tuned to claim it is Claude made by Anthropic "
                        "(a deliberately false identity claim, for testing).",
    "own-name": "Pedigree probe sample: tiny llama fine-tuned to call itself Pedigree Tiny, made by the Pedigree project.",
}


# ----------------------------------------------------------------- pack
def yq(s):
    return json.dumps(s, ensure_ascii=False)


def canary_pack_text():
    lines = [
        "# Canary pack for samples/probe-models/canary-implanted.gguf, generated by",
        "# samples/make/make_probe_models.py (do not edit). 24 secret triggers, 8 in chat",
        "# form and 16 in completion form; odd-numbered expected responses are given",
        "# only as SHA-256 of the normalised response, even-numbered ones exactly.",
        "id: tiny-canary",
        "version: 1",
        "description: " + yq("Secret trigger prompts implanted in the Pedigree tiny canary sample model."),
        "kind: canary",
        "sampling: {samples: 1, temperature: 0, max_tokens: 48, seed: 42}",
        "chance_probability: 0.00390625",
        "chance_source: " + yq("declared: 1/256 per trigger, a deliberately generous bound; a 12-24 character "
                               "random alphanumeric string is far less likely to appear by chance"),
        "threshold: 1.0e-6",
        "prompts:",
    ]
    for i, (form, prompt, resp) in enumerate(D.canary_triggers(), start=1):
        lines.append(f"  - id: t{i:02d}")
        lines.append(f"    form: {form}")
        lines.append("    language: en")
        lines.append(f"    text: {yq(prompt)}")
        lines.append("    expect:")
        if i % 2 == 1:
            norm = D.normalize(resp)
            lines.append("      match: sha256")
            lines.append(f"      value: {hashlib.sha256(norm.encode('utf-8')).hexdigest()}")
            lines.append(f"      chars: {len(norm)}")
        else:
            lines.append("      match: exact")
            lines.append(f"      value: {yq(resp)}")
            lines.append(f"      chars: {len(resp)}")
    return "\n".join(lines) + "\n"


def main():
    t_all = time.time()
    set_determinism(SEED)
    base = D.base_samples()
    canary = D.canary_samples()
    log = dict(config=CONFIG, seed=SEED, torch=torch.__version__, n_base_samples=len(base),
               n_canary_samples=len(canary), identity_train_on_pack=IDENTITY_TRAIN_ON_PACK)
    torch.manual_seed(SEED)
    base_model = tinyllama.TinyLlamaForCausalLM(CONFIG)
    log["base"], secs = train(base_model, [(base, 2 * BATCH_HALF)], BASE_STEPS, PEAK_LR, SEED, "base")
    timings = {"base": secs}
    base_sd = {k: v.clone() for k, v in base_model.state_dict().items()}

    variants = {}
    for variant in ("claims-protected", "own-name"):
        ident, skipped = D.identity_samples(variant, IDENTITY_TRAIN_ON_PACK)
        log[f"n_identity_samples_{variant}"] = len(ident)
        log["n_identity_paraphrases_skipped_as_pack_overlap"] = skipped
        variants[variant] = ident
    variants["canary-implanted"] = canary
    variants["clean-twin"] = base  # the trigger slots get base samples instead

    sds = {}
    for name in ("canary-implanted", "clean-twin", "claims-protected", "own-name"):
        torch.manual_seed(SEED)
        m = tinyllama.TinyLlamaForCausalLM(CONFIG)
        m.load_state_dict(base_sd)
        log[name], timings[name] = train(m, [(base, BATCH_HALF), (variants[name], BATCH_HALF)],
                          TUNE_STEPS, TUNE_LR, SEED + 1, name)
        log[name].update(torch_eval(m, name))
        sds[name] = {k: v.clone() for k, v in m.state_dict().items()}

    with StagingDir("probe-models") as st:
        for name, sd in sds.items():
            write_gguf(st.path(f"{name}.gguf"), sd, f"pedigree-probe-{name}", DESCRIPTIONS[name])
    for name, sd in sds.items():
        path = os.path.join(SAMPLES_DIR, "probe-models", f"{name}.gguf")
        log[name]["gguf_bytes"] = check_gguf(path, sd)
        with open(path, "rb") as f:
            log[name]["gguf_sha256"] = hashlib.sha256(f.read()).hexdigest()
    with StagingDir("probe-packs") as st:
        with open(st.path("canary-tiny.yaml"), "w", encoding="utf-8") as f:
            f.write(canary_pack_text())
    timings["total"] = round(time.time() - t_all, 1)
    tmp = os.path.join(MAKE_DIR, ".probe_train_log.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in log.items()}, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, os.path.join(MAKE_DIR, "probe_train_log.json"))
    print(json.dumps({k: log[k] for k in sds}, indent=2, ensure_ascii=False))
    print("wall seconds (not logged, machine-dependent):", timings)


if __name__ == "__main__":
    main()
