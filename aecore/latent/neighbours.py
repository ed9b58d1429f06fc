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


def nearest_neighbours(points, query, k: int = 8, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest points (Euclidean, brute force) to `query`: an index into `points` (then the
    point itself is excluded) or a vector. `points` are codes (N, d) or images (N, 28, 28), which
    are flattened. Returns (indices (k,), distances (k,)) nearest first. Works through `chunk`
    rows at a time, so 70,000 images need a few tens of MB, not gigabytes."""
    points = np.asarray(points)
    points = points.reshape(len(points), -1)
    by_index = np.ndim(query) == 0
    vector = (points[int(query)] if by_index else np.asarray(query)).astype(np.float64).ravel()
    dist = np.empty(len(points), np.float64)
    for s in range(0, len(points), chunk):
        diff = points[s:s + chunk].astype(np.float64) - vector
        dist[s:s + chunk] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    if by_index:
        dist[int(query)] = np.inf
    k = min(k, len(points) - by_index)
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
