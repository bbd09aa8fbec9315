#!/usr/bin/python3
# Regenerates the pickle and pytorch fuzz seeds with Debian's python3-torch 1.13:
#   /usr/bin/python3 tests/fuzz/corpus/make_torch_seeds.py
# Each seed is a tiny genuine file (< 4 KiB).
import collections
import os
import pickle

import torch

here = os.path.dirname(os.path.abspath(__file__))
pk, pt = os.path.join(here, "pickle"), os.path.join(here, "pytorch")
os.makedirs(pk, exist_ok=True)
os.makedirs(pt, exist_ok=True)

obj = {"a": [1, 2.5, "x\u00e9", b"y", None, True, (1, 2), 2**70, -2**70, {7}, frozenset([3]),
             bytearray(b"z")], "b": -1}
for p in range(6):
    with open(os.path.join(pk, f"cpython_p{p}.pkl"), "wb") as f:
        f.write(pickle.dumps(obj, protocol=p))

sd = collections.OrderedDict()
sd["a.weight"] = torch.arange(6, dtype=torch.float32).reshape(2, 3)
sd["a.bias"] = torch.tensor([1, 2], dtype=torch.int64)
sd["t"] = sd["a.weight"].t()
sd["h"] = torch.ones(3, dtype=torch.float16)[1:]
torch.save(sd, os.path.join(pt, "state_dict.pt"))
torch.save(sd, os.path.join(pk, "legacy.pt"), _use_new_zipfile_serialization=False)
nested = {"model": {"w": torch.zeros(2, dtype=torch.bfloat16)}, "p": torch.nn.Parameter(torch.ones(2, 2)),
          "list": [torch.tensor([True, False])], "step": 3}
torch.save(nested, os.path.join(pt, "nested.ckpt"))
torch.save(nested, os.path.join(pk, "legacy_nested.pt"), _use_new_zipfile_serialization=False)
torch.save(torch.arange(4, dtype=torch.float64), os.path.join(pt, "bare.pt"))
