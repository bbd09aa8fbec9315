#!/usr/bin/python3
"""Writes the seed corpus of the safetensors fuzz target (small, hand-made files)."""
import json
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors")


def st(header, data=b""):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def write(name, blob):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(blob)


write("two_tensors.safetensors", st({
    "__metadata__": {"format": "pt"},
    "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]},
}, bytes(range(22))))
write("scalar_and_empty.safetensors", st({
    "s": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]},
    "z": {"dtype": "U8", "shape": [0, 4], "data_offsets": [8, 8]},
}, bytes(8)))
write("hole.safetensors", st({"x": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [2, 4]}}, bytes(6)))
write("index.json", json.dumps({
    "metadata": {"total_size": 22},
    "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"},
}).encode())
