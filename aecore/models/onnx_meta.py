"""onnx.json: what the two graphs of an ONNX model folder (aecore.models.onnx) cannot say
themselves. Every field is optional; each given one is checked, and every problem is a
CheckpointError naming the file.
"""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import ONNX_JSON, CheckpointError, read_json
from ..checks import lookup
from ..data.registry import datasets
from ..pictures.pixels import ImageShape
from .onnx_layouts import ORDERS

DEFAULTS = {
    "name": None,                  # the title on the model card (default: the folder's name)
    "dataset": "mnist",            # what it was trained on: a dataset name of aecore.data
    "input_range": [0.0, 1.0],     # the pixel values the encoder expects, black to white
    "output": "probabilities",     # the decoder gives pixels in [0, 1], or "logits" (sigmoid applied)
    "kind": "onnx",                # a label for people (pickers, captions)
    "prior": None,                 # "normal": codes have the prior N(0, I) (a VAE's); null: none
    "code_activation": None,       # "sigmoid" or "relu" for squashed codes, null for unbounded
    "image": None,                 # [C, H, W]: needed only for flat rows (B, C*H*W) of a non-square image
    "flat_order": None,            # "chw" or "hwc": the order of flat rows' values (default: see onnx_layouts)
}
OUTPUTS = {"probabilities": "pixels in [0, 1]", "logits": "logits (a sigmoid makes them pixels)"}
PRIORS = {"normal": "N(0, I)"}
ACTIVATIONS = {"sigmoid": "sigmoid", "relu": "relu"}
NULLABLE = ("prior", "code_activation", "image", "flat_order")  # null: none, or read from the graphs


def _field(file: Path, key: str, value):
    """onnx.json's value for `key`, checked; CheckpointError naming the file otherwise."""
    try:
        if value is None and key in NULLABLE:
            return None
        if key in ("name", "dataset", "kind") and not isinstance(value, str):
            raise ValueError(f"{key} must be a string, got {value!r}")
        if key == "input_range":
            if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
                    and value[0] < value[1]):
                raise ValueError(f"input_range must be [black, white], e.g. [0, 1] or [0, 255], got {value!r}")
            return [float(v) for v in value]
        if key == "image":
            return ImageShape.from_list(value, "image").to_list()
        choices = {"output": OUTPUTS, "prior": PRIORS, "code_activation": ACTIVATIONS, "flat_order": ORDERS,
                   "dataset": datasets()}  # a user's own set too, as a checkpoint's config may name
        if key in choices:
            lookup(choices[key], value, key)
        return value
    except ValueError as e:
        raise CheckpointError(f"{file}: {e}") from None


def read_onnx_json(folder: Path) -> dict:
    """onnx.json of the folder with DEFAULTS for what it leaves out (all of it without the file)."""
    file = folder / ONNX_JSON
    meta = dict(DEFAULTS, name=folder.name)
    if not file.is_file():
        return meta
    given = read_json(file)  # bounded in size, every kind of bad JSON a CheckpointError
    if not isinstance(given, dict):
        raise CheckpointError(f"{file}: expected an object such as {{\"name\": \"my model\"}}")
    for key, value in given.items():
        if key not in DEFAULTS:
            raise CheckpointError(f"{file}: unknown field {key!r}; valid: {', '.join(DEFAULTS)}")
        meta[key] = _field(file, key, value)
    return meta
