"""Hostile ONNX graphs, built with onnx.helper (or on protobuf's wire) as an attacker would, with
no checker and any field: those that read files (external data anywhere, links, pipes) or break
the rules of a graph's form (control flow, custom domains, opsets, functions, nesting, size).
tests/onnx_bombs.py has the ones that cost time and memory; tests/onnx_attack_cases.py the table."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from aecore.checkpoint import ENCODER

INT64_MAX = 2**63 - 1
SECRET = "secret.txt"  # a file outside the model's folder, in the working directory and the folder's parent
F, I64 = TensorProto.FLOAT, TensorProto.INT64


def value(name: str, shape, kind=F) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, kind, shape)


def model(nodes, inputs, outputs, inits=(), opset: int = 17, **graph) -> onnx.ModelProto:
    """A model of `nodes`, unchecked: inputs and outputs are ValueInfoProtos or (name, shape)."""
    ins = [v if isinstance(v, onnx.ValueInfoProto) else value(*v) for v in inputs]
    outs = [v if isinstance(v, onnx.ValueInfoProto) else value(*v) for v in outputs]
    g = helper.make_graph(nodes, "g", ins, outs, [numpy_helper.from_array(np.asarray(a), n) for n, a in inits],
                          **graph)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def write(folder: Path, name: str, m: onnx.ModelProto | bytes) -> None:
    (folder / name).write_bytes(m if isinstance(m, bytes) else m.SerializeToString())


def external(t: TensorProto, location: str, offset: int = 0, length: int | None = None) -> TensorProto:
    """`t` with its values said to be in the file `location` (its own values dropped)."""
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for key, v in (("location", location), ("offset", str(offset)),
                   ("length", None if length is None else str(length))):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = key, v
    return t


def _bytes_tensor(name: str, n: int) -> TensorProto:
    t = TensorProto(name=name, data_type=TensorProto.UINT8, dims=[n])
    return t


def _shown_as_pixels(w: str) -> list[onnx.NodeProto]:
    """Nodes that turn the uint8 tensor `w` (784,) into the images, whatever the code: the file's
    bytes as pixels (what the first round's 13 KB pair showed)."""
    return [helper.make_node("Cast", [w], ["wf"], to=F), helper.make_node("Div", ["wf", "k255"], ["wn"]),
            helper.make_node("ReduceSum", ["code", "ax1"], ["s"], keepdims=1),
            helper.make_node("Mul", ["s", "zero"], ["s0"]), helper.make_node("Add", ["s0", "wn"], ["pixels"])]


READ_INITS = [("k255", np.array(255, np.float32)), ("zero", np.array(0, np.float32)), ("ax1", np.array([1], np.int64))]


def file_reading_decoder(location: str, where: str = "sparse values") -> onnx.ModelProto:
    """A decoder whose images are 784 bytes of the file `location`, kept as external data in
    `where`: "initializer", "sparse values", "sparse indices", "constant", "sparse constant"."""
    dec_in, dec_out = [("code", ["B", 3])], [("pixels", ["B", 784])]
    nodes, graph = _shown_as_pixels("W"), {}
    if where == "initializer":
        graph["initializer"] = [external(_bytes_tensor("W", 784), location)]
    elif where in ("sparse values", "sparse indices"):
        values = _bytes_tensor("W", 784) if where == "sparse indices" else external(_bytes_tensor("W", 784), location)
        if where == "sparse indices":
            values.raw_data = bytes(784)
        indices = numpy_helper.from_array(np.arange(784, dtype=np.int64), "W_i")
        if where == "sparse indices":
            external(indices, location)
        graph["sparse_initializer"] = [helper.make_sparse_tensor(values, indices, [784])]
    elif where == "constant":
        nodes.insert(0, helper.make_node("Constant", [], ["W"], value=external(_bytes_tensor("Wc", 784), location)))
    elif where == "sparse constant":
        sparse = helper.make_sparse_tensor(external(_bytes_tensor("Wv", 784), location),
                                           numpy_helper.from_array(np.arange(784, dtype=np.int64), "Wi"), [784])
        node = helper.make_node("Constant", [], ["W"])
        node.attribute.append(helper.make_attribute("sparse_value", sparse))
        nodes.insert(0, node)
    m = model(nodes, dec_in, dec_out, READ_INITS)
    m.graph.initializer.extend(graph.get("initializer", []))
    m.graph.sparse_initializer.extend(graph.get("sparse_initializer", []))
    return m


def if_with_external(location: str) -> onnx.ModelProto:
    """An encoder whose If holds, in its branch, an initializer kept in the file `location`."""
    branch = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "then", [],
                               [value("y", [784], TensorProto.UINT8)],
                               [external(_bytes_tensor("w", 784), location)])
    nodes = [helper.make_node("ReduceSum", ["pixels", "ax1"], ["s"], keepdims=0),
             helper.make_node("Cast", ["s"], ["c"], to=TensorProto.BOOL),
             helper.make_node("If", ["c"], ["code"], then_branch=branch, else_branch=branch)]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", 3])], [("ax1", np.array([1], np.int64))])


def loop_encoder(trip_from_pixels: bool = False) -> onnx.ModelProto:
    """An encoder that loops INT64_MAX times, or as many times as 1e12 x the pixels' sum says."""
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"]),
                              helper.make_node("Identity", ["v_in"], ["v_out"])], "body",
                             [value("i", [], I64), value("cond_in", [], TensorProto.BOOL), value("v_in", ["B", 3])],
                             [value("cond_out", [], TensorProto.BOOL), value("v_out", ["B", 3])])
    nodes = [helper.make_node("Reshape", ["pixels", "flat"], ["v"]),
             helper.make_node("Gemm", ["v", "w"], ["z"], transB=1)]
    inits = [("flat", np.array([-1, 784], np.int64)), ("w", np.zeros((3, 784), np.float32)),
             ("cond", np.array(True)), ("trip", np.array(INT64_MAX, np.int64)), ("big", np.array(1e12, np.float32))]
    trip = "trip"
    if trip_from_pixels:
        nodes += [helper.make_node("ReduceSum", ["pixels"], ["s"], keepdims=0),
                  helper.make_node("Mul", ["s", "big"], ["sb"]),
                  helper.make_node("Cast", ["sb"], ["t"], to=I64)]
        trip = "t"
    nodes.append(helper.make_node("Loop", [trip, "cond", "z"], ["code"], body=body))
    return model(nodes, [("pixels", ["B", 1, 28, 28])], [("code", ["B", 3])], inits)


def one_op_encoder(op: str, domain: str = "", **attrs) -> onnx.ModelProto:
    """An encoder (B, 784) -> (B, 3) through one operator `op` of `domain`."""
    m = model([helper.make_node(op, ["pixels"], ["code"], domain=domain, **attrs)], [("pixels", ["B", 784])],
              [("code", ["B", 3])])
    if domain:
        m.opset_import.append(helper.make_opsetid(domain, 1))
    return m


def nested_ifs(depth: int) -> onnx.ModelProto:
    """An encoder whose If holds an If holds an If ... `depth` deep."""
    leaf = helper.make_graph([helper.make_node("Identity", ["c0"], ["y"])], "leaf", [],
                             [value("y", [1], TensorProto.BOOL)])
    inner = leaf
    for i in range(depth):  # one branch nests, the other is a leaf: a linear size, not 2 ** depth
        inner = helper.make_graph([helper.make_node("If", ["c0"], ["y"], then_branch=inner, else_branch=leaf)],
                                  f"g{i}", [], [value("y", [1], TensorProto.BOOL)])
    nodes = [helper.make_node("Cast", ["pixels"], ["c0"], to=TensorProto.BOOL),
             helper.make_node("If", ["c0"], ["code"], then_branch=inner, else_branch=leaf)]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", 3])])


def protobuf_bomb(nodes: int) -> bytes:
    """A ModelProto whose graph holds `nodes` empty operators: 2 bytes each on the wire."""
    graph = b"\x0a\x00" * nodes
    return b"\x3a" + _varint(len(graph)) + graph


def deep_protobuf(depth: int) -> bytes:
    """A ModelProto whose graph's node's attribute holds a graph whose node ... `depth` times:
    deeper than protobuf itself parses (100), built on the wire."""
    g = b""
    for _ in range(depth):  # GraphProto.node (1) -> NodeProto.attribute (5) -> AttributeProto.g (6)
        g = _field(1, _field(5, _field(6, g)))
    return _field(7, g)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def linked_weights(folder: Path, target: str) -> None:
    """The encoder's weights kept in encoder.onnx.data, which is a link to `target`."""
    m = onnx.load(folder / ENCODER)
    onnx.save(m, folder / ENCODER, save_as_external_data=True, all_tensors_to_one_file=True,
              location="encoder.onnx.data", size_threshold=0)
    os.replace(folder / "encoder.onnx.data", folder / "real.data")
    os.symlink(target if os.path.isabs(target) else folder / target, folder / "encoder.onnx.data")


def pair_then(name: str, make):
    """A case: write `make()` (a model or bytes) as the file `name` of the folder."""
    return lambda folder: write(folder, name, make())


def claims(m: onnx.ModelProto, n: int) -> onnx.ModelProto:
    m.graph.initializer[-1].dims[:] = [n]
    return m


def length(m: onnx.ModelProto, n: int) -> onnx.ModelProto:
    for e in m.graph.initializer[-1].external_data:
        if e.key == "length":
            e.value = str(n)
    if not any(e.key == "length" for e in m.graph.initializer[-1].external_data):
        e = m.graph.initializer[-1].external_data.add()
        e.key, e.value = "length", str(n)
    return m


def with_function(m: onnx.ModelProto) -> onnx.ModelProto:
    """A local function in the default domain called Relu, which computes something else."""
    m.functions.append(helper.make_function("", "Relu", ["X"], ["Y"], [helper.make_node("Neg", ["X"], ["Y"])],
                                            [helper.make_opsetid("", 17)]))
    return m


def relu_with_graph() -> onnx.ModelProto:
    m = one_op_encoder("Relu")
    m.graph.node[0].attribute.append(helper.make_attribute("body", helper.make_graph([], "x", [], [])))
    return m


def opsets(m: onnx.ModelProto, opsets) -> onnx.ModelProto:
    del m.opset_import[:]
    m.opset_import.extend(helper.make_opsetid(d, v) for d, v in opsets)
    return m


def many_nodes(n: int) -> onnx.ModelProto:
    nodes = [helper.make_node("Identity", [f"v{i}" if i else "pixels"], [f"v{i + 1}" if i < n - 1 else "code"])
             for i in range(n)]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", 784])])


def with_training_info(m: onnx.ModelProto | None = None) -> onnx.ModelProto:
    m = m or one_op_encoder("Relu")
    info = m.training_info.add()
    info.algorithm.CopyFrom(helper.make_graph([], "train", [], [], [external(_bytes_tensor("t", 784), f"../{SECRET}")]))
    return m
