#!/usr/bin/python3
# This file implements the seed corpus generator of tests/fuzz/lineage_fp_fuzz.cpp:
# small lineage fingerprints in the binary format of docs/lineage.md
# ("Stored fingerprints"), written with numpy from a fixed seed.
import struct
import sys
from pathlib import Path

import numpy as np


def rows(rng, n, cols):
    q = rng.integers(-127, 128, size=(n, cols), dtype=np.int8)
    scale = rng.uniform(0.001, 0.1, size=n).astype('<f4')
    return struct.pack('<QQ', n, cols) + scale.tobytes() + q.tobytes()


def fingerprint(rng, vocab, hidden, layers, ffn, version=2, arch=b'llama', gated=True):
    """Version 2 adds the architecture record (u32 length, name, u32 declared
    flag) after the hidden size and a u64 gated flag after each layer's ffn."""
    out = b'PDGLNFP\0' + struct.pack('<IIQQ', version, layers, vocab, hidden)
    if version >= 2:
        out += struct.pack('<I', len(arch)) + arch + struct.pack('<I', 1)
    out += rows(rng, min(vocab, 16), hidden)
    for _ in range(layers):
        out += struct.pack('<QQQ', hidden, hidden // 2, ffn)
        if version >= 2:
            out += struct.pack('<Q', 1 if ffn and gated else 0)
        out += rows(rng, 4, hidden) + rows(rng, 4, hidden)
        if ffn and gated:
            out += rows(rng, min(ffn, 6), hidden)
        if ffn:
            out += rows(rng, min(ffn, 6), hidden)
    return out


def main():
    d = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / 'lineage_fp')
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    (d / 'two_layers.fp').write_bytes(fingerprint(rng, 64, 8, 2, 12))
    (d / 'no_mlp.fp').write_bytes(fingerprint(rng, 32, 8, 1, 0))
    (d / 'truncated.fp').write_bytes(fingerprint(rng, 64, 8, 2, 12)[:150])
    (d / 'ungated_gpt2.fp').write_bytes(fingerprint(rng, 64, 8, 2, 12, arch=b'gpt2', gated=False))
    (d / 'version1.fp').write_bytes(fingerprint(rng, 64, 8, 2, 12, version=1))


if __name__ == '__main__':
    main()
