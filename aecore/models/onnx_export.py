"""An aecore checkpoint written as an ONNX model folder (aecore.models.onnx): encoder.onnx
(pixels (B, 1, 28, 28) in [0, 1] -> codes (B, d)), decoder.onnx (codes -> pixels in [0, 1]) and
onnx.json (name, dataset, prior, code activation), then loaded back and compared with the
original: the `python -m aecore export-onnx` command.
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

import numpy as np
import torch
from torch import nn

from ..checkpoint import DECODER, ENCODER, ONNX_JSON, Checkpoint, CheckpointError, _replace_dir, load_checkpoint
from ..latent.codec import decode_codes, encode_dataset

TOLERANCE = 1e-4  # the largest difference of a code or a pixel from the original's that export accepts


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


def onnx_json(ckpt: Checkpoint) -> dict:
    """What onnx.json says about an exported aecore model."""
    model = ckpt.model
    return {"name": (ckpt.config.get("about") or {}).get("title") or ckpt.name,
            "dataset": ckpt.dataset or "mnist", "input_range": [0, 1], "output": "probabilities",
            "kind": f"{model.kind} (onnx)", "prior": "normal" if model.has_prior else None,
            "code_activation": model.code_activation}


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
            _export(Half(model, "encode"), torch.rand(2, 1, 28, 28), ("pixels", "code"), tmp / ENCODER)
            _export(Half(model, "decode"), torch.randn(2, model.latent_dim), ("code", "pixels"), tmp / DECODER)
        (tmp / ONNX_JSON).write_text(json.dumps(onnx_json(ckpt), indent=2) + "\n")
        _replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def differences(original: nn.Module, exported: nn.Module, images) -> dict[str, float]:
    """The largest absolute differences of codes and of decoded pixels between two models on
    `images` (N, 28, 28): {"codes": ..., "images": ...}."""
    a, b = encode_dataset(original, images), encode_dataset(exported, images)
    return {"codes": float(np.abs(a - b).max()),
            "images": float(np.abs(decode_codes(original, a) - decode_codes(exported, a)).max())}
