"""Projections of codes (N, d) to 2-D maps, interchangeable through scikit-learn's protocol:
`fit(codes)`, `transform(codes)` (where the method can place new points: none, pca) and
`fit_transform(codes)`. PROJECTIONS maps a name to a factory(seed, **params)."""
from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ..checks import lookup
from .neighbours import exact_knn


class Unchanged:
    """The 'none' projection: codes of at most 2 dimensions are already a map (1-D codes get y = 0)."""

    def fit(self, codes: np.ndarray) -> "Unchanged":
        d = np.shape(codes)[1] if np.ndim(codes) == 2 else 0
        if not 1 <= d <= 2:
            raise ValueError(f"projection 'none' needs 1- or 2-D codes, got {np.shape(codes)[1:]} "
                             "dimensions; pick pca, umap or tsne")
        self.d = d
        return self

    def transform(self, codes: np.ndarray) -> np.ndarray:
        z = np.asarray(codes, np.float32).reshape(-1, self.d)
        return np.hstack([z, np.zeros((len(z), 2 - self.d), np.float32)])

    def fit_transform(self, codes: np.ndarray) -> np.ndarray:
        return self.fit(codes).transform(codes)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        """Map positions (n, 2) -> codes (n, d): the positions themselves (1-D codes drop y)."""
        return np.asarray(points, np.float32).reshape(-1, 2)[:, :self.d].copy()


def _none(seed: int):
    return Unchanged()


def _pca(seed: int):
    from sklearn.decomposition import PCA
    return PCA(n_components=2, random_state=seed)


def _umap(seed: int, n_neighbors: int = 15, min_dist: float = 0.1):
    return ExactKnnUMAP(seed, n_neighbors, min_dist)


def _tsne(seed: int, perplexity: float = 30.0):
    from sklearn.manifold import TSNE
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)


class ExactKnnUMAP:
    """umap-learn's UMAP, given an exact k-NN graph from scikit-learn instead of searching one
    with pynndescent. For the app's maps (up to tens of thousands of codes) the exact search takes
    a fraction of a second, and it spares every new process pynndescent's numba compilation
    (~20 s of a ~25 s first map on 2 cores)."""

    def __init__(self, seed: int, n_neighbors: int, min_dist: float):
        self.seed, self.n_neighbors, self.min_dist = seed, n_neighbors, min_dist
        self.reducer = None

    def fit(self, codes: np.ndarray) -> "ExactKnnUMAP":
        knn = (None, None, None)
        if len(codes) > self.n_neighbors:  # else UMAP truncates n_neighbors and searches itself
            knn = exact_knn(codes, self.n_neighbors)
        # n_epochs=200: UMAP's own choice above 10,000 points; its 500 at <= 10,000 costs 40% more.
        self.reducer = umap_reducer(self.seed, self.n_neighbors, self.min_dist, n_epochs=200, precomputed_knn=knn)
        self.embedding_ = self.reducer.fit_transform(codes)
        return self

    def transform(self, codes: np.ndarray) -> np.ndarray:
        raise ValueError("this UMAP map cannot place new codes (it was fitted on an exact k-NN "
                         "graph, without pynndescent's search index); use a PCA map to place them")

    def fit_transform(self, codes: np.ndarray) -> np.ndarray:
        return self.fit(codes).embedding_


def umap_reducer(seed: int, n_neighbors: int = 15, min_dist: float = 0.1, **options):
    """umap-learn's 2-D UMAP, seeded, after prepare_umap(); `options` are UMAP's own (n_epochs,
    precomputed_knn, ...). A fixed random_state makes UMAP single-threaded: n_jobs=1 says so, so
    that it does not warn about it."""
    import umap  # lazy: importing umap takes seconds (numba compilation)

    prepare_umap()
    return umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed, n_jobs=1,
                     **options)


@functools.cache
def prepare_umap() -> None:
    """Once per process. umap-learn compiles ~20 numba functions without cache=True in every new
    process; turning numba's disk cache on for them lets later processes load the machine code.
    And the map is all we want from UMAP's fit, so its warning that a precomputed k-NN graph
    rules out .transform() on new data is noise."""
    import numba
    import umap.layouts
    import umap.umap_
    import umap.utils

    for module in (umap.umap_, umap.layouts, umap.utils):
        for obj in vars(module).values():
            if isinstance(obj, numba.core.dispatcher.Dispatcher):
                obj.enable_caching()
    warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)


PROJECTIONS = {"none": _none, "pca": _pca, "umap": _umap, "tsne": _tsne}


def projection_params(method: str) -> dict:
    """The tunable parameters of a projection and their defaults, e.g. {'perplexity': 30.0}."""
    params = inspect.signature(lookup(PROJECTIONS, method, "projection")).parameters.values()
    return {p.name: p.default for p in params if p.name != "seed"}


def make_projection(method: str, seed: int = 0, **params):
    """An unfitted projection object of `method` in PROJECTIONS (fit / transform / fit_transform)."""
    unknown = set(params) - set(projection_params(method))
    if unknown:
        raise ValueError(f"projection {method!r} takes no parameter {', '.join(sorted(unknown))}; "
                         f"valid: {', '.join(projection_params(method)) or 'none'}")
    return PROJECTIONS[method](seed, **params)


def project(codes, method: str, seed: int = 0, **params) -> np.ndarray:
    """Project codes (N, d) to a 2-D map (N, 2) float32 with `method` in PROJECTIONS."""
    projection = make_projection(method, seed, **params)
    return np.asarray(projection.fit_transform(np.asarray(codes, dtype=np.float32)), dtype=np.float32)


def fitted_map(codes, seed: int = 0) -> tuple[np.ndarray, object]:
    """The small maps drawn beside other views (Generate, Denoise): codes of at most 2 dimensions
    as they are, otherwise their PCA. Returns (points (N, 2) float32, the fitted projection, whose
    `transform` places new codes on the same map)."""
    codes = np.asarray(codes, np.float32)
    projection = make_projection("none" if codes.shape[1] <= 2 else "pca", seed).fit(codes)
    return np.asarray(projection.transform(codes), np.float32), projection
