"""Hostile ONNX graphs that cost the host (tests/onnx_attacks.py has the ones that read files or
break the rules of a graph's form): tensors of gigabytes, hours of CPU, codes of a million values,
and outputs that change (NaN, another batch, another size) once real digits come, after plain
images passed the load check."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper
from onnx_attacks import I64, INT64_MAX, model, value


def constant_of_shape_encoder(n: int = 10**10) -> onnx.ModelProto:
    """An encoder that asks for a float tensor of n values (40 GB for the default) at load."""
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"]),
             helper.make_node("ReduceSum", ["big"], ["s"], keepdims=0),
             helper.make_node("Reshape", ["pixels", "flat"], ["v"]),
             helper.make_node("Gemm", ["v", "w"], ["z"], transB=1),
             helper.make_node("Add", ["z", "s"], ["code"])]
    return model(nodes, [("pixels", ["B", 1, 28, 28])], [("code", ["B", 3])],
                 [("shape", np.array([n], np.int64)), ("flat", np.array([-1, 784], np.int64)),
                  ("w", np.zeros((3, 784), np.float32))])


def broadcast_bomb_encoder(n: int = 60_000) -> onnx.ModelProto:
    """Only allowed operators: (n, 1) + (1, n) is n x n floats (14 GB for the default), known
    from the shapes before anything runs."""
    nodes = [helper.make_node("Add", ["col", "row"], ["big"]),
             helper.make_node("ReduceSum", ["big"], ["s"], keepdims=0),
             helper.make_node("Reshape", ["pixels", "flat"], ["v"]),
             helper.make_node("Gemm", ["v", "w"], ["z"], transB=1),
             helper.make_node("Add", ["z", "s"], ["code"])]
    return model(nodes, [("pixels", ["B", 1, 28, 28])], [("code", ["B", 3])],
                 [("col", np.zeros((n, 1), np.float32)), ("row", np.zeros((1, n), np.float32)),
                  ("flat", np.array([-1, 784], np.int64)), ("w", np.zeros((3, 784), np.float32))])


def _spread(nodes: list, out: str = "var") -> list:
    """Nodes computing `out` (1,): the largest variance of one image's pixels in the batch, 0 for
    plain images (the load check's black, grey and white), > 0 for a digit."""
    return nodes + [helper.make_node("Flatten", ["pixels"], ["flat_px"]),
                    helper.make_node("ReduceMean", ["flat_px"], ["mu"], keepdims=1, axes=[1]),
                    helper.make_node("Sub", ["flat_px", "mu"], ["dev"]),
                    helper.make_node("Mul", ["dev", "dev"], ["sq"]),
                    helper.make_node("ReduceMean", ["sq"], ["v_img"], keepdims=1, axes=[1]),
                    helper.make_node("ReduceMax", ["v_img"], ["v0"], keepdims=0),
                    helper.make_node("Reshape", ["v0", "one"], [out])]


def resize_bomb_encoder(factor: float = 3e4, hold: bool = False) -> onnx.ModelProto:
    """Passes the load check (plain images have no spread) and on real digits resizes the
    image by 1 + factor x the spread in each direction: gigabytes, on real data only. `hold`:
    three such tensors and their concatenation live at once, so that memory grows in steps
    (about 40x and 3 GB for 100 digits with factor=300) instead of one request over the limit."""
    nodes = _spread([]) + [
        helper.make_node("Mul", ["var", "factor"], ["fv"]), helper.make_node("Add", ["fv", "onef"], ["s"]),
        helper.make_node("Concat", ["ones2", "s", "s"], ["scales"], axis=0),
        helper.make_node("Resize", ["pixels", "", "scales"], ["big"])]
    if hold:
        nodes[-1].output[0] = "big1"
        nodes += [helper.make_node("Add", ["big1", "onef"], ["big2"]),
                  helper.make_node("Mul", ["big1", "big2"], ["big3"]),
                  helper.make_node("Concat", ["big1", "big2", "big3"], ["big"], axis=1)]
    nodes += [
        helper.make_node("ReduceMean", ["big"], ["m"], keepdims=0, axes=[1, 2, 3]),
        helper.make_node("Reshape", ["pixels", "flat"], ["v"]), helper.make_node("Gemm", ["v", "w"], ["z"], transB=1),
        helper.make_node("Unsqueeze", ["m", "ax1"], ["m1"]), helper.make_node("Add", ["z", "m1"], ["code"])]
    return model(nodes, [("pixels", ["B", 1, 28, 28])], [("code", ["B", 3])],
                 [("one", np.array([1], np.int64)), ("factor", np.array(factor, np.float32)),
                  ("onef", np.array(1, np.float32)), ("ones2", np.ones(2, np.float32)),
                  ("ax1", np.array([1], np.int64)),
                  ("flat", np.array([-1, 784], np.int64)), ("w", np.zeros((3, 784), np.float32))])


def slow_encoder(n: int = 2048, layers: int = 400, on_digits: bool = False) -> onnx.ModelProto:
    """No loop, allowed operators only, 16 KB of weights: `layers` products of (n x n) matrices
    made from the pixels, about 7 TFLOP for the defaults: minutes to hours of CPU for one call.
    `on_digits`: the matrices are 1 x 1 for plain images (the load check passes at once) and
    n x n once the pixels spread (a real digit)."""
    nodes = [helper.make_node("ReduceSum", ["pixels"], ["s1"], keepdims=0),
             helper.make_node("Mul", ["s1", "zero"], ["s"]),
             helper.make_node("Add", ["col", "row"], ["a"]), helper.make_node("Mul", ["a", "s"], ["h0"])]
    if on_digits:  # h0 = the top-left k x k of the matrix, k = 1 + 1e6 x the spread (at most n)
        nodes[-1].output[0] = "full"
        nodes = _spread(nodes) + [
            helper.make_node("Mul", ["var", "big"], ["vb"]), helper.make_node("Add", ["vb", "onef"], ["kf"]),
            helper.make_node("Cast", ["kf"], ["k1"], to=I64), helper.make_node("Concat", ["k1", "k1"], ["k"], axis=0),
            helper.make_node("Slice", ["full", "st", "k"], ["h0"])]
    for i in range(layers):  # h0 comes from the data: nothing to fold or prepack when the session starts
        nodes.append(helper.make_node("MatMul", [f"h{i}", "h0"], [f"h{i + 1}"]))
    nodes += [helper.make_node("ReduceSum", [f"h{layers}"], ["corner"], keepdims=0),
              helper.make_node("Gemm", ["pixels", "w"], ["z"], transB=1),
              helper.make_node("Add", ["z", "corner"], ["code"])]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", 3])],
                 [("col", np.full((n, 1), 1e-3, np.float32)), ("row", np.full((1, n), 1e-3, np.float32)),
                  ("st", np.array([0, 0], np.int64)), ("w", np.zeros((3, 784), np.float32)),
                  ("one", np.array([1], np.int64)), ("big", np.array(1e6, np.float32)),
                  ("onef", np.array(1, np.float32)),
                  ("zero", np.array(0, np.float32))])


def code_size_encoder(d: int, declared: bool = True) -> onnx.ModelProto:
    """An encoder giving codes of size d (a MatMul of the pixels' sum with a (1, d) row)."""
    nodes = [helper.make_node("ReduceSum", ["pixels", "ax1"], ["s"], keepdims=1),
             helper.make_node("Mul", ["s", "row"], ["code"])]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", d if declared else "d"])],
                 [("ax1", np.array([1], np.int64)), ("row", np.ones((1, d), np.float32))])


def data_dependent_encoder(change: str) -> onnx.ModelProto:
    """A linear encoder that, on real digits only (their pixels spread), gives NaN ("nan"),
    one code fewer than images ("batch") or shorter codes ("size"). Plain images pass the load check."""
    nodes = _spread([helper.make_node("Gemm", ["pixels", "w"], ["z"], transB=1)])
    nodes += [helper.make_node("Mul", ["var", "big"], ["vb"]),
              helper.make_node("Clip", ["vb", "zero", "onef"], ["flag"])]
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
                  ("big", np.array(1e6, np.float32)), ("zero", np.array(0, np.float32)),
                  ("onef", np.array(1, np.float32)),
                  ("end", np.array([INT64_MAX], np.int64)), ("ax0", np.array([0], np.int64)),
                  ("ax1", np.array([1], np.int64)),
                  ("three", np.array([3], np.int64)), ("zero_i", np.array([0], np.int64))])


def huge_conv_transpose() -> onnx.ModelProto:
    """A decoder whose ConvTranspose says its output is 1 x 60,000 x 60,000 per code."""
    nodes = [helper.make_node("Reshape", ["code", "shape"], ["c"]),
             helper.make_node("ConvTranspose", ["c", "k"], ["big"], output_shape=[60_000, 60_000], strides=[2, 2]),
             helper.make_node("Slice", ["big", "st", "en"], ["s"]),
             helper.make_node("Reshape", ["s", "flat"], ["pixels"])]
    return model(nodes, [("code", ["B", 3])], [("pixels", ["B", 784])],
                 [("shape", np.array([-1, 3, 1, 1], np.int64)), ("k", np.zeros((3, 1, 2, 2), np.float32)),
                  ("st", np.array([0, 0], np.int64)), ("en", np.array([28, 28], np.int64)),
                  ("flat", np.array([-1, 784], np.int64))])


def integer_code() -> onnx.ModelProto:
    nodes = [helper.make_node("Gemm", ["pixels", "w"], ["z"], transB=1),
             helper.make_node("Cast", ["z"], ["code"], to=I64)]
    return model(nodes, [("pixels", ["B", 784])], [value("code", ["B", 3], I64)],
                 [("w", np.ones((3, 784), np.float32))])


def constant_code(v: float) -> onnx.ModelProto:
    nodes = [helper.make_node("Gemm", ["pixels", "w", "b"], ["code"], transB=1)]
    return model(nodes, [("pixels", ["B", 784])], [("code", ["B", 3])],
                 [("w", np.ones((3, 784), np.float32)), ("b", np.full(3, v, np.float32))])


def infinite_decoder() -> onnx.ModelProto:
    nodes = [helper.make_node("MatMul", ["code", "w"], ["m"]), helper.make_node("Div", ["m", "zero"], ["pixels"])]
    return model(nodes, [("code", ["B", 3])], [("pixels", ["B", 784])],
                 [("w", np.ones((3, 784), np.float32)), ("zero", np.array(0, np.float32))])
