"""What a map's points can be coloured by, and the colours: the class; each metadata column of
the dataset (a category column as a legend, as classes are; a number column on a colour scale
with a colour bar, missing values grey); or a measure of the checkpoint (reconstruction error,
neighbour preservation; on Compare, disagreement with the other map). A colouring is named by a
plain string (a cache key): "class", a measure's name, or COLUMN + a column's name.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore import __version__, cache
from aecore.latent import cost
from aecore.latent.neighbours import neighbour_preservation
from aecore.latent.projections import shown_positions
from aecore.pictures.columns import category_labels, hover_lines
from ui import cached, jobs
from ui.map_spec import MapSpec, per_map

COLUMN = "column: "  # a colouring by a metadata column is COLUMN + its name
MEASURES = {"reconstruction error": "error per pixel",
            "neighbour preservation": "kept neighbours (k=10)"}  # colouring -> its colour bar's name
KEPT = {"code": "code neighbours kept (k=10)", "pixel": "pixel neighbours kept (k=10)"}
COLOUR_HELP = ("A column of the dataset's metadata: a category column colours by category (a legend), a number "
               "column on a colour scale (a colour bar; grey: no value). "
               "reconstruction error: each image's mean squared error per pixel. "
               "neighbour preservation: of each point's 10 nearest neighbours before the map, how many are "
               "among its 10 nearest on it. Before a projection (PCA, UMAP, t-SNE) that is code space. The "
               "codes' own map (none) is the codes, so it keeps every code neighbour: there it is pixel "
               "space, the images the encoder mapped, and the colour shows where the codes tear apart "
               "images that look alike.")
DISAGREE = "neighbours that differ (k=10)"  # the colour bar of "disagreement" (Compare)
K = 10                                      # neighbours per point of "neighbour preservation"


def column_of(colour: str) -> str | None:
    """The column a colouring names, or None for class and the measures."""
    return colour[len(COLUMN):] if colour.startswith(COLUMN) else None


def options(data, measures: dict | None = None) -> dict[str, str]:
    """{colouring: its text in a "Colour by" select} for a dataset split: its class, each of its
    columns, then `measures` {colouring: text} (default: MEASURES, each by its name). A column
    named as another option reads "NAME (column)"."""
    measures = {m: m for m in MEASURES} if measures is None else measures
    shown = {"class": data.label}
    taken = {data.label, *measures.values()}
    for name in data.columns:
        shown[COLUMN + name] = f"{name} (column)" if name in taken else name
    return shown | measures


def colour_name(colour: str, method: str) -> str | None:
    """The colour bar's title of a measure on a `method` map (None for class and columns)."""
    if colour == "neighbour preservation":
        return KEPT["pixel" if method == "none" else "code"]
    return DISAGREE if colour == "disagreement" else MEASURES.get(colour)


def scatter_colours(data, colour: str, values=None, value_name: str | None = None) -> dict:
    """The colouring's arguments of plots.latent_scatter for the points of `data`: labels,
    classes, label, values, value_name, hover (a few columns per point), value_format. `values`
    (N,) and value_name: a measure's, when `colour` is one."""
    columns, column = data.columns, column_of(colour)
    if column not in columns:  # class, a measure, or a column this dataset lacks (class then)
        return dict(labels=data.labels, classes=data.classes, label=data.label, values=values,
                    value_name=value_name or "", hover=hover_lines(columns))
    others = {k: v for k, v in columns.items() if k != column}
    if data.column_kind(column) == "number":
        return dict(labels=data.labels, classes=data.classes, label=data.label, values=columns[column],
                    value_name=column, hover=hover_lines(others), value_format=".3g")
    labels, names = category_labels(columns[column])
    own = hover_lines({data.label: np.asarray(data.classes, dtype=object)[data.labels], **others})
    return dict(labels=labels, classes=names, label=column, values=None, value_name="", hover=own)


def greyed_labels(kwargs: dict, data, shown: tuple | None) -> tuple[np.ndarray, tuple | None]:
    """(labels, shown) for latent_scatter where the class filter `shown` (class numbers) greys
    the points of other classes while the colours are a category column's: those points get
    label -1, which no legend entry shows."""
    if shown is None or kwargs["labels"] is data.labels:
        return kwargs["labels"], shown
    return np.where(np.isin(data.labels, shown), kwargs["labels"], -1), tuple(range(len(kwargs["classes"])))


# ---------------------------------------------------------------- the measures

def _pixel_knn_key(name: str, split: str) -> dict:
    """What names a split's pixel neighbours on disk: the images themselves (their digest)."""
    return {"pixel_knn": _digest(name, split, cached.files_of(name)), "k": K, "aecore": __version__}


@st.cache_data(show_spinner=False, max_entries=16)
def _digest(name: str, split: str, files: str) -> str:
    from aecore.checkpoint.codes import images_digest
    return images_digest(cached.dataset(name, split).images)


def pixel_knn(name: str, split: str) -> np.ndarray:
    """Each image's K nearest images in pixel space (N, K) int32, through the disk cache (a
    background job makes it first where that takes long: neighbours_work)."""
    from aecore.latent.neighbour_lists import knn_lists
    key = _pixel_knn_key(name, split)
    with st.spinner("Finding each image's nearest images (cached on disk afterwards)…"):
        return cache.cached_array(key, lambda: knn_lists(cached.dataset(name, split).images, K))


def neighbours_work(name: str, split: str) -> jobs.Work:
    """The background work that finds each image's K nearest images (for "neighbour preservation"
    on the codes' own map)."""
    data = cached.dataset(name, split)
    n, pixels = len(data), int(np.prod(data.images.shape[1:]))
    return jobs.Work(key=_pixel_knn_key(name, split), task={"task": "knn", "cost": "knn", "k": K},
                     title=f"The {K} nearest images of each of {n:,} images (pixel space)",
                     estimate=cost.seconds("knn", n, pixels), here=cost.seconds("knn", n, pixels, setup=0),
                     inputs=lambda: cached.dataset(name, split).images)


@per_map(st.cache_data(show_spinner="Measuring…", max_entries=16))
def _measure(spec: MapSpec) -> np.ndarray:
    if spec.colour == "reconstruction error":  # the same on every map of these images
        return cached.reconstruction_errors(spec.checkpoint, spec.dataset, spec.split)
    codes = spec.codes()
    if spec.projection == "none":  # the map is the codes: what do they keep of the images' neighbours?
        from aecore.latent.neighbour_lists import kept, knn_lists
        return kept(pixel_knn(spec.dataset, spec.split), knn_lists(codes, K))
    return neighbour_preservation(codes, shown_positions(codes, spec.xy(), spec.projection), k=K)


def colour_values(spec: MapSpec) -> np.ndarray | None:
    """Per point (N,) of a measure: for "reconstruction error" the mean squared error per pixel;
    for "neighbour preservation" the fraction of its K nearest points before the map that are
    among its K nearest on it: code neighbours kept by a projection, pixel neighbours kept by the
    codes on their own map (COLOUR_HELP says why). None for class and columns."""
    return _measure(spec) if spec.colour in MEASURES else None
