"""ONNX model folders made in the tests: linear autoencoders built with onnx.helper, of digits in
any MNIST layout and of images of any shape in any layout (with numpy twins to compare against),
and torch modules exported as a user would."""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from aecore.checkpoint import DECODER, ENCODER, ONNX_JSON
from aecore.models.onnx_export import Half

README = Path(__file__).resolve().parent.parent / "README.md"
ITEMS = {"(B, 1, 28, 28)": [1, 28, 28], "(B, 28, 28)": [28, 28], "(B, 784)": [784], "(B, 28, 28, 1)": [28, 28, 1]}


def graph(nodes, inputs, output, weights: dict, opset: int = 17) -> onnx.ModelProto:
    """A checked model of `nodes` from inputs [(name, shape)] to output (name, shape)."""
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(output[0], TensorProto.FLOAT, output[1])],
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in weights.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    onnx.checker.check_model(model)
    return model


def linear_encoder(w: np.ndarray, b: np.ndarray, layout: str = "(B, 1, 28, 28)", batch="B",
                   first: str | None = None) -> onnx.ModelProto:
    """pixels -> Reshape (B, 784) -> Gemm with w (d, 784), b (d,) -> codes (B, d). `first`: an
    operator (e.g. "Relu") put before the reshape, so the first layer is no longer readable."""
    nodes, x = [], "pixels"
    if first:
        nodes.append(helper.make_node(first, [x], ["pre"]))
        x = "pre"
    nodes += [helper.make_node("Reshape", [x, "flat"], ["v"]),
              helper.make_node("Gemm", ["v", "w", "b"], ["code"], transB=1)]
    return graph(nodes, [("pixels", [batch, *ITEMS[layout]])], ("code", [batch, len(w)]),
                 {"w": w, "b": b, "flat": np.array([-1, 784], np.int64)})


def linear_decoder(w: np.ndarray, b: np.ndarray, d: int | None = None, logits: bool = False) -> onnx.ModelProto:
    """codes (B, d) -> MatMul with w (d, 784) + b -> Sigmoid (unless logits) -> pixels (B, 784)."""
    nodes = [helper.make_node("MatMul", ["code", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y" if not logits else "pixels"])]
    if not logits:
        nodes.append(helper.make_node("Sigmoid", ["y"], ["pixels"]))
    return graph(nodes, [("code", ["B", d or w.shape[0]])], ("pixels", ["B", 784]), {"w": w, "b": b})


def linear_pair(folder: Path, d: int = 3, seed: int = 0, layout: str = "(B, 1, 28, 28)", batch="B",
                meta: dict | None = None) -> dict:
    """Write a linear autoencoder's encoder.onnx, decoder.onnx (+ onnx.json from `meta`) into
    `folder`; returns its weights {"we" (d, 784), "be", "wd" (d, 784), "bd"}."""
    rng = np.random.default_rng(seed)
    w = {"we": rng.normal(0, 0.05, (d, 784)).astype(np.float32), "be": rng.normal(0, 0.1, d).astype(np.float32),
         "wd": rng.normal(0, 0.5, (d, 784)).astype(np.float32), "bd": rng.normal(0, 0.1, 784).astype(np.float32)}
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(linear_encoder(w["we"], w["be"], layout, batch), folder / ENCODER)
    onnx.save(linear_decoder(w["wd"], w["bd"], logits=bool(meta and meta.get("output") == "logits")), folder / DECODER)
    if meta is not None:
        (folder / ONNX_JSON).write_text(json.dumps(meta))
    return w


def export_torch(module: torch.nn.Module, example: torch.Tensor, file: Path) -> None:
    """torch.onnx.export as the README shows it (a free batch size), without its chatter."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (example,), str(file), dynamic_shapes=({0: torch.export.Dim("batch")},))


class ChannelsLast(torch.nn.Module):
    """A small conv autoencoder taking Keras' layout (B, 28, 28, 1) and giving (B, 28, 28, 1)."""

    def __init__(self, d: int = 2):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.code = torch.nn.Linear(4 * 14 * 14, d)
        self.out = torch.nn.Linear(d, 784)

    def encode(self, x):  # (B, 28, 28, 1) -> (B, d)
        return self.code(torch.relu(self.conv(x.permute(0, 3, 1, 2))).flatten(1))

    def decode(self, z):  # (B, d) -> (B, 28, 28, 1)
        return torch.sigmoid(self.out(z)).reshape(-1, 28, 28, 1)


def channels_last_folder(folder: Path, d: int = 2, seed: int = 0) -> ChannelsLast:
    """Export a ChannelsLast model (seeded weights) as an ONNX model folder; returns the model."""
    torch.manual_seed(seed)
    model = ChannelsLast(d).eval()
    folder.mkdir(parents=True, exist_ok=True)
    export_torch(Half(model, "encode"), torch.rand(2, 28, 28, 1), folder / ENCODER)
    export_torch(Half(model, "decode"), torch.zeros(2, d), folder / DECODER)
    return model


def readme_example() -> str:
    """The Python block of the README's "Bring your own model" section."""
    section = README.read_text().split("## Bring your own model", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_readme_example(folder: Path) -> Path:
    """Run the README's example in `folder`; the model folder it writes."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        exec(compile(readme_example(), str(README), "exec"), {})
    finally:
        os.chdir(cwd)
    return folder / "checkpoints" / "my-model"


# images of any shape: a linear autoencoder in the layouts an ONNX graph may have (onnx_layouts)
ITEM_OF = {"chw": lambda c, h, w: [c, h, w], "hwc": lambda c, h, w: [h, w, c], "hw": lambda c, h, w: [h, w],
           "flat": lambda c, h, w: [c * h * w]}


def in_graph_order(w: np.ndarray, chw: tuple[int, int, int], kind: str, order: str = "chw") -> np.ndarray:
    """Rows of values in C, H, W order (..., C*H*W) -> in the order a graph of layout `kind` (and
    flat `order`) flattens its images: H, W, C for channels last."""
    if kind == "hwc" or (kind == "flat" and order == "hwc"):
        return np.ascontiguousarray(w.reshape(-1, *chw).transpose(0, 2, 3, 1).reshape(w.shape))
    return w


def image_pair(folder: Path, chw=(3, 32, 32), inputs: str = "hwc", outputs: str | None = None, d: int = 4,
               seed: int = 0, meta: dict | None = None, order: str = "chw", input_sizes: list | None = None,
               output_sizes: list | None = None) -> dict:
    """Write a linear autoencoder of images `chw` into `folder`: encoder.onnx takes the layout
    `inputs` ("chw", "hwc", "hw", "flat"; flat rows in `order`) and flattens it as it comes (as
    Keras does: no transpose), decoder.onnx gives the layout `outputs` (default: the same). The
    sizes declared can be replaced (`input_sizes`, `output_sizes`: named sizes, another shape).
    Returns the weights in C, H, W order, as the explorer's batch layout has them: {"we" (d, P),
    "be", "wd" (d, P), "bd" (P,)}: codes = x.reshape(N, P) @ we.T + be, images = sigmoid(z @ wd + bd)."""
    outputs = outputs or inputs
    p = int(np.prod(chw))
    rng = np.random.default_rng(seed)
    w = {"we": rng.normal(0, 0.05, (d, p)).astype(np.float32), "be": rng.normal(0, 0.1, d).astype(np.float32),
         "wd": rng.normal(0, 0.5, (d, p)).astype(np.float32), "bd": rng.normal(0, 0.1, p).astype(np.float32)}
    we, wd, bd = (in_graph_order(w[k], chw, kind, order) for k, kind in (("we", inputs), ("wd", outputs),
                                                                             ("bd", outputs)))
    enc = graph([helper.make_node("Reshape", ["pixels", "flat"], ["v"]),
                 helper.make_node("Gemm", ["v", "w", "b"], ["code"], transB=1)],
                [("pixels", input_sizes or ["B", *ITEM_OF[inputs](*chw)])], ("code", ["B", d]),
                {"w": we, "b": w["be"], "flat": np.array([-1, p], np.int64)})
    dec = graph([helper.make_node("MatMul", ["code", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"]),
                 helper.make_node("Sigmoid", ["y"], ["s"]), helper.make_node("Reshape", ["s", "shape"], ["pixels"])],
                [("code", ["B", d])], ("pixels", output_sizes or ["B", *ITEM_OF[outputs](*chw)]),
                {"w": wd, "b": bd.reshape(-1), "shape": np.array([-1, *ITEM_OF[outputs](*chw)], np.int64)})
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(enc, folder / ENCODER)
    onnx.save(dec, folder / DECODER)
    if meta is not None:
        (folder / ONNX_JSON).write_text(json.dumps(meta))
    return w


class ColourChannelsLast(torch.nn.Module):
    """A small conv autoencoder of 32 x 32 colour images in Keras' layout (B, 32, 32, 3) both ways."""

    def __init__(self, d: int = 3):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.code = torch.nn.Linear(4 * 16 * 16, d)
        self.out = torch.nn.Linear(d, 3 * 32 * 32)

    def encode(self, x):  # (B, 32, 32, 3) -> (B, d)
        return self.code(torch.relu(self.conv(x.permute(0, 3, 1, 2))).flatten(1))

    def decode(self, z):  # (B, d) -> (B, 32, 32, 3)
        return torch.sigmoid(self.out(z)).reshape(-1, 32, 32, 3)


def colour_channels_last_folder(folder: Path, d: int = 3, seed: int = 0, meta: dict | None = None) -> ColourChannelsLast:
    """Export a ColourChannelsLast model (seeded weights) with torch.onnx.export as an ONNX model
    folder (+ onnx.json from `meta`); returns the model."""
    torch.manual_seed(seed)
    model = ColourChannelsLast(d).eval()
    folder.mkdir(parents=True, exist_ok=True)
    export_torch(Half(model, "encode"), torch.rand(2, 32, 32, 3), folder / ENCODER)
    export_torch(Half(model, "decode"), torch.zeros(2, d), folder / DECODER)
    if meta is not None:
        (folder / ONNX_JSON).write_text(json.dumps(meta))
    return model
