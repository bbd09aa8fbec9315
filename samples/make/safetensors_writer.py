"""Minimal safetensors writer (no dependency on the `safetensors` package).

Layout: u64 little-endian header length N, N bytes of UTF-8 JSON (keys sorted,
compact separators, right-padded with spaces so the data section starts at an
8-byte aligned offset), then the tensor bytes back to back in sorted-name
order with no holes. data_offsets are relative to the start of the data section.
"""
import json
import struct

import numpy as np

_DTYPES = {
    np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("float64"): "F64",
    np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("int16"): "I16",
    np.dtype("int8"): "I8", np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL",
}


def serialize(tensors, metadata=None):
    """tensors: dict name -> numpy array. Returns the file bytes."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        raw = np.ascontiguousarray(arr).astype(dt.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[np.dtype(arr.dtype.name)],
                        "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-(8 + len(text))) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def save_file(tensors, path, metadata=None):
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))
