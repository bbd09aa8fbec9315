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


def fingerprint(rng, vocab, hidden, layers, ffn):
    out = b'PDGLNFP\0' + struct.pack('<IIQQ', 1, layers, vocab, hidden)
    out += rows(rng, min(vocab, 16), hidden)
    for _ in range(layers):
        out += struct.pack('<QQQ', hidden, hidden // 2, ffn)
        out += rows(rng, 4, hidden) + rows(rng, 4, hidden)
        if ffn:
            out += rows(rng, min(ffn, 6), hidden) + rows(rng, min(ffn, 6), hidden)
    return out


def main():
    d = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / 'lineage_fp')
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    (d / 'two_layers.fp').write_bytes(fingerprint(rng, 64, 8, 2, 12))
    (d / 'no_mlp.fp').write_bytes(fingerprint(rng, 32, 8, 1, 0))
    (d / 'truncated.fp').write_bytes(fingerprint(rng, 64, 8, 2, 12)[:150])


if __name__ == '__main__':
    main()
