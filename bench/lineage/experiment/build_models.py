"""This file implements the model side of the lineage experiment: it trains tiny
llama-architecture bases (samples/make/tinyllama.py's model, 3 layers, hidden
64, MLP 192) on offline Debian texts and derives from each base a continued
training, an instruction-style fine-tune, F16/Q8_0/Q4_0 GGUF copies (gguf-py),
a 25 % pruned MLP, a function-preserving permuted and sign-flipped copy (checked
in torch) and a copy with a layer dropped. Usage: build_models.py OUT_DIR.
Writes OUT_DIR/<model>.{safetensors,gguf} and OUT_DIR/models.json."""
import hashlib
import glob
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
MAKE = os.path.join(HERE, "..", "..", "..", "samples", "make")
sys.path.insert(0, os.path.abspath(MAKE))
from common import GGUF_PY, set_determinism  # noqa: E402
import export_tinyllama  # noqa: E402  (hf_to_gguf_name, permute_qk)
import safetensors_writer  # noqa: E402
import tinyllama  # noqa: E402

sys.path.insert(0, GGUF_PY)
import gguf  # noqa: E402
from gguf import quants  # noqa: E402

CFG = dict(tinyllama.CONFIG, num_hidden_layers=3, intermediate_size=192)
BATCH, SEQ = 8, 64
BASE_STEPS, BASE_LR = 400, 3e-3
DERIV_STEPS, DERIV_LR = 150, 1e-3
COPYRIGHT_BYTES = 400_000

# Bases: name -> (seed, corpus). b1 and b2 share data and differ in seed.
BASES = {"b1": (11, "licenses"), "b2": (12, "licenses"), "b3": (13, "copyright")}
OTHER = {"licenses": "copyright", "copyright": "licenses"}


# ------------------------------------------------------------------ corpora
def corpus_licenses():
    """Every regular (non-symlink) file in /usr/share/common-licenses, by name."""
    paths = sorted(p for p in glob.glob("/usr/share/common-licenses/*")
                   if os.path.isfile(p) and not os.path.islink(p))
    return b"\n".join(open(p, "rb").read() for p in paths)


def corpus_copyright():
    """Debian copyright files /usr/share/doc/*/copyright in path order, first
    COPYRIGHT_BYTES bytes (depends on the installed packages; sha256 recorded)."""
    out = bytearray()
    for p in sorted(glob.glob("/usr/share/doc/*/copyright")):
        if os.path.isfile(p):
            out += open(p, "rb").read() + b"\n"
        if len(out) >= COPYRIGHT_BYTES:
            break
    return bytes(out[:COPYRIGHT_BYTES])


def corpus_instruct(n=4000, seed=7):
    """Question/answer text from a fixed grammar (seeded): arithmetic, word
    reversal and word-length questions over words of the licence corpus."""
    rng = random.Random(seed)
    words = sorted({w for w in corpus_licenses().decode("utf-8", "replace").split()
                    if w.isalpha() and 4 <= len(w) <= 10})
    out = []
    for _ in range(n):
        k = rng.randrange(3)
        if k == 0:
            a, b = rng.randrange(100), rng.randrange(100)
            q, ans = f"What is {a} plus {b}?", f"{a} plus {b} is {a + b}."
        elif k == 1:
            w = rng.choice(words)
            q, ans = f"Spell '{w}' backwards.", f"'{w}' backwards is '{w[::-1]}'."
        else:
            w = rng.choice(words)
            q, ans = f"How many letters are in '{w}'?", f"'{w}' has {len(w)} letters."
        out.append(f"### Question: {q}\n### Answer: {ans}\n\n")
    return "".join(out).encode()


# ------------------------------------------------------------------ training
def train(model, data, steps, lr, seed):
    """AdamW, cosine decay, random BOS-prefixed windows; returns the last-50 mean loss."""
    torch.manual_seed(seed)
    ids = torch.tensor(tinyllama.encode(data), dtype=torch.long)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    bos = torch.full((BATCH, 1), CFG["bos_token_id"], dtype=torch.long)
    losses = []
    model.train()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        starts = torch.randint(0, len(ids) - SEQ, (BATCH,), generator=gen).tolist()
        chunk = torch.stack([ids[s:s + SEQ] for s in starts])
        logits = model(torch.cat([bos, chunk[:, :-1]], dim=1))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return round(sum(losses[-50:]) / 50, 4)


def new_model(seed):
    set_determinism(seed)
    return tinyllama.TinyLlamaForCausalLM(CFG)


def clone(model, cfg=CFG):
    m = tinyllama.TinyLlamaForCausalLM(cfg)
    m.load_state_dict({k: v.clone() for k, v in model.state_dict().items()})
    m.eval()
    return m


def sd_numpy(sd):
    return {k: v.detach().numpy().astype(np.float32).copy() for k, v in sd.items()}


# ------------------------------------------------------------------ derivations
def prune_mlp(model, frac=0.25):
    """Removes the frac of MLP neurons with the smallest
    ||gate_i|| * ||up_i|| * ||down[:, i]|| in every layer (order kept)."""
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    ffn = CFG["intermediate_size"]
    keep_n = ffn - int(round(ffn * frac))
    for i in range(CFG["num_hidden_layers"]):
        p = f"model.layers.{i}.mlp."
        g, u, d = sd[p + "gate_proj.weight"], sd[p + "up_proj.weight"], sd[p + "down_proj.weight"]
        score = g.norm(dim=1) * u.norm(dim=1) * d.norm(dim=0)
        keep = torch.sort(torch.topk(score, keep_n).indices).values
        sd[p + "gate_proj.weight"], sd[p + "up_proj.weight"] = g[keep], u[keep]
        sd[p + "down_proj.weight"] = d[:, keep]
    return sd


READERS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.gate_proj", "mlp.up_proj")
WRITERS = ("self_attn.o_proj", "mlp.down_proj")


def permute_hidden(model, seed):
    """Permutes and sign-flips the residual-stream units: unit i of the copy is
    s_i times unit perm[i] of the original. RMSNorm commutes with signed
    permutations (the gain is permuted, not flipped)."""
    g = torch.Generator().manual_seed(seed)
    d = CFG["hidden_size"]
    perm = torch.randperm(d, generator=g)
    sign = torch.where(torch.rand(d, generator=g) < 0.5, -1.0, 1.0)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    out = {}
    for k, v in sd.items():
        if k == "model.embed_tokens.weight":
            out[k] = v[:, perm] * sign
        elif k == "lm_head.weight" or any(f".{r}." in k for r in READERS):
            out[k] = v[:, perm] * sign
        elif any(f".{w}." in k for w in WRITERS):
            out[k] = v[perm, :] * sign[:, None]
        elif k.endswith("norm.weight"):
            out[k] = v[perm]
        else:
            raise KeyError(k)
    moved = int((perm != torch.arange(d)).sum())
    return out, moved, int((sign < 0).sum())


def drop_layer(model, layer):
    sd = model.state_dict()
    out = {}
    for k, v in sd.items():
        if k.startswith("model.layers."):
            i = int(k.split(".")[2])
            if i == layer:
                continue
            if i > layer:
                k = k.replace(f"model.layers.{i}.", f"model.layers.{i - 1}.", 1)
        out[k] = v.clone()
    return out


def max_output_diff(model, sd):
    """Max |logit difference| between model and a model loaded from sd."""
    m = tinyllama.TinyLlamaForCausalLM(CFG)
    m.load_state_dict(sd)
    m.eval()
    x = torch.tensor([[1] + tinyllama.encode(b"Permission is hereby granted, free of charge, to any person")])
    with torch.no_grad():
        a, b = model(x), m(x)
    return float((a - b).abs().max()), float(a.abs().max())


# ------------------------------------------------------------------ writers
def write_safetensors(path, sd):
    tmp = path + ".tmp"
    safetensors_writer.save_file(sd_numpy(sd), tmp)
    os.replace(tmp, path)


def write_gguf(path, sd, qtype):
    """llama.cpp names, Q/K rows in ggml's rope order; 2-D weights as qtype,
    norms F32. Every 2-D weight's row length (64 or 192) is a multiple of 32."""
    arrs = sd_numpy(sd)
    ftype = {gguf.GGMLQuantizationType.F16: gguf.LlamaFileType.MOSTLY_F16,
             gguf.GGMLQuantizationType.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
             gguf.GGMLQuantizationType.Q4_0: gguf.LlamaFileType.MOSTLY_Q4_0}[qtype]
    tmp = path + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name(os.path.basename(path))
    w.add_context_length(CFG["max_position_embeddings"])
    w.add_embedding_length(CFG["hidden_size"])
    w.add_block_count(CFG["num_hidden_layers"])
    w.add_feed_forward_length(CFG["intermediate_size"])
    w.add_head_count(CFG["num_attention_heads"])
    w.add_head_count_kv(CFG["num_key_value_heads"])
    w.add_layer_norm_rms_eps(CFG["rms_norm_eps"])
    w.add_rope_freq_base(CFG["rope_theta"])
    w.add_rope_dimension_count(CFG["head_dim"])
    w.add_vocab_size(CFG["vocab_size"])
    w.add_file_type(ftype)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    pieces = tinyllama.vocab_pieces()
    w.add_tokenizer_model("llama")
    w.add_token_list([p for p, _ in pieces])
    w.add_token_scores([0.0] * len(pieces))
    w.add_token_types([t for _, t in pieces])
    for name in sorted(arrs):
        a = arrs[name]
        if name.endswith(("q_proj.weight", "k_proj.weight")):
            a = export_tinyllama.permute_qk(a, CFG["num_attention_heads"])
        a = np.ascontiguousarray(a)
        gname = export_tinyllama.hf_to_gguf_name(name)
        if a.ndim == 2:
            w.add_tensor(gname, quants.quantize(a, qtype), raw_dtype=qtype)
        else:
            w.add_tensor(gname, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)


# ------------------------------------------------------------------ main
def main(out):
    os.makedirs(out, exist_ok=True)
    t0 = time.process_time()
    corpora = {"licenses": corpus_licenses(), "copyright": corpus_copyright()}
    instruct = corpus_instruct()
    info = {"config": CFG, "corpora": {k: {"bytes": len(v), "sha256": hashlib.sha256(v).hexdigest()}
                                       for k, v in dict(corpora, instruct=instruct).items()},
            "models": {}}
    for base, (seed, corpus) in BASES.items():
        model = new_model(seed)
        loss = train(model, corpora[corpus], BASE_STEPS, BASE_LR, seed)
        write_safetensors(os.path.join(out, f"{base}.safetensors"), model.state_dict())
        info["models"][base] = dict(base=base, kind="base", seed=seed, corpus=corpus, loss=loss,
                                    file=f"{base}.safetensors")
        print(f"{base}: seed {seed}, {corpus}, loss {loss}", flush=True)

        def add(kind, fname, **extra):
            info["models"][f"{base}-{kind}"] = dict(base=base, kind=kind, file=fname, **extra)

        cont = clone(model)
        l2 = train(cont, corpora[OTHER[corpus]], DERIV_STEPS, DERIV_LR, seed + 100)
        write_safetensors(os.path.join(out, f"{base}-continued.safetensors"), cont.state_dict())
        add("continued", f"{base}-continued.safetensors", corpus=OTHER[corpus], loss=l2)
        ins = clone(model)
        l3 = train(ins, instruct, DERIV_STEPS, DERIV_LR, seed + 200)
        write_safetensors(os.path.join(out, f"{base}-instruct.safetensors"), ins.state_dict())
        add("instruct", f"{base}-instruct.safetensors", corpus="instruct", loss=l3)
        for qname, qt in (("f16", gguf.GGMLQuantizationType.F16), ("q8_0", gguf.GGMLQuantizationType.Q8_0),
                          ("q4_0", gguf.GGMLQuantizationType.Q4_0)):
            write_gguf(os.path.join(out, f"{base}-{qname}.gguf"), model.state_dict(), qt)
            add(qname, f"{base}-{qname}.gguf")
        write_safetensors(os.path.join(out, f"{base}-pruned.safetensors"), prune_mlp(model))
        add("pruned", f"{base}-pruned.safetensors", kept_neurons=CFG["intermediate_size"] * 3 // 4)
        psd, moved, flips = permute_hidden(model, seed + 300)
        diff, scale = max_output_diff(model, psd)
        print(f"{base}-permuted: {moved} units moved, {flips} sign flips, "
              f"max |logit diff| = {diff:.2e} (max |logit| {scale:.2f})", flush=True)
        if diff > 1e-4:
            raise SystemExit(f"{base}-permuted is not function preserving: {diff}")
        write_safetensors(os.path.join(out, f"{base}-permuted.safetensors"), psd)
        add("permuted", f"{base}-permuted.safetensors", moved=moved, sign_flips=flips, max_logit_diff=diff)
        write_safetensors(os.path.join(out, f"{base}-layerdrop.safetensors"), drop_layer(model, 1))
        add("layerdrop", f"{base}-layerdrop.safetensors", dropped_layer=1)
    info["cpu_seconds"] = round(time.process_time() - t0, 1)
    with open(os.path.join(out, "models.json.tmp"), "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(os.path.join(out, "models.json.tmp"), os.path.join(out, "models.json"))
    print(f"models built in {info['cpu_seconds']} s CPU")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: build_models.py OUT_DIR")
    main(sys.argv[1])
