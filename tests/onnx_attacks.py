"""Hostile ONNX graphs, built with onnx.helper as an attacker would (no checker, any field): each
writes one file into a model folder that linear_pair made, so that the other graph is sound."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from aecore.checkpoint import DECODER, ENCODER

INT64_MAX = 2**63 - 1
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
    for key, v in (("location", location), ("offset", str(offset)), ("length", None if length is None else str(length))):
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
    branch = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "then", [], [value("y", [784], TensorProto.UINT8)],
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
    nodes = [helper.make_node("Reshape", ["pixels", "flat"], ["v"]), helper.make_node("Gemm", ["v", "w"], ["z"], transB=1)]
    inits = [("flat", np.array([-1, 784], np.int64)), ("w", np.zeros((3, 784), np.float32)),
             ("cond", np.array(True)), ("trip", np.array(INT64_MAX, np.int64)), ("big", np.array(1e12, np.float32))]
    trip = "trip"
    if trip_from_pixels:
        nodes += [helper.make_node("ReduceSum", ["pixels"], ["s"], keepdims=0), helper.make_node("Mul", ["s", "big"], ["sb"]),
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


def constant_of_shape_encoder(n: int = 10**10) -> onnx.ModelProto:
    """An encoder that asks for a float tensor of n values (40 GB for the default) at load."""
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"]),
             helper.make_node("ReduceSum", ["big"], ["s"], keepdims=0),
             helper.make_node("Reshape", ["pixels", "flat"], ["v"]), helper.make_node("Gemm", ["v", "w"], ["z"], transB=1),
             helper.make_node("Add", ["z", "s"], ["code"])]
    return model(nodes, [("pixels", ["B", 1, 28, 28])], [("code", ["B", 3])],
                 [("shape", np.array([n], np.int64)), ("flat", np.array([-1, 784], np.int64)),
                  ("w", np.zeros((3, 784), np.float32))])


def broadcast_bomb_encoder(n: int = 60_000) -> onnx.ModelProto:
    """Only allowed operators: (n, 1) + (1, n) is n x n floats (14 GB for the default), known
    from the shapes before anything runs."""
    nodes = [helper.make_node("Add", ["col", "row"], ["big"]), helper.make_node("ReduceSum", ["big"], ["s"], keepdims=0),
             helper.make_node("Reshape", ["pixels", "flat"], ["v"]), helper.make_node("Gemm", ["v", "w"], ["z"], transB=1),
             helper.make_node("Add", ["z", "s"], ["code"])]
    return model(nodes, [("pixels", ["B", 1, 28, 28])], [("code", ["B", 3])],
                 [("col", np.zeros((n, 1), np.float32)), ("row", np.zeros((1, n), np.float32)),
                  ("flat", np.array([-1, 784], np.int64)), ("w", np.zeros((3, 784), np.float32))])


def _spread(nodes: list, out: str = "var") -> list:
    """Nodes computing `out` (1,): the largest variance of one image's pixels in the batch, 0 for
    plain images (the load check's black, grey and white), > 0 for a digit."""
    return nodes + [helper.make_node("Flatten", ["pixels"], ["flat_px"]),
                    helper.make_node("ReduceMean", ["flat_px"], ["mu"], keepdims=1, axes=[1]),
                    helper.make_node("Sub", ["flat_px", "mu"], ["dev"]), helper.make_node("Mul", ["dev", "dev"], ["sq"]),
                    helper.make_node("ReduceMean", ["sq"], ["v_img"], keepdims=1, axes=[1]),
                    helper.make_node("ReduceMax", ["v_img"], ["v0"], keepdims=0),
                    helper.make_node("Reshape", ["v0", "one"], [out])]


def resize_bomb_encoder(factor: float = 3e4) -> onnx.ModelProto:
    """Passes the load check (plain images have no spread) and on real digits resizes the
    image by 1 + factor x the spread in each direction: gigabytes, on real data only."""
    nodes = _spread([]) + [
        helper.make_node("Mul", ["var", "factor"], ["fv"]), helper.make_node("Add", ["fv", "onef"], ["s"]),
        helper.make_node("Concat", ["ones2", "s", "s"], ["scales"], axis=0),
        helper.make_node("Resize", ["pixels", "", "scales"], ["big"]),
        helper.make_node("ReduceMean", ["big"], ["m"], keepdims=0, axes=[1, 2, 3]),
        helper.make_node("Reshape", ["pixels", "flat"], ["v"]), helper.make_node("Gemm", ["v", "w"], ["z"], transB=1),
        helper.make_node("Unsqueeze", ["m", "ax1"], ["m1"]), helper.make_node("Add", ["z", "m1"], ["code"])]
    return model(nodes, [("pixels", ["B", 1, 28, 28])], [("code", ["B", 3])],
                 [("one", np.array([1], np.int64)), ("factor", np.array(factor, np.float32)),
                  ("onef", np.array(1, np.float32)), ("ones2", np.ones(2, np.float32)),
                  ("ax1", np.array([1], np.int64)),
                  ("flat", np.array([-1, 784], np.int64)), ("w", np.zeros((3, 784), np.float32))])


def slow_encoder(n: int = 2048, layers: int = 400) -> onnx.ModelProto:
    """No loop, allowed operators only, 16 KB of weights: `layers` products of (n x n) matrices
    made from the pixels, about 7 TFLOP for the defaults: minutes to hours of CPU for one call."""
    nodes = [helper.make_node("ReduceSum", ["pixels"], ["s"], keepdims=0),
             helper.make_node("Add", ["col", "row"], ["a"]), helper.make_node("Mul", ["a", "s"], ["h0"])]
    for i in range(layers):  # h0 comes from the data: nothing to fold or prepack when the session starts
        nodes.append(helper.make_node("MatMul", [f"h{i}", "h0"], [f"h{i + 1}"]))
    nodes += [helper.make_node("Slice", [f"h{layers}", "st", "en"], ["corner"]),
              helper.make_node("Gemm", ["pixels", "w"], ["z"], transB=1), helper.make_node("Add", ["z", "corner"], ["code"])]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", 3])],
                 [("col", np.full((n, 1), 1e-3, np.float32)), ("row", np.full((1, n), 1e-3, np.float32)),
                  ("st", np.array([0, 0], np.int64)), ("en", np.array([1, 3], np.int64)),
                  ("w", np.zeros((3, 784), np.float32))])


def code_size_encoder(d: int, declared: bool = True) -> onnx.ModelProto:
    """An encoder giving codes of size d (a MatMul of the pixels' sum with a (1, d) row)."""
    nodes = [helper.make_node("ReduceSum", ["pixels", "ax1"], ["s"], keepdims=1), helper.make_node("Mul", ["s", "row"], ["code"])]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", d if declared else "d"])],
                 [("ax1", np.array([1], np.int64)), ("row", np.ones((1, d), np.float32))])


def data_dependent_encoder(change: str) -> onnx.ModelProto:
    """A linear encoder that, on real digits only (their pixels spread), gives NaN ("nan"),
    one code fewer than images ("batch") or shorter codes ("size"). Plain images pass the load check."""
    nodes = _spread([helper.make_node("Gemm", ["pixels", "w"], ["z"], transB=1)])
    nodes += [helper.make_node("Mul", ["var", "big"], ["vb"]), helper.make_node("Clip", ["vb", "zero", "onef"], ["flag"])]
    if change == "nan":  # 0 x log(-flag): 0 x -inf... = NaN once flag > 0, 0 + log(1) = 0 before
        nodes += [helper.make_node("Neg", ["flag"], ["nf"]), helper.make_node("Add", ["nf", "onef"], ["pos"]),
                  helper.make_node("Sub", ["pos", "flag"], ["p2"]), helper.make_node("Log", ["p2"], ["l"]),
                  helper.make_node("Sqrt", ["l"], ["r"]), helper.make_node("Add", ["z", "r"], ["code"])]
    else:  # the slice's start (batch) or end (size) moves by the flag
        nodes += [helper.make_node("Ceil", ["flag"], ["c"]), helper.make_node("Cast", ["c"], ["ci"], to=I64)]
        if change == "batch":
            nodes.append(helper.make_node("Slice", ["z", "ci", "end", "ax0"], ["code"]))
        else:
            nodes += [helper.make_node("Sub", ["three", "ci"], ["e"]),
                      helper.make_node("Slice", ["z", "zero_i", "e", "ax1"], ["code"])]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", "d"])],
                 [("w", np.full((3, 784), 0.01, np.float32)), ("one", np.array([1], np.int64)),
                  ("big", np.array(1e6, np.float32)), ("zero", np.array(0, np.float32)), ("onef", np.array(1, np.float32)),
                  ("end", np.array([INT64_MAX], np.int64)), ("ax0", np.array([0], np.int64)), ("ax1", np.array([1], np.int64)),
                  ("three", np.array([3], np.int64)), ("zero_i", np.array([0], np.int64))])


def nested_ifs(depth: int) -> onnx.ModelProto:
    """An encoder whose If holds an If holds an If ... `depth` deep."""
    leaf = helper.make_graph([helper.make_node("Identity", ["c0"], ["y"])], "leaf", [], [value("y", [1], TensorProto.BOOL)])
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


def _pair_then(name: str, make):
    """A case: write `make()` (a model or bytes) as the file `name` of the folder."""
    return lambda folder: write(folder, name, make())


def _claims(m: onnx.ModelProto, n: int) -> onnx.ModelProto:
    m.graph.initializer[-1].dims[:] = [n]
    return m


def _length(m: onnx.ModelProto, n: int) -> onnx.ModelProto:
    for e in m.graph.initializer[-1].external_data:
        if e.key == "length":
            e.value = str(n)
    if not any(e.key == "length" for e in m.graph.initializer[-1].external_data):
        e = m.graph.initializer[-1].external_data.add()
        e.key, e.value = "length", str(n)
    return m


def _with_function(m: onnx.ModelProto) -> onnx.ModelProto:
    """A local function in the default domain called Relu, which computes something else."""
    m.functions.append(helper.make_function("", "Relu", ["X"], ["Y"], [helper.make_node("Neg", ["X"], ["Y"])],
                                            [helper.make_opsetid("", 17)]))
    return m


def _relu_with_graph() -> onnx.ModelProto:
    m = one_op_encoder("Relu")
    m.graph.node[0].attribute.append(helper.make_attribute("body", helper.make_graph([], "x", [], [])))
    return m


def _opsets(m: onnx.ModelProto, opsets) -> onnx.ModelProto:
    del m.opset_import[:]
    m.opset_import.extend(helper.make_opsetid(d, v) for d, v in opsets)
    return m


def _huge_conv_transpose() -> onnx.ModelProto:
    """A decoder whose ConvTranspose says its output is 1 x 60,000 x 60,000 per code."""
    nodes = [helper.make_node("Reshape", ["code", "shape"], ["c"]),
             helper.make_node("ConvTranspose", ["c", "k"], ["big"], output_shape=[60_000, 60_000], strides=[2, 2]),
             helper.make_node("Slice", ["big", "st", "en"], ["s"]), helper.make_node("Reshape", ["s", "flat"], ["pixels"])]
    return model(nodes, [("code", ["B", 3])], [("pixels", ["B", 784])],
                 [("shape", np.array([-1, 3, 1, 1], np.int64)), ("k", np.zeros((3, 1, 2, 2), np.float32)),
                  ("st", np.array([0, 0], np.int64)), ("en", np.array([28, 28], np.int64)), ("flat", np.array([-1, 784], np.int64))])


def _many_nodes(n: int) -> onnx.ModelProto:
    nodes = [helper.make_node("Identity", [f"v{i}" if i else "pixels"], [f"v{i + 1}" if i < n - 1 else "code"])
             for i in range(n)]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", 784])])


def _integer_code() -> onnx.ModelProto:
    nodes = [helper.make_node("Gemm", ["pixels", "w"], ["z"], transB=1), helper.make_node("Cast", ["z"], ["code"], to=I64)]
    return model(nodes, [("pixels", ["B", 784])], [value("code", ["B", 3], I64)], [("w", np.ones((3, 784), np.float32))])


def _constant_code(v: float) -> onnx.ModelProto:
    nodes = [helper.make_node("Gemm", ["pixels", "w", "b"], ["code"], transB=1)]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", 3])],
                 [("w", np.ones((3, 784), np.float32)), ("b", np.full(3, v, np.float32))])


def _infinite_decoder() -> onnx.ModelProto:
    nodes = [helper.make_node("MatMul", ["code", "w"], ["m"]), helper.make_node("Div", ["m", "zero"], ["pixels"])]
    return model(nodes, [("code", ["B", 3])], [("pixels", ["B", 784])],
                 [("w", np.ones((3, 784), np.float32)), ("zero", np.array(0, np.float32))])


def _with_training_info(m: onnx.ModelProto | None = None) -> onnx.ModelProto:
    m = m or one_op_encoder("Relu")
    info = m.training_info.add()
    info.algorithm.CopyFrom(helper.make_graph([], "train", [], [], [external(_bytes_tensor("t", 784), f"../{SECRET}")]))
    return m


SECRET = "secret.txt"  # a file outside the model's folder, in the working directory and the folder's parent
# what the attack is -> (how to make the folder so, the file the error names, what the error says)
LOAD_CASES = {
    "sparse initializer read from the working directory": (
        _pair_then(DECODER, lambda: file_reading_decoder(SECRET, "sparse values")), DECODER,
        f"'{SECRET}', not found beside it"),
    "sparse indices read from the working directory": (
        _pair_then(DECODER, lambda: file_reading_decoder(SECRET, "sparse indices")), DECODER,
        f"'{SECRET}', not found beside it"),
    "Constant sparse_value read from the working directory": (
        _pair_then(DECODER, lambda: file_reading_decoder(SECRET, "sparse constant")), DECODER,
        f"'{SECRET}', not found beside it"),
    "Constant value read from the working directory": (
        _pair_then(DECODER, lambda: file_reading_decoder(SECRET, "constant")), DECODER, f"'{SECRET}', not found beside it"),
    "initializer at ../": (
        _pair_then(DECODER, lambda: file_reading_decoder(f"../{SECRET}", "initializer")), DECODER,
        f"'../{SECRET}', not a plain file name in its folder"),
    "sparse initializer at ../": (
        _pair_then(DECODER, lambda: file_reading_decoder(f"../{SECRET}", "sparse values")), DECODER,
        "not a plain file name in its folder"),
    "initializer at /etc/passwd": (
        _pair_then(DECODER, lambda: file_reading_decoder("/etc/passwd", "initializer")), DECODER,
        "'/etc/passwd', not a plain file name in its folder"),
    "Constant sparse_value at /etc/passwd": (
        _pair_then(DECODER, lambda: file_reading_decoder("/etc/passwd", "sparse constant")), DECODER,
        "'/etc/passwd', not a plain file name in its folder"),
    "a hidden name (..)": (
        _pair_then(DECODER, lambda: file_reading_decoder("..", "initializer")), DECODER, "not a plain file name"),
    "a .data file linked to /etc/passwd": (
        lambda f: linked_weights(f, "/etc/passwd"), ENCODER, "encoder.onnx.data is a link to a file outside"),
    "a .data file linked to ../secret.txt": (
        lambda f: linked_weights(f, f"../{SECRET}"), ENCODER, "encoder.onnx.data is a link to a file outside"),
    "a graph linked to /etc/passwd": (
        lambda f: (os.unlink(f / ENCODER), os.symlink("/etc/passwd", f / ENCODER)), ENCODER,
        "encoder.onnx is a link to a file outside"),
    "a .data file that is a pipe": (
        lambda f: (linked_weights(f, "real.data"), os.unlink(f / "encoder.onnx.data"), os.mkfifo(f / "encoder.onnx.data")),
        ENCODER, "encoder.onnx.data is not a regular file"),
    "external data past the end of its file": (
        lambda f: (write(f, DECODER, file_reading_decoder("w.bin", "initializer")), write(f, "w.bin", b"x" * 100)),
        DECODER, "w.bin holds 100 bytes, too few for the tensor 'W'"),
    "external data claiming a terabyte": (
        lambda f: (write(f, DECODER, _claims(file_reading_decoder("w.bin", "initializer"), 10**12)),
                   write(f, "w.bin", b"x" * 784)), DECODER, "MB with its weights, over the 64 MB budget"),
    "external data with a length that is not its shape's": (
        lambda f: (write(f, DECODER, _length(file_reading_decoder("w.bin", "initializer"), 10)), write(f, "w.bin", b"x" * 784)),
        DECODER, "says it is 10 bytes at byte 0 of w.bin; its shape needs 784"),
    "external data in an If's branch": (
        _pair_then(ENCODER, lambda: if_with_external(f"../{SECRET}")), ENCODER, r"'If' \(control flow"),
    "Loop with INT64_MAX trips": (_pair_then(ENCODER, loop_encoder), ENCODER, r"'Loop' \(control flow"),
    "Loop whose trip count comes from the pixels": (
        _pair_then(ENCODER, lambda: loop_encoder(trip_from_pixels=True)), ENCODER, r"'Loop' \(control flow"),
    "Scan": (_pair_then(ENCODER, lambda: one_op_encoder("Scan", num_scan_inputs=1)), ENCODER, r"'Scan' \(control flow"),
    "custom domain": (_pair_then(ENCODER, lambda: one_op_encoder("Encode", "my.ops")), ENCODER,
                      "custom operator 'Encode' of domain 'my.ops'"),
    "ai.onnx.ml operator": (_pair_then(ENCODER, lambda: one_op_encoder("Normalizer", "ai.onnx.ml", norm="MAX")), ENCODER,
                            "custom operator 'Normalizer' of domain 'ai.onnx.ml'"),
    "a random operator": (_pair_then(ENCODER, lambda: one_op_encoder("RandomNormalLike")), ENCODER, "it is random"),
    "an operator no encoder needs": (_pair_then(ENCODER, lambda: one_op_encoder("NonMaxSuppression")), ENCODER,
                                     "'NonMaxSuppression' \\(not an operator encoders and decoders use"),
    "a local function named like a standard operator": (
        _pair_then(ENCODER, lambda: _with_function(one_op_encoder("Relu"))), ENCODER, "defines local functions"),
    "a subgraph on an allowed operator": (_pair_then(ENCODER, _relu_with_graph), ENCODER, "holds a subgraph"),
    "opset 1": (_pair_then(ENCODER, lambda: _opsets(one_op_encoder("Relu"), [("", 1)])), ENCODER, "imports the ONNX opset 1;"),
    "opset 99": (_pair_then(ENCODER, lambda: _opsets(one_op_encoder("Relu"), [("", 99)])), ENCODER, "opset 99;"),
    "two default opsets": (_pair_then(ENCODER, lambda: _opsets(one_op_encoder("Relu"), [("", 17), ("ai.onnx", 9)])),
                           ENCODER, "opset 2 versions"),
    "ConstantOfShape of 40 GB at load": (_pair_then(ENCODER, constant_of_shape_encoder), ENCODER,
                                         "'ConstantOfShape' \\(it makes a tensor of a size read from data"),
    "Expand": (_pair_then(ENCODER, lambda: one_op_encoder("Expand")), ENCODER, "'Expand' \\(it makes a tensor"),
    "a 14 GB tensor from allowed operators": (_pair_then(ENCODER, broadcast_bomb_encoder), ENCODER,
                                               "makes the tensor 'big' of 13,733 MB for one image, over the 64 MB"),
    "ConvTranspose asked for a huge output": (_pair_then(DECODER, lambda: _huge_conv_transpose()), DECODER,
                                              "MB for one image, over the 64 MB budget"),
    "a code size of 250,000": (_pair_then(ENCODER, lambda: code_size_encoder(250_000)), ENCODER,
                               "codes of size 250,000, over the 1,024"),
    "a code size of 1,000,000 left open in the graph": (
        _pair_then(ENCODER, lambda: code_size_encoder(1_000_000, declared=False)), ENCODER,
        "gives an output of shape \\(3, 1000000\\) for 3 inputs"),
    "protobuf of 8 million empty operators (16 MB)": (
        _pair_then(ENCODER, lambda: protobuf_bomb(8_000_000)), ENCODER, "over 500,000 protobuf messages"),
    "If nested 30 deep": (_pair_then(ENCODER, lambda: nested_ifs(30)), ENCODER, "messages nested more than 16 deep"),
    "subgraphs nested 10,000 deep": (_pair_then(ENCODER, lambda: deep_protobuf(10_000)), ENCODER,
                                     "messages nested more than 16 deep"),
    "20,000 operators": (_pair_then(ENCODER, lambda: _many_nodes(20_000)), ENCODER, "20,000 operators, over the budget"),
    "a graph over 64 MB": (_pair_then(ENCODER, lambda: b"\x00" * (65 * 2**20)), ENCODER, "65 MB with its weights, over"),
    "an integer output": (_pair_then(ENCODER, _integer_code), ENCODER, "its output holds int64 values, not floats"),
    "NaN codes at load": (_pair_then(ENCODER, lambda: _constant_code(np.nan)), ENCODER, "gave NaN or infinite values"),
    "infinite images at load": (_pair_then(DECODER, _infinite_decoder), DECODER, "gave NaN or infinite values"),
    "training graphs": (_pair_then(ENCODER, _with_training_info), ENCODER, "defines training graphs"),
}
