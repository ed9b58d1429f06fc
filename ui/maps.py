"""The maps the pages draw of a checkpoint's codes, cached: the latent map's figure for each
setting (coloured as ui.colourings says), the inverse that decodes any spot of it, its decoded
backdrop, and the disagreement of two maps (Compare). Built on what ui.cached holds (codes, projections, models),
under the same keys: the weights' stamp is part of every per-checkpoint one.
"""
from __future__ import annotations

import json

import numpy as np
import streamlit as st

from aecore import cache
from aecore.latent import cost
from aecore.latent.projections import NAMES, axis_names, default_method, shown_positions
from ui import cached, colourings, jobs
from ui.cached import TEST, per_checkpoint

INVERTIBLE = ("none", "pca", "umap")  # maps whose empty space decodes (aecore.latent.inverse)
BACKDROP = 16                         # the decoded backdrop's grid: BACKDROP x BACKDROP images
THUMB_GRID = 8                        # thumbnails: at most one per cell of an 8 x 8 cut of the map
THUMBS = THUMB_GRID ** 2


class _Imported:
    """`method in _imported`: has this process imported what a `method` map needs (umap-learn and
    numba's machine code take seconds the first time)?"""

    def __contains__(self, method: str) -> bool:
        import sys
        return {"umap": "umap", "tsne": "sklearn.manifold"}.get(method, "numpy") in sys.modules


_imported = _Imported()


def projection_work(path: str, name: str, split: str, method: str, seed: int, params: dict) -> jobs.Work | None:
    """The background work that makes this map (ui.jobs), or None for a map made in a moment."""
    if method not in ("umap", "tsne"):
        return None
    n, d = cached.codes(path, name, split).shape
    return jobs.Work(key=cache.projection_key(cached.stamp(path), name, split, n, method, int(seed), params),
                     task={"task": "projection", "cost": method, "method": method, "seed": int(seed), "params": params},
                     title=f"{NAMES[method]} of {n:,} {d}-D codes", estimate=cost.seconds(method, n, d, params),
                     here=cost.seconds(method, n, d, params, setup=0 if method in _imported else cost.IMPORT_S[method]),
                     inputs=lambda: cached.codes(path, name, split))


def needs(path: str, name: str, split: str, method: str, seed: int, params: dict, colour: str = "class") -> list:
    """The slow works (ui.jobs) a map of these settings needs before it can be drawn."""
    works = [projection_work(path, name, split, method, seed, params)]
    if colour == "neighbour preservation" and method == "none":
        works.append(colourings.neighbours_work(name, split))
    return [w for w in works if w is not None]


@per_checkpoint(st.cache_resource(show_spinner=False, max_entries=8))
def map_figure(path: str, weights: str, name: str, split: str, method: str, seed: int, params_json: str,
               colour: str, thumbnails: bool, backdrop_n: int = 0, shown: tuple | None = None,
               marked: tuple = (), marks_name: str = "marked", against: str = "", height: int = 620):
    """The latent map's figure for these settings, built once: a rerun for a selection, a click or
    a neighbour query sends the same figure (Streamlit then sends only its hash). Shared: never
    mutate it. thumbnails: images on top, one per patch of the map (aecore.pictures.thumbnails);
    backdrop_n: an n x n decoded backdrop; shown: the classes not greyed; marked: points ringed
    on top (those selected on another map, one found by index); colour "disagreement" colours by
    disagreement() with the map `against` (a map_spec)."""
    from aecore.pictures import plots
    from aecore.pictures.thumbnails import add_thumbnails

    data, params = cached.dataset(name, split), json.loads(params_json)
    xy = cached.projection(path, name, split, method, seed, **params)
    if colour == "disagreement":
        values = disagreement(map_spec(path, method, params), against, name, split, seed)
    else:
        values = colourings.colour_values(path, name, split, colour, method, seed, **params)
    colours = colourings.scatter_colours(data, colour, values, colourings.colour_name(colour, method))
    colours["labels"], shown = colourings.greyed_labels(colours, data, shown)
    fig = plots.latent_scatter(xy, np.arange(len(xy)), **colours, shown=shown, height=height,
                               axis_names=axis_names(method, cached.codes(path, name, split).shape[1]))
    if method in INVERTIBLE:
        plots.add_click_grid(fig, plots.padded_extent(xy))
    if backdrop_n and method in INVERTIBLE:
        plots.add_backdrop(fig, *backdrop(path, name, split, method, seed, params_json, backdrop_n))
    if marked:
        plots.add_marks(fig, xy[list(marked)], np.asarray(marked), marks_name)
    if thumbnails:  # one per patch of the map, on top of the points
        add_thumbnails(fig, xy, data.images, data.labels, THUMB_GRID)
    return fig


def first_map(path: str, name: str) -> None:
    """What a first visit to the Latent map shows, computed into the caches: the test split's
    codes, the map with the page's defaults (default_method: the codes themselves for 1- or 2-D
    codes, else PCA; coloured by class; seed 0; no thumbnails) and the first image's neighbours."""
    z = cached.codes(path, name, TEST)
    map_figure(path, name, TEST, default_method(z.shape[1]), 0, json.dumps({}), "class", 0)
    cached.code_neighbours(path, name, TEST, 0)
    cached.pixel_neighbours(name, TEST, 0)


@per_checkpoint(st.cache_resource(show_spinner="Fitting the map's inverse (once per map)…", max_entries=8))
def inverse(path: str, weights: str, name: str, split: str, method: str, seed: int, params_json: str):
    """The map's inverse, map positions -> codes (aecore.latent.inverse.inverse_map). Shared:
    never mutate it."""
    from aecore.latent.inverse import inverse_map

    params = json.loads(params_json)
    xy = cached.projection(path, name, split, method, seed, **params)
    return inverse_map(cached.codes(path, name, split), xy, method, seed, **params)


def decode_at(path: str, name: str, split: str, method: str, seed: int, params_json: str, points) -> np.ndarray:
    """Images decoded at map positions (n, 2) of the map of these settings, in the display layout
    of the model's image shape ((n, H, W) grey, (n, H, W, 3) colour), float in [0, 1]."""
    z = inverse(path, name, split, method, seed, params_json).inverse_transform(np.asarray(points, np.float32))
    from aecore.latent.codec import decode_codes  # imports torch: here, not before the first map is drawn
    return decode_codes(cached.load(path).model, z)


@per_checkpoint(st.cache_data(show_spinner="Decoding the backdrop…", max_entries=16))
def backdrop(path: str, weights: str, name: str, split: str, method: str, seed: int, params_json: str,
             n: int = BACKDROP) -> tuple[np.ndarray, tuple]:
    """(decoded images (n * n, H, W[, 3]) of an n x n grid over the map, the grid's extent)."""
    from aecore.latent.inverse import backdrop_grid
    from aecore.pictures import plots

    extent = plots.padded_extent(cached.projection(path, name, split, method, seed, **json.loads(params_json)))
    return decode_at(path, name, split, method, seed, params_json, backdrop_grid(extent, n)), extent


@st.cache_data(show_spinner="Comparing the two maps' neighbours…", max_entries=16)
def _disagreement(a: str, b: str, stamps: tuple, name: str, split: str, seed: int, k: int) -> np.ndarray:
    from aecore.measure.disagreement import neighbour_disagreement

    maps = [shown_positions(cached.codes(p, name, split), cached.projection(p, name, split, m, seed, **params), m)
            for p, m, params in map(json.loads, (a, b))]  # a 1-D code's map: its jitter is no neighbourhood
    return neighbour_disagreement(*maps, k=k)


def disagreement(a: str, b: str, name: str, split: str, seed: int, k: int = 10) -> np.ndarray:
    """Per point (N,): the fraction of its k map neighbours that differ between the maps a and b,
    each given as map_spec(...)."""
    stamps = (*(cached.stamp(json.loads(s)[0]) for s in (a, b)), cached.files_of(name))
    return _disagreement(a, b, stamps, name, split, int(seed), k)


def map_spec(path: str, method: str, params: dict) -> str:
    """One map of a dataset split, for disagreement(): JSON [path, method, params]."""
    return json.dumps([str(path), method, params], sort_keys=True)
