"""New codes: samples, interpolation paths, decoding grids over a 2-D code plane, slider ranges.

Codes are float32 (N, d); decoded images are the display layout of the model's shape, float32 in
[0, 1] ((N, H, W) grey, (N, H, W, 3) colour: aecore.latent.codec.decode_all); every random choice
takes a seed. A model with a prior (`has_prior`)
samples and lays out grids from it; any other model from a Gaussian fitted to its codes.
"""
from __future__ import annotations

import numpy as np

from ..checks import lookup
from .codec import decode_all


def fit_gaussian(codes) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of codes (N, d), N >= 2, in float64."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"need codes (N, d) with N >= 2 to fit a Gaussian, got shape {codes.shape}")
    return codes.mean(axis=0), np.cov(codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])


def sample_codes(model, n: int, seed: int, codes=None) -> np.ndarray:
    """n codes (n, d) float32: from the model's prior when it has one, otherwise from a Gaussian
    fitted to `codes` (the encoded training set), since plain autoencoders have no prior."""
    if model.has_prior:
        return model.sample_prior(n, seed)
    if codes is None:
        raise ValueError(f"a {model.kind!r} model has no prior: pass codes=encode_all(model, "
                         "train_images) to sample from a Gaussian fitted to them")
    mean, cov = fit_gaussian(codes)
    return np.random.default_rng(seed).multivariate_normal(mean, cov, size=n).astype(np.float32)


def sample_images(model, n: int, seed: int, codes=None) -> np.ndarray:
    """n decoded samples (n, H, W[, 3]), drawn as sample_codes draws their codes."""
    return decode_all(model, sample_codes(model, n, seed, codes))


def _linear(z0, z1, t):
    return (1 - t) * z0 + t * z1


def _slerp(z0, z1, t):
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 > 0 and n1 > 0:
        omega = np.arccos(np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0))
        if np.sin(omega) > 1e-6:
            return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    return _linear(z0, z1, t)  # parallel, anti-parallel or zero: the circle is undefined


INTERPOLATIONS = {"linear": _linear, "slerp": _slerp}


def interpolate(z0, z1, steps: int, method: str = "linear") -> np.ndarray:
    """`steps` codes (steps, d) float32 from z0 to z1 inclusive. 'slerp' follows the great circle
    (keeps the norm when |z0| = |z1|, which suits a Gaussian prior); for parallel, anti-parallel
    or zero vectors the circle is undefined and it falls back to 'linear'."""
    path = lookup(INTERPOLATIONS, method, "interpolation")
    if steps < 2:
        raise ValueError(f"steps must be >= 2 (both endpoints), got {steps}")
    z0, z1 = np.asarray(z0, np.float64).ravel(), np.asarray(z1, np.float64).ravel()
    out = path(z0, z1, np.linspace(0.0, 1.0, steps)[:, None])
    out[0], out[-1] = z0, z1  # exact endpoints despite rounding
    return out.astype(np.float32)


def interpolation(model, z_a, z_b, steps: int, method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
    """The path from code z_a to z_b (steps, d) and its decoded frames (steps, H, W[, 3])."""
    path = interpolate(z_a, z_b, steps, method)
    return path, decode_all(model, path)


def decoding_grid(model, n: int, codes=None, span=None) -> tuple[np.ndarray, tuple]:
    """Codes to decode over a model's whole code space, when it is a line or a plane (1-D or 2-D
    codes; wider ones have no grid: decode an interpolation instead), and their extent
    (xmin, xmax, ymin, ymax): an n x n grid (n * n, 2) of 2-D codes, or n 1-D codes (n, 1) in a
    row (ymin = ymax = 0).

    With a prior the axes are normal quantiles norm.ppf(linspace(0.05, 0.95, n)), so equal prior
    mass lies between grid lines; otherwise they span the 1st to 99th percentile of `codes`.
    `span=((xmin, xmax), (ymin, ymax))` overrides either (a 1-D model reads only x). Row-major
    with the top row at ymax, so `tile(decode_all(model, grid), ncols=n)` looks like the
    scatter plot of the codes.
    """
    d = model.latent_dim
    if d not in (1, 2):
        raise ValueError(f"a decoding grid needs a 1- or 2-D latent space; this model has latent_dim="
                         f"{d} (decode an interpolation instead)")
    if span is not None:
        axes = [np.linspace(lo, hi, n) for lo, hi in span[:d]]
    elif model.has_prior:
        from scipy.stats import norm
        axes = [norm.ppf(np.linspace(0.05, 0.95, n))] * d
    else:
        if codes is None:
            raise ValueError("pass codes=encode_all(model, images) (or span=...) to place the grid")
        lo, hi = np.percentile(np.asarray(codes).reshape(-1, d), [1, 99], axis=0)
        axes = [np.linspace(lo[i], hi[i], n) for i in range(d)]
    xs = axes[0]
    if d == 1:
        return xs[:, None].astype(np.float32), (float(xs[0]), float(xs[-1]), 0.0, 0.0)
    ys = axes[1]
    gx, gy = np.meshgrid(xs, ys[::-1])
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    return grid, (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))


def manifold(model, codes, n: int = 15) -> tuple[np.ndarray, tuple]:
    """The decoded decoding_grid, top row at the largest y, and its extent: n x n images
    (n * n, H, W[, 3]) for 2-D codes, n images (n, H, W[, 3]) along the line of 1-D codes."""
    grid, extent = decoding_grid(model, n, codes)
    return decode_all(model, grid), extent


def code_ranges(codes, dims: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, mean), each (min(d, dims),), for sliders over the first `dims` code units:
    the 0.5th to 99.5th percentile of each unit, widened by 10% on both sides."""
    c = np.asarray(codes, np.float64)[:, :dims]
    lo, hi = np.percentile(c, [0.5, 99.5], axis=0)
    pad = np.maximum(0.1 * (hi - lo), 1e-3)
    return lo - pad, hi + pad, c.mean(axis=0)
