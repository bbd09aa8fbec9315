"""Reference implementation (standard library only) of the pedigree-wm-v1
watermark PRF and the kgw / gumbel generation rules defined in
docs/watermark.md. The C++ detector (probes/watermark.cpp) must agree with it
bit for bit; `python3 bench/distill/wm.py --vectors` prints the published test
vectors, which tests/probes/watermark_test.cpp asserts.
"""
import hashlib
import hmac
import json
import math
import struct
import sys

DOMAIN = b"pedigree-wm-v1"


def prf_u(key: bytes, ctx, token: int) -> float:
    """u in [0, 1): first 8 bytes of HMAC-SHA256(key, DOMAIN || u32le(h) ||
    u32le(ctx...) || u32le(token)), big-endian, top 53 bits, times 2^-53."""
    msg = DOMAIN + struct.pack("<I", len(ctx)) + b"".join(struct.pack("<I", t) for t in ctx) + struct.pack("<I", token)
    d = hmac.new(key, msg, hashlib.sha256).digest()
    return (int.from_bytes(d[:8], "big") >> 11) / float(1 << 53)


def key_fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def green_mask(key: bytes, ctx, vocab: int, gamma: float):
    return [prf_u(key, ctx, v) < gamma for v in range(vocab)]


def gumbel_pick(key: bytes, ctx, probs):
    best, best_s = 0, -math.inf
    for v, p in enumerate(probs):
        if p <= 0:
            continue
        u = prf_u(key, ctx, v)
        s = math.log(u) / p if u > 0 else -math.inf
        if s > best_s:
            best, best_s = v, s
    return best


def load_key(path):
    j = json.load(open(path))
    return dict(scheme=j["scheme"], gamma=float(j.get("gamma", 0.25)), h=int(j["h"]),
                delta=float(j.get("delta", 0.0)), key=bytes.fromhex(j["key_hex"]))


VECTOR_KEYS = [bytes(range(32)), b"pedigree-test-key-0001"]
VECTOR_CASES = [([0, 0], 0), ([1, 2], 3), ([259, 3 + ord("e")], 3 + ord("t")), ([4294967295, 7], 65535), ([42], 42),
                ([10, 20, 30, 40], 50), ([259, 259], 259), ([3, 4], 5), ([100, 101], 102), ([7, 7], 1)]


def vectors():
    out = []
    for key in VECTOR_KEYS:
        for ctx, tok in VECTOR_CASES:
            u = prf_u(key, ctx, tok)
            out.append(dict(key_hex=key.hex(), ctx=ctx, token=tok, u53=int(u * (1 << 53)), u="%.17g" % u,
                            green_0_25=u < 0.25))
    return out


def check_docs(path):
    """Recomputes every row of the test-vector table in docs/watermark.md."""
    keys = {"A": VECTOR_KEYS[0], "B": VECTOR_KEYS[1]}
    n = 0
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] not in keys:
            continue
        ctx, tok, u53 = json.loads(cells[1]), int(cells[2]), int(cells[3])
        u = prf_u(keys[cells[0]], ctx, tok)
        assert int(u * (1 << 53)) == u53 and "%.17g" % u == cells[4] and (u < 0.25) == (cells[5] == "yes"), line
        n += 1
    assert n == 2 * len(VECTOR_CASES), n
    print("ok: %d vectors in %s match" % (n, path))


def random_vectors(n, seed):
    """n pseudo-random (key, ctx, token) cases with their u53, one per line:
    key_hex ctx_ids(comma-separated) token u53. For the C++ cross-check test."""
    import random
    rng = random.Random(seed)
    for _ in range(n):
        key = bytes(rng.randrange(256) for _ in range(rng.randrange(16, 65)))
        ctx = [rng.choice([rng.randrange(300), rng.randrange(1 << 32)]) for _ in range(rng.randrange(1, 9))]
        tok = rng.randrange(1 << 32)
        print(key.hex(), ",".join(map(str, ctx)), tok, int(prf_u(key, ctx, tok) * (1 << 53)))


if __name__ == "__main__":
    if "--random" in sys.argv:
        i = sys.argv.index("--random")
        random_vectors(int(sys.argv[i + 1]), int(sys.argv[i + 2]))
    if "--check" in sys.argv:
        import os
        check_docs(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "watermark.md"))
    if "--vectors" in sys.argv:
        for v in vectors():
            print(json.dumps(v))
        for k in VECTOR_KEYS:
            print("fingerprint", k.hex(), key_fingerprint(k))
