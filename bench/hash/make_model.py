#!/usr/bin/env python3
"""Writes a synthetic safetensors model for the hashing benchmark.

usage: make_model.py OUT_DIR TOTAL_GIB FILES
Writes FILES shards model-0000i-of-0000N.safetensors (or model.safetensors for
one file) of F32 tensors of 64 MiB each with pseudo-random bytes (a fast
xorshift stream, so content is not compressible or trivially uniform), plus a
model.safetensors.index.json when sharded. Standard library only.
"""
import json
import os
import random
import struct
import sys

TENSOR_BYTES = 64 << 20


def random_block(seed, size):
    rng = random.Random(seed)
    return rng.randbytes(size)


def write_shard(path, names, block):
    header = {}
    offset = 0
    for n in names:
        header[n] = {"dtype": "F32", "shape": [TENSOR_BYTES // 4 // 4096, 4096],
                     "data_offsets": [offset, offset + TENSOR_BYTES]}
        offset += TENSOR_BYTES
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for i, _ in enumerate(names):
            # Rotate the block so every tensor has distinct bytes.
            k = (i * 4099) % len(block)
            f.write(block[k:] + block[:k])
    os.replace(tmp, path)


def main():
    out, total_gib, files = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    per_file = int(total_gib * (1 << 30)) // files // TENSOR_BYTES
    block = random_block(files, TENSOR_BYTES)
    weight_map = {}
    for s in range(files):
        name = "model.safetensors" if files == 1 else f"model-{s + 1:05d}-of-{files:05d}.safetensors"
        names = [f"layers.{s}.w{i}" for i in range(per_file)]
        write_shard(os.path.join(out, name), names, block)
        weight_map.update({n: name for n in names})
    if files > 1:
        index = {"metadata": {"total_size": files * per_file * TENSOR_BYTES}, "weight_map": weight_map}
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, sort_keys=True)


if __name__ == "__main__":
    main()
