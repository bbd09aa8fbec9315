"""Writes samples/make/expected.json: for every sample file its size, SHA-256
and tensor list (name, dtype, shape outermost-first, SHA-256 of the canonical
bytes = C-contiguous little-endian element bytes). GGUF tensors are hashed as
stored (Q/K rows permuted, F16 as F16). Everything is read back from the files
on disk with code independent of the writers (own safetensors/npy parsing,
onnx.numpy_helper, gguf-py GGUFReader, torch.load for our own benign
checkpoints). The malicious samples are only parsed statically."""
import json
import os
import pickletools
import re
import struct
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import GGUF_PY, MAKE_DIR, SAMPLES_DIR, sha256_bytes, sha256_file  # noqa: E402

sys.path.insert(0, GGUF_PY)
import gguf  # noqa: E402

NP_TO_DTYPE = {"float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64",
               "int32": "I32", "int8": "I8", "uint8": "U8", "bool": "BOOL"}
ST_TO_NP = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "u1"}


def entry(name, arr, **extra):
    arr = np.asarray(arr)
    dt = NP_TO_DTYPE[arr.dtype.name]
    canon = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    e = {"name": name, "dtype": dt, "shape": [int(x) for x in arr.shape], "nbytes": len(canon),
         "sha256": sha256_bytes(canon)}
    e.update(extra)
    return e


def torch_entries(sd):
    return [entry(k, v.numpy()) for k, v in sd.items()]


def safetensors_entries(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n])
    base = 8 + n
    items = sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0])
    out = []
    for k, v in items:
        b, e = v["data_offsets"]
        arr = np.frombuffer(data[base + b:base + e], dtype=ST_TO_NP[v["dtype"]]).reshape(v["shape"])
        out.append(entry(k, arr, offset=base + b))
    return out


def npy_entries(path):
    arr = np.load(path, allow_pickle=False)
    with open(path, "rb") as f:
        np.lib.format.read_magic(f)
        f.seek(0)
        major = f.read(8)[6]
        hlen = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        off = f.tell() + hlen
    return [entry(os.path.basename(path)[:-4], arr, offset=off, fortran_order=bool(np.isfortran(arr)))]


def npz_entries(path):
    out = []
    with np.load(path, allow_pickle=False) as z, zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            key = info.filename[:-4]
            out.append(entry(key, z[key], member=info.filename,
                             compressed=info.compress_type != zipfile.ZIP_STORED))
    return out


def onnx_entries(path):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    raw = onnx.load(path, load_external_data=False)
    out = []
    for init, rinit in zip(m.graph.initializer, raw.graph.initializer):
        extra = {}
        if rinit.external_data:
            ext = {x.key: x.value for x in rinit.external_data}
            extra = {"external_location": ext["location"], "offset": int(ext.get("offset", 0))}
        out.append(entry(init.name, numpy_helper.to_array(init), **extra))
    return out


def gguf_entries(path):
    r = gguf.GGUFReader(path)
    out = []
    for t in r.tensors:
        shape = [int(x) for x in reversed(t.shape.tolist())]
        arr = np.asarray(t.data).reshape(shape)
        e = entry(t.name, arr, offset=int(t.data_offset))
        assert e["dtype"] == t.tensor_type.name, (e["dtype"], t.tensor_type.name)
        out.append(e)
    return out


def pickle_globals(data):
    return sorted({arg.replace(" ", ".") for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"})


def malicious_pt_entries(path):
    """Never unpickled: the one tensor is read from its raw zip member."""
    with zipfile.ZipFile(path) as z:
        raw = z.read("evil/data/0")
    return [entry("weight", np.frombuffer(raw, dtype="<f4").reshape(2, 2), member="evil/data/0")]


SAMPLES = [
    ("tinyllama/tinyllama.pt", "pytorch-zip", lambda p: torch_entries(torch.load(p))),
    ("tinyllama-hf/model.safetensors", "safetensors", safetensors_entries),
    ("tinyllama-sharded/model-00001-of-00002.safetensors", "safetensors", safetensors_entries),
    ("tinyllama-sharded/model-00002-of-00002.safetensors", "safetensors", safetensors_entries),
    ("tinyllama-onnx/tinyllama.onnx", "onnx", onnx_entries),
    ("tinyllama-onnx-external/tinyllama.onnx", "onnx", onnx_entries),
    ("tinyllama-gguf/tinyllama-f32.gguf", "gguf", gguf_entries),
    ("tinyllama-gguf/tinyllama-f16.gguf", "gguf", gguf_entries),
    ("numpy/weights.npy", "npy", npy_entries),
    ("numpy/weights-fortran.npy", "npy", npy_entries),
    ("numpy/arrays.npz", "npz", npz_entries),
    ("numpy/arrays-compressed.npz", "npz", npz_entries),
    ("pickle/legacy.pt", "pytorch-legacy", lambda p: torch_entries(torch.load(p))),
    ("malicious/evil.pt", "pytorch-zip", malicious_pt_entries),
    ("malicious/evil.pkl", "pickle", lambda p: []),
]


def cross_check(out):
    """The same weights must hash identically in every tiny-llama sample."""
    def by_name(rel):
        return {t["name"]: t["sha256"] for t in out[rel]["tensors"]}
    ref = by_name("tinyllama/tinyllama.pt")
    sharded = {**by_name("tinyllama-sharded/model-00001-of-00002.safetensors"),
               **by_name("tinyllama-sharded/model-00002-of-00002.safetensors")}
    for rel in ("tinyllama-hf/model.safetensors", "tinyllama-onnx/tinyllama.onnx",
                "tinyllama-onnx-external/tinyllama.onnx"):
        assert by_name(rel) == ref, rel
    assert sharded == ref
    g = by_name("tinyllama-gguf/tinyllama-f32.gguf")
    sys.path.insert(0, MAKE_DIR)
    from export_tinyllama import hf_to_gguf_name
    for n, h in ref.items():
        permuted = n.endswith(("q_proj.weight", "k_proj.weight"))
        assert (g[hf_to_gguf_name(n)] == h) != permuted, n


def main():
    out = {}
    for rel, fmt, fn in SAMPLES:
        p = os.path.join(SAMPLES_DIR, rel)
        rec = {"format": fmt, "size": os.path.getsize(p), "sha256": sha256_file(p), "tensors": fn(p)}
        if rel.startswith("malicious/"):
            data = open(p, "rb").read() if rel.endswith(".pkl") else zipfile.ZipFile(p).read("evil/data.pkl")
            rec["pickle_globals"] = pickle_globals(data)
            rec["unsafe"] = True
        out[rel] = rec
    # Every other file in the sample dirs (configs, external data, cards): size + hash only.
    others = {}
    for d in sorted(os.listdir(SAMPLES_DIR)):
        full = os.path.join(SAMPLES_DIR, d)
        if d == "make" or not os.path.isdir(full):
            continue
        for f in sorted(os.listdir(full)):
            rel = f"{d}/{f}"
            if rel not in out:
                others[rel] = {"size": os.path.getsize(os.path.join(full, f)),
                               "sha256": sha256_file(os.path.join(full, f))}
    doc = {
        "_comment": ("Generated by samples/make/make_expected.py. shape is outermost-first; sha256 is over "
                     "C-contiguous little-endian element bytes; GGUF tensors as stored (Q/K permuted, F16 kept). "
                     "offset: absolute byte offset of the tensor data in the file (for ONNX external data: in "
                     "the external file)."),
        "samples": out,
        "other_files": others,
    }
    cross_check(out)
    text = json.dumps(doc, indent=1)
    # One line per small list (shapes) to keep the file readable.
    text = re.sub(r"\[\s*([-\d,\s]*?)\s*\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
    tmp = os.path.join(MAKE_DIR, ".expected.json.tmp")
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, os.path.join(MAKE_DIR, "expected.json"))
    print(f"expected.json: {len(out)} samples, {sum(len(v['tensors']) for v in out.values())} tensors")


if __name__ == "__main__":
    main()
