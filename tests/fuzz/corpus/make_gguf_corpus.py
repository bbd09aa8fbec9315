#!/usr/bin/python3
"""This file implements the generator of the GGUF fuzz seeds in corpus/gguf/:
small hand-built files (every metadata value type, nested arrays, v2 and v3,
custom alignment, plain and quantized tensors). gguf_py_v3.gguf was written by
gguf-py's GGUFWriter (F32, F16, Q8_0, Q4_0 tensors) and is kept as is."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gguf")


def s(text):
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return s(key) + struct.pack("<I", vtype) + payload


def arr(etype, items):
    return struct.pack("<IQ", etype, len(items)) + b"".join(items)


def gguf(version, kvs, tensors, alignment=32):
    """tensors: (name, dims innermost-first, ggml type, nbytes)."""
    infos, data = b"", b""
    for name, dims, gtype, nbytes in tensors:
        data += b"\0" * (-len(data) % alignment)
        infos += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", gtype, len(data))
        data += bytes((i * 7 + 1) & 0xFF for i in range(nbytes))
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs) + infos
    return out + b"\0" * (-len(out) % alignment) + data


def main():
    os.makedirs(OUT, exist_ok=True)
    every = [
        kv("u8", 0, b"\xfa"), kv("i8", 1, b"\xfb"), kv("u16", 2, struct.pack("<H", 65535)),
        kv("i16", 3, struct.pack("<h", -3)), kv("u32", 4, struct.pack("<I", 7)),
        kv("i32", 5, struct.pack("<i", -7)), kv("f32", 6, struct.pack("<f", float("inf"))),
        kv("bool", 7, b"\x01"), kv("str", 8, s("llama")), kv("u64", 10, struct.pack("<Q", 2**64 - 1)),
        kv("i64", 11, struct.pack("<q", -(2**63))), kv("f64", 12, struct.pack("<d", float("nan"))),
        kv("tokens", 9, arr(8, [s("a"), s("bc"), s("\u00e9")])),
        kv("nested", 9, arr(9, [arr(0, [b"\x01", b"\x02"]), arr(8, [s("x")])])),
    ]
    seeds = {
        "v2_all_types.gguf": gguf(2, every, [("w", [4, 2], 0, 32)]),
        "v3_quantized.gguf": gguf(3, [kv("general.architecture", 8, s("llama"))],
                                  [("q8", [32, 2], 8, 68), ("q4k", [256], 12, 144), ("f16", [3], 1, 6)]),
        "v3_align64.gguf": gguf(3, [kv("general.alignment", 4, struct.pack("<I", 64))],
                                [("a", [5], 0, 20), ("b", [2, 2, 2, 2], 30, 32)], alignment=64),
        "v3_empty.gguf": gguf(3, [], []),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
