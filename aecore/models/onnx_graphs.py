"""What can be read from an ONNX graph without running it, checked before onnxruntime sees it:
the file is ONNX and whole (with any weights kept beside it read in from its own folder only:
onnx_files), within the budgets, made of the allowed operators only (onnx_ops); its input's
layout, its code size, and the first layer's weights.

Every problem is a CheckpointError that names the file and says what to do.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from ..checkpoint import CheckpointError
from . import onnx_files as files
from . import onnx_ops as ops
from .autoencoder import Unavailable

# the input layouts an encoder may have: their shape without the batch dimension
LAYOUTS = {"(B, 1, 28, 28)": (1, 28, 28), "(B, 28, 28)": (28, 28), "(B, 784)": (784,),
           "(B, 28, 28, 1)": (28, 28, 1)}
FLOAT = onnx.TensorProto.FLOAT
EXPORT_HINT = "export it again with torch.onnx.export or tf2onnx"
MAX_CODE_SIZE = 1024  # the largest code aecore trains (config.py); 70,000 such codes take 290 MB in the server


def read_graph(file: Path) -> tuple[onnx.ModelProto, int]:
    """(the parsed and checked graph in `file`, with any weights kept beside it read in; how many
    inputs one call of it may take). Checked before onnxruntime sees it: a regular file within
    budget (onnx_files), allowed operators only (onnx_ops), no file left to read, and no tensor
    over budget where its shapes say."""
    model = files.read_model(file)
    ops.check_structure(model, file)  # before any other file is opened for it
    files.inline_weights(model, file, files.MAX_GRAPH_BYTES - file.stat().st_size)
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as e:
        why = " ".join(str(e).split())[:300] or type(e).__name__
        raise CheckpointError(f"{file}: not a whole ONNX model ({why}); {EXPORT_HINT}") from None
    return model, ops.plan_rows(model, file)


def dims(value: onnx.ValueInfoProto) -> list[int | None]:
    """The shape of a graph input or output; None for a named or unknown size."""
    return [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]


def shape_text(shape: list[int | None]) -> str:
    return "(" + ", ".join("B" if i == 0 and d is None else "?" if d is None else str(d)
                           for i, d in enumerate(shape)) + ")"


def _inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    weights = {t.name for t in model.graph.initializer}  # older exporters list weights as inputs
    return [i for i in model.graph.input if i.name not in weights]


def only_input(model: onnx.ModelProto, file: Path) -> onnx.ValueInfoProto:
    """The graph's one float input."""
    inputs = _inputs(model)
    if len(inputs) != 1:
        raise CheckpointError(f"{file}: has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
                              "the explorer feeds one batch of images (encoder) or of codes (decoder)")
    if inputs[0].type.tensor_type.elem_type != FLOAT:
        kind = onnx.TensorProto.DataType.Name(inputs[0].type.tensor_type.elem_type).lower()
        raise CheckpointError(f"{file}: its input {inputs[0].name!r} is {kind}; export it with a float32 input")
    return inputs[0]


def input_layout(model: onnx.ModelProto, file: Path) -> tuple[str, int | None]:
    """(the name of the encoder's input layout in LAYOUTS, its fixed batch size or None)."""
    shape = dims(only_input(model, file))
    fits = [name for name, want in LAYOUTS.items() if len(shape) == len(want) + 1
            and all(d is None or d == w for d, w in zip(shape[1:], want))]
    if len(fits) != 1:
        problem = "fits none of" if not fits else "could be any of"
        raise CheckpointError(f"{file}: its input has shape {shape_text(shape)}, which {problem} the layouts "
                              f"{', '.join(LAYOUTS)} of 28 x 28 grey digits; export it with one of them")
    return fits[0], shape[0]


def code_size(model: onnx.ModelProto, file: Path, end: str) -> int | None:
    """The code size at the encoder's first output (end="output") or the decoder's input ("input");
    None when the graph leaves it open."""
    value = model.graph.output[0] if end == "output" else only_input(model, file)
    shape = dims(value)
    if len(shape) != 2:
        raise CheckpointError(f"{file}: its {end} has shape {shape_text(shape)}; codes are (B, d)")
    return shape[1]


def constant(model: onnx.ModelProto, name: str) -> np.ndarray | None:
    """The value of an initializer or Constant node output named `name`, or None."""
    for t in model.graph.initializer:
        if t.name == name:
            return numpy_helper.to_array(t)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output[0] == name and node.attribute[0].type == onnx.AttributeProto.TENSOR:
            return numpy_helper.to_array(node.attribute[0].t)
    return None


def parameter_count(model: onnx.ModelProto) -> int:
    """The numbers of the stored float tensors (weights and biases; not shapes or indices)."""
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer if t.data_type == FLOAT)


LAYERS = ("Gemm", "MatMul", "Conv", "ConvTranspose")
# what may stand between the pixels and the first layer: reshaping, casting and rescaling
PASS_THROUGH = ("Reshape", "Flatten", "Transpose", "Cast", "Identity", "Squeeze", "Unsqueeze",
                "Mul", "Div", "Sub", "Add")


def _weight(model: onnx.ModelProto, node: onnx.NodeProto) -> np.ndarray | None:
    """A layer's weight as torch stores it: dense (out, in), convolution (out, in, k, k)."""
    w = constant(model, node.input[1]) if len(node.input) > 1 else None
    if w is None:
        return None
    trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
    if node.op_type == "MatMul" or (node.op_type == "Gemm" and not trans_b):
        return w.T if w.ndim == 2 else None
    return w


def first_layer_weights(model: onnx.ModelProto) -> np.ndarray:
    """The weights of the first layer that sees the pixels, as Autoencoder.first_layer_weights
    gives them: (units, 784) for a dense layer, (channels, 1, k, k) for a convolution. Raises
    Unavailable (saying why) when the graph does not store them where they can be read."""
    tensor = _inputs(model)[0].name
    for _ in range(len(model.graph.node)):
        users = [n for n in model.graph.node if tensor in n.input]
        if len(users) != 1:
            raise Unavailable(f"the pixels go to {len(users)} operators at once, not to one first layer")
        node = users[0]
        if node.op_type in LAYERS and node.input[0] == tensor:
            w = _weight(model, node)
            if w is None:
                raise Unavailable(f"the first layer ({node.op_type}) computes its weights instead of storing them")
            if (w.ndim == 2 and w.shape[1] != 784) or (w.ndim == 4 and w.shape[1] != 1):
                raise Unavailable(f"the first layer ({node.op_type}, weights {tuple(w.shape)}) does not "
                                  "see the 784 pixels of a digit at once")
            return w.astype(np.float32)
        if node.op_type not in PASS_THROUGH:
            raise Unavailable(f"the first operator on the pixels is {node.op_type}, not a dense or convolution layer")
        tensor = node.output[0]
    raise Unavailable("no dense or convolution layer reads the pixels")


def layer_widths(model: onnx.ModelProto) -> list[str]:
    """The width of each stored dense or convolution layer's output, in graph order: '64' for
    dense, '32ch' for convolutions."""
    widths = []
    for node in model.graph.node:
        w = _weight(model, node) if node.op_type in LAYERS else None
        if w is not None:
            out = w.shape[1] if node.op_type == "ConvTranspose" else w.shape[0]
            widths.append(f"{out}ch" if w.ndim == 4 else str(out))
    return widths
