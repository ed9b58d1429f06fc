"""Where two maps of the same points disagree: per point, how many of its nearest neighbours on
one map are not its neighbours on the other. Two models, or one model at two settings (PCA and
UMAP, two UMAP n_neighbors), are compared on the points themselves, not on their coordinates,
which no two maps share."""
from __future__ import annotations

import numpy as np

from ..latent.neighbours import knn_overlap


def neighbour_disagreement(map_a, map_b, k: int = 10) -> np.ndarray:
    """Per point (N,), in [0, 1]: the fraction of its k nearest neighbours on map_a (N, 2) that
    are not among its k nearest on map_b (N, 2); 0 = both maps agree on its neighbourhood."""
    return 1.0 - knn_overlap(map_a, map_b, k)


def most_disagreeing(disagreement, n: int = 20, seed: int = 0) -> np.ndarray:
    """Indices of at most n points that disagree at all (> 0), largest first. Points of equal
    disagreement are taken in a seeded random order, not by index: when hundreds share the
    largest value, the first indices would be no more telling than any others."""
    values = np.asarray(disagreement)
    shuffled = np.random.default_rng(seed).permutation(len(values))
    order = shuffled[np.argsort(-values[shuffled], kind="stable")]
    return order[values[order] > 0][:n]
