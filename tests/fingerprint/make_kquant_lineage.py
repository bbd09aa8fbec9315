#!/usr/bin/python3
"""This file implements the generator of tests/fingerprint/kquant_lineage/:
a tiny llama-style GGUF (hidden 256 so that rows hold whole 256-element
K-quant blocks; vocab 8, 2 layers of Q/K/gate/up with 8 rows, ffn_down F16)
as F16 (base.gguf), its Q4_K and Q6_K quantizations (base_q4_k.gguf,
base_q6_k.gguf) and an independently initialised Q4_K model
(independent_q4_k.gguf), and a one-layer seed for tests/fuzz/lineage_fuzz.cpp
(tests/fuzz/corpus/lineage/tiny_kquant.gguf: Q4_K embeddings, gate and up,
Q6_K Q and K). gguf-py only dequantizes K-quants in numpy, so the
simple quantizers below (one scale per sub-block, round to nearest) write the
blocks; each is checked against gguf-py's dequantization before writing.
Run: PYTHONPATH=~/.cache/pedigree/llama.cpp-3.22.1/gguf-py /usr/bin/python3 tests/fingerprint/make_kquant_lineage.py"""
import os

import numpy as np

import gguf
from gguf import GGMLQuantizationType as T

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kquant_lineage")
V, FF, QROWS, HEADS, H, LAYERS = 8, 8, 8, 2, 256, 2


def f16_bytes(x):
    return np.array([x], dtype=np.float16).view(np.uint8)


def q6_k_block(x):
    out = np.zeros(210, dtype=np.uint8)
    sub = x.reshape(16, 16)
    scale = np.abs(sub).max(axis=1) / 31
    d = np.float16(scale.max() / 127)
    sc = np.clip(np.round(scale / np.float32(d)) if d else np.zeros(16), -128, 127).astype(np.int8)
    eff = (np.float32(d) * sc.astype(np.float32)).repeat(16)
    q = np.where(eff != 0, np.round(x / np.where(eff != 0, eff, 1)), 0).clip(-32, 31).astype(np.int32) + 32
    for e in range(256):
        h, r = divmod(e, 128)
        out[h * 64 + r % 64] |= (q[e] & 15) << (4 * (r // 64))
        out[128 + h * 32 + r % 32] |= (q[e] >> 4) << (2 * (r // 32))
    out[192:208] = sc.view(np.uint8)
    out[208:210] = f16_bytes(d)
    return out


def q4_k_block(x):
    out = np.zeros(144, dtype=np.uint8)
    sub = x.reshape(8, 32)
    mn = np.minimum(sub.min(axis=1), 0)
    scale = (sub.max(axis=1) - mn) / 15
    d, dmin = np.float16(scale.max() / 63), np.float16((-mn).max() / 63)
    sc = np.clip(np.round(scale / np.float32(d)) if d else np.zeros(8), 0, 63).astype(np.int32)
    m = np.clip(np.round(-mn / np.float32(dmin)) if dmin else np.zeros(8), 0, 63).astype(np.int32)
    for j in range(4):
        out[4 + j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6)
        out[8 + j] = (m[j] & 63) | ((m[j + 4] >> 4) << 6)
        out[12 + j] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4)
    dl = (np.float32(d) * sc.astype(np.float32)).repeat(32)
    ml = (np.float32(dmin) * m.astype(np.float32)).repeat(32)
    q = np.where(dl != 0, np.round((x + ml) / np.where(dl != 0, dl, 1)), 0).clip(0, 15).astype(np.int32)
    for e in range(256):
        out[16 + (e // 64) * 32 + e % 32] |= q[e] << (4 * ((e // 32) % 2))
    out[0:2], out[2:4] = f16_bytes(d), f16_bytes(dmin)
    return out


def quantize(a, qtype):
    block = {T.Q4_K: q4_k_block, T.Q6_K: q6_k_block}[qtype]
    rows = [np.concatenate([block(r[i:i + 256]) for i in range(0, len(r), 256)]) for r in a]
    q = np.stack(rows)
    back = gguf.quants.dequantize(q, qtype)
    err = np.abs(back - a).max() / np.abs(a).max()
    assert err < (0.1 if qtype == T.Q4_K else 0.03), (qtype.name, err)
    return q


def model(path, seed, qtype, layers=LAYERS, qk_type=None):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(path, "llama")
    w.add_head_count(HEADS)
    w.add_head_count_kv(HEADS)

    def add(name, a, t):
        if t == T.F16:
            w.add_tensor(name, a.astype(np.float16))
        else:
            w.add_tensor(name, quantize(a, t), raw_dtype=t)

    add("token_embd.weight", rng.standard_normal((V, H)).astype(np.float32), qtype)
    for i in range(layers):
        for n, shape in (("attn_q", (QROWS, H)), ("attn_k", (QROWS, H)), ("ffn_gate", (FF, H)), ("ffn_up", (FF, H))):
            t = qk_type if qk_type is not None and n in ("attn_q", "attn_k") else qtype
            add(f"blk.{i}.{n}.weight", (0.2 * rng.standard_normal(shape)).astype(np.float32), t)
        add(f"blk.{i}.ffn_down.weight", (0.2 * rng.standard_normal((H, FF))).astype(np.float32), T.F16)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    model(os.path.join(OUT, "base.gguf"), 11, T.F16)
    model(os.path.join(OUT, "base_q4_k.gguf"), 11, T.Q4_K)
    model(os.path.join(OUT, "base_q6_k.gguf"), 11, T.Q6_K)
    model(os.path.join(OUT, "independent_q4_k.gguf"), 12, T.Q4_K)
    seed = os.path.join(os.path.dirname(OUT), "..", "fuzz", "corpus", "lineage", "tiny_kquant.gguf")
    model(os.path.normpath(seed), 13, T.Q4_K, layers=1, qk_type=T.Q6_K)
    for f in sorted(os.listdir(OUT)) + [seed]:
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == "__main__":
    main()
