"""Projections of codes (N, d) to 2-D maps, interchangeable through scikit-learn's protocol:
`fit(codes)`, `transform(codes)` (where the method can place new points: none, pca) and
`fit_transform(codes)`. PROJECTIONS maps a name to a factory(seed, **params).

Which maps d-D codes can have is decided here once (map_methods, default_method, check_method),
and so are their axis titles and how a caption names them: every page and the training history
ask these, so a 1-D model works wherever a 16-D one does."""
from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ..checks import lookup
from .neighbours import exact_knn


class Unchanged:
    """The 'none' projection: codes of at most 2 dimensions are their own map. 2-D codes as they
    are; a 1-D code is x, against a seeded jitter y in [-1, 1] that means nothing (a strip plot:
    it only spreads the points out so that they do not hide each other). New codes
    (`transform`) go on the strip's middle line, y = 0."""

    def __init__(self, seed: int = 0):
        self.seed = seed

    def fit(self, codes: np.ndarray) -> "Unchanged":
        self.d = check_method("none", np.shape(codes)[1] if np.ndim(codes) == 2 else 0)
        return self

    def transform(self, codes: np.ndarray) -> np.ndarray:
        z = np.asarray(codes, np.float32).reshape(-1, self.d)
        return np.hstack([z, np.zeros((len(z), 2 - self.d), np.float32)])

    def fit_transform(self, codes: np.ndarray) -> np.ndarray:
        xy = self.fit(codes).transform(codes)
        if self.d == 1:
            xy[:, 1] = np.random.default_rng(self.seed).uniform(-1.0, 1.0, len(xy))
        return xy

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        """Map positions (n, 2) -> codes (n, d): the positions themselves (1-D codes drop y)."""
        return np.asarray(points, np.float32).reshape(-1, 2)[:, :self.d].copy()


def _none(seed: int):
    return Unchanged(seed)


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
        self.verbose = False  # True: umap-learn prints its steps and a tqdm bar of its epochs

    def fit(self, codes: np.ndarray) -> "ExactKnnUMAP":
        knn = (None, None, None)
        if len(codes) > self.n_neighbors:  # else UMAP truncates n_neighbors and searches itself
            knn = exact_knn(codes, self.n_neighbors)
        # n_epochs=200: UMAP's own choice above 10,000 points; its 500 at <= 10,000 costs 40% more.
        self.reducer = umap_reducer(self.seed, self.n_neighbors, self.min_dist, n_epochs=200, precomputed_knn=knn,
                                    verbose=self.verbose)
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
NAMES = {"none": "the codes", "pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}  # as pages name them


# --- which maps for d-D codes: the one rule every page and the training history ask ----------

def map_methods(d: int) -> list[str]:
    """The projections that can map d-D codes, the default first. 1-D codes are their own map
    (against a jitter): a 2-D picture of one number adds nothing, and PCA cannot make two axes
    of one. 2-D codes are their own map, or any projection's. Wider codes need a projection;
    PCA first: it takes a moment, and places new codes on the same map."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"codes need at least 1 dimension to be mapped, got {d!r}")
    return ["none"] if d == 1 else ["none", "pca", "umap", "tsne"] if d == 2 else ["pca", "umap", "tsne"]


def default_method(d: int) -> str:
    """The map a page shows d-D codes on unless the user picks another: map_methods(d)[0]."""
    return map_methods(d)[0]


def check_method(method: str, d: int) -> int:
    """d, or ValueError saying which maps d-D codes can have, when `method` is not one of them."""
    lookup(PROJECTIONS, method, "projection")
    allowed = map_methods(d)
    if method not in allowed:
        choices = ", ".join(allowed[:-1]) + " or " * (len(allowed) > 1) + allowed[-1]
        raise ValueError(f"projection {method!r} cannot map {d}-D codes; pick {choices}")
    return int(d)


def axis_names(method: str, d: int) -> tuple[str, str]:
    """The two axes' titles of a `method` map of d-D codes."""
    if method == "none":
        return ("z1", "jitter (means nothing)") if check_method(method, d) == 1 else ("z1", "z2")
    return f"{NAMES[method]} 1", f"{NAMES[method]} 2"


def map_caption(method: str, d: int, seed: int, params: dict | None = None) -> str:
    """What a map shows, in words: "the 2-D codes themselves", "UMAP (n_neighbors=15) of the
    16-D codes, seed 0", the jitter of a 1-D map named as meaningless."""
    check_method(method, d)
    if method == "none":
        return ("the 1-D codes along x, spread up and down by a random jitter (seed "
                f"{seed}) that means nothing" if d == 1 else "the 2-D codes themselves")
    settings = f" ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else ""
    return f"{NAMES[method]}{settings} of the {d}-D codes, seed {seed}"


def shown_positions(codes, xy, method: str) -> np.ndarray:
    """The positions whose distances a map shows, for neighbours on it: the map (N, 2), except
    on a 1-D code's own map, whose jitter means nothing: there the codes (N, 1)."""
    codes = np.asarray(codes, np.float32)
    return codes if method == "none" and codes.shape[1] == 1 else np.asarray(xy, np.float32)


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
    """Project codes (N, d) to a 2-D map (N, 2) float32 with `method` in PROJECTIONS, one of
    map_methods(d) (else ValueError)."""
    codes = np.asarray(codes, dtype=np.float32)
    check_method(method, codes.shape[1] if codes.ndim == 2 else 0)
    projection = make_projection(method, seed, **params)
    return np.asarray(projection.fit_transform(codes), dtype=np.float32)


def fitted_map(codes, seed: int = 0) -> tuple[np.ndarray, object]:
    """The small maps drawn beside other views (Generate, Denoise): the default map of the codes
    (default_method: the codes themselves for 1 or 2 dimensions, else their PCA). Returns
    (points (N, 2) float32, the fitted projection, whose `transform` places new codes on the
    same map)."""
    codes = np.asarray(codes, np.float32)
    projection = make_projection(default_method(codes.shape[1]), seed)
    return np.asarray(projection.fit_transform(codes), np.float32), projection
