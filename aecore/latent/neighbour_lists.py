"""Neighbour lists of large sets and how many of them a map keeps: each image's k nearest images
in pixel space (70,000 MNIST images take minutes, so they are computed in chunks that report
progress, in a background worker, and cached on disk per dataset split), and the fraction of
those neighbours that the codes keep, the measure of the code plane's "neighbour preservation"
(a map that *is* the codes cannot lose code neighbours; it can lose pixel neighbours)."""
from __future__ import annotations

from typing import Callable

import numpy as np

CHUNK = 1000  # query rows per step of knn_lists: one progress report each
REFERENCE_BYTES = 64 * 2**20  # the other rows a step compares them with, as floats


def knn_lists(points, k: int = 10, on_chunk: Callable[[int, int], None] | None = None,
              chunk: int = CHUNK) -> np.ndarray:
    """Each point's k nearest other points (Euclidean, exact), nearest first: (N, k) int32.
    `points` are codes (N, d) or images (N, H, W[, 3]), flattened; uint8 images stay uint8; only
    `chunk` query rows and REFERENCE_BYTES of other rows are floats at a time (100,000 colour
    64x64 images are 1.2 GB as uint8, 4.9 GB as floats). on_chunk(done, N) is called after each
    `chunk` rows."""
    flat = np.asarray(points).reshape(len(points), -1)
    n = len(flat)
    if n <= k:
        raise ValueError(f"need more than k={k} points for {k} neighbours each, got {n}")
    step = max(1, REFERENCE_BYTES // (4 * flat.shape[1]))
    norms = np.concatenate([_squared_norms(flat[s:s + step]) for s in range(0, n, step)])
    out = np.empty((n, k), np.int32)
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        queries = flat[rows].astype(np.float32)
        best_d, best_i = np.empty((len(rows), 0), np.float32), np.empty((len(rows), 0), np.int64)
        for ref in range(0, n, step):
            others = flat[ref:ref + step].astype(np.float32)
            dist = norms[rows, None] + norms[None, ref:ref + len(others)] - 2 * (queries @ others.T)
            own = (rows >= ref) & (rows < ref + len(others))
            dist[own.nonzero()[0], rows[own] - ref] = np.inf  # a point is not its own neighbour
            best_d, best_i = _nearest(np.hstack([best_d, dist]),
                                      np.hstack([best_i, np.broadcast_to(np.arange(ref, ref + len(others)), dist.shape)]),
                                      k)
        out[rows] = best_i
        if on_chunk is not None:
            on_chunk(int(rows[-1]) + 1, n)
    return out


def _squared_norms(rows: np.ndarray) -> np.ndarray:
    floats = rows.astype(np.float32)
    return np.einsum("ij,ij->i", floats, floats)


def _nearest(dist: np.ndarray, index: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest distances of each row and their indices, nearest first (ties: lower index)."""
    if dist.shape[1] > k:
        part = np.argpartition(dist, k - 1, axis=1)[:, :k]
        dist, index = np.take_along_axis(dist, part, 1), np.take_along_axis(index, part, 1)
    order = np.lexsort((index, dist), axis=1)
    return np.take_along_axis(dist, order, 1), np.take_along_axis(index, order, 1)


def kept(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per point (N,), in [0, 1]: the fraction of its neighbours in `before` (N, k) that are also
    in `after` (N, k), two neighbour lists of the same points in two spaces."""
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        raise ValueError(f"neighbour lists of different shapes: {before.shape} and {after.shape}")
    return (before[:, :, None] == after[:, None, :]).any(axis=2).mean(axis=1)
