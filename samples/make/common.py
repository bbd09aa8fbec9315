"""Shared helpers for the sample generators: determinism setup, atomic file
placement, hashing and path constants. Used only by the scripts in samples/make/."""
import hashlib
import os
import shutil
import tempfile

MAKE_DIR = os.path.dirname(os.path.abspath(__file__))
SAMPLES_DIR = os.path.dirname(MAKE_DIR)
LLAMA_CPP = "/root/.cache/pedigree/llama.cpp-3.22.1"
GGUF_PY = os.path.join(LLAMA_CPP, "gguf-py")
SEED = 1234


def set_determinism(seed=SEED):
    """Single-threaded, seeded, deterministic torch/numpy."""
    import numpy as np
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


class StagingDir:
    """Build files in a private temp dir (same filesystem as samples/), then
    rename each one into its final place. Files keep their final basenames while
    being written, because some writers (torch.save, onnx external data) embed
    the file name in the output."""

    def __init__(self, final_dir):
        self.final_dir = os.path.join(SAMPLES_DIR, final_dir)
        os.makedirs(self.final_dir, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix=".staging-", dir=SAMPLES_DIR)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def commit(self):
        for name in sorted(os.listdir(self.tmp)):
            os.replace(os.path.join(self.tmp, name), os.path.join(self.final_dir, name))
        shutil.rmtree(self.tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False
