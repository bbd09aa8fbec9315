#!/usr/bin/python3
# This file generates the ONNX fuzz seed corpus (tests/fuzz/corpus/onnx/):
# a few tiny ModelProtos covering raw, typed, external and subgraph
# initializers. Run with Debian's /usr/bin/python3 (onnx 1.12).
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")
os.makedirs(out, exist_ok=True)


def model(inits, nodes=None, sparse=None):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])
    nodes = nodes or [helper.make_node("Add", ["x", "w"], ["y"], name="add0")]
    g = helper.make_graph(nodes, "g", [x], [y], initializer=inits, sparse_initializer=sparse)
    m = helper.make_model(g, producer_name="seed", opset_imports=[helper.make_opsetid("", 13)])
    helper.set_model_props(m, {"k": "v"})
    return m.SerializeToString()


def save(name, data):
    assert len(data) < 4096
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


w = numpy_helper.from_array(np.arange(8, dtype=np.float32).reshape(2, 4), "w")
save("raw.onnx", model([w]))
typed = [
    helper.make_tensor("f", TensorProto.FLOAT, [2], [1.0, 2.0]),
    helper.make_tensor("i8", TensorProto.INT8, [3], [-1, 2, 3]),
    helper.make_tensor("h", TensorProto.FLOAT16, [1], [np.float16(1.0).view(np.uint16)]),
    helper.make_tensor("s", TensorProto.STRING, [2], [b"a", b"bc"]),
    helper.make_tensor("d", TensorProto.DOUBLE, [1], [0.5]),
    helper.make_tensor("l", TensorProto.INT64, [2], [1, -2]),
]
save("typed.onnx", model(typed))
ext = helper.make_tensor("w", TensorProto.FLOAT, [2, 4], [0.0] * 8)
ext.ClearField("float_data")
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "32")):
    e = ext.external_data.add()
    e.key, e.value = k, v
save("external.onnx", model([ext]))
then_g = helper.make_graph([], "then", [], [helper.make_tensor_value_info("o", TensorProto.FLOAT, [1])],
                           initializer=[numpy_helper.from_array(np.ones(1, np.float32), "c")])
if_node = helper.make_node("If", ["cond"], ["y"], name="if0", then_branch=then_g, else_branch=then_g)
save("subgraph.onnx", model([w], nodes=[if_node]))
sp = helper.make_sparse_tensor(numpy_helper.from_array(np.ones(2, np.float32), "sp"),
                               numpy_helper.from_array(np.array([0, 3], np.int64), "sp_idx"), [4])
save("sparse.onnx", model([w], sparse=[sp]))
