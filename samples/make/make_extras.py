"""Small format-coverage samples: .npy (C and Fortran order), .npz (stored and
deflated), a legacy (pre-zip) torch.save checkpoint, and two HARMLESS malicious-
pickle demonstrations for the scanner. The malicious files are built with
pickle.dumps / torch.save only and are never unpickled here."""
import io
import os
import pickle
import pickletools
import struct
import sys
import time
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SEED, StagingDir, set_determinism  # noqa: E402

# np.savez stamps zip entries with the current local time; pin it.
FIXED_EPOCH = 1767225600  # 2026-01-01T00:00:00Z
os.environ["TZ"] = "UTC"
time.tzset()


def numpy_arrays():
    rng = np.random.default_rng(SEED)
    weights = rng.standard_normal((8, 16)).astype(np.float32)
    fortran = np.asfortranarray(rng.standard_normal((5, 7)).astype(np.float32))
    npz = {
        "embedding": rng.standard_normal((10, 4)).astype(np.float32),
        "ids": np.arange(6, dtype=np.int64) * 7 - 3,
        "half": rng.standard_normal((3, 3)).astype(np.float16),
        "scale": np.array(0.125, dtype=np.float64),
    }
    return weights, fortran, npz


def write_numpy():
    weights, fortran, npz = numpy_arrays()
    assert fortran.flags.f_contiguous and not fortran.flags.c_contiguous
    with StagingDir("numpy") as st:
        np.save(st.path("weights.npy"), weights)
        np.save(st.path("weights-fortran.npy"), fortran)
        with mock.patch("time.time", return_value=FIXED_EPOCH):
            np.savez(st.path("arrays.npz"), **npz)
            np.savez_compressed(st.path("arrays-compressed.npz"), **npz)
        header = open(st.path("weights-fortran.npy"), "rb").read(128)
        assert b"'fortran_order': True" in header, header


def legacy_state_dict():
    g = torch.Generator().manual_seed(SEED)
    return {
        "linear.weight": torch.randn(4, 3, generator=g),
        "linear.bias": torch.randn(4, generator=g),
        "embedding.weight": torch.randn(5, 2, generator=g).half(),
        "bn.num_batches_tracked": torch.tensor(7, dtype=torch.int64),
    }


def _pickle_spans(data):
    """Yields (start, end, ops) for the consecutive pickles at the front of a
    legacy torch file. Static parse only (pickletools.genops never executes)."""
    f = io.BytesIO(data)
    for _ in range(5):  # magic, protocol, sys_info, object, storage keys
        start = f.tell()
        ops = list(pickletools.genops(f))
        yield start, f.tell(), ops


def normalize_legacy_keys(data, sd):
    """Legacy torch.save names each storage by its memory address and writes
    the storages in sorted-address order, so the bytes differ between runs.
    Rename every storage to its ordinal in `sd` ("0", "1", ...), re-encode the
    key strings (new lengths), rewrite the key-list pickle, and reorder the raw
    storage records (int64 element count + bytes) to match. The legacy layout
    has no absolute offsets, so splicing is safe. `sd` must still be alive: its
    storages' addresses are the original keys."""
    order = {str(t.storage()._storage._cdata): i for i, t in enumerate(sd.values())}
    nbytes = {str(t.storage()._storage._cdata): t.storage()._storage.nbytes() for t in sd.values()}
    spans = list(_pickle_spans(data))
    old_keys = [arg for op, arg, _ in spans[4][2] if op.name in ("BINUNICODE", "SHORT_BINUNICODE")]
    assert sorted(old_keys) == sorted(order), (old_keys, order)
    new = {k: str(order[k]) for k in old_keys}
    edits = []
    for _, _, ops in spans[:4]:
        for op, arg, pos in ops:  # genops reports absolute file positions
            if op.name in ("BINUNICODE", "SHORT_BINUNICODE") and arg in new:
                hdr = 5 if op.name == "BINUNICODE" else 2
                assert data[pos + hdr:pos + hdr + len(arg)] == arg.encode()
                rep = new[arg].encode()
                enc = (b"X" + struct.pack("<I", len(rep)) if op.name == "BINUNICODE"
                       else b"\x8c" + bytes([len(rep)])) + rep
                edits.append((pos, pos + hdr + len(arg), enc))
    head = bytearray(data[:spans[3][1]])
    for start, end, enc in sorted(edits, reverse=True):
        head[start:end] = enc
    records, pos = {}, spans[4][1]
    for k in old_keys:
        size = 8 + nbytes[k]
        records[new[k]] = data[pos:pos + size]
        pos += size
    assert pos == len(data), (pos, len(data))
    new_keys = sorted(records)
    return bytes(head) + pickle.dumps(new_keys, protocol=2) + b"".join(records[k] for k in new_keys)


def write_legacy():
    sd = legacy_state_dict()
    buf = io.BytesIO()
    torch.save(sd, buf, _use_new_zipfile_serialization=False)
    data = normalize_legacy_keys(buf.getvalue(), sd)
    with StagingDir("pickle") as st:
        with open(st.path("legacy.pt"), "wb") as f:
            f.write(data)
        back = torch.load(st.path("legacy.pt"))  # our own benign file
        assert list(back) == list(sd)
        for k in sd:
            assert back[k].dtype == sd[k].dtype and torch.equal(back[k], sd[k]), k


class Evil:
    """Harmless demonstration payload: unpickling would run `echo pedigree-demo`."""

    def __reduce__(self):
        return (os.system, ("echo pedigree-demo",))


def pickle_globals(data):
    """Static list of (module, name) referenced by GLOBAL opcodes."""
    return [tuple(arg.split(" ", 1)) for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"]


def write_malicious():
    with StagingDir("malicious") as st:
        evil = pickle.dumps(Evil(), protocol=2)
        assert ("posix", "system") in pickle_globals(evil) or ("os", "system") in pickle_globals(evil)
        assert b"R" in evil
        with open(st.path("evil.pkl"), "wb") as f:
            f.write(evil)
        g = torch.Generator().manual_seed(SEED)
        torch.save({"weight": torch.randn(2, 2, generator=g), "payload": Evil()}, st.path("evil.pt"))
        import zipfile
        with zipfile.ZipFile(st.path("evil.pt")) as z:
            pk = z.read("evil/data.pkl")
        assert any(n == "system" for _, n in pickle_globals(pk)), pickle_globals(pk)


def main():
    set_determinism()
    write_numpy()
    write_legacy()
    write_malicious()
    print("extras ok")


if __name__ == "__main__":
    main()
