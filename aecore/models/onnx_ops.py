"""What an ONNX graph may ask onnxruntime to do: the operators encoders and decoders use, nothing
else, and no tensor bigger than a budget where the graph's shapes say so before it runs.

OPERATORS is the allow-list, by what the operators are for. It holds what torch.onnx.export
(dynamo and TorchScript) writes for aecore's own mlp and conv models, the README's example and the
common torch layers (batch and layer norm, pooling, upsampling, the usual activations), and what
tf2onnx writes for Keras Dense, Conv2D(Transpose), pooling and upsampling layers: MatMul + Add,
Transpose around Conv, Reshape with Shape/Gather/Concat arithmetic, Cast, Squeeze, Unsqueeze. All
are in the default ONNX domain. Control flow (Loop, Scan, If), operators that make a tensor of a
size read from data (ConstantOfShape, Expand, Tile, Range), random ones, sequences, custom domains
and local functions are refused with their name.

The shapes are inferred with a batch of one image (onnx's shape inference, without running
anything); a tensor whose size is known that way is refused over MAX_TENSOR_BYTES, and a graph is
run on as many images at once as keep its largest tensor under CALL_TENSOR_BYTES. Sizes only the
data can say are bounded by the worker's memory limit (onnx_sandbox).
"""
from __future__ import annotations

from pathlib import Path

import onnx
from onnx import helper

from ..checkpoint import CheckpointError
from .onnx_files import SMALL

OPERATORS = {  # what they are for -> the operators (ONNX names, the default domain)
    "layers": ("Gemm", "MatMul", "Conv", "ConvTranspose", "BatchNormalization", "LayerNormalization",
               "InstanceNormalization"),
    "activations": ("Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Sigmoid", "HardSigmoid",
                    "HardSwish", "Tanh", "Softplus", "Softsign", "Softmax", "LogSoftmax", "Mish",
                    "ThresholdedRelu", "Clip", "Erf"),
    "arithmetic": ("Add", "Sub", "Mul", "Div", "Neg", "Abs", "Sqrt", "Exp", "Log", "Pow", "Reciprocal", "Max",
                   "Min", "Sum", "Mean", "Mod", "Floor", "Ceil", "Round", "Sign"),
    "comparisons": ("Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Equal", "Not", "And", "Or", "Where"),
    "shapes": ("Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Gather",
               "Shape", "Size", "Identity", "Cast", "CastLike", "Constant", "Dropout", "Pad"),
    "pooling and resizing": ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool",
                             "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "ReduceMean", "ReduceSum",
                             "ReduceMax", "ReduceMin", "ReduceL2"),
}
ALLOWED = frozenset(op for ops in OPERATORS.values() for op in ops)
REFUSED = {  # why some operators an attacker reaches for are not on the list
    **dict.fromkeys(("Loop", "Scan", "If"), "control flow: an autoencoder needs none, and a loop may never end"),
    **dict.fromkeys(("ConstantOfShape", "Expand", "Tile", "Range"), "it makes a tensor of a size read from data"),
    **dict.fromkeys(("RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
                     "Bernoulli"), "it is random: the explorer caches codes, which must not change"),
}
MIN_OPSET = 7                     # the first opset with today's broadcasting; onnxruntime runs 7 and later
MAX_NODES = 5_000                 # operators in one graph: aecore's exports have 4 to 7
MAX_TENSOR_BYTES = 64 * 2**20     # one tensor for one image: a 256-channel 128 x 128 feature map is 16 MB
CALL_TENSOR_BYTES = 256 * 2**20   # the largest tensor of one call, which sets how many images a call takes
MAX_ROWS = 1024                   # images (or codes) in one call at most
SMALL_CONSTANT = 4096             # initializers up to this many values go to shape inference with their values
EXPORT_WITHOUT = "export the model without it (torch.onnx.export or tf2onnx of plain layers)"


def check_structure(model: onnx.ModelProto, file: Path) -> None:
    """CheckpointError naming `file` unless the graph is one flat list of allowed operators of
    the default domain, at an opset onnx knows, with no functions, subgraphs or training graphs."""
    graph = model.graph
    if len(graph.node) > MAX_NODES:
        raise CheckpointError(f"{file}: {len(graph.node):,} operators, over the budget of {MAX_NODES:,} for one "
                              f"graph; {SMALL}")
    if model.functions or model.training_info:
        what = "local functions" if model.functions else "training graphs"
        raise CheckpointError(f"{file}: defines {what}, which the explorer does not run; {EXPORT_WITHOUT}")
    _check_opset(model, file)
    for node in graph.node:
        if node.domain not in ("", "ai.onnx"):
            raise CheckpointError(f"{file}: uses the custom operator {node.op_type[:60]!r} of domain "
                                  f"{node.domain[:60]!r}; the explorer runs standard ONNX operators only (the "
                                  f"default domain); {EXPORT_WITHOUT}")
        if node.op_type not in ALLOWED:
            why = REFUSED.get(node.op_type, "not an operator encoders and decoders use")
            raise CheckpointError(f"{file}: uses the operator {node.op_type[:60]!r} ({why}); the explorer runs "
                                  f"{len(ALLOWED)} standard operators ({', '.join(OPERATORS)}: listed in "
                                  f"aecore/models/onnx_ops.py); {EXPORT_WITHOUT}")
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) or a.g.ByteSize() or len(a.graphs)
               for a in node.attribute):
            raise CheckpointError(f"{file}: its {node.op_type} operator holds a subgraph; {EXPORT_WITHOUT}")


def _check_opset(model: onnx.ModelProto, file: Path) -> None:
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    newest = onnx.defs.onnx_opset_version()
    if len(versions) != 1 or not MIN_OPSET <= versions[0] <= newest:
        found = versions[0] if len(versions) == 1 else f"{len(versions)} versions"
        raise CheckpointError(f"{file}: imports the ONNX opset {found}; the explorer runs opsets {MIN_OPSET} to "
                              f"{newest}; export with one of them (e.g. torch.onnx.export(..., opset_version=17))")


def plan_rows(model: onnx.ModelProto, file: Path) -> int:
    """How many images (or codes) one call may take: a fixed batch (at most MAX_ROWS), or as many
    as keep the largest tensor whose size the shapes say under CALL_TENSOR_BYTES (at most
    MAX_ROWS); CheckpointError naming `file` when one image (or the fixed batch) alone needs a
    tensor over MAX_TENSOR_BYTES."""
    batch = _fixed_batch(model)
    if batch and batch > MAX_ROWS:
        raise CheckpointError(f"{file}: made for a fixed batch of {batch:,}, over the {MAX_ROWS:,} the explorer runs "
                              "at once; export it with a free batch size (torch.onnx.export's dynamic_shapes)")
    biggest, name = _largest_tensor(model, file)
    if biggest > MAX_TENSOR_BYTES:
        per = f"its fixed batch of {batch:,}" if batch else "one image"
        raise CheckpointError(f"{file}: makes the tensor {name[:60]!r} of {biggest / 2**20:,.0f} MB for {per}, "
                              f"over the {MAX_TENSOR_BYTES // 2**20} MB budget for one tensor; {SMALL}")
    return batch or max(1, min(MAX_ROWS, CALL_TENSOR_BYTES // max(biggest, 1)))


def _fixed_batch(model: onnx.ModelProto) -> int | None:
    """The first dimension of the graph's (first) data input, when the graph fixes it."""
    weights = {t.name for t in model.graph.initializer}
    data = [v for v in model.graph.input if v.name not in weights][:1]
    dims = data[0].type.tensor_type.shape.dim if data else []
    return dims[0].dim_value if len(dims) and dims[0].HasField("dim_value") else None


def _largest_tensor(model: onnx.ModelProto, file: Path) -> tuple[int, str]:
    """(bytes, name) of the largest tensor whose size shape inference knows for a batch of one."""
    try:
        inferred = onnx.shape_inference.infer_shapes(_shapes_only(model), strict_mode=False, data_prop=False)
    except (onnx.shape_inference.InferenceError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{file}: its shapes do not fit together ({' '.join(str(e).split())[:200]}); export "
                              "it again with torch.onnx.export or tf2onnx") from None
    biggest, name = 0, ""
    for value in [*inferred.graph.value_info, *inferred.graph.output]:
        t = value.type.tensor_type
        if not t.HasField("shape") or not all(d.HasField("dim_value") for d in t.shape.dim):
            continue
        size = helper.tensor_dtype_to_np_dtype(t.elem_type).itemsize if t.elem_type in _NUMERIC else 8
        for d in t.shape.dim:
            size *= max(d.dim_value, 0)
        if size > biggest:
            biggest, name = size, value.name
    return biggest, name


_NUMERIC = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE,
            onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT16, onnx.TensorProto.UINT16,
            onnx.TensorProto.INT32, onnx.TensorProto.UINT32, onnx.TensorProto.INT64, onnx.TensorProto.UINT64,
            onnx.TensorProto.BOOL}


def _shapes_only(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model for shape inference: its operators, a batch of one, and only the small
    initializers' values (shapes, axes, scales); the weights become inputs of their shape."""
    light = onnx.ModelProto(ir_version=model.ir_version, opset_import=model.opset_import)
    g, src = light.graph, model.graph
    g.node.extend(src.node)
    g.output.extend(src.output)
    weights = {t.name for t in src.initializer}
    for value in src.input:
        if value.name not in weights:
            copy = g.input.add()
            copy.CopyFrom(value)
            dims = copy.type.tensor_type.shape.dim
            if len(dims) and not dims[0].HasField("dim_value"):
                dims[0].dim_value = 1  # the batch
    for t in src.initializer:
        count = 1
        for d in t.dims:
            count *= d
        if count <= SMALL_CONSTANT:
            g.initializer.append(t)
        else:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    for sparse in src.sparse_initializer:
        g.input.append(helper.make_tensor_value_info(sparse.values.name, sparse.values.data_type, list(sparse.dims)))
    return light
