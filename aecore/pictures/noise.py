"""Corruptions for denoising: Gaussian noise, salt-and-pepper and masking, on pixels in [0, 1].

Each entry of NOISES takes (x, level, generator) with x a float tensor of any shape and returns
a corrupted copy in [0, 1]; `corrupt` validates, seeds and converts numpy arrays. Every value is
corrupted on its own: in a colour image each channel of a pixel draws its own noise (as
scikit-image's random_noise does), so salt-and-pepper there makes coloured specks, and a
"fraction of pixels" is a fraction of the values.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..checks import as_generator, lookup


def _uniform(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    # drawn on the CPU so that a seed gives the same noise whatever device x lives on
    return torch.rand(x.shape, generator=generator).to(x.device)


def gaussian(x: torch.Tensor, level: float, generator: torch.Generator | None) -> torch.Tensor:
    """x + N(0, level^2) per pixel, clipped to [0, 1]; level = sigma in pixel units."""
    eps = torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
    return (x + level * eps).clamp(0.0, 1.0)


def salt_pepper(x: torch.Tensor, level: float, generator: torch.Generator | None) -> torch.Tensor:
    """A fraction `level` of pixels (in expectation) set to 0 or 1, half each."""
    u = _uniform(x, generator)
    out = torch.where(u < level / 2, torch.zeros_like(x), x)
    return torch.where((u >= level / 2) & (u < level), torch.ones_like(x), out)


def masking(x: torch.Tensor, level: float, generator: torch.Generator | None) -> torch.Tensor:
    """A fraction `level` of pixels (in expectation) set to 0 (ink erased)."""
    return torch.where(_uniform(x, generator) < level, torch.zeros_like(x), x)


NOISES = {"gaussian": gaussian, "salt_pepper": salt_pepper, "masking": masking}

# the largest meaningful level of each kind: fractions cannot exceed 1
_MAX_LEVEL = {"gaussian": math.inf, "salt_pepper": 1.0, "masking": 1.0}


def _check(noise: str, level: float) -> None:
    lookup(NOISES, noise, "noise")
    what = "sigma" if noise == "gaussian" else "the fraction of pixels"
    if not (0.0 <= level <= _MAX_LEVEL[noise]) or math.isnan(level):
        bound = ">= 0" if math.isinf(_MAX_LEVEL[noise]) else "in [0, 1]"
        raise ValueError(f"{noise} noise level is {what} and must be {bound}; got {level}")


def corrupt(x, kind: str, level: float, generator=None):
    """Corrupt images x in [0, 1] (float tensor or numpy array, any shape such as (B, 1, 28, 28))
    with noise `kind` in NOISES at `level`; returns the same type, shape and dtype.

    generator: a torch.Generator (CPU), an int seed (same seed, same noise) or None for torch's
    global generator (seed it with torch.manual_seed), e.g. fresh noise every training batch.
    """
    level = float(level)
    _check(kind, level)
    g = as_generator(generator)
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise ValueError(f"corrupt needs float pixels in [0, 1], got {x.dtype}; divide by 255 first")
        return NOISES[kind](x, level, g)
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"corrupt needs float pixels in [0, 1], got {a.dtype}; divide by 255 first")
    return NOISES[kind](torch.from_numpy(np.ascontiguousarray(a)), level, g).numpy().astype(a.dtype)
