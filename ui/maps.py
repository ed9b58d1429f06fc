"""The maps the pages draw of a checkpoint's codes, cached: the latent map's figure for each
MapSpec (ui.map_spec; coloured as ui.colourings says), the inverse that decodes any spot of it,
its decoded backdrop, and the disagreement of two maps (Compare). Built on what ui.cached holds
(codes, projections, models), under the same keys: the weights' stamp and the dataset's files
are part of every one.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore import cache
from aecore.latent import cost
from aecore.latent.projections import NAMES, axis_names, default_method, shown_positions
from ui import cached, colourings, jobs
from ui.cached import TEST
from ui.map_spec import MapSpec, per_map

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


def projection_work(spec: MapSpec) -> jobs.Work | None:
    """The background work that makes this map (ui.jobs), or None for a map made in a moment."""
    method, seed, params = spec.projection, spec.seed, spec.options
    if method not in ("umap", "tsne"):
        return None
    n, d = spec.codes().shape
    return jobs.Work(key=cache.projection_key(cached.stamp(spec.checkpoint), spec.dataset, spec.split, n, method,
                                              seed, params),
                     task={"task": "projection", "cost": method, "method": method, "seed": seed, "params": params},
                     title=f"{NAMES[method]} of {n:,} {d}-D codes", estimate=cost.seconds(method, n, d, params),
                     here=cost.seconds(method, n, d, params, setup=0 if method in _imported else cost.IMPORT_S[method]),
                     inputs=spec.codes)


def needs(spec: MapSpec) -> list:
    """The slow works (ui.jobs) the map of `spec` needs before it can be drawn."""
    works = [projection_work(spec)]
    if spec.colour == "neighbour preservation" and spec.projection == "none":
        works.append(colourings.neighbours_work(spec.dataset, spec.split))
    return [w for w in works if w is not None]


@per_map(st.cache_resource(show_spinner=False, max_entries=8))
def map_figure(spec: MapSpec, thumbnails: bool = False, backdrop_n: int = 0, shown: tuple | None = None,
               marked: tuple = (), marks_name: str = "marked", against: MapSpec | None = None, height: int = 620):
    """The latent map's figure of `spec`, built once: a rerun for a selection, a click or a
    neighbour query sends the same figure (Streamlit then sends only its hash). Shared: never
    mutate it. thumbnails: images on top, one per patch of the map (aecore.pictures.thumbnails);
    backdrop_n: an n x n decoded backdrop; shown: the classes not greyed; marked: points ringed
    on top (those selected on another map, one found by index); colour "disagreement" colours by
    disagreement() with the map `against`."""
    from aecore.pictures import plots
    from aecore.pictures.thumbnails import add_thumbnails

    data, xy = spec.data(), spec.xy()
    if spec.colour == "disagreement":
        values = disagreement(spec, against)
    else:
        values = colourings.colour_values(spec)
    colours = colourings.scatter_colours(data, spec.colour, values, colourings.colour_name(spec.colour, spec.projection))
    colours["labels"], shown = colourings.greyed_labels(colours, data, shown)
    fig = plots.latent_scatter(xy, np.arange(len(xy)), **colours, shown=shown, height=height,
                               axis_names=axis_names(spec.projection, spec.codes().shape[1]))
    if spec.projection in INVERTIBLE:
        plots.add_click_grid(fig, plots.padded_extent(xy))
    if backdrop_n and spec.projection in INVERTIBLE:
        plots.add_backdrop(fig, *backdrop(spec, backdrop_n))
    if marked:
        plots.add_marks(fig, xy[list(marked)], np.asarray(marked), marks_name)
    if thumbnails:  # one per patch of the map, on top of the points
        # framed in the class's colour only where the points are coloured by class: under another
        # colouring a class colour on the frame would read as that colouring's
        add_thumbnails(fig, xy, data.images, data.labels if spec.colour == "class" else None, THUMB_GRID)
    return fig


def first_map(path: str, name: str) -> None:
    """What a first visit to the Latent map shows, computed into the caches: the test split's
    codes, the map with the page's defaults (default_method: the codes themselves for 1- or 2-D
    codes, else PCA; coloured by class; seed 0; no thumbnails) and the first image's neighbours."""
    z = cached.codes(path, name, TEST)
    map_figure(MapSpec.of(path, name, TEST, default_method(z.shape[1])))
    cached.code_neighbours(path, name, TEST, 0)
    cached.pixel_neighbours(name, TEST, 0)


def inverse(spec: MapSpec):
    """The map's inverse, map positions -> codes (aecore.latent.inverse.inverse_map), the same
    whatever colours the map. Shared: never mutate it."""
    return _inverse(spec.uncoloured())


@per_map(st.cache_resource(show_spinner="Fitting the map's inverse (once per map)…", max_entries=8))
def _inverse(spec: MapSpec):
    from aecore.latent.inverse import inverse_map
    return inverse_map(spec.codes(), spec.xy(), spec.projection, spec.seed, **spec.options)


def decode_at(spec: MapSpec, points) -> np.ndarray:
    """Images decoded at map positions (n, 2) of the map of `spec`, in the display layout of the
    model's image shape ((n, H, W) grey, (n, H, W, 3) colour), float in [0, 1]."""
    z = inverse(spec).inverse_transform(np.asarray(points, np.float32))
    from aecore.latent.codec import decode_codes  # imports torch: here, not before the first map is drawn
    return decode_codes(cached.load(spec.checkpoint).model, z)


def backdrop(spec: MapSpec, n: int = BACKDROP) -> tuple[np.ndarray, tuple]:
    """(decoded images (n * n, H, W[, 3]) of an n x n grid over the map, the grid's extent)."""
    return _backdrop(spec.uncoloured(), n)


@per_map(st.cache_data(show_spinner="Decoding the backdrop…", max_entries=16))
def _backdrop(spec: MapSpec, n: int) -> tuple[np.ndarray, tuple]:
    from aecore.latent.inverse import backdrop_grid
    from aecore.pictures import plots

    extent = plots.padded_extent(spec.xy())
    return decode_at(spec, backdrop_grid(extent, n)), extent


@st.cache_data(show_spinner="Comparing the two maps' neighbours…", max_entries=16)
def _disagreement(a: MapSpec, b: MapSpec, stamps: tuple, k: int) -> np.ndarray:
    from aecore.measure.disagreement import neighbour_disagreement

    maps = [shown_positions(s.codes(), s.xy(), s.projection) for s in (a, b)]  # a 1-D code's jitter is no neighbourhood
    return neighbour_disagreement(*maps, k=k)


def disagreement(a: MapSpec, b: MapSpec, k: int = 10) -> np.ndarray:
    """Per point (N,): the fraction of its k map neighbours that differ between the maps a and b
    (of the same images: a's dataset and split are b's)."""
    if (a.dataset, a.split) != (b.dataset, b.split):
        raise ValueError(f"two maps of different images cannot disagree point by point: {a.dataset} {a.split} "
                         f"and {b.dataset} {b.split}")
    a, b = sorted((a.uncoloured(), b.uncoloured()), key=repr)  # A against B is B against A
    stamps = (cached.stamp(a.checkpoint), cached.stamp(b.checkpoint), cached.files_of(a.dataset))
    return _disagreement(a, b, stamps, k)
