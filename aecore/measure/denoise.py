"""Denoising, measured: corrupt clean images, restore them with each model and the median filter,
and score every output by PSNR (dB) and SSIM against the clean image.

Images are in the display layout, float32 (N, H, W) grey or (N, H, W, 3) colour with pixels in
[0, 1] (uint8 [0, 255] inputs are accepted). Colour images are noised per channel value, median
filtered per channel, and their SSIM is the mean of the three channels' SSIMs (as scikit-image's
structural_similarity(channel_axis=-1)); PSNR is over all values. SSIM's 11 x 11 window needs
images of at least 11 pixels a side: on smaller ones (8x8 digits) it is not measured (None).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..latent.codec import encode_dataset, reconstruct
from ..pictures.noise import corrupt
from ..pictures.pixels import image_stack
from .metrics import median_filter, psnr, ssim

SSIM_WINDOW = 11  # the side of SSIM's Gaussian window (metrics.ssim): smaller images have no SSIM

CURVE_LEVELS = (0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0)  # noise levels of the PSNR curve
# the setting metrics.json reports (denoise_psnr, ...): Gaussian sigma 0.5, seed 0
STANDARD = {"kind": "gaussian", "level": 0.5, "seed": 0}


def _planes(images: np.ndarray) -> np.ndarray:
    """A display stack -> one grey plane per image and channel: (N, H, W) stays, (N, H, W, 3)
    becomes (N * 3, H, W), image by image."""
    return images if images.ndim == 3 else np.moveaxis(images, -1, 1).reshape(-1, *images.shape[1:3])


def channel_median(images: np.ndarray) -> np.ndarray:
    """The 3 x 3 median filter of each image (N, H, W) or (N, H, W, 3), channel by channel."""
    if images.ndim == 3:
        return median_filter(images)
    return np.moveaxis(median_filter(np.moveaxis(images, -1, 1)), 1, -1)


def image_ssim(clean: np.ndarray, output: np.ndarray) -> np.ndarray | None:
    """Per-image SSIM (N,) of display stacks (metrics.ssim), the mean over channels for colour;
    None for images smaller than SSIM_WINDOW pixels a side."""
    if min(clean.shape[1:3]) < SSIM_WINDOW:
        return None
    channels = 1 if clean.ndim == 3 else clean.shape[3]
    return ssim(_planes(clean), _planes(output)).reshape(len(clean), channels).mean(axis=1)


def restore(noisy: np.ndarray, models: dict) -> dict:
    """name -> restored images for noisy images (N, H, W[, 3]), all of that shape: the noisy
    input itself, each model's reconstruction, and the 3 x 3 median filter."""
    out = {"noisy input": noisy}
    for name, model in models.items():
        out[name] = reconstruct(model, noisy)
    out["median filter"] = channel_median(noisy)
    return out


class Denoised(NamedTuple):
    noisy: np.ndarray       # (H, W[, 3]) the corrupted input
    outputs: dict           # name -> (H, W[, 3]): "noisy input", each model, "median filter"
    psnr: dict              # name -> PSNR in dB against the clean image
    ssim: dict              # name -> SSIM against the clean image (None below 11 x 11 pixels)
    codes: np.ndarray       # (2, d): the first model's codes of the clean and the noisy image


def denoise(clean, kind: str, level: float, seed: int, models: dict) -> Denoised:
    """Corrupt one clean image (H, W) grey or (H, W, 3) colour with noise `kind` at `level`
    (seeded) and restore it with each model in `models` (name -> model, at least one) and the
    median filter."""
    clean = image_stack(np.asarray(clean)[None])
    noisy = corrupt(clean, kind, level, generator=seed)
    outputs = restore(noisy, models)
    first = next(iter(models.values()))
    scores = {k: image_ssim(clean, v) for k, v in outputs.items()}
    return Denoised(noisy[0], {k: v[0] for k, v in outputs.items()},
                    {k: float(psnr(clean, v)[0]) for k, v in outputs.items()},
                    {k: None if v is None else float(v[0]) for k, v in scores.items()},
                    encode_dataset(first, np.concatenate([clean, noisy])))


def psnr_curve(clean, kind: str, models: dict, seed: int = 0, levels=CURVE_LEVELS) -> dict:
    """Mean PSNR in dB over the clean images (N, H, W[, 3]) at each noise level: {"levels": [...],
    name: [dB per level]} for the noisy input, each model and the median filter."""
    clean = image_stack(clean)
    curve = {"levels": [float(v) for v in levels]}
    for level in levels:
        noisy = corrupt(clean, kind, float(level), generator=seed)
        for name, out in restore(noisy, models).items():
            curve.setdefault(name, []).append(float(psnr(clean, out).mean()))
    return curve


def standard_scores(clean, model=None) -> dict:
    """metrics.json's denoising numbers at STANDARD noise (Gaussian sigma 0.5, clipped to [0, 1],
    seed 0) over the clean images: PSNR (dB) and SSIM of the model's output (when a model is
    given; no SSIM for images under 11 x 11), and PSNR of the noisy input itself and of the
    3 x 3 median filter."""
    clean = image_stack(clean)
    noisy = corrupt(clean, STANDARD["kind"], STANDARD["level"], generator=STANDARD["seed"])
    out = restore(noisy, {"model": model} if model is not None else {})
    scores = {}
    if model is not None:
        scores["denoise_psnr"] = float(psnr(clean, out["model"]).mean())
        if (score := image_ssim(clean, out["model"])) is not None:
            scores["denoise_ssim"] = float(score.mean())
    scores["noisy_psnr"] = float(psnr(clean, noisy).mean())
    scores["median_psnr"] = float(psnr(clean, out["median filter"]).mean())
    return scores
