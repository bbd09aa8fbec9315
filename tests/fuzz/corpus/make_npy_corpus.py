#!/usr/bin/python3
"""Writes the seed corpus of the npy fuzz target with numpy (Debian python3-numpy)."""
import os

import numpy as np
import numpy.lib.format as fmt

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def save(name, arr, version=None):
    with open(os.path.join(HERE, name), "wb") as f:
        fmt.write_array(f, arr, version=version, allow_pickle=False)


save("f4_3x4.npy", np.arange(12, dtype="<f4").reshape(3, 4))
save("i8_big_endian.npy", np.arange(6, dtype=">i8").reshape(2, 3))
save("f8_fortran.npy", np.asfortranarray(np.arange(24, dtype="<f8").reshape(2, 3, 4)))
save("b1_v2.npy", np.array([True, False, True]), version=(2, 0))
save("c8_scalar_v3.npy", np.array(1 + 2j, dtype="<c8"), version=(3, 0))
save("u2_empty.npy", np.zeros((0, 3), dtype="<u2"))
save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
