"""The widgets pages share: the sidebar (checkpoint, upload, dataset, seed), the page context
it gives, a picker for a second checkpoint, and the projection controls."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from aecore.data import DataError, datasets, default_dataset
from ui import cached, checkpoints, touch
from ui.frame import ensure_frame
from ui.text import plain, without_paths


def demo() -> bool:
    """AECORE_DEMO=1: a hosted demo, one process shared by visitors (no page trains, heavy work
    shared, UMAP parameters fixed, no t-SNE)."""
    return os.environ.get("AECORE_DEMO") == "1"


@dataclass
class Context:
    path: str      # checkpoint folder
    dataset: str   # a name in aecore.data.DATASETS
    seed: int      # for every random choice on the page


def sidebar() -> None:
    """Checkpoint picker + upload, dataset, seed: shared by all pages (called by app.py)."""
    files = st.session_state.get("upload")
    if files:
        checkpoints.handle_upload(files)
    else:
        checkpoints.forget_upload()
    paths, skipped = checkpoints.available(), checkpoints.scan()[1]
    if "checkpoint" not in st.session_state:  # a session's first run follows its link's ?checkpoint=NAME
        linked = [p for p in paths if Path(p).name == st.query_params.get("checkpoint")]  # (aecore.explore's)
        if linked:
            st.session_state["checkpoint"] = linked[0]
            if (data := st.query_params.get("dataset")) in cached.available():  # and &dataset=NAME
                st.session_state["dataset"], st.session_state["_dataset_for"] = data, linked[0]
    with st.sidebar:
        st.selectbox("Checkpoint", paths, format_func=checkpoints.label, key="checkpoint",
                     placeholder="no checkpoint yet: upload one",
                     help="The explorer's checkpoints (zoo), those trained here, and your uploads." if demo() else
                          f"Valid checkpoint folders in {checkpoints.checkpoint_dir()}, those the Train page saved "
                          f"in {checkpoints.trained_dir()}, and your uploads.")
        st.file_uploader("Upload a checkpoint", type=["json", "safetensors", "onnx", "data", "zip"],
                         accept_multiple_files=True, key="upload",
                         help="config.json + model.safetensors of one checkpoint, or your own model as "
                              "encoder.onnx + decoder.onnx (+ onnx.json, + their .data files), or a zip.")
        if st.session_state.get("_upload_error"):
            st.error(st.session_state["_upload_error"])
        dataset_picker(st.session_state.get("checkpoint"))
        st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed",
                        help="Every random choice on the pages (samples, noise, subsets, maps).")
        if skipped:
            with st.expander(f"Skipped checkpoints ({len(skipped)})"):
                for folder, reason in skipped:
                    st.caption(f"**{plain(folder)}**: {plain(without_paths(reason))}")
        touch.hover_before_tap()


def dataset_picker(path: str | None) -> None:
    """Every dataset whose files are here, the checkpoint's own marked and picked whenever another
    checkpoint is chosen; a plain note when the data shown are not what the model was trained on."""
    names = cached.available() or ["mnist-sample"]
    own = cached.trained_on(path) if path else None
    if path and st.session_state.get("_dataset_for") != path:  # a new checkpoint: show its own data
        st.session_state["dataset"] = cached.dataset_for(path)
        st.session_state["_dataset_for"] = path
    if st.session_state.get("dataset") not in names:
        st.session_state["dataset"] = names[0]
    chosen = st.selectbox("Dataset", names, key="dataset",
                          format_func=lambda n: f"{n} (trained on)" if n == own else n,
                          help="Every dataset found on this machine: the built-in ones, and your own "
                               "folders or .npz files in $AECORE_DATA_DIR (see README).")
    own_spec = datasets().get(own or "")
    if own is None or chosen == own:
        try:
            here = "; here " + ", ".join(f"{cached.size(chosen, s):,} {s}" for s in ("train", "test"))
        except DataError:  # the page says what is wrong with the files
            here = ""
        st.caption(plain(without_paths(datasets()[chosen].description)) + here)
    elif own_spec is not None and chosen == own_spec.stand_in:
        st.caption(_standing_in(own, chosen))
    else:
        st.warning(f"This model was trained on {own}, not {chosen}: everything here shows it on data "
                   "it has never seen.")
    _how_it_was_read(chosen)


def _how_it_was_read(name: str) -> None:
    """For a user's own set: its image shape, its per-image columns, and the notes on how it was
    read (aecore.data.Dataset.notes: a drawn test split, pictures resized, files skipped)."""
    if datasets()[name].source is None:  # the built-in sets: their description says it
        return
    try:
        parts = [cached.dataset(name, split) for split in ("test", "train")]
    except DataError:  # the page says what is wrong with the files
        return
    columns = list(dict.fromkeys(c for part in parts for c in part.columns))
    facts = [f"{parts[0].shape} images"] + ([f"columns: {', '.join(columns)}"] if columns else [])
    facts += dict.fromkeys(note for part in parts for note in part.notes)
    st.caption(plain(without_paths(". ".join(facts) + ".")))


def _standing_in(own: str, chosen: str) -> str:
    if own == "mnist":  # the message the app has always given when full MNIST is missing
        return default_dataset()[1]
    return f"{own} is not on this machine: showing {chosen}, which stands in for it."


def context() -> Context | None:
    """The sidebar's choices, or None (with a note on what to do) when there is no checkpoint."""
    ensure_frame()  # a deep link right after start runs a page without app.py
    path = st.session_state.get("checkpoint")
    if not path or path not in checkpoints.available():
        st.info("No checkpoint to show: pick or upload a checkpoint in the sidebar" +
                ("." if demo() else f" (train one with `python -m aecore train --out {checkpoints.checkpoint_dir()}/NAME`)."))
        return None
    return Context(path, st.session_state.get("dataset") or "mnist-sample",
                   int(st.session_state.get("seed") or 0))


def require_context() -> Context:
    """context(), or stop the page (after its note on what to do) when there is no checkpoint."""
    ctx = context()
    if ctx is None:
        st.stop()
    return ctx


def companion(path: str, twin: str | None = None) -> str | None:
    """The checkpoint to show beside `path` by default: its twin (the folder its config names),
    else the first other checkpoint trained on the same dataset, else None. Never a model of
    other data: a clothing model is not compared with a digits model unless the user asks."""
    own = cached.trained_on(path)
    others = [p for p in checkpoints.available() if p != path and cached.trained_on(p) == own]
    named = [p for p in others if Path(p).name == twin]
    return (named or others or [None])[0]


def pick_other_checkpoint(label: str, key: str, path: str, default: str | None, none: bool = True) -> str | None:
    """A picker over the available checkpoints (and "none" when `none`), preselecting `default`
    (e.g. companion(path, twin)). It follows the sidebar: whenever the sidebar's checkpoint `path`
    changes, the picker goes back to the new default, also while the user stays on the page."""
    options = [None] * none + checkpoints.available()
    anchor = f"_{key}_for"  # the sidebar checkpoint this picker's value was chosen under
    if st.session_state.get(anchor) != path or st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else options[0]
        st.session_state[anchor] = path
    return st.selectbox(label, options, key=key, format_func=lambda p: "none" if p is None else checkpoints.label(p))


def select_shown(where, label: str, shown: dict, key: str, **kwargs):
    """A selectbox over the texts of `shown` {value: text}, returning the chosen value. The texts
    are the options, so when a text changes with another choice (a dataset's "digit" becomes
    "class") the widget resets to its first option instead of handing back a stale value."""
    text = where.selectbox(label, list(shown.values()), key=key, **kwargs)
    return next(value for value, t in shown.items() if t == text)


def projection_controls(latent_dim: int, columns, prefix: str = "") -> tuple[str, dict]:
    """The projection picker (key "projection") over the maps d-D codes can have, the default
    first (aecore.latent.projections.map_methods), and its main parameters, in the first three of
    `columns`; `prefix` goes before each key (two maps on one page). A choice the codes of a newly
    picked checkpoint cannot have goes back to their default. Returns (method, params)."""
    from aecore.latent.projections import map_methods

    # the hosted demo shares one process among visitors: UMAP keeps its default parameters (one
    # cached result per checkpoint and seed) and t-SNE, minutes per run, is off
    methods = [m for m in map_methods(latent_dim) if not (demo() and m == "tsne")]
    if st.session_state.get(f"{prefix}projection") not in methods:
        st.session_state[f"{prefix}projection"] = methods[0]
    own = {1: "none: the 1-D codes, against a jitter that only spreads them out. ",
           2: "none: the 2-D codes themselves. "}.get(latent_dim, "")
    method = columns[0].selectbox("Projection", methods, key=f"{prefix}projection",
                                  help=own + "UMAP and t-SNE of many codes take a while: the page says "
                                             "how long before it starts them.")
    params = {}
    if method == "umap" and demo():
        params = {"n_neighbors": 15, "min_dist": 0.1}
        columns[1].caption("n_neighbors 15, min_dist 0.1 (fixed in the demo)")
    elif method == "umap":
        params["n_neighbors"] = columns[1].slider("n_neighbors", 2, 100, 15, key=f"{prefix}umap_n_neighbors")
        params["min_dist"] = columns[2].slider("min_dist", 0.0, 0.99, 0.1, 0.01, key=f"{prefix}umap_min_dist")
    elif method == "tsne":
        params["perplexity"] = columns[1].slider("perplexity", 5.0, 100.0, 30.0, 1.0, key=f"{prefix}tsne_perplexity")
    return method, params
