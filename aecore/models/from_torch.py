"""A notebook's own autoencoder, an encoder and a decoder (torch.nn.Module), checked on a few
images and written as an ONNX model folder (aecore.models.onnx) by the exporter `export-onnx`
uses (onnx_export), then loaded back as every visitor's model is and compared with the modules
within that command's TOLERANCE.

The modules are copied to the CPU in eval mode first: the notebook's own stay where they are, in
the mode they were in. Every problem with them is a ValueError that says what was found and what
the explorer expects, raised before anything is written where the app would look.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..checkpoint import DECODER, ENCODER, ONNX_JSON, CheckpointError, load_checkpoint
from ..pictures.pixels import ImageShape, as_image_batch, image_stack
from . import onnx_layouts as layouts
from .onnx_export import TOLERANCE, _export, differences
from .onnx_graphs import MAX_CODE_SIZE

PROBE = 16     # images the modules are first tried on
COMPARED = 64  # images the exported graphs are compared with the modules on


class First(nn.Module):
    """The module's first output: the code, when an encoder gives (mean, log-variance) as a VAE's does."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.module(x)
        return out[0] if isinstance(out, (tuple, list)) else out


class TorchPair(nn.Module):
    """The modules behind the interface every model has (aecore.models.autoencoder): images
    (B, C, H, W) in [0, 1] <-> codes (B, d), through the encoder's input layout (`inputs`), the
    decoder's output layout (`outputs`, read from what it gives) and the pixel range, as the
    exported graphs run (aecore.models.onnx.OnnxAutoencoder)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, inputs: layouts.Layout, meta: dict):
        super().__init__()
        self.encoder, self.decoder, self.meta, self.latent_dim = First(encoder), decoder, meta, 0
        self.inputs = self.outputs = inputs
        self.eval()

    @property
    def image_shape(self) -> ImageShape:
        return self.inputs.shape

    def graph_inputs(self, x: torch.Tensor) -> torch.Tensor:
        black, white = self.meta["input_range"]
        return self.inputs.to_graph(black + as_image_batch(x, self.image_shape) * (white - black))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.graph_inputs(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self.outputs.from_graph(self.decoder(z))
        return torch.sigmoid(out) if self.meta["output"] == "logits" else out


def _cpu_copy(module, role: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise ValueError(f"the {role} is a {type(module).__name__}, not a torch.nn.Module")
    try:
        return copy.deepcopy(module).cpu().eval()
    except Exception as e:  # noqa: BLE001 -- any failure of the user's module is reported as such
        raise ValueError(f"the {role} could not be copied to the CPU for export ({_first_line(e)})") from None


def _first_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}"


def _reason(e: BaseException) -> str:
    """The innermost cause's first line, without colours: torch.onnx.export's own error only
    says which of its steps failed."""
    while e.__cause__ is not None:
        e = e.__cause__
    return re.sub(r"\x1b\[[0-9;]*m", "", _first_line(e))


@contextlib.contextmanager
def _quiet():
    """torch.export's warnings and the graphs it prints stay out of the notebook: the error says
    what failed. (Its log handlers hold the notebook's stream, so the loggers are turned down.)"""
    logger, level = logging.getLogger("torch"), logging.getLogger("torch").level
    logger.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def _layouts(shape: ImageShape, given: tuple[int, ...] | None) -> list[layouts.Layout]:
    """The encoder's input layouts to try for images of `shape`: the notebook's images' own first
    (`given`: their shape without the batch), then the others."""
    found = layouts.candidates(shape)
    return sorted(found, key=lambda layout: layout.item != tuple(given or ()))


def _code(pair: TorchPair, x: torch.Tensor, given: tuple[int, ...] | None) -> torch.Tensor:
    """The encoder's codes of `x` (N, C, H, W) in the first layout it takes; ValueError naming
    the image shape and the layouts tried when it takes none."""
    first_error, tried = None, _layouts(pair.image_shape, given)
    for layout in tried:
        pair.inputs = layout
        try:
            z = pair.encode(x)
        except Exception as e:  # noqa: BLE001
            first_error = first_error or f"on inputs of shape {(len(x), *layout.item)}: {_first_line(e)}"
            continue
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or len(z) != len(x):
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"the encoder gave {shape} for {len(x)} images of shape {(len(x), *layout.item)}; it "
                             "must give one code per image, (B, d) (a tuple's first item is taken as the code)")
        return z
    raise ValueError(f"the encoder failed on the images' shape, {pair.image_shape} ({x.shape[1]}x{x.shape[2]}x"
                     f"{x.shape[3]}), in every layout the explorer knows ({', '.join(t.name for t in tried)}); "
                     f"first {first_error}")


def _outputs(pair: TorchPair, out, n: int) -> layouts.Layout:
    """The layout of the decoder's images `out` for `n` codes: the encoder's image shape in any
    layout; ValueError naming both shapes otherwise."""
    shape = pair.image_shape
    layout = None
    if isinstance(out, torch.Tensor) and out.ndim >= 2 and len(out) == n:
        try:
            layout = layouts.read([None, *out.shape[1:]], Path("decoder"), "output", shape)
        except CheckpointError:
            layout = None
    if layout is None or layout.shape != shape:
        found = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        names = ", ".join(t.name for t in layouts.candidates(shape))
        raise ValueError(f"the decoder gave {found} for {n} codes; it must give images of the encoder's shape, "
                         f"{shape} ({shape.pixels:,} values per code), e.g. {names}")
    return layout.ordered(pair.inputs, pair.meta.get("flat_order"))


def check_modules(pair: TorchPair, pixels: np.ndarray, given: tuple[int, ...] | None) -> int:
    """Run the first PROBE images (display layout (N, H, W[, 3]) in [0, 1], of the shape the pair
    takes) through both modules; the code size, or ValueError naming what is wrong (an output's
    shape, NaN, pixels out of range)."""
    x = as_image_batch(pixels[:PROBE], pair.image_shape)
    with torch.no_grad():
        z = _code(pair, x, given)
        if not 1 <= z.shape[1] <= MAX_CODE_SIZE:
            raise ValueError(f"the encoder gives codes of size {z.shape[1]}; the explorer takes 1 to {MAX_CODE_SIZE}")
        if not torch.isfinite(z).all():
            raise ValueError("the encoder gave NaN or infinite codes for the first images: check its weights")
        try:
            out = pair.decoder(z.float())
        except Exception as e:  # noqa: BLE001
            raise ValueError(f"the decoder does not take the encoder's codes, shape {tuple(z.shape)}: {_first_line(e)}") from None
        pair.outputs = _outputs(pair, out, len(z))
        if not torch.isfinite(out).all():
            raise ValueError("the decoder gave NaN or infinite pixels for the first codes: check its weights")
        if pair.meta["output"] == "probabilities" and (out.min() < -1e-6 or out.max() > 1 + 1e-6):
            raise ValueError(f"the decoder gave pixels from {out.min():.3g} to {out.max():.3g}; the explorer expects "
                             "pixels in [0, 1] (end it with a sigmoid), or pass output='logits' if a sigmoid makes them")
    pair.latent_dim = z.shape[1]
    return z.shape[1]


def write_onnx_folder(encoder, decoder, folder: Path, pixels: np.ndarray, layout: tuple[int, ...] | None,
                      meta: dict) -> int:
    """Export the modules into `folder` (new) as encoder.onnx, decoder.onnx and onnx.json (`meta`
    and the images' shape, without a dataset: add it once its images are in place), checked as
    above on `pixels` (images of any shape, in the display layout (N, H, W[, 3]) or the batch
    layout; `layout` the encoder's input layout to try first), then load the folder and compare
    it with the modules on `pixels`; the code size."""
    pixels = image_stack(pixels[:COMPARED])  # a float copy of these only: a notebook's set may be large
    shape = ImageShape.of(pixels)
    meta = {"input_range": [0.0, 1.0], "output": "probabilities", **meta,  # onnx.json's defaults
            "image": shape.to_list()}  # said, so that flat rows of a non-square image open too
    pair = TorchPair(_cpu_copy(encoder, "encoder"), _cpu_copy(decoder, "decoder"), layouts.Layout("chw", shape), meta)
    d = check_modules(pair, pixels, layout)
    folder.mkdir(parents=True)
    example = pair.graph_inputs(torch.from_numpy(pixels[:2]))
    for module, x, names, file, role in ((pair.encoder, example, ("pixels", "code"), ENCODER, "encoder"),
                                         (pair.decoder, torch.zeros(2, d), ("code", "pixels"), DECODER, "decoder")):
        try:
            with torch.no_grad(), _quiet():
                _export(module, x, names, folder / file)
        except Exception as e:  # noqa: BLE001 -- the exporter's own errors are many and long
            raise ValueError(f"the {role} could not be exported to ONNX by torch.onnx.export ({_reason(e)}); "
                             "the explorer runs models as ONNX graphs, so it must be traceable: no `if` on "
                             "the data's values") from None
    (folder / ONNX_JSON).write_text(json.dumps(meta, indent=2) + "\n")
    _compare(pair, folder, pixels)
    return d


def _compare(pair: TorchPair, folder: Path, pixels: np.ndarray) -> None:
    """Load the folder as the app will and compare it with the modules, as export-onnx does."""
    try:
        exported = load_checkpoint(folder).model
    except CheckpointError as e:
        raise ValueError(f"the exported graphs were refused: {_inside(e, folder)}") from None
    try:
        diff = differences(pair, exported, pixels)
    except CheckpointError as e:
        raise ValueError(f"the exported graphs failed on the images: {_inside(e, folder)}") from None
    finally:
        exported.encoder_graph.sandbox.close()  # its worker process ends now; the app loads its own
    if max(diff.values()) > TOLERANCE:
        raise ValueError(f"the exported graphs differ from the modules by up to {max(diff.values()):.1e} (codes "
                         f"{diff['codes']:.1e}, pixels {diff['images']:.1e}; at most {TOLERANCE:g} is accepted): "
                         "is the encoder random in eval mode? It must give the same code for the same image")


def _inside(e: Exception, folder: Path) -> str:
    """The loader's message, naming the files without the temporary folder they were written to."""
    return str(e).replace(f"{folder}{os.sep}", "")
