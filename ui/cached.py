"""The app's caches of what a checkpoint and a dataset hold: models, data, codes, projections,
neighbours, histories (the maps drawn of them are cached in ui.maps, under the same keys).
Models go in st.cache_resource (shared between sessions, never mutated), arrays in
st.cache_data; both are keyed by plain strings.

One thing identifies "these weights": `stamp(path)`, the sha256 of the checkpoint's weights
(memoised by mtime and size, so a call is one stat). It is part of every per-checkpoint key, in
memory and on disk, so retraining into the same folder is seen and a renamed copy is not
recomputed.

Nothing here imports torch until a model is needed (load): the Latent map's first view of a
checkpoint that stores its codes (aecore.checkpoint.codes) is drawn before torch has loaded.
"""
from __future__ import annotations

import functools
import inspect
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from aecore.cache import cached_projection
from aecore.checkpoint import (Checkpoint, CheckpointError, config_dataset, is_onnx_folder, load_checkpoint,
                               model_config, read_config, read_metrics, stored_codes, weights_digest)
from aecore.checkpoint.fit import check_fit, data_shape
from aecore.data import DataError, Dataset, available_datasets, load_dataset, shown_instead, source_stamp, split_size
from aecore.latent.neighbours import nearest_neighbours
from aecore.latent.projections import project
from aecore.pictures.pixels import MNIST, ImageShape, unit_float

if TYPE_CHECKING:
    import plotly.graph_objects as go

TEST = "test"  # the split every page shows


def stamp(path) -> str:
    """The digest of the checkpoint's weights, or "missing"."""
    try:
        return weights_digest(path)
    except OSError:
        return "missing"


def files_of(name: str) -> str:
    """What identifies dataset `name`'s files now (aecore.data.source_stamp), "" when none are
    here: a cache keyed by it reads a replaced file anew."""
    try:
        return source_stamp(name)
    except (DataError, ValueError, OSError):
        return ""


def per_checkpoint(cache):
    """Decorate `f(path, weights, *args)` cached by `cache` (st.cache_data(...) or
    st.cache_resource(...)) into `f(path, *args)`: the weights' stamp joins the key, and when `f`
    takes a dataset `name`, so do that dataset's files (files_of)."""
    def wrap(compute):
        signature = inspect.signature(compute)
        by_data = "name" in signature.parameters

        @functools.wraps(compute)  # Streamlit keys a cache by the function's name and source
        def keyed(path, weights, files, *args):  # files: only a key
            return compute(path, weights, *args)
        cached = cache(keyed)

        @functools.wraps(compute)
        def call(path, *args, **kwargs):
            bound = signature.bind(str(path), stamp(path), *args, **kwargs)
            bound.apply_defaults()  # one key however the defaults were given
            files = files_of(bound.arguments["name"]) if by_data and bound.arguments["name"] else ""
            return cached(bound.args[0], bound.args[1], files, *bound.args[2:])
        call.clear = cached.clear
        return call
    return wrap


@per_checkpoint(st.cache_resource(show_spinner="Loading the model…", max_entries=16))
def load(path: str, weights: str) -> Checkpoint:
    """The checkpoint at `path` (shared between sessions: never mutate the model), its model on
    $AECORE_DEVICE (aecore.devices; unset: the CPU)."""
    from aecore.devices import app_device
    ckpt = load_checkpoint(path)
    ckpt.model.to(app_device())
    return ckpt


@st.cache_resource(show_spinner=False, max_entries=8)
def _dataset(name: str, split: str, files: str) -> Dataset:
    return load_dataset(name, split)


def dataset(name: str, split: str = TEST) -> Dataset:
    """A dataset split; its arrays are read-only and shared. Keyed by the files it is read from
    (files_of), so a replaced file or another data folder is read anew."""
    return _dataset(name, split, files_of(name))


@st.cache_data(show_spinner=False, ttl=60)
def _available_in(data_dir: str, cache_dir: str) -> dict[str, bool]:
    return available_datasets()


def available() -> list[str]:
    """The datasets whose files are on this machine (looked for at most once a minute, and at once
    when a data folder changes: aecore.explore adds a notebook's images while the app runs)."""
    from aecore.data.registry import data_roots
    roots = ";".join(f"{root}:{root.stat().st_mtime_ns if root.is_dir() else 0}" for root in data_roots())
    found = _available_in(roots, os.environ.get("AECORE_CACHE_DIR", ""))
    return [name for name, here in found.items() if here]


@st.cache_data(show_spinner=False, ttl=60)
def _size_in(name: str, split: str, data_dir: str, cache_dir: str) -> int:
    return split_size(name, split)


def size(name: str, split: str) -> int:
    """The images in split "train" or "test" of a dataset (aecore.data.split_size: IDX files are
    counted from their labels alone), looked at most once a minute."""
    return _size_in(name, split, os.environ.get("AECORE_DATA_DIR", ""), os.environ.get("AECORE_CACHE_DIR", ""))


@per_checkpoint(st.cache_data(show_spinner=False, max_entries=64))
def trained_on(path: str, weights: str) -> str | None:
    """The dataset the checkpoint's config says it was trained on (None when it does not say)."""
    return config_dataset(_config(path))


def _config(path: str) -> dict:
    """A checkpoint's config without loading its weights: config.json, or for an ONNX model
    folder (which has none) the config its loader describes from onnx.json and the graphs."""
    return load(path).config if is_onnx_folder(path) else read_config(path)


@per_checkpoint(st.cache_data(show_spinner=False, max_entries=64))
def image_shape(path: str, weights: str) -> ImageShape:
    """The shape of the images the checkpoint's model takes, from config.json (no weights loaded;
    an ONNX model's from its graphs)."""
    if is_onnx_folder(path):
        return getattr(load(path).model, "image_shape", None) or MNIST
    try:
        return model_config(read_config(path)).image_shape
    except CheckpointError:
        return MNIST


def shape_of(name: str) -> ImageShape:
    """The shape of a dataset's images (its test split, as the pages show it)."""
    return data_shape(dataset(name))


def fits(path: str, name: str, split: str = TEST) -> None:
    """ValueError naming both shapes when dataset `name`'s images are not the checkpoint's model's
    (aecore.checkpoint.fit): the page shows it instead of a traceback."""
    check_fit(image_shape(path), dataset(name, split), Path(path).name, name)


def dataset_for(path: str) -> str:
    """What a page shows for the checkpoint by default: its own dataset when its files are here,
    else the stand-in for it (mnist-sample for mnist), else the first dataset here of the images
    the model takes, else the first dataset that is here."""
    here = available()
    own = shown_instead(trained_on(path), dict.fromkeys(here, True))
    if own or not here:
        return own or "mnist-sample"
    shape = image_shape(path)
    return next((name for name in here if _shape_or_none(name) == shape), here[0])


def _shape_or_none(name: str) -> ImageShape | None:
    try:
        return shape_of(name)
    except (DataError, ValueError, OSError):
        return None


@per_checkpoint(st.cache_data(show_spinner="Encoding the dataset…", max_entries=32))
def codes(path: str, weights: str, name: str, split: str = TEST) -> np.ndarray:
    """Codes (N, d) float32 of a dataset split under a checkpoint: those stored in its folder for
    these images (aecore.checkpoint.codes), else encoded by its model."""
    images = dataset(name, split).images
    stored = stored_codes(path, weights, images)  # made by these weights of these images: they fit
    if stored is not None:
        return stored
    fits(path, name, split)
    from aecore.latent.codec import encode_all
    return encode_all(load(path).model, images)


def reconstruct(path: str, name: str, index, split: str = TEST) -> np.ndarray:
    """Reconstructions (k, H, W) grey or (k, H, W, 3) colour, float32 in [0, 1], of the images at
    `index` of a split (not cached: pages show a few at a time, and 70,000 would take 220 MB)."""
    from aecore.latent.codec import decode_all
    return decode_all(load(path).model, codes(path, name, split)[np.asarray(index)])


@per_checkpoint(st.cache_data(show_spinner="Measuring the reconstructions…", max_entries=16))
def reconstruction_errors(path: str, weights: str, name: str, split: str = TEST) -> np.ndarray:
    """Per image (N,): the mean squared error per pixel value of its reconstruction, in batches."""
    from aecore.latent.codec import decode_all
    images, z, model = dataset(name, split).images, codes(path, name, split), load(path).model
    rows = max(1000, min(5000, 2**22 // int(np.prod(images.shape[1:]))) // 1000 * 1000)  # 5,000 28x28 images a batch
    out = [((unit_float(images[s:s + rows]) - decode_all(model, z[s:s + rows])) ** 2).reshape(
        len(images[s:s + rows]), -1).mean(axis=1) for s in range(0, len(images), rows)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


@per_checkpoint(st.cache_data(show_spinner=False, max_entries=64))
def code_neighbours(path: str, weights: str, name: str, split: str, point: int, k: int = 8):
    """The k nearest codes to the code of image `point`: (indices, distances)."""
    return nearest_neighbours(codes(path, name, split), point, k)


@st.cache_data(show_spinner=False, max_entries=64)
def _pixel_neighbours(name: str, split: str, files: str, point: int, k: int):
    return nearest_neighbours(dataset(name, split).images, point, k)


def pixel_neighbours(name: str, split: str, point: int, k: int = 8):
    """The k nearest images to image `point` in pixel space: (indices, distances)."""
    return _pixel_neighbours(name, split, files_of(name), int(point), k)


@per_checkpoint(st.cache_data(show_spinner=False, max_entries=32))
def _projection(path: str, weights: str, name: str, split: str, method: str, seed: int,
                params_json: str) -> np.ndarray:
    return cached_projection(codes(path, name, split), weights, name, split, method, seed,
                             json.loads(params_json))


def projection(path: str, name: str, split: str, method: str, seed: int, **params) -> np.ndarray:
    """2-D map (N, 2) float32 of the codes; cached in memory and on disk (aecore.cache)."""
    if method == "none":
        return project(codes(path, name, split), "none", int(seed))  # a 1-D code's jitter is seeded
    with st.spinner(f"Projecting with {method} (cached on disk afterwards)…"):
        return _projection(path, name, split, method, int(seed), json.dumps(params, sort_keys=True))


@st.cache_data(show_spinner="Measuring PSNR at 7 noise levels on 200 test digits…", max_entries=32)
def _psnr_curve(models: tuple, weights: tuple, name: str, files: str, kind: str, seed: int) -> dict:
    from aecore.measure import denoise
    clean = dataset(name).images[:200]
    return denoise.psnr_curve(clean, kind, {label: load(p).model for label, p in models}, seed)


def psnr_curve(models: dict, name: str, kind: str, seed: int) -> dict:
    """aecore.measure.denoise.psnr_curve on the first 200 test digits for {label: checkpoint
    path}, cached by every checkpoint's stamp."""
    pairs = tuple(models.items())
    for _, path in pairs:
        fits(path, name)
    return _psnr_curve(pairs, tuple(stamp(p) for _, p in pairs), name, files_of(name), kind, int(seed))


@per_checkpoint(st.cache_data(show_spinner=False, max_entries=16))
def recorded(path: str, weights: str) -> dict | None:
    """The checkpoint's training history (aecore.checkpoint.Checkpoint.recorded), or None."""
    return load(path).recorded()


@per_checkpoint(st.cache_resource(show_spinner="Drawing every epoch…", max_entries=8))
def history_figure(path: str, weights: str, name: str | None, axis_names: tuple) -> "go.Figure":
    """The replay of recorded(path) (aecore.pictures.replay), coloured by the labels of `name`'s
    test split, or all alike for None (shared between sessions: never mutate it)."""
    from aecore.pictures.replay import history_figure as figure
    history = recorded(path)
    index = history["index"]
    if name is None:
        return figure(history["maps"], index, np.zeros(len(index), np.int64), ("unknown",),
                      history["reconstructions"], history["epochs"], axis_names)
    data = dataset(name)
    return figure(history["maps"], index, data.labels[index], data.classes, history["reconstructions"],
                  history["epochs"], axis_names, label=data.label)


@per_checkpoint(st.cache_data(show_spinner=False, max_entries=64))
def summary(path: str, weights: str) -> tuple[dict, dict | None]:
    """(config.json, metrics.json or None) of a checkpoint, without loading its weights."""
    return _config(path), read_metrics(path)
