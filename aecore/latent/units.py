"""The code units one by one: how often each is active, what the first layer looks at, what each
unit draws, its input gradient and the images that excite it most (the Units page).

Codes are float32 (N, d); images (N, 28, 28) in [0, 1] or uint8. Models are used in eval mode
and asked what they are (code_activation, first_layer_weights), never changed.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..measure.metrics import sparsity_stats
from ..models import Unavailable
from ..pictures.pixels import SIDE, as_image_batch
from .codec import decode_codes, eval_mode, model_device

ACTIVE_THRESHOLD = 0.1  # a unit is active on an image when |z| > 0.1 (see code_activity)


class Histogram(NamedTuple):
    centres: np.ndarray     # (bins,) bin centres
    fractions: np.ndarray   # (bins,) fraction of the values in each bin (sums to 1)
    width: float            # bin width


def histogram(values, bins: int = 40) -> Histogram:
    """Histogram of all values (any shape), as fractions of their count."""
    v = np.asarray(values, np.float64).ravel()
    counts, edges = np.histogram(v, bins=bins)
    return Histogram((edges[:-1] + edges[1:]) / 2, counts / max(len(v), 1), float(edges[1] - edges[0]))


def code_activity(codes, threshold: float = ACTIVE_THRESHOLD) -> tuple[dict, Histogram]:
    """(metrics.sparsity_stats of |codes|, histogram of all code values). A unit is active on an
    image when |z| > threshold (0.1): for sigmoid and ReLU codes, which are never negative, that
    is z > 0.1; taking |z| keeps units of unbounded codes that are mostly negative from counting
    as dead. 'dead_units' are active on no image."""
    codes = np.asarray(codes, np.float32)
    return sparsity_stats(np.abs(codes), threshold), histogram(codes)


def signed_to_unit(weights) -> np.ndarray:
    """Signed images (N, h, w) -> [0, 1] for display, each on its own scale: 0.5 (grey) is zero,
    white the largest positive value, black the most negative."""
    w = np.asarray(weights, np.float64)
    top = np.abs(w).reshape(len(w), -1).max(axis=1).reshape(-1, 1, 1)
    return (0.5 + 0.5 * w / np.where(top > 0, top, 1.0)).astype(np.float32)


def first_layer_filters(model, limit: int = 64) -> tuple[np.ndarray, str]:
    """(images (k <= limit, 28, 28) in [0, 1] via signed_to_unit, a note saying what they are),
    from model.first_layer_weights(): a dense layer's weight rows (units, 784), or a conv's
    kernels (channels, 1, k, k) upscaled to 28 x 28 (nearest). No images (0, 28, 28) and a note
    saying why when the model cannot give its first layer's weights."""
    try:
        w = np.asarray(model.first_layer_weights())
    except Unavailable as why:
        return np.zeros((0, SIDE, SIDE), np.float32), f"No first-layer weight images: {why}"
    shown = f"{min(limit, len(w))} of {len(w)}"
    if w.ndim == 4:
        idx = np.arange(SIDE) * w.shape[-1] // SIDE
        kernels = w[:limit, 0][:, idx][:, :, idx]
        k = w.shape[-1]
        return signed_to_unit(kernels), (f"first conv layer: {shown} {k}x{k} kernels, upscaled to 28x28 "
                                         "(a conv body has no 28x28 weight images)")
    return signed_to_unit(w[:limit].reshape(-1, SIDE, SIDE)), \
        f"first dense layer: weight rows of {shown} units (grey 0, white +, black -)"


def unit_codes(model, codes) -> np.ndarray:
    """One code per unit (d, d) showing what that unit draws. Sigmoid codes: the one-hot code e_i
    (unit i fully on, all others off). ReLU codes: e_i times the unit's largest activation on
    `codes` (1 for a dead unit). Unbounded codes: the mean code plus 3 standard deviations of
    unit i along unit i, since an all-zero code may lie far from the data."""
    codes = np.asarray(codes, np.float32)
    d = codes.shape[1]
    if model.code_activation == "sigmoid":
        return np.eye(d, dtype=np.float32)
    if model.code_activation == "relu":
        top = codes.max(axis=0)
        return np.diag(np.where(top > 0, top, 1.0)).astype(np.float32)
    return (codes.mean(axis=0) + np.diag(3 * codes.std(axis=0))).astype(np.float32)


DRAWING_RULES = {"sigmoid": "the one-hot code (the unit at 1, all others at 0)",
                 "relu": "the one-hot code at the unit's largest activation on the test {item}s",
                 None: "the mean code pushed 3 standard deviations along the unit"}


def drawing_rule(model, item: str = "image") -> str:
    """One line for the user: which code unit_codes decodes for this model."""
    return DRAWING_RULES[model.code_activation].format(item=item)


def unit_drawings(model, codes) -> np.ndarray:
    """What each code unit draws (d, 28, 28): the decoded unit_codes."""
    return decode_codes(model, unit_codes(model, codes))


def input_gradient(model, images, unit: int, limit: int = 256) -> np.ndarray:
    """The unit's 'weight image' (28, 28) in [0, 1] (signed_to_unit): the gradient of code unit
    `unit` with respect to the pixels, averaged over the first `limit` images. For a shallow mlp
    this is the unit's weight row times the code activation's slope; for deeper or conv bodies it
    is the whole encoder's linearisation, which makes it comparable across bodies. Unavailable for
    a model without gradients (an ONNX graph)."""
    if getattr(model, "no_gradients", None):  # any other torch module has gradients
        raise Unavailable(f"no input gradient: {model.no_gradients}")
    x = as_image_batch(images[:limit]).to(model_device(model)).clone().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
        (grad,) = torch.autograd.grad(model.encode(x)[:, unit].sum(), x)
    return signed_to_unit(grad.mean(dim=0).detach().cpu().numpy())[0]


def top_exciting(codes, unit: int, k: int = 12) -> np.ndarray:
    """Indices (k,) of the images whose code unit `unit` is largest, largest first."""
    values = np.asarray(codes)[:, unit]
    return np.argsort(-values, kind="stable")[:k]


class UnitView(NamedTuple):
    hist: Histogram         # the unit's values over the images
    frequency: float        # fraction of images on which it is active (|z| > ACTIVE_THRESHOLD)
    weight: np.ndarray | None  # (28, 28) input_gradient, None when the model has no gradients
    weight_note: str        # what the weight image is, or why there is none
    drawing: np.ndarray     # (28, 28) what it draws (unit_codes)
    top: np.ndarray         # (k,) indices of the images that excite it most
    top_values: np.ndarray  # (k,) their activations


def unit_view(model, codes, images, unit: int, k: int = 12) -> UnitView:
    """Everything the Units page shows about one unit, from the codes (N, d) of `images`."""
    codes = np.asarray(codes, np.float32)
    if not 0 <= unit < codes.shape[1]:
        raise ValueError(f"unit {unit} does not exist; this code has units 0..{codes.shape[1] - 1}")
    top = top_exciting(codes, unit, k)
    drawing = decode_codes(model, unit_codes(model, codes)[unit])[0]
    try:
        weight, note = input_gradient(model, images, unit), "input gradient (weight image)"
    except Unavailable as why:
        weight, note = None, f"No weight image: {why}"
    return UnitView(histogram(codes[:, unit]), float((np.abs(codes[:, unit]) > ACTIVE_THRESHOLD).mean()),
                    weight, note, drawing, top, codes[top, unit])
