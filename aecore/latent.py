"""The latent space: encode and decode whole data sets, project codes to 2-D, sample, interpolate,
lay out decoding grids and find neighbours.

Images are (N, 28, 28) uint8 in [0, 255] or float in [0, 1] (a channel axis (N, 1, 28, 28) is
accepted too); codes are float32 (N, d). All random choices take a seed.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import warnings
from typing import Iterator

import numpy as np
import torch
from torch import nn


def as_image_batch(images) -> torch.Tensor:
    """uint8 [0, 255] or float [0, 1] array/tensor (N, 28, 28), (N, 1, 28, 28) or (N, 784)
    -> float32 tensor (N, 1, 28, 28) in [0, 1] (same device as a tensor input)."""
    if isinstance(images, torch.Tensor):
        t = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    else:  # a copy: dataset arrays are read-only, and torch wants writable memory
        arr = np.asarray(images)
        t = torch.from_numpy(arr / np.float32(255.0) if arr.dtype == np.uint8 else arr.astype(np.float32))
    if t.ndim == 2 and t.shape[1] == 784:
        t = t.reshape(-1, 28, 28)
    if t.ndim == 3:
        t = t.unsqueeze(1)
    if t.ndim != 4 or t.shape[1] != 1:
        raise ValueError(f"expected images (N, 28, 28) or (N, 1, 28, 28), got shape {tuple(t.shape)}")
    return t


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put `model` in eval mode (no noise, no dropout, batch-norm running stats) and restore its
    previous mode afterwards, so evaluating never changes a model being trained."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def encode_dataset(model: nn.Module, images, batch_size: int = 1000) -> np.ndarray:
    """Codes of all images: (N, 28, 28) uint8 or float -> float32 (N, d); eval mode, no grad."""
    device = _device(model)
    out = []
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = as_image_batch(images[start:start + batch_size]).to(device)
            out.append(model.encode(x).float().cpu().numpy())
    if not out:
        return np.zeros((0, model.config.latent_dim), np.float32)
    return np.concatenate(out)


def decode_codes(model: nn.Module, codes, batch_size: int = 1000) -> np.ndarray:
    """Images of codes: (N, d) -> float32 (N, 28, 28) in [0, 1]; eval mode, no grad."""
    device = _device(model)
    codes = np.asarray(codes, dtype=np.float32)
    out = []
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(codes), batch_size):
            z = torch.from_numpy(codes[start:start + batch_size]).to(device)
            out.append(model.decode(z).float().cpu().numpy().reshape(-1, 28, 28))
    if not out:
        return np.zeros((0, 28, 28), np.float32)
    return np.clip(np.concatenate(out), 0.0, 1.0)


# --- projections to 2-D: name -> factory(seed, **params) of an object with fit_transform ---

class _Unchanged:
    """The 'none' projection: 2-D codes are already a map."""

    def fit_transform(self, codes: np.ndarray) -> np.ndarray:
        if codes.ndim != 2 or codes.shape[1] != 2:
            raise ValueError(f"projection 'none' needs 2-D codes, got {codes.shape[1:]} dimensions; "
                             "pick pca, umap or tsne")
        return codes


def _none(seed: int):
    return _Unchanged()


def _pca(seed: int):
    from sklearn.decomposition import PCA
    return PCA(n_components=2, random_state=seed)


def _umap(seed: int, n_neighbors: int = 15, min_dist: float = 0.1):
    return _ExactKnnUMAP(seed, n_neighbors, min_dist)


class _ExactKnnUMAP:
    """umap-learn's UMAP, given an exact k-NN graph from scikit-learn instead of searching one
    with pynndescent. For the app's maps (up to tens of thousands of codes) the exact search takes
    a fraction of a second, and it spares every new process pynndescent's numba compilation
    (~20 s of a ~25 s first map on 2 cores)."""

    def __init__(self, seed: int, n_neighbors: int, min_dist: float):
        self.seed, self.n_neighbors, self.min_dist = seed, n_neighbors, min_dist

    def fit_transform(self, codes: np.ndarray) -> np.ndarray:
        import umap  # lazy: importing umap takes seconds (numba compilation)
        from sklearn.neighbors import NearestNeighbors
        _prepare_umap()
        knn = (None, None, None)
        if len(codes) > self.n_neighbors:  # else UMAP truncates n_neighbors and searches itself
            dists, indices = NearestNeighbors(n_neighbors=self.n_neighbors).fit(codes).kneighbors(codes)
            knn = (indices, dists.astype(np.float32))
        # a fixed random_state makes UMAP single-threaded; say n_jobs=1 so it does not warn about it.
        # n_epochs=200: UMAP's own choice above 10,000 points; its 500 at <= 10,000 costs 40% more.
        reducer = umap.UMAP(n_components=2, n_neighbors=self.n_neighbors, min_dist=self.min_dist,
                            random_state=self.seed, n_jobs=1, n_epochs=200, precomputed_knn=knn)
        return reducer.fit_transform(codes)


@functools.cache
def _prepare_umap() -> None:
    """Once per process. umap-learn compiles ~20 numba functions without cache=True in every new
    process; turning numba's disk cache on for them lets later processes load the machine code.
    And the map is all we want from UMAP, so its warning that a precomputed k-NN graph rules out
    .transform() on new data is noise."""
    import numba
    import umap.layouts
    import umap.umap_
    import umap.utils

    for module in (umap.umap_, umap.layouts, umap.utils):
        for obj in vars(module).values():
            if isinstance(obj, numba.core.dispatcher.Dispatcher):
                obj.enable_caching()
    warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)


def _tsne(seed: int, perplexity: float = 30.0):
    from sklearn.manifold import TSNE
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)


PROJECTIONS = {"none": _none, "pca": _pca, "umap": _umap, "tsne": _tsne}


def _check_method(method: str) -> None:
    if method not in PROJECTIONS:
        raise ValueError(f"unknown projection {method!r}; valid: {', '.join(PROJECTIONS)}")


def projection_params(method: str) -> dict:
    """The tunable parameters of a projection and their defaults, e.g. {'perplexity': 30.0}."""
    _check_method(method)
    params = inspect.signature(PROJECTIONS[method]).parameters.values()
    return {p.name: p.default for p in params if p.name != "seed"}


def project(codes, method: str, seed: int = 0, **params) -> np.ndarray:
    """Project codes (N, d) to a 2-D map (N, 2) float32 with `method` in PROJECTIONS."""
    _check_method(method)
    unknown = set(params) - set(projection_params(method))
    if unknown:
        raise ValueError(f"projection {method!r} takes no parameter {', '.join(sorted(unknown))}; "
                         f"valid: {', '.join(projection_params(method)) or 'none'}")
    codes = np.asarray(codes, dtype=np.float32)
    return np.asarray(PROJECTIONS[method](seed, **params).fit_transform(codes), dtype=np.float32)


# --- sampling, interpolation, grids ---

def fit_gaussian(codes) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of codes (N, d), N >= 2, in float64."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"need codes (N, d) with N >= 2 to fit a Gaussian, got shape {codes.shape}")
    return codes.mean(axis=0), np.cov(codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])


def sample_codes(model: nn.Module, n: int, seed: int, codes=None) -> np.ndarray:
    """n codes (n, d) float32: from the prior N(0, I) for a vae, otherwise from a Gaussian fitted
    to `codes` (the encoded training set), since plain autoencoders have no prior of their own."""
    rng = np.random.default_rng(seed)
    d = model.config.latent_dim
    if model.config.kind == "vae":
        return rng.standard_normal((n, d)).astype(np.float32)
    if codes is None:
        raise ValueError(f"a {model.config.kind!r} model has no prior: pass codes=encode_dataset(model, "
                         "train_images) to sample from a Gaussian fitted to them")
    mean, cov = fit_gaussian(codes)
    return rng.multivariate_normal(mean, cov, size=n).astype(np.float32)


def interpolate(z0, z1, steps: int, method: str = "linear") -> np.ndarray:
    """`steps` codes (steps, d) float32 from z0 to z1 inclusive. 'slerp' follows the great circle
    (keeps the norm when |z0| = |z1|, which suits a Gaussian prior); for parallel, anti-parallel
    or zero vectors the circle is undefined and it falls back to 'linear'."""
    if method not in ("linear", "slerp"):
        raise ValueError(f"unknown interpolation {method!r}; valid: linear, slerp")
    if steps < 2:
        raise ValueError(f"steps must be >= 2 (both endpoints), got {steps}")
    z0, z1 = np.asarray(z0, np.float64).ravel(), np.asarray(z1, np.float64).ravel()
    t = np.linspace(0.0, 1.0, steps)[:, None]
    out = (1 - t) * z0 + t * z1
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if method == "slerp" and n0 > 0 and n1 > 0:
        omega = np.arccos(np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0))
        if np.sin(omega) > 1e-6:
            out = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    out[0], out[-1] = z0, z1  # exact endpoints despite rounding
    return out.astype(np.float32)


def decoding_grid(model: nn.Module, n: int, codes=None, span=None) -> tuple[np.ndarray, tuple]:
    """An n x n grid of 2-D codes to decode, and its extent (xmin, xmax, ymin, ymax).

    For a vae the axes are normal quantiles norm.ppf(linspace(0.05, 0.95, n)), so equal prior
    mass lies between grid lines; otherwise they span the 1st to 99th percentile of `codes`.
    `span=((xmin, xmax), (ymin, ymax))` overrides either. Row-major with the top row at ymax, so
    `tile(decode_codes(model, grid), ncols=n)` looks like the scatter plot of the codes.
    """
    if model.config.latent_dim != 2:
        raise ValueError(f"a decoding grid needs a 2-D latent space; this model has latent_dim="
                         f"{model.config.latent_dim} (decode an interpolation instead)")
    if span is not None:
        (x0, x1), (y0, y1) = span
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    elif model.config.kind == "vae":
        from scipy.stats import norm
        xs = ys = norm.ppf(np.linspace(0.05, 0.95, n))
    else:
        if codes is None:
            raise ValueError("pass codes=encode_dataset(model, images) (or span=...) to place the grid")
        lo, hi = np.percentile(np.asarray(codes), [1, 99], axis=0)
        xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    gx, gy = np.meshgrid(xs, ys[::-1])
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    return grid, (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))


# --- neighbours ---

def nearest_neighbours(points, query, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest points (Euclidean, brute force) to `query`: an index into `points` (then the
    point itself is excluded) or a vector. `points` are codes (N, d) or images (N, 28, 28), which
    are flattened. Returns (indices (k,), distances (k,)) nearest first."""
    points = np.asarray(points)
    points = points.reshape(len(points), -1).astype(np.float64)
    if np.ndim(query) == 0:
        vector = points[int(query)]
    else:
        vector = np.asarray(query, np.float64).ravel()
    diff = points - vector
    dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))  # no (N, D) temporaries beyond diff: 10x faster
    if np.ndim(query) == 0:
        dist[int(query)] = np.inf
    k = min(k, len(points) - (np.ndim(query) == 0))
    idx = np.argpartition(dist, k - 1)[:k] if k < len(points) else np.arange(len(points))
    idx = idx[np.argsort(dist[idx], kind="stable")][:k]
    return idx, dist[idx]


def neighbour_preservation(codes_hd, proj_2d, k: int = 10) -> np.ndarray:
    """Per point (N,), in [0, 1]: the fraction of its k nearest neighbours in code space that are
    also among its k nearest in the 2-D projection (the point itself never counts)."""
    from sklearn.neighbors import NearestNeighbors
    hd = np.asarray(codes_hd, np.float32).reshape(len(codes_hd), -1)
    ld = np.asarray(proj_2d, np.float32)
    if len(hd) != len(ld) or len(hd) <= k:
        raise ValueError(f"need the same number (> k={k}) of codes and projected points, "
                         f"got {len(hd)} and {len(ld)}")
    # kneighbors() without X leaves each point out of its own neighbour list
    nn_hd = NearestNeighbors(n_neighbors=k).fit(hd).kneighbors(return_distance=False)
    nn_ld = NearestNeighbors(n_neighbors=k).fit(ld).kneighbors(return_distance=False)
    shared = (nn_hd[:, :, None] == nn_ld[:, None, :]).any(axis=2).sum(axis=1)
    return shared / k
