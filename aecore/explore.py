"""What the Latent map, Generate, Denoise and Units pages compute, as pure functions of models and arrays.

Images are float32 (N, 28, 28) with pixels in [0, 1] (uint8 [0, 255] inputs are accepted);
codes are float32 (N, d). Models are used in eval mode and never changed. Every random choice
takes a seed.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import torch
from torch import nn

from . import images as pictures
from .latent import (as_image_batch, decode_codes, decoding_grid, encode_dataset, eval_mode,
                     interpolate, sample_codes)
from .metrics import median_filter, psnr, sparsity_stats, ssim
from .noise import corrupt

ACTIVE_THRESHOLD = 0.1  # a unit is active on an image when |z| > 0.1 (see code_activity)
CURVE_LEVELS = (0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0)  # noise levels of the PSNR curve


def _float_images(images) -> np.ndarray:
    return as_image_batch(images).numpy()[:, 0]  # (N, 28, 28) float32 in [0, 1]


# --- maps ---

def pca_map(codes, seed: int = 0) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """A 2-D map of codes (N, d) -> (points (N, 2) float32, place) where place(new codes (M, d))
    -> (M, 2) puts new codes on the same map. 2-D codes are their own map; 1-D codes get y = 0;
    otherwise a PCA fitted on `codes` with random_state=seed (as latent.project(codes, "pca"))."""
    codes = np.asarray(codes, np.float32)
    d = codes.shape[1]
    if d <= 2:
        def place(z):
            z = np.asarray(z, np.float32).reshape(-1, d)
            return np.hstack([z, np.zeros((len(z), 2 - d), np.float32)])
        return place(codes), place
    from sklearn.decomposition import PCA
    pca = PCA(n_components=2, random_state=seed).fit(codes)

    def place(z):
        return pca.transform(np.asarray(z, np.float32).reshape(-1, d)).astype(np.float32)
    return place(codes), place


def selection_csv(index, labels, xy) -> str:
    """The selected points as CSV text: a header `index,label,x,y`, then one row per point
    (dataset index, label, map coordinates in float32's shortest exact form)."""
    index, labels, xy = np.asarray(index), np.asarray(labels), np.asarray(xy, np.float32)
    if not len(index) == len(labels) == len(xy):
        raise ValueError(f"need as many labels and map positions as indices, got {len(index)}, "
                         f"{len(labels)} and {len(xy)}")
    rows = (f"{int(i)},{int(c)},{str(x)},{str(y)}" for i, c, (x, y) in zip(index, labels, xy))
    return "\n".join(["index,label,x,y", *rows]) + "\n"


# --- generate ---

def sample_images(model: nn.Module, n: int, seed: int, codes=None) -> np.ndarray:
    """n decoded samples (n, 28, 28): from the prior N(0, I) for a vae, otherwise from a Gaussian
    fitted to `codes` (the encoded train split)."""
    return decode_codes(model, sample_codes(model, n, seed, codes))


def interpolation(model: nn.Module, z_a, z_b, steps: int, method: str = "linear"
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The path from code z_a to z_b (steps, d), 'linear' or 'slerp', and its decoded frames
    (steps, 28, 28)."""
    path = interpolate(z_a, z_b, steps, method)
    return path, decode_codes(model, path)


def code_ranges(codes, dims: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, mean), each (min(d, dims),), for sliders over the first `dims` code units:
    the 0.5th to 99.5th percentile of each unit, widened by 10% on both sides."""
    c = np.asarray(codes, np.float64)[:, :dims]
    lo, hi = np.percentile(c, [0.5, 99.5], axis=0)
    pad = np.maximum(0.1 * (hi - lo), 1e-3)
    return lo - pad, hi + pad, c.mean(axis=0)


def decode_one(model: nn.Module, code) -> np.ndarray:
    """One code (d,) -> its decoded image (28, 28)."""
    return decode_codes(model, np.asarray(code, np.float32).reshape(1, -1))[0]


def manifold(model: nn.Module, codes, n: int = 15) -> tuple[np.ndarray, tuple]:
    """For a 2-D code: the decoded n x n grid (n * n, 28, 28), row-major with the top row at the
    largest y, over the map's range (1st to 99th percentile of `codes` on each axis, so a few
    outliers do not leave the grid mostly empty), and its extent (xmin, xmax, ymin, ymax)."""
    lo, hi = np.percentile(np.asarray(codes, np.float64), [1, 99], axis=0)
    grid, extent = decoding_grid(model, n, span=((lo[0], hi[0]), (lo[1], hi[1])))
    return decode_codes(model, grid), extent


# --- denoise ---

def picture_input(data: bytes, name: str | None = None) -> np.ndarray:
    """Uploaded picture bytes -> the MNIST-style (28, 28) input the model sees.
    Raises images.ImageError (not an image, too large, empty) with a message for the user."""
    return pictures.mnist_style(pictures.load_picture(data, name=name))


def canvas_input(rgba) -> np.ndarray:
    """A drawing canvas's RGBA (H, W, 4) -> the MNIST-style (28, 28) input the model sees.
    Raises images.ImageError when nothing is drawn."""
    return pictures.mnist_style(pictures.from_canvas_rgba(rgba))


class Denoised(NamedTuple):
    noisy: np.ndarray       # (28, 28) the corrupted input
    outputs: dict           # name -> (28, 28): "noisy input", each model, "median filter"
    psnr: dict              # name -> PSNR in dB against the clean image
    ssim: dict              # name -> SSIM against the clean image
    codes: np.ndarray       # (2, d): the first model's codes of the clean and the noisy image


def _restore(noisy: np.ndarray, models: dict) -> dict:
    """name -> restored images (N, 28, 28) for noisy images (N, 28, 28): the noisy input itself,
    each model's reconstruction, and the 3 x 3 median filter."""
    out = {"noisy input": noisy}
    for name, model in models.items():
        out[name] = decode_codes(model, encode_dataset(model, noisy))
    out["median filter"] = median_filter(noisy)
    return out


def denoise(clean, kind: str, level: float, seed: int, models: dict) -> Denoised:
    """Corrupt one clean image (28, 28) with noise `kind` at `level` (seeded) and restore it with
    each model in `models` (name -> model, at least one) and the median filter."""
    clean = _float_images(np.asarray(clean)[None])
    noisy = corrupt(clean, kind, level, generator=seed)
    outputs = _restore(noisy, models)
    first = next(iter(models.values()))
    return Denoised(noisy[0], {k: v[0] for k, v in outputs.items()},
                    {k: float(psnr(clean, v)[0]) for k, v in outputs.items()},
                    {k: float(ssim(clean, v)[0]) for k, v in outputs.items()},
                    encode_dataset(first, np.concatenate([clean, noisy])))


def psnr_curve(clean, kind: str, models: dict, seed: int = 0,
               levels=CURVE_LEVELS) -> dict:
    """Mean PSNR in dB over the clean images (N, 28, 28) at each noise level: {"levels": [...],
    name: [dB per level]} for the noisy input, each model and the median filter."""
    clean = _float_images(clean)
    curve = {"levels": [float(v) for v in levels]}
    for level in levels:
        noisy = corrupt(clean, kind, float(level), generator=seed)
        for name, out in _restore(noisy, models).items():
            curve.setdefault(name, []).append(float(psnr(clean, out).mean()))
    return curve


# --- units ---

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


def first_layer_filters(model: nn.Module, limit: int = 64) -> tuple[np.ndarray, str]:
    """(images (k <= limit, 28, 28) in [0, 1] via signed_to_unit, a note saying what they are).
    mlp body: the first Linear layer's weight rows (784 -> hidden[0], or 784 -> code for a
    shallow net). conv body: the first conv's 3 x 3 kernels, upscaled to 28 x 28 (nearest)."""
    first = next((m for m in model.encoder.modules() if isinstance(m, (nn.Linear, nn.Conv2d))), None)
    if first is None:  # shallow mlp: the encoder only flattens, the code layer sees the pixels
        b = model.bottleneck
        first = b.linear if hasattr(b, "linear") else b.mu
    w = first.weight.detach().cpu().numpy()
    shown = f"{min(limit, len(w))} of {len(w)}"
    if isinstance(first, nn.Conv2d):
        idx = np.arange(28) * w.shape[-1] // 28
        kernels = w[:limit, 0][:, idx][:, :, idx]
        return signed_to_unit(kernels), (f"first conv layer: {shown} 3x3 kernels, upscaled to 28x28 "
                                         "(a conv body has no 28x28 weight images)")
    return signed_to_unit(w[:limit].reshape(-1, 28, 28)), \
        f"first dense layer: weight rows of {shown} units (grey 0, white +, black -)"


def unit_codes(model: nn.Module, codes) -> np.ndarray:
    """One code per unit (d, d) showing what that unit draws. Sparse sigmoid codes: the one-hot
    code e_i (unit i fully on, all others off). Sparse ReLU codes: e_i times the unit's largest
    activation on `codes` (1 for a dead unit). Any other code: the mean code plus 3 standard
    deviations of unit i along unit i, since an all-zero code may lie far from the data."""
    codes = np.asarray(codes, np.float32)
    d = codes.shape[1]
    activation = getattr(model.bottleneck, "code_activation", None)
    if activation == "sigmoid":
        return np.eye(d, dtype=np.float32)
    if activation == "relu":
        top = codes.max(axis=0)
        return np.diag(np.where(top > 0, top, 1.0)).astype(np.float32)
    return (codes.mean(axis=0) + np.diag(3 * codes.std(axis=0))).astype(np.float32)


def drawing_rule(model: nn.Module) -> str:
    """One line for the user: which code unit_codes decodes for this model."""
    return {"sigmoid": "the one-hot code (the unit at 1, all others at 0)",
            "relu": "the one-hot code at the unit's largest activation on the test digits"}.get(
        getattr(model.bottleneck, "code_activation", None),
        "the mean code pushed 3 standard deviations along the unit")


def unit_drawings(model: nn.Module, codes) -> np.ndarray:
    """What each code unit draws (d, 28, 28): the decoded unit_codes."""
    return decode_codes(model, unit_codes(model, codes))


def input_gradient(model: nn.Module, images, unit: int, limit: int = 256) -> np.ndarray:
    """The unit's 'weight image' (28, 28) in [0, 1] (signed_to_unit): the gradient of code unit
    `unit` with respect to the pixels, averaged over the first `limit` images. For a shallow mlp
    this is the unit's weight row times the code activation's slope; for deeper or conv bodies it
    is the whole encoder's linearisation, which makes it comparable across bodies."""
    x = as_image_batch(images[:limit]).clone().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
        (grad,) = torch.autograd.grad(model.encode(x)[:, unit].sum(), x)
    return signed_to_unit(grad.mean(dim=0).detach().numpy())[0]


def top_exciting(codes, unit: int, k: int = 12) -> np.ndarray:
    """Indices (k,) of the images whose code unit `unit` is largest, largest first."""
    values = np.asarray(codes)[:, unit]
    return np.argsort(-values, kind="stable")[:k]


class UnitView(NamedTuple):
    hist: Histogram         # the unit's values over the images
    frequency: float        # fraction of images on which it is active (|z| > ACTIVE_THRESHOLD)
    weight: np.ndarray      # (28, 28) input_gradient
    drawing: np.ndarray     # (28, 28) what it draws (unit_codes)
    top: np.ndarray         # (k,) indices of the images that excite it most
    top_values: np.ndarray  # (k,) their activations


def unit_view(model: nn.Module, codes, images, unit: int, k: int = 12) -> UnitView:
    """Everything the Units page shows about one unit, from the codes (N, d) of `images`."""
    codes = np.asarray(codes, np.float32)
    if not 0 <= unit < codes.shape[1]:
        raise ValueError(f"unit {unit} does not exist; this code has units 0..{codes.shape[1] - 1}")
    top = top_exciting(codes, unit, k)
    drawing = decode_one(model, unit_codes(model, codes)[unit])
    return UnitView(histogram(codes[:, unit]), float((np.abs(codes[:, unit]) > ACTIVE_THRESHOLD).mean()),
                    input_gradient(model, images, unit), drawing, top, codes[top, unit])
