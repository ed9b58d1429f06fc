"""An aecore checkpoint written as an ONNX model folder (aecore.models.onnx): encoder.onnx
(pixels (B, C, H, W) of the model's image shape in [0, 1] -> codes (B, d)), decoder.onnx (codes ->
pixels (B, C, H, W) in [0, 1]) and onnx.json (name, dataset, prior, code activation, image shape),
then loaded back and compared with the original: the `python -m aecore export-onnx` command.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from ..checkpoint import DECODER, ENCODER, ONNX_JSON, Checkpoint, CheckpointError, _replace_dir, load_checkpoint
from ..pictures.pixels import MNIST, ImageShape, as_image_batch

TOLERANCE = 1e-4  # the largest difference of a code or a pixel from the original's that export accepts
BATCH = 256       # images compared at once


class Half(nn.Module):
    """One half of a model as a module of its own, for the exporter: encode or decode."""

    def __init__(self, model: nn.Module, half: str):
        super().__init__()
        self.model, self.half = model, half

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return getattr(self.model, self.half)(t)


def _export(module: nn.Module, example: torch.Tensor, names: tuple[str, str], file: Path) -> None:
    """torch.onnx.export with a free batch size and every weight inside the file, quietly."""
    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(module, (example,), str(file), input_names=[names[0]], output_names=[names[1]],
                          dynamic_shapes=({0: batch},), dynamo=True, external_data=False, verbose=False)


def image_shape(model: nn.Module) -> ImageShape:
    """The images a model takes (checkpoints from before image shapes were recorded: MNIST's)."""
    return getattr(model, "image_shape", MNIST)


def onnx_json(ckpt: Checkpoint) -> dict:
    """What onnx.json says about an exported aecore model."""
    model = ckpt.model
    return {"name": (ckpt.config.get("about") or {}).get("title") or ckpt.name,
            "dataset": ckpt.dataset or "mnist", "input_range": [0, 1], "output": "probabilities",
            "kind": f"{model.kind} (onnx)", "prior": "normal" if model.has_prior else None,
            "code_activation": model.code_activation, "image": image_shape(model).to_list()}


def export_onnx(checkpoint: str | Path, out: str | Path) -> Path:
    """Write the aecore checkpoint at `checkpoint` as an ONNX model folder `out` (atomically:
    into a temporary sibling, then renamed). Returns `out`."""
    ckpt, out = load_checkpoint(checkpoint), Path(out)
    if not hasattr(ckpt.model, "config"):
        raise CheckpointError(f"{ckpt.path}: already a folder of ONNX graphs; copy it instead")
    model = ckpt.model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        with torch.no_grad():
            example = torch.rand(2, *image_shape(model).chw)
            _export(Half(model, "encode"), example, ("pixels", "code"), tmp / ENCODER)
            _export(Half(model, "decode"), torch.randn(2, model.latent_dim), ("code", "pixels"), tmp / DECODER)
        (tmp / ONNX_JSON).write_text(json.dumps(onnx_json(ckpt), indent=2) + "\n")
        _replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def differences(original: nn.Module, exported: nn.Module, images) -> dict[str, float]:
    """The largest absolute differences of codes and of decoded pixels between two models on
    `images` (N, H, W[, 3]) or (N, C, H, W) of their shape: {"codes": ..., "images": ...}."""
    shape, worst = image_shape(original), {"codes": 0.0, "images": 0.0}
    original.eval()
    with torch.no_grad():
        for start in range(0, len(images), BATCH):
            x = as_image_batch(images[start:start + BATCH], shape)
            a, b = original.encode(x).float(), exported.encode(x).float()
            pictures = original.decode(a).float(), exported.decode(a).float()
            worst["codes"] = max(worst["codes"], float((a - b).abs().max()))
            worst["images"] = max(worst["images"], float((pictures[0] - pictures[1]).abs().max()))
    return worst


def comparison_images(ckpt: Checkpoint, n: int = 1000):
    """(images of the checkpoint's shape to compare an export on, what they are): the bundled
    MNIST sample's test digits for MNIST-shaped models, else its dataset's test images where this
    machine has them, else seeded uniform noise of its shape."""
    from ..data import datasets, load_dataset
    shape = image_shape(ckpt.model)
    for name in ["mnist-sample"] if shape == MNIST else [ckpt.dataset]:
        if name in datasets():
            try:
                data = load_dataset(name, "test")
            except (OSError, ValueError):
                continue
            if ImageShape.of(data.images) == shape:
                return data.images[:n], f"{min(n, len(data.images)):,} {name} test images"  # mnist-sample: 1,000
    noise = torch.rand(n, *shape.chw, generator=torch.Generator().manual_seed(0))
    return noise, f"{n:,} images of uniform noise ({shape}, seed 0)"
