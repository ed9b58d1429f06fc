"""Every cache of the app. Models go in st.cache_resource (shared between sessions, never
mutated), arrays in st.cache_data; both are keyed by plain strings.

One thing identifies "these weights": `stamp(path)`, the sha256 of the checkpoint's weights
(memoised by mtime and size, so a call is one stat). It is part of every per-checkpoint key, in
memory and on disk, so retraining into the same folder is seen and a renamed copy is not
recomputed.
"""
from __future__ import annotations

import functools
import inspect
import json
import os

import numpy as np
import streamlit as st

from aecore.cache import cached_projection
from aecore.checkpoint import Checkpoint, load_checkpoint, weights_digest
from aecore.data import Dataset, default_dataset, load_dataset
from aecore.latent import decode_codes, encode_dataset, neighbour_preservation, project
from aecore.measure import denoise
from aecore.pictures.pixels import unit_float

TEST = "test"  # the split every page shows


def stamp(path) -> str:
    """The digest of the checkpoint's weights, or "missing"."""
    try:
        return weights_digest(path)
    except OSError:
        return "missing"


def per_checkpoint(cache):
    """Decorate `f(path, weights, *args)` cached by `cache` (st.cache_data(...) or
    st.cache_resource(...)) into `f(path, *args)`: the weights' stamp joins the key."""
    def wrap(compute):
        cached, signature = cache(compute), inspect.signature(compute)

        @functools.wraps(compute)
        def call(path, *args, **kwargs):
            bound = signature.bind(str(path), stamp(path), *args, **kwargs)
            bound.apply_defaults()  # one key however the defaults were given
            return cached(*bound.args)
        call.clear = cached.clear
        return call
    return wrap


@per_checkpoint(st.cache_resource(show_spinner="Loading the model…", max_entries=16))
def load(path: str, weights: str) -> Checkpoint:
    """The checkpoint at `path` (shared between sessions: never mutate the model)."""
    return load_checkpoint(path)


@st.cache_resource(show_spinner=False)
def dataset(name: str, split: str = TEST) -> Dataset:
    """A dataset split; its arrays are read-only and shared."""
    return load_dataset(name, split)


@st.cache_data(show_spinner=False, ttl=60)
def _default_dataset_in(data_dir: str) -> tuple[str, str]:
    return default_dataset()


def default_dataset_choice() -> tuple[str, str]:
    """(name, what to say about it): the sidebar's default dataset, cached per $AECORE_DATA_DIR."""
    return _default_dataset_in(os.environ.get("AECORE_DATA_DIR", ""))


@per_checkpoint(st.cache_data(show_spinner="Encoding the dataset…", max_entries=32))
def codes(path: str, weights: str, name: str, split: str = TEST) -> np.ndarray:
    """Codes (N, d) float32 of a dataset split under a checkpoint."""
    return encode_dataset(load(path).model, dataset(name, split).images)


@per_checkpoint(st.cache_data(show_spinner="Decoding…", max_entries=16))
def reconstructions(path: str, weights: str, name: str, split: str = TEST) -> np.ndarray:
    """Reconstructions (N, 28, 28) float32 in [0, 1] of a dataset split."""
    return decode_codes(load(path).model, codes(path, name, split))


@per_checkpoint(st.cache_data(show_spinner=False, max_entries=32))
def _projection(path: str, weights: str, name: str, split: str, method: str, seed: int,
                params_json: str) -> np.ndarray:
    return cached_projection(codes(path, name, split), weights, name, split, method, seed,
                             json.loads(params_json))


def projection(path: str, name: str, split: str, method: str, seed: int, **params) -> np.ndarray:
    """2-D map (N, 2) float32 of the codes; cached in memory and on disk (aecore.cache)."""
    if method == "none":
        return project(codes(path, name, split), "none")
    with st.spinner(f"Projecting with {method} (cached on disk afterwards)…"):
        return _projection(path, name, split, method, int(seed), json.dumps(params, sort_keys=True))


@per_checkpoint(st.cache_data(show_spinner="Measuring…", max_entries=16))
def _colour_values(path: str, weights: str, name: str, split: str, colour: str, method: str,
                   seed: int, params_json: str) -> np.ndarray:
    if colour == "reconstruction error":
        images = unit_float(dataset(name, split).images)
        return ((images - reconstructions(path, name, split)) ** 2).mean(axis=(1, 2))
    xy = projection(path, name, split, method, seed, **json.loads(params_json))
    return neighbour_preservation(codes(path, name, split), xy, k=10)


COLOURS = {"digit": None, "reconstruction error": "error per pixel",
           "neighbour preservation": "kept neighbours (k=10)"}  # colour mode -> its colour bar's name


def colour_values(path: str, name: str, split: str, colour: str, method: str, seed: int,
                  **params) -> np.ndarray | None:
    """Per point (N,): None for "digit", the mean squared error per pixel for "reconstruction
    error", the fraction of 10 code-space neighbours kept by the map for "neighbour preservation"."""
    if COLOURS[colour] is None:
        return None
    return _colour_values(path, name, split, colour, method, int(seed), json.dumps(params, sort_keys=True))


@st.cache_data(show_spinner="Measuring PSNR at 7 noise levels on 200 test digits…", max_entries=32)
def _psnr_curve(models: tuple, weights: tuple, name: str, kind: str, seed: int) -> dict:
    clean = dataset(name).images[:200]
    return denoise.psnr_curve(clean, kind, {label: load(p).model for label, p in models}, seed)


def psnr_curve(models: dict, name: str, kind: str, seed: int) -> dict:
    """aecore.measure.denoise.psnr_curve on the first 200 test digits for {label: checkpoint
    path}, cached by every checkpoint's stamp."""
    pairs = tuple(models.items())
    return _psnr_curve(pairs, tuple(stamp(p) for _, p in pairs), name, kind, int(seed))


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
    labels, classes = (dataset(name).labels[index], dataset(name).classes) if name else \
        (np.zeros(len(index), np.int64), ("unknown",))
    return figure(history["maps"], index, labels, classes, history["reconstructions"], axis_names)
