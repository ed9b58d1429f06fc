"""One map, as a value: which checkpoint, which images (dataset and split), which projection (its
name, seed and parameters) and what colours its points. Frozen and hashable, so it is the key of
every map cache (ui.maps, ui.colourings) and names its fields at every call; a new setting of a
map is a new field here, not another positional argument through every helper.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, replace

import numpy as np

from ui import cached


@dataclass(frozen=True)
class MapSpec:
    checkpoint: str           # the checkpoint folder (ui.cached: its weights' stamp joins every key)
    dataset: str              # a dataset name (aecore.data; its files' stamp joins every key)
    split: str = cached.TEST  # "test", "train", or "all" (train then test)
    projection: str = "pca"   # a name in aecore.latent.projections.NAMES ("none": the codes' own plane)
    seed: int = 0             # the projection's seed
    params: tuple = ()        # the projection's parameters as sorted (name, value) pairs: hashable
    colour: str = "class"     # what colours the points (ui.colourings: class, a column, a measure)

    @classmethod
    def of(cls, checkpoint, dataset: str, split: str = cached.TEST, projection: str = "pca", seed: int = 0,
           params: dict | None = None, colour: str = "class") -> "MapSpec":
        """A spec from the widgets' values (params as a dict)."""
        return cls(str(checkpoint), dataset, split, projection, int(seed), tuple(sorted((params or {}).items())),
                   colour)

    @property
    def options(self) -> dict:
        """The projection's parameters as keyword arguments."""
        return dict(self.params)

    def uncoloured(self) -> "MapSpec":
        """The same map coloured by class: the key of what the colours do not change (the map's
        inverse, its backdrop, its neighbours)."""
        return replace(self, colour="class")

    def data(self):
        """The dataset split the map shows (aecore.data.Dataset)."""
        return cached.dataset(self.dataset, self.split)

    def codes(self) -> np.ndarray:
        """The codes (N, d) of the map's images under its checkpoint."""
        return cached.codes(self.checkpoint, self.dataset, self.split)

    def xy(self) -> np.ndarray:
        """The map's positions (N, 2)."""
        return cached.projection(self.checkpoint, self.dataset, self.split, self.projection, self.seed, **self.options)


def per_map(cache):
    """Decorate `f(spec, *args)` cached by `cache` (st.cache_data(...) or st.cache_resource(...))
    into the same call whose key also holds the stamp of the spec's checkpoint weights and of its
    dataset's files, as ui.cached.per_checkpoint does for a path: retrained weights or a replaced
    data file are never served from the cache."""
    def wrap(compute):
        signature = inspect.signature(compute)

        @functools.wraps(compute)  # Streamlit keys a cache by the function's name and source
        def keyed(spec, weights, files, *args):  # weights, files: only keys
            return compute(spec, *args)
        stored = cache(keyed)

        @functools.wraps(compute)
        def call(spec: MapSpec, *args, **kwargs):
            bound = signature.bind(spec, *args, **kwargs)
            bound.apply_defaults()  # one key however the defaults were given
            return stored(spec, cached.stamp(spec.checkpoint), cached.files_of(spec.dataset), *bound.args[1:])
        call.clear = stored.clear
        return call
    return wrap
