"""This file implements the sample refresh of the lineage experiment: it copies
four models of a finished run (base b1, its instruction fine-tune, its permuted
and sign-flipped copy, and the independent base b2 trained on the same data
with another seed) into samples/lineage/ as F16 safetensors (about 390 KB
each), for tests/cli/lineage_samples_test.cpp. Usage: keep_samples.py WORK_DIR."""
import os
import sys
from pathlib import Path

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "..", "..", "samples", "make")))
from common import GGUF_PY, StagingDir  # noqa: E402
import safetensors_writer  # noqa: E402

sys.path.insert(0, GGUF_PY)
from gguf.utility import SafetensorsLocal  # noqa: E402

KEEP = {"b1": "base", "b1-instruct": "instruct", "b1-permuted": "permuted", "b2": "independent"}


def read_f32(path):
    out = {}
    with SafetensorsLocal(Path(path)) as tensors:
        for name, t in tensors.items():
            assert t.dtype == "F32", (path, name, t.dtype)
            out[name] = np.frombuffer(bytes(t.mmap_bytes()), dtype="<f4").reshape(t.shape)
    return out


def main(work):
    with StagingDir("lineage") as st:
        for src, dst in KEEP.items():
            t = {k: v.astype(np.float16) for k, v in read_f32(os.path.join(work, src + ".safetensors")).items()}
            safetensors_writer.save_file(t, st.path(dst + ".safetensors"),
                                         metadata={"pedigree_lineage_experiment_model": src})
            assert os.path.getsize(st.path(dst + ".safetensors")) < 1 << 20
    print("samples/lineage/: " + ", ".join(f"{d}.safetensors ({s})" for s, d in KEEP.items()))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: keep_samples.py WORK_DIR")
    main(sys.argv[1])
