#!/usr/bin/python3
"""This file implements the generator of the lineage fuzz seeds in
corpus/lineage/: tiny llama-style GGUF files (vocab 8, Q/K/gate/up/down, no
V/O, each < 4 KiB) written by gguf-py's GGUFWriter with F16, Q8_0 and Q4_0
weights (hidden 32 for the block types, whose rows hold 32-element blocks).
dequant_check.gguf also holds gguf-py's own dequantization of each quantized
tensor as F32 ('<name>.ref'), which tests/fingerprint/lineage_load_test.cpp
compares with Pedigree's dequantizer. Run with /usr/bin/python3."""
import os
import sys

import numpy as np

sys.path.insert(0, "/root/.cache/pedigree/llama.cpp-3.22.1/gguf-py")
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as T  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lineage")
V, FF, QROWS, HEADS = 8, 8, 8, 2


def add(w, name, a, qtype):
    if qtype in (T.Q8_0, T.Q4_0):
        w.add_tensor(name, gguf.quants.quantize(a, qtype), raw_dtype=qtype)
    elif qtype == T.F16:
        w.add_tensor(name, a.astype(np.float16))
    else:
        w.add_tensor(name, a.astype(np.float32))


def model(path, layers, qtype, seed, H):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(path, "llama")
    w.add_head_count(HEADS)
    w.add_head_count_kv(HEADS)
    add(w, "token_embd.weight", rng.standard_normal((V, H)).astype(np.float32), qtype)
    for i in range(layers):
        for n, shape in (("attn_q", (QROWS, H)), ("attn_k", (QROWS, H)), ("ffn_gate", (FF, H)), ("ffn_up", (FF, H))):
            add(w, f"blk.{i}.{n}.weight", (0.2 * rng.standard_normal(shape)).astype(np.float32), qtype)
        # ffn_down rows have FF = 8 elements, not a whole block: F16.
        add(w, f"blk.{i}.ffn_down.weight", (0.2 * rng.standard_normal((H, FF))).astype(np.float32), T.F16)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def dequant_check(path):
    rng = np.random.default_rng(5)
    w = gguf.GGUFWriter(path, "llama")
    for name, qtype in (("q8", T.Q8_0), ("q4", T.Q4_0)):
        a = (3 * rng.standard_normal((2, 64))).astype(np.float32)
        q = gguf.quants.quantize(a, qtype)
        w.add_tensor(name, q, raw_dtype=qtype)
        w.add_tensor(name + ".ref", gguf.quants.dequantize(q, qtype).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    model(os.path.join(OUT, "tiny_q4_0.gguf"), 1, T.Q4_0, 1, 32)
    model(os.path.join(OUT, "tiny_q8_0.gguf"), 1, T.Q8_0, 2, 32)
    model(os.path.join(OUT, "tiny_f16_2layers.gguf"), 2, T.F16, 3, 16)
    dequant_check(os.path.join(OUT, "dequant_check.gguf"))
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == "__main__":
    main()
