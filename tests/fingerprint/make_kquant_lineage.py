#!/usr/bin/python3
"""This file implements the generator of tests/fingerprint/kquant_lineage/:
a tiny llama-style GGUF (hidden 256 so that rows hold whole 256-element
K-quant blocks; vocab 8, 2 layers of Q/K/gate/up with 8 rows, ffn_down F16)
as F16 (base.gguf), its Q4_K, Q6_K, IQ3_S, IQ2_XXS and MXFP4 quantizations
(base_<type>.gguf), an independently initialised Q4_K model
(independent_q4_k.gguf), a ternary (BitNet-style) variant as F16
(ternary.gguf) with its TQ1_0 and TQ2_0 quantizations (ternary_<type>.gguf),
and seeds for tests/fuzz/lineage_fuzz.cpp
(tests/fuzz/corpus/lineage/tiny_kquant.gguf: Q4_K embeddings, gate and up,
Q6_K Q and K; tiny_iquant.gguf: IQ3_S embeddings, gate and up, IQ2_XXS Q and
K). gguf-py quantizes TQ1_0, TQ2_0 and MXFP4 but only dequantizes K-quants and
the lattice (IQ) types, so the simple quantizers below (one scale per
sub-block, round to nearest; nearest grid row for IQ) write those blocks; each
is checked against gguf-py's dequantization before writing.
Run: PYTHONPATH=~/.cache/pedigree/llama.cpp-3.22.1/gguf-py /usr/bin/python3 tests/fingerprint/make_kquant_lineage.py"""
import os

import numpy as np

import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

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


def nearest_rows(grid, target):
    """Index of the grid row nearest to each row of target (L2)."""
    return np.argmin(((target[:, None, :] - grid[None, :, :]) ** 2).sum(axis=-1), axis=1)


def best_step(grid, mags, top):
    """The step db (value = db * level) of one 32-element sub-block that minimises the squared
    error of its magnitudes `mags` (rows of the grid's width), among max / L for L up to `top`."""
    amax = mags.max()
    if amax == 0:
        return np.float32(0)
    best, best_err = None, None
    for level in np.linspace(top / 3, top, 25):
        db = np.float32(amax / level)
        err = ((grid[nearest_rows(grid, mags / db)] * db - mags) ** 2).sum()
        if best_err is None or err < best_err:
            best, best_err = db, err
    return best


def iq3_s_block(x):
    """IQ3_S: db = d * (1 + 2s) per 32 elements, magnitudes from the 512 x 4 grid, explicit sign bits."""
    quants.IQ3_S.init_grid()
    grid = quants.IQ3_S.grid.reshape(512, 4)
    out = np.zeros(110, dtype=np.uint8)
    sub = x.reshape(8, 32)
    want = np.array([best_step(grid, np.abs(r).reshape(8, 4), 15) for r in sub])
    d = np.float16(want.max() / 31)
    s = np.clip(np.round((want / np.float32(d) - 1) / 2), 0, 15).astype(np.int32) if d else np.zeros(8, np.int32)
    for ib in range(8):
        db = np.float32(d) * np.float32(1 + 2 * s[ib])
        idx = nearest_rows(grid, np.abs(sub[ib]).reshape(8, 4) / (db if db else 1))
        out[2 + 8 * ib:10 + 8 * ib] = idx & 0xFF
        out[66 + ib] = sum(((i >> 8) & 1) << k for k, i in enumerate(idx))
        neg = (sub[ib] < 0).reshape(4, 8)
        out[74 + 4 * ib:78 + 4 * ib] = (neg * (1 << np.arange(8))).sum(axis=1)
        out[106 + ib // 2] |= s[ib] << (4 * (ib % 2))
    out[0:2] = f16_bytes(d)
    return out


def iq2_xxs_block(x):
    """IQ2_XXS: db = d * (0.5 + s) / 4 per 32 elements, magnitudes from the 256 x 8 grid, even-parity
    signs (the smallest element of an odd group takes the wrong sign)."""
    quants.IQ2_XXS.init_grid()
    grid = quants.IQ2_XXS.grid.reshape(256, 8)
    ksigns = list(quants.IQ2_XXS.ksigns)
    out = np.zeros(66, dtype=np.uint8)
    sub = x.reshape(8, 32)
    want = np.array([best_step(grid, np.abs(r).reshape(4, 8), 43) for r in sub])
    d = np.float16(want.max() / 3.875)
    s = np.clip(np.round(want / np.float32(d) * 4 - 0.5), 0, 15).astype(np.int64) if d else np.zeros(8, np.int64)
    for ib in range(8):
        db = np.float32(d) * (np.float32(0.5) + np.float32(s[ib])) * np.float32(0.25)
        groups = sub[ib].reshape(4, 8)
        idx = nearest_rows(grid, np.abs(groups) / (db if db else 1))
        aux = int(s[ib]) << 28
        for g in range(4):
            bits = int(((groups[g] < 0) * (1 << np.arange(8))).sum())
            if bin(bits).count("1") % 2:
                bits ^= 1 << int(np.argmin(np.abs(groups[g])))
            aux |= ksigns.index(bits) << (7 * g)
        out[2 + 8 * ib:6 + 8 * ib] = idx.astype(np.uint8)
        out[6 + 8 * ib:10 + 8 * ib] = np.array([aux], dtype="<u4").view(np.uint8)
    out[0:2] = f16_bytes(d)
    return out


# Largest relative error (max |error| / max |x|) each quantizer is allowed on these weights
# (measured: Q4_K 0.064, Q6_K 0.016, IQ3_S 0.145, IQ2_XXS 0.528, MXFP4 0.192, TQ on ternary 0.0003).
MAX_ERR = {T.Q4_K: 0.1, T.Q6_K: 0.03, T.IQ3_S: 0.2, T.IQ2_XXS: 0.6, T.MXFP4: 0.25, T.TQ1_0: 0.001, T.TQ2_0: 0.001}


def quantize(a, qtype):
    if qtype in (T.TQ1_0, T.TQ2_0, T.MXFP4):
        q = gguf.quants.quantize(a, qtype)
    else:
        block = {T.Q4_K: q4_k_block, T.Q6_K: q6_k_block, T.IQ3_S: iq3_s_block, T.IQ2_XXS: iq2_xxs_block}[qtype]
        q = np.stack([np.concatenate([block(r[i:i + 256]) for i in range(0, len(r), 256)]) for r in a])
    back = gguf.quants.dequantize(q, qtype)
    err = np.abs(back - a).max() / np.abs(a).max()
    assert err < MAX_ERR[qtype], (qtype.name, err)
    return q


def ternary(a):
    """BitNet-style weights: each element -s, 0 or +s by thirds of its distribution (s = its row's std)."""
    cut = 0.4307 * a.std()  # the 1/3 and 2/3 quantiles of a normal distribution are -+0.4307 sigma
    return (np.sign(a) * (np.abs(a) > cut) * a.std(axis=-1, keepdims=True)).astype(np.float32)


def model(path, seed, qtype, layers=LAYERS, qk_type=None, weights=lambda a: a):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(path, "llama")
    w.add_head_count(HEADS)
    w.add_head_count_kv(HEADS)

    def add(name, a, t):
        a = weights(a)
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
    for qtype in (T.IQ3_S, T.IQ2_XXS, T.MXFP4):
        model(os.path.join(OUT, f"base_{qtype.name.lower()}.gguf"), 11, qtype)
    # TQ1_0/TQ2_0 hold ternary weights (one scale per 256): a ternary F16 source and its TQ copies.
    model(os.path.join(OUT, "ternary.gguf"), 11, T.F16, weights=ternary)
    for qtype in (T.TQ1_0, T.TQ2_0):
        model(os.path.join(OUT, f"ternary_{qtype.name.lower()}.gguf"), 11, qtype, weights=ternary)
    corpus = os.path.normpath(os.path.join(os.path.dirname(OUT), "..", "fuzz", "corpus", "lineage"))
    seeds = [os.path.join(corpus, "tiny_kquant.gguf"), os.path.join(corpus, "tiny_iquant.gguf")]
    model(seeds[0], 13, T.Q4_K, layers=1, qk_type=T.Q6_K)
    model(seeds[1], 14, T.IQ3_S, layers=1, qk_type=T.IQ2_XXS)
    for f in [os.path.join(OUT, f) for f in sorted(os.listdir(OUT))] + seeds:
        print(os.path.basename(f), os.path.getsize(f))


if __name__ == "__main__":
    main()
