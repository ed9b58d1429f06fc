"""What can be read from an ONNX graph without running it, checked before onnxruntime sees it:
the file is ONNX and whole (with any weights kept beside it read in from its own folder only:
onnx_files), within the budgets, made of the allowed operators only (onnx_ops); the layout of its
images (onnx_layouts), its code size, and the first layer's weights.

Every problem is a CheckpointError that names the file and says what to do.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from ..checkpoint import CheckpointError
from ..pictures.pixels import ImageShape
from . import onnx_files as files
from . import onnx_layouts as layouts
from . import onnx_ops as ops
from .autoencoder import Unavailable

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


def sizes(value: onnx.ValueInfoProto) -> list[int | str]:
    """The shape of a graph input or output as its file says it: a number, or a size's name
    ("height"), or "?" for a size left unknown."""
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in value.type.tensor_type.shape.dim]


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


def image_layout(model: onnx.ModelProto, file: Path, end: str, known: ImageShape | None) -> layouts.Layout:
    """The layout of the images at the encoder's input (end="input") or the decoder's first
    output (end="output"), with `known` the shape said elsewhere (onnx_layouts.read)."""
    value = only_input(model, file) if end == "input" else model.graph.output[0]
    return layouts.read(sizes(value), file, end, known)


def image_layouts(enc: onnx.ModelProto, dec: onnx.ModelProto, enc_file: Path, dec_file: Path,
                  said: ImageShape | None) -> tuple[layouts.Layout, layouts.Layout | None]:
    """(the encoder's input layout, the decoder's output layout where its sizes are fixed, else
    None for the load check to read from what it gives). The image shape comes from `said`
    (onnx.json's "image"), else the encoder's input, else (flat rows of a non-square image) the
    decoder's output; the two graphs must agree on it."""
    out_sizes, in_sizes = sizes(dec.graph.output[0]), sizes(only_input(enc, enc_file))
    fixed = len(out_sizes) > 1 and all(isinstance(d, int) and d > 0 for d in out_sizes[1:])
    known = said
    if known is None and fixed and len(out_sizes) > 2 and len(in_sizes) == 2:  # flat rows: the decoder's images say
        known = image_layout(dec, dec_file, "output", None).shape
    inputs = image_layout(enc, enc_file, "input", known)
    outputs = image_layout(dec, dec_file, "output", inputs.shape) if fixed else None
    for layout, file, what in ((inputs, enc_file, "takes"), (outputs, dec_file, "gives")):
        if said is not None and layout is not None and layout.shape != said:
            raise CheckpointError(f"{file} {what} {layout.shape} images {layout.name}, but onnx.json says "
                                  f"\"image\": {said.to_list()} ({said}); correct onnx.json or the graph")
    if outputs is not None:
        same_images(inputs, outputs, enc_file, dec_file)
    return inputs, outputs


def same_images(inputs: layouts.Layout, outputs: layouts.Layout, enc_file: Path, dec_file: Path) -> None:
    """CheckpointError naming both graphs when the decoder gives images of another shape."""
    if inputs.shape != outputs.shape:
        raise CheckpointError(f"{enc_file} takes {inputs.shape} images {inputs.name} but {dec_file} gives "
                              f"{outputs.shape} images {outputs.name}; the two graphs must come from one autoencoder")


def batch_size(model: onnx.ModelProto, file: Path) -> int | None:
    """The input's fixed batch size, or None for a free one."""
    return (dims(only_input(model, file)) or [None])[0]


def code_size(model: onnx.ModelProto, file: Path, end: str) -> int | None:
    """The code size at the encoder's first output (end="output") or the decoder's input ("input");
    None when the graph leaves it open."""
    value = model.graph.output[0] if end == "output" else only_input(model, file)
    shape = dims(value)
    if len(shape) != 2:
        raise CheckpointError(f"{file}: its {end} has shape {layouts.text(sizes(value))}; codes are (B, d)")
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


def first_layer_weights(model: onnx.ModelProto, layout: layouts.Layout) -> np.ndarray:
    """The weights of the first layer that sees the pixels, as Autoencoder.first_layer_weights
    gives them: (units, C*H*W) for a dense layer, its columns in the C, H, W order of the batch
    layout (N, C, H, W) whatever the graph's, or (channels, C, k, k) for a convolution. Raises
    Unavailable (saying why) when the graph does not store them where they can be read."""
    tensor, axes, order = _inputs(model)[0].name, layout.letters(), layout.axes()
    for _ in range(len(model.graph.node)):
        users = [n for n in model.graph.node if tensor in n.input]
        if len(users) != 1:
            raise Unavailable(f"the pixels go to {len(users)} operators at once, not to one first layer")
        node = users[0]
        if node.op_type in LAYERS and node.input[0] == tensor:
            return _first_weights(model, node, layout.shape, order)
        if node.op_type not in PASS_THROUGH:
            raise Unavailable(f"the first operator on the pixels is {node.op_type}, not a dense or convolution layer")
        if node.op_type == "Transpose":
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            moved = axes is not None and perm is not None and sorted(perm) == list(range(len(axes) + 1)) \
                and perm[0] == 0
            axes = [axes[p - 1] for p in perm[1:]] if moved else None
            order = tuple(axes) if moved else None
        elif node.op_type not in ("Cast", "Identity", "Mul", "Div", "Sub", "Add"):
            axes = None  # reshaped: the values keep their order, their axes are no longer known
        tensor = node.output[0]
    raise Unavailable("no dense or convolution layer reads the pixels")


def _first_weights(model: onnx.ModelProto, node: onnx.NodeProto, shape: ImageShape,
                   order: tuple[str, ...] | None) -> np.ndarray:
    """The first layer's weights: a dense layer's columns put in C, H, W order from `order`, the
    order in which the values it sees come (None: not known)."""
    w = _weight(model, node)
    if w is None:
        raise Unavailable(f"the first layer ({node.op_type}) computes its weights instead of storing them")
    if (w.ndim == 2 and w.shape[1] != shape.pixels) or (w.ndim == 4 and w.shape[1] != shape.channels) \
            or w.ndim not in (2, 4):
        raise Unavailable(f"the first layer ({node.op_type}, weights {tuple(w.shape)}) does not see the "
                          f"{shape.pixels:,} values of a {shape} image at once")
    if w.ndim == 2:
        letters = ("C", *(a for a in order if a != "C")) if order and shape.channels == 1 else order
        if letters is None or sorted(letters) != ["C", "H", "W"]:
            raise Unavailable(f"the first layer ({node.op_type}) sees the pixels after a transpose whose order "
                              "cannot be told")
        size = dict(zip("CHW", shape.chw))
        w = w.reshape(len(w), *(size[a] for a in letters))
        w = w.transpose(0, *(1 + letters.index(a) for a in "CHW")).reshape(len(w), -1)
    return np.ascontiguousarray(w, np.float32)


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
