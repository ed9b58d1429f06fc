"""Neighbours in code space and pixel space: the k nearest of one point, exact k-NN graphs (for
UMAP maps and the umap kind's training graph), and how well a 2-D map keeps neighbours."""
from __future__ import annotations

import numpy as np


def exact_knn(points, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each point's k nearest points, itself first (distance 0), as UMAP's precomputed k-NN graph
    expects: (indices (N, k) int64, distances (N, k) float32). Exact (scikit-learn), brute force
    for wide points, a tree for narrow codes."""
    from sklearn.neighbors import NearestNeighbors

    points = np.asarray(points, np.float32).reshape(len(points), -1)
    dists, indices = NearestNeighbors(n_neighbors=k, n_jobs=-1).fit(points).kneighbors(points)
    return indices.astype(np.int64), dists.astype(np.float32)


CHUNK_BYTES = 4 * 2**20  # float64 differences held at once, in one buffer: 668 rows of 28x28, 85 of 64x64x3


def nearest_neighbours(points, query, k: int = 8, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest points (Euclidean, brute force) to `query`: an index into `points` (then the
    point itself is excluded) or a vector. `points` are codes (N, d) or images (N, H, W[, 3]), which
    are flattened. Returns (indices (k,), distances (k,)) nearest first. Works through at most
    `chunk` rows, and at most CHUNK_BYTES of differences, at a time, in one buffer, so 70,000 images
    need a few MB, not gigabytes (100,000 colour 64x64 images too: rows are counted by their size);
    the buffer, used again and again, stays in the cache (a fresh float64 copy of 10,000 MNIST
    digits took 0.1-0.3 s of page faults on a cold process, the search itself 6 ms)."""
    points = np.asarray(points)
    points = points.reshape(len(points), -1)
    chunk = max(1, min(chunk, len(points), CHUNK_BYTES // (8 * max(1, points.shape[1]))))
    by_index = np.ndim(query) == 0
    vector = (points[int(query)] if by_index else np.asarray(query)).astype(np.float64).ravel()
    dist = np.empty(len(points), np.float64)
    buffer = np.empty((chunk, points.shape[1]), np.float64)
    for s in range(0, len(points), chunk):
        part = points[s:s + chunk]
        diff = np.subtract(part, vector, out=buffer[:len(part)], casting="unsafe")
        dist[s:s + len(part)] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    if by_index:
        dist[int(query)] = np.inf
    k = min(k, len(points) - by_index)
    idx = np.argpartition(dist, k - 1)[:k] if k < len(points) else np.arange(len(points))
    idx = idx[np.argsort(dist[idx], kind="stable")][:k]
    return idx, dist[idx]


def knn_overlap(a, b, k: int = 10) -> np.ndarray:
    """Per point (N,), in [0, 1]: the fraction of its k nearest neighbours among points `a`
    (N, ...) that are also among its k nearest among points `b` (N, ...), the same points in
    another space (the point itself never counts)."""
    from sklearn.neighbors import NearestNeighbors
    a = np.asarray(a, np.float32).reshape(len(a), -1)
    b = np.asarray(b, np.float32).reshape(len(b), -1)
    if len(a) != len(b) or len(a) <= k:
        raise ValueError(f"need the same number (> k={k}) of points in both spaces, got {len(a)} and {len(b)}")
    # kneighbors() without X leaves each point out of its own neighbour list
    nn_a = NearestNeighbors(n_neighbors=k).fit(a).kneighbors(return_distance=False)
    nn_b = NearestNeighbors(n_neighbors=k).fit(b).kneighbors(return_distance=False)
    shared = (nn_a[:, :, None] == nn_b[:, None, :]).any(axis=2).sum(axis=1)
    return shared / k


def neighbour_preservation(codes_hd, proj_2d, k: int = 10) -> np.ndarray:
    """Per point (N,), in [0, 1]: the fraction of its k nearest neighbours in code space that are
    also among its k nearest in the 2-D projection (the point itself never counts)."""
    return knn_overlap(codes_hd, proj_2d, k)
