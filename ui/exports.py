"""Download buttons of a map: the selection (CSV, and .npz with codes, images and
reconstructions) and the whole map (a TensorBoard projector bundle, a Parquet table). Large files
are built only when their button is clicked (Streamlit's deferred download data)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import streamlit as st

from aecore.latent.export import map_parquet, selection_csv, selection_npz, split_columns, with_metadata
from aecore.latent.projector import projector_zip
from ui import cached


def point_columns(name: str, split: str, index) -> dict:
    """The per-point columns every export carries beside index, label and class: the split each
    point is from and its index there (a map of train + test holds both), then every metadata
    column of the dataset (aecore.latent.export.with_metadata)."""
    index = np.asarray(index, np.int64)
    where = split_columns(split, index, cached.size(name, "train") if split == "all" else 0)
    return with_metadata(where, {k: v[index] for k, v in cached.dataset(name, split).columns.items()})


def selection_downloads(path: str, name: str, split: str, selected: np.ndarray, xy: np.ndarray) -> None:
    """The selected points as CSV (index, label, class, x, y, split, index_in_split) and as .npz,
    named after the checkpoint, dataset and split."""
    data, stem, extra = cached.dataset(name, split), _stem(path, name, split), point_columns(name, split, selected)

    def npz() -> bytes:
        return selection_npz(selected, data.labels[selected], cached.codes(path, name, split)[selected],
                             data.images[selected], cached.reconstruct(path, name, selected, split), data.classes,
                             extra)

    st.caption(f"Download the {len(selected):,} selected:")
    c = st.columns(2)
    c[0].download_button("CSV", selection_csv(selected, data.labels[selected], xy[selected], data.classes, extra),
                         f"{stem}-selection.csv", "text/csv", key="download", icon=":material/download:",
                         width="stretch", help="The selection: index, label, class, x, y, split, index_in_split and the dataset's metadata columns")
    c[1].download_button(".npz", npz, f"{stem}-selection.npz", "application/octet-stream",
                         key="download_npz", icon=":material/download:", width="stretch",
                         help="The selection as numpy arrays: indices, labels, codes, images, reconstructions, "
                              "classes, split, index_in_split, metadata columns (np.load, no pickle)")


def _stem(path: str, name: str, split: str) -> str:
    """What a whole-map file is called: checkpoint, dataset and split."""
    return f"{Path(path).name}-{name}-{split}"


def map_downloads(path: str, name: str, split: str, method: str, seed: int, params_json: str) -> None:
    """The whole map: a TensorBoard projector bundle (zip) and a Parquet table."""
    stem = _stem(path, name, split)
    c = st.columns(2)
    c[0].download_button("TensorBoard projector bundle (.zip)",
                         lambda: map_export(path, name, split, method, seed, params_json, "projector"),
                         f"{stem}-projector.zip", "application/zip", key="download_projector",
                         help="vectors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt: unzip, then "
                              f"`tensorboard --logdir {stem}-projector` and open the Projector tab")
    c[1].download_button("Map as Parquet", lambda: map_export(path, name, split, method, seed, params_json,
                                                                     "parquet"),
                         f"{stem}-{method}.parquet", "application/vnd.apache.parquet", key="download_parquet",
                         help="index, label, class, x, y, split, index_in_split, the metadata columns and code_0 ... one row per point: "
                              f"pandas.read_parquet, or `embedding-atlas {stem}-{method}.parquet --x x --y y`")


@cached.per_checkpoint(st.cache_data(show_spinner=False, max_entries=2))
def map_export(path: str, weights: str, name: str, split: str, method: str, seed: int, params_json: str,
               form: str) -> bytes:
    """The whole map as a file: form "projector" (a TensorBoard projector bundle, zipped) or
    "parquet" (coordinates, codes and labels). Built when a download button asks for it."""
    data, z = cached.dataset(name, split), cached.codes(path, name, split)
    index = np.arange(len(z))
    if form == "projector":
        return projector_zip(z, index, data.labels, data.images, data.classes,
                             name=f"{Path(path).name} codes of {name} {split}",
                             folder=f"{_stem(path, name, split)}-projector",  # as the button's help says
                             extra=point_columns(name, split, index))
    xy = cached.projection(path, name, split, method, seed, **json.loads(params_json))
    return map_parquet(index, data.labels, xy, z, data.classes, point_columns(name, split, index))
