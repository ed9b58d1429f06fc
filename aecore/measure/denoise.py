"""Denoising, measured: corrupt clean images, restore them with each model and the median filter,
and score every output by PSNR (dB) and SSIM against the clean image.

Images are float32 (N, 28, 28) with pixels in [0, 1] (uint8 [0, 255] inputs are accepted).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..latent.codec import encode_dataset, reconstruct
from ..pictures.noise import corrupt
from ..pictures.pixels import image_stack
from .metrics import median_filter, psnr, ssim

CURVE_LEVELS = (0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0)  # noise levels of the PSNR curve
# the setting metrics.json reports (denoise_psnr, ...): Gaussian sigma 0.5, seed 0
STANDARD = {"kind": "gaussian", "level": 0.5, "seed": 0}


def restore(noisy: np.ndarray, models: dict) -> dict:
    """name -> restored images (N, 28, 28) for noisy images (N, 28, 28): the noisy input itself,
    each model's reconstruction, and the 3 x 3 median filter."""
    out = {"noisy input": noisy}
    for name, model in models.items():
        out[name] = reconstruct(model, noisy)
    out["median filter"] = median_filter(noisy)
    return out


class Denoised(NamedTuple):
    noisy: np.ndarray       # (28, 28) the corrupted input
    outputs: dict           # name -> (28, 28): "noisy input", each model, "median filter"
    psnr: dict              # name -> PSNR in dB against the clean image
    ssim: dict              # name -> SSIM against the clean image
    codes: np.ndarray       # (2, d): the first model's codes of the clean and the noisy image


def denoise(clean, kind: str, level: float, seed: int, models: dict) -> Denoised:
    """Corrupt one clean image (28, 28) with noise `kind` at `level` (seeded) and restore it with
    each model in `models` (name -> model, at least one) and the median filter."""
    clean = image_stack(np.asarray(clean)[None])
    noisy = corrupt(clean, kind, level, generator=seed)
    outputs = restore(noisy, models)
    first = next(iter(models.values()))
    return Denoised(noisy[0], {k: v[0] for k, v in outputs.items()},
                    {k: float(psnr(clean, v)[0]) for k, v in outputs.items()},
                    {k: float(ssim(clean, v)[0]) for k, v in outputs.items()},
                    encode_dataset(first, np.concatenate([clean, noisy])))


def psnr_curve(clean, kind: str, models: dict, seed: int = 0, levels=CURVE_LEVELS) -> dict:
    """Mean PSNR in dB over the clean images (N, 28, 28) at each noise level: {"levels": [...],
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
    given), and PSNR of the noisy input itself and of the 3 x 3 median filter."""
    clean = image_stack(clean)
    noisy = corrupt(clean, STANDARD["kind"], STANDARD["level"], generator=STANDARD["seed"])
    out = restore(noisy, {"model": model} if model is not None else {})
    scores = {}
    if model is not None:
        scores["denoise_psnr"] = float(psnr(clean, out["model"]).mean())
        scores["denoise_ssim"] = float(ssim(clean, out["model"]).mean())
    scores["noisy_psnr"] = float(psnr(clean, noisy).mean())
    scores["median_psnr"] = float(psnr(clean, out["median filter"]).mean())
    return scores
