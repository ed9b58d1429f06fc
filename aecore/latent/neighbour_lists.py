"""Neighbour lists of large sets and how many of them a map keeps: each image's k nearest images
in pixel space (70,000 MNIST images take minutes, so they are computed in chunks that report
progress, in a background worker, and cached on disk per dataset split), and the fraction of
those neighbours that the codes keep, the measure of the code plane's "neighbour preservation"
(a map that *is* the codes cannot lose code neighbours; it can lose pixel neighbours)."""
from __future__ import annotations

from typing import Callable

import numpy as np

CHUNK = 1000  # query rows per step of knn_lists: one progress report each


def knn_lists(points, k: int = 10, on_chunk: Callable[[int, int], None] | None = None,
              chunk: int = CHUNK) -> np.ndarray:
    """Each point's k nearest other points (Euclidean, exact), nearest first: (N, k) int32.
    `points` are codes (N, d) or images (N, H, W[, 3]), flattened. on_chunk(done, N) is called
    after each `chunk` rows."""
    from sklearn.neighbors import NearestNeighbors

    points = np.asarray(points, np.float32).reshape(len(points), -1)
    if len(points) <= k:
        raise ValueError(f"need more than k={k} points for {k} neighbours each, got {len(points)}")
    search = NearestNeighbors(n_neighbors=k + 1).fit(points)
    out = np.empty((len(points), k), np.int32)
    for start in range(0, len(points), chunk):
        rows = np.arange(start, min(start + chunk, len(points)))
        found = search.kneighbors(points[rows], return_distance=False)
        out[rows] = _without_self(found, rows)
        if on_chunk is not None:
            on_chunk(int(rows[-1]) + 1, len(points))
    return out


def _without_self(found: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """k + 1 neighbours per row -> k, leaving out the row's own point (or, when an identical point
    came first and pushed it out, the farthest)."""
    is_self = found == rows[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    return found[~is_self].reshape(len(rows), -1)


def kept(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per point (N,), in [0, 1]: the fraction of its neighbours in `before` (N, k) that are also
    in `after` (N, k), two neighbour lists of the same points in two spaces."""
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        raise ValueError(f"neighbour lists of different shapes: {before.shape} and {after.shape}")
    return (before[:, :, None] == after[:, None, :]).any(axis=2).mean(axis=1)
