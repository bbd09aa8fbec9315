#!/usr/bin/python3
# This file implements the weight generator of the lineage benchmark: a random
# llama-shaped model (F16 safetensors, Hugging Face names) and a derived copy
# (hidden units permuted with sign flips, function-preserving, plus noise),
# written tensor by tensor. For speed the F16 values are built from random bits
# (random sign and 10-bit mantissa, exponent giving |x| in [2^-8, 2^-4)) in one
# pool that every tensor slices at a random offset, and the noise XORs the low
# NOISE_BITS mantissa bits (up to 12 % relative change for 7).
# Usage: gen.py OUTDIR [--hidden 4096 --layers 32 --vocab 32000 --ffn 11008 --noise-bits 7 --seed 1234 --base-only]
import argparse
import json
import struct
from pathlib import Path

import numpy as np


def tensors(vocab, hidden, layers, ffn):
    """(name, shape, role) in file order; role: 'reads' (hidden = columns), 'writes' (hidden = rows), 'norm', 'embed'."""
    out = [('model.embed_tokens.weight', (vocab, hidden), 'embed')]
    for i in range(layers):
        p = f'model.layers.{i}.'
        out += [(p + 'input_layernorm.weight', (hidden,), 'norm'),
                (p + 'self_attn.q_proj.weight', (hidden, hidden), 'reads'),
                (p + 'self_attn.k_proj.weight', (hidden, hidden), 'reads'),
                (p + 'self_attn.v_proj.weight', (hidden, hidden), 'reads'),
                (p + 'self_attn.o_proj.weight', (hidden, hidden), 'writes'),
                (p + 'post_attention_layernorm.weight', (hidden,), 'norm'),
                (p + 'mlp.gate_proj.weight', (ffn, hidden), 'reads'),
                (p + 'mlp.up_proj.weight', (ffn, hidden), 'reads'),
                (p + 'mlp.down_proj.weight', (hidden, ffn), 'writes')]
    out += [('model.norm.weight', (hidden,), 'norm'), ('lm_head.weight', (vocab, hidden), 'embed')]
    return out


def header(specs):
    h, off = {'__metadata__': {'format': 'pt'}}, 0
    for name, shape, _ in specs:
        n = int(np.prod(shape)) * 2
        h[name] = {'dtype': 'F16', 'shape': list(shape), 'data_offsets': [off, off + n]}
        off += n
    raw = json.dumps(h, separators=(',', ':')).encode()
    raw += b' ' * (-len(raw) % 8)
    return struct.pack('<Q', len(raw)) + raw


def random_f16(rng, n):
    """n random F16 bit patterns: random sign and mantissa, exponent field 7..10."""
    b = np.frombuffer(rng.bytes(2 * n), dtype='<u2')
    return (b & np.uint16(0x83FF)) | ((np.uint16(7) + ((b >> np.uint16(10)) & np.uint16(3))) << np.uint16(10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('outdir')
    ap.add_argument('--hidden', type=int, default=4096)
    ap.add_argument('--layers', type=int, default=32)
    ap.add_argument('--vocab', type=int, default=32000)
    ap.add_argument('--ffn', type=int, default=11008)
    ap.add_argument('--noise-bits', type=int, default=7)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--base-only', action='store_true', help='write only base.safetensors (an independent model with another seed)')
    a = ap.parse_args()
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    perm = rng.permutation(a.hidden)
    flip = np.where(np.arange(a.hidden) % 3 == 0, 0x8000, 0).astype('<u2')  # sign flip of every 3rd unit
    specs = tensors(a.vocab, a.hidden, a.layers, a.ffn)
    biggest = max(int(np.prod(shape)) for _, shape, _ in specs)
    # One pool of random values, one of noise bits; each tensor is a slice at a
    # random (odd) offset, so tensors differ without generating 13.5 GB of random bits.
    pool = random_f16(rng, biggest + (1 << 20))
    noise = np.frombuffer(rng.bytes(2 * pool.size), dtype='<u2') & np.uint16((1 << a.noise_bits) - 1)
    buf = np.empty(biggest, dtype='<u2')
    with open(out / 'base.safetensors', 'wb') as fa, open('/dev/null' if a.base_only else out / 'derived.safetensors', 'wb') as fb:
        fa.write(header(specs))
        fb.write(header(specs))
        for name, shape, role in specs:
            n = int(np.prod(shape))
            if role == 'norm':
                w = np.full(n, 0x3C00, dtype='<u2')  # 1.0
                fa.write(w.tobytes())
                fb.write(w[perm].tobytes())
                continue
            off = int(rng.integers(0, pool.size - n)) | 1
            off = min(off, pool.size - n)
            w = pool[off:off + n].reshape(shape)
            fa.write(memoryview(w))
            if a.base_only:
                continue
            d = buf[:n].reshape(shape)
            if role in ('reads', 'embed'):
                np.take(w, perm, axis=1, out=d)
                d ^= flip
            else:
                np.take(w, perm, axis=0, out=d)
                d ^= flip[:, None]
            noff = int(rng.integers(0, pool.size - n))
            d ^= noise[noff:noff + n].reshape(shape)
            fb.write(memoryview(d))
    print(f'wrote {out}/base.safetensors and {out}/derived.safetensors')


if __name__ == '__main__':
    main()
