"""Decode anywhere on a map: from map positions (n, 2) back to codes (n, d), so that a click on
empty space of any map, or a backdrop grid under it, can be decoded.

2-D codes are their own map; a PCA map inverts exactly onto the plane of its two components
(sklearn's inverse_transform); a UMAP map through umap-learn's `inverse_transform`, which places
a position's code by optimising it against the codes of the map points around it. t-SNE learns
no mapping at all, so its maps cannot be inverted.

umap-learn's inverse_transform rebuilds a Delaunay triangulation and an adjacency matrix of every
map point on each call, in Python: seconds per call for 1,000 points and minutes for 70,000. So
UmapInverse fits a reducer to a seeded sample of at most UMAP_SAMPLE map points, without running
UMAP's layout again: the sample's codes give the fuzzy neighbour graph, and the map's own
positions of those points are the layout (`embedding_`).
"""
from __future__ import annotations

import numpy as np

from .neighbours import exact_knn
from .projections import make_projection, umap_reducer

UMAP_SAMPLE = 1000  # map points a UMAP inverse is fitted on (see the module docstring)
UMAP_EPOCHS = 200   # as the map's own fit: inverse_transform optimises for a third of these


def inverse_map(codes, xy, method: str, seed: int = 0, **params):
    """For the map xy (N, 2) that `method` made of codes (N, d): an object whose
    inverse_transform(points (n, 2)) gives codes (n, d) float32 at those map positions."""
    codes = np.asarray(codes, np.float32)
    if method in ("none", "pca"):
        return make_projection(method, seed).fit(codes)
    if method == "umap":
        return UmapInverse(codes, xy, seed, **params)
    raise ValueError(f"a {method} map cannot be decoded where there is no point: {method} learns "
                     "no mapping between codes and the map; pick pca or umap to decode anywhere")


class UmapInverse:
    """umap-learn's inverse_transform for a UMAP map already made (see the module docstring)."""

    def __init__(self, codes, xy, seed: int = 0, n_neighbors: int = 15, min_dist: float = 0.1,
                 sample: int = UMAP_SAMPLE):
        from scipy.spatial import Delaunay

        codes, xy = np.asarray(codes, np.float32), np.asarray(xy, np.float32)
        keep = np.arange(len(codes))
        if len(codes) > sample:
            keep = np.sort(np.random.default_rng(seed).choice(len(codes), sample, replace=False))
        self.xy = np.ascontiguousarray(xy[keep])
        k = min(n_neighbors, len(keep) - 1)
        # n_epochs=0: no layout optimisation, the map's positions are the layout
        self.reducer = umap_reducer(seed, k, min_dist, n_epochs=0, init=self.xy, precomputed_knn=exact_knn(codes[keep], k))
        self.reducer.fit(codes[keep])
        self.reducer.embedding_ = self.xy
        self.reducer.n_epochs = UMAP_EPOCHS
        self.hull = Delaunay(self.xy)

    def inverse_transform(self, points) -> np.ndarray:
        """Codes (n, d) float32 at map positions (n, 2). A position outside the map's points
        (where umap-learn would take an arbitrary triangle) is moved to the nearest map point."""
        points = np.array(points, np.float32).reshape(-1, 2)
        outside = self.hull.find_simplex(points) < 0
        if outside.any():
            gaps = np.linalg.norm(points[outside, None] - self.xy[None], axis=2)
            points[outside] = self.xy[gaps.argmin(axis=1)]
        return np.asarray(self.reducer.inverse_transform(points), np.float32)


def backdrop_grid(extent, n: int) -> np.ndarray:
    """The centres (n * n, 2) of an n x n grid of cells over extent (xmin, xmax, ymin, ymax),
    row-major with the top row at ymax, so tile(decode(inverse(grid)), n) stretched over the
    extent puts each decoded image where its code's position is."""
    x0, x1, y0, y1 = extent
    half_x, half_y = (x1 - x0) / (2 * n), (y1 - y0) / (2 * n)
    gx, gy = np.meshgrid(np.linspace(x0 + half_x, x1 - half_x, n), np.linspace(y1 - half_y, y0 + half_y, n))
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
