"""The code units one by one: how often each is active, what the first layer looks at, what each
unit draws, its input gradient and the images that excite it most (the Units page).

Codes are float32 (N, d); images a stack of the model's shape (display or batch layout) in [0, 1]
or uint8; what is drawn comes back in the display layout ((H, W) grey, (H, W, 3) colour). Models are used in eval mode
and asked what they are (code_activation, first_layer_weights), never changed.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..measure.metrics import sparsity_stats
from ..models import Unavailable
from ..pictures.pixels import as_image_batch, to_display
from .codec import check_images, decode_all, eval_mode, image_shape_of, model_device

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
    """Signed images (N, ...) (grey (N, h, w) or colour (N, h, w, 3)) -> [0, 1] for display, each
    on its own scale: 0.5 (grey) is zero, white the largest positive value, black the most
    negative (per channel for colour: a red tint is a positive red weight)."""
    w = np.asarray(weights, np.float64)
    top = np.abs(w).reshape(len(w), -1).max(axis=1).reshape(-1, *[1] * (w.ndim - 1))
    return (0.5 + 0.5 * w / np.where(top > 0, top, 1.0)).astype(np.float32)


def first_layer_filters(model, limit: int = 64) -> tuple[np.ndarray, str]:
    """(images (k <= limit, H, W) grey or (k, H, W, 3) colour, in [0, 1] via signed_to_unit, a
    note saying what they are), from model.first_layer_weights(): a dense layer's weight rows
    (units, C*H*W), one image of the model's shape per unit, or a conv's kernels (channels, C,
    k, k) upscaled to H x W (nearest). No images and a note saying why when the model cannot
    give its first layer's weights."""
    shape = image_shape_of(model)
    try:
        w = np.asarray(model.first_layer_weights())
    except Unavailable as why:
        return np.zeros((0, *shape.display), np.float32), f"No first-layer weight images: {why}"
    shown = f"{min(limit, len(w))} of {len(w)}"
    tint = "each channel: grey 0, bright +, dark -" if shape.colour else "grey 0, white +, black -"
    if w.ndim == 4:
        k = w.shape[-1]
        rows, cols = np.arange(shape.height) * k // shape.height, np.arange(shape.width) * k // shape.width
        kernels = to_display(w[:limit][:, :, rows][:, :, :, cols])
        size = f"{shape.height}x{shape.width}"
        return signed_to_unit(kernels), (f"first conv layer: {shown} {k}x{k} kernels, upscaled to {size} "
                                         f"(a conv body has no {size} weight images; {tint})")
    images = to_display(w[:limit].reshape(-1, *shape.chw))
    return signed_to_unit(images), f"first dense layer: weight rows of {shown} units ({tint})"


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
    """What each code unit draws (d, H, W[, 3]): the decoded unit_codes."""
    return decode_all(model, unit_codes(model, codes))


def input_gradient(model, images, unit: int, limit: int = 256) -> np.ndarray:
    """The unit's 'weight image' (H, W) or (H, W, 3) in [0, 1] (signed_to_unit): the gradient of code unit
    `unit` with respect to the pixels, averaged over the first `limit` images. For a shallow mlp
    this is the unit's weight row times the code activation's slope; for deeper or conv bodies it
    is the whole encoder's linearisation, which makes it comparable across bodies. Unavailable for
    a model without gradients (an ONNX graph)."""
    if getattr(model, "no_gradients", None):  # any other torch module has gradients
        raise Unavailable(f"no input gradient: {model.no_gradients}")
    shape = check_images(model, images)
    x = as_image_batch(images[:limit], shape).to(model_device(model)).clone().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
        (grad,) = torch.autograd.grad(model.encode(x)[:, unit].sum(), x)
    return signed_to_unit(to_display(grad.mean(dim=0, keepdim=True).detach().cpu()))[0]


def top_exciting(codes, unit: int, k: int = 12) -> np.ndarray:
    """Indices (k,) of the images whose code unit `unit` is largest, largest first."""
    values = np.asarray(codes)[:, unit]
    return np.argsort(-values, kind="stable")[:k]


class UnitView(NamedTuple):
    hist: Histogram         # the unit's values over the images
    frequency: float        # fraction of images on which it is active (|z| > ACTIVE_THRESHOLD)
    weight: np.ndarray | None  # (H, W[, 3]) input_gradient, None when the model has no gradients
    weight_note: str        # what the weight image is, or why there is none
    drawing: np.ndarray     # (H, W[, 3]) what it draws (unit_codes)
    top: np.ndarray         # (k,) indices of the images that excite it most
    top_values: np.ndarray  # (k,) their activations


def unit_view(model, codes, images, unit: int, k: int = 12) -> UnitView:
    """Everything the Units page shows about one unit, from the codes (N, d) of `images`."""
    codes = np.asarray(codes, np.float32)
    if not 0 <= unit < codes.shape[1]:
        raise ValueError(f"unit {unit} does not exist; this code has units 0..{codes.shape[1] - 1}")
    top = top_exciting(codes, unit, k)
    drawing = decode_all(model, unit_codes(model, codes)[unit])[0]
    try:
        weight, note = input_gradient(model, images, unit), "input gradient (weight image)"
    except Unavailable as why:
        weight, note = None, f"No weight image: {why}"
    return UnitView(histogram(codes[:, unit]), float((np.abs(codes[:, unit]) > ACTIVE_THRESHOLD).mean()),
                    weight, note, drawing, top, codes[top, unit])
