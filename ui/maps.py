"""The maps the pages draw of a checkpoint's codes, cached: the latent map's figure for each
setting, its colourings, the inverse that decodes any spot of it, its decoded backdrop, and the
disagreement of two maps (Compare). Built on what ui.cached holds (codes, projections, models),
under the same keys: the weights' stamp is part of every per-checkpoint one.
"""
from __future__ import annotations

import json

import numpy as np
import streamlit as st

from aecore.latent.neighbours import neighbour_preservation
from ui import cached
from ui.cached import TEST, per_checkpoint

COLOURS = {"class": None, "reconstruction error": "error per pixel",
           "neighbour preservation": "kept neighbours (k=10)"}  # colour mode -> its colour bar's name
DISAGREE = "neighbours that differ (k=10)"  # the colour bar of "disagreement" (Compare)
INVERTIBLE = ("none", "pca", "umap")  # maps whose empty space decodes (aecore.latent.inverse)
BACKDROP = 16                         # the decoded backdrop's grid: BACKDROP x BACKDROP images


@per_checkpoint(st.cache_data(show_spinner="Measuring…", max_entries=16))
def _colour_values(path: str, weights: str, name: str, split: str, colour: str, method: str,
                   seed: int, params_json: str) -> np.ndarray:
    if colour == "reconstruction error":
        return cached.reconstruction_errors(path, name, split)
    xy = cached.projection(path, name, split, method, seed, **json.loads(params_json))
    return neighbour_preservation(cached.codes(path, name, split), xy, k=10)


def colour_values(path: str, name: str, split: str, colour: str, method: str, seed: int,
                  **params) -> np.ndarray | None:
    """Per point (N,): None for "class", the mean squared error per pixel for "reconstruction
    error", the fraction of 10 code-space neighbours kept by the map for "neighbour preservation"."""
    if COLOURS[colour] is None:
        return None
    return _colour_values(path, name, split, colour, method, int(seed), json.dumps(params, sort_keys=True))


@per_checkpoint(st.cache_resource(show_spinner=False, max_entries=8))
def map_figure(path: str, weights: str, name: str, split: str, method: str, seed: int, params_json: str,
               colour: str, thumbnails: int, backdrop_n: int = 0, shown: tuple | None = None,
               marked: tuple = (), marks_name: str = "marked", against: str = "", height: int = 620):
    """The latent map's figure for these settings, built once: a rerun for a selection, a click or
    a neighbour query sends the same figure (Streamlit then sends only its hash). Shared: never
    mutate it. backdrop_n: an n x n decoded backdrop; shown: the classes not greyed; marked:
    points ringed on top (those selected on another map, one found by index); colour
    "disagreement" colours by disagreement() with the map `against` (a map_spec)."""
    from aecore.pictures import plots

    data, params = cached.dataset(name, split), json.loads(params_json)
    xy = cached.projection(path, name, split, method, seed, **params)
    if colour == "disagreement":
        values, value_name = disagreement(map_spec(path, method, params), against, name, split, seed), DISAGREE
    else:
        values, value_name = colour_values(path, name, split, colour, method, seed, **params), COLOURS[colour]
    fig = plots.latent_scatter(xy, np.arange(len(xy)), data.labels, data.classes, values, value_name,
                               ("z1", "z2") if method == "none" else (f"{method} 1", f"{method} 2"),
                               height=height, label=data.label, shown=shown)
    if method in INVERTIBLE:
        plots.add_click_grid(fig, plots.padded_extent(xy))
    if backdrop_n and method in INVERTIBLE:
        plots.add_backdrop(fig, *backdrop(path, name, split, method, seed, params_json, backdrop_n))
    if marked:
        plots.add_marks(fig, xy[list(marked)], np.asarray(marked), marks_name)
    if thumbnails:
        t = np.sort(np.random.default_rng(seed).choice(len(xy), min(thumbnails, len(xy)), replace=False))
        plots.add_thumbnails(fig, xy[t], data.images[t], data.labels[t])
    return fig


def first_map(path: str, name: str) -> None:
    """What a first visit to the Latent map shows, computed into the caches: the test split's
    codes, the map with the page's defaults (the code plane for 2-D codes, else PCA; coloured by
    class; seed 0; no thumbnails) and the first image's neighbours."""
    z = cached.codes(path, name, TEST)
    map_figure(path, name, TEST, "none" if z.shape[1] == 2 else "pca", 0, json.dumps({}), "class", 0)
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
    """Images (n, 28, 28) in [0, 1] decoded at map positions (n, 2) of the map of these settings."""
    z = inverse(path, name, split, method, seed, params_json).inverse_transform(np.asarray(points, np.float32))
    from aecore.latent.codec import decode_codes  # imports torch: here, not before the first map is drawn
    return decode_codes(cached.load(path).model, z)


@per_checkpoint(st.cache_data(show_spinner="Decoding the backdrop…", max_entries=16))
def backdrop(path: str, weights: str, name: str, split: str, method: str, seed: int, params_json: str,
             n: int = BACKDROP) -> tuple[np.ndarray, tuple]:
    """(decoded images (n * n, 28, 28) of an n x n grid over the map, the grid's extent)."""
    from aecore.latent.inverse import backdrop_grid
    from aecore.pictures import plots

    extent = plots.padded_extent(cached.projection(path, name, split, method, seed, **json.loads(params_json)))
    return decode_at(path, name, split, method, seed, params_json, backdrop_grid(extent, n)), extent


@st.cache_data(show_spinner="Comparing the two maps' neighbours…", max_entries=16)
def _disagreement(a: str, b: str, stamps: tuple, name: str, split: str, seed: int, k: int) -> np.ndarray:
    from aecore.measure.disagreement import neighbour_disagreement

    maps = [cached.projection(p, name, split, m, seed, **params) for p, m, params in map(json.loads, (a, b))]
    return neighbour_disagreement(*maps, k=k)


def disagreement(a: str, b: str, name: str, split: str, seed: int, k: int = 10) -> np.ndarray:
    """Per point (N,): the fraction of its k map neighbours that differ between the maps a and b,
    each given as map_spec(...)."""
    stamps = tuple(cached.stamp(json.loads(s)[0]) for s in (a, b))
    return _disagreement(a, b, stamps, name, split, int(seed), k)


def map_spec(path: str, method: str, params: dict) -> str:
    """One map of a dataset split, for disagreement(): JSON [path, method, params]."""
    return json.dumps([str(path), method, params], sort_keys=True)
