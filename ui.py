"""The app's one helper module: the shared sidebar, cached loading of models and arrays, and small
display helpers. Pages call these; aecore never imports streamlit.

Caching: models in st.cache_resource (shared, never mutated), arrays in st.cache_data, keyed by
plain strings plus a stamp of the weights file, so retraining into the same folder is seen.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import streamlit as st

import aecore
from aecore.cache import cached_array, file_digest
from aecore.checkpoint import WEIGHTS, Checkpoint, CheckpointError, load_checkpoint, read_config, unpack_upload
from aecore.data import DataError, Dataset, default_dataset, load_dataset
from aecore.images import ImageError, tile, to_uint8
from aecore.latent import decode_codes, encode_dataset, project

log = logging.getLogger("aecore.app")


def checkpoint_dir() -> Path:
    """$AECORE_CHECKPOINTS, else <repo>/checkpoints (read at call time, so tests can point it)."""
    return Path(os.environ.get("AECORE_CHECKPOINTS") or Path(__file__).parent / "checkpoints")


CHECKPOINT_DIR: Path = checkpoint_dir()
DEMO: bool = os.environ.get("AECORE_DEMO") == "1"  # hosted demo: no page trains, heavy work shared
UPLOADS = "uploaded_checkpoints"  # session_state: {path: label} of this session's valid uploads


@dataclass
class Context:
    path: str      # checkpoint folder
    dataset: str   # a name in aecore.data.DATASETS
    seed: int      # for every random choice on the page


# ------------------------------------------------------------------ checkpoints
def _stamp(path: str | Path) -> str:
    """mtime and size of the weights: part of every cache key, so new weights mean new entries."""
    try:
        s = (Path(path) / WEIGHTS).stat()
        return f"{s.st_mtime_ns}-{s.st_size}"
    except OSError:
        return "missing"


@st.cache_data(show_spinner=False)
def _scan(folder: str, signature: str) -> tuple[list[str], list[tuple[str, str]]]:
    from aecore.checkpoint import list_checkpoints
    valid, skipped = list_checkpoints(folder)
    return [str(p) for p in valid], [(p.name, reason) for p, reason in skipped]


def _scan_folder() -> tuple[list[str], list[tuple[str, str]]]:
    folder = checkpoint_dir()
    subs = sorted(folder.iterdir()) if folder.is_dir() else []
    signature = ";".join(f"{p.name}:{_stamp(p)}:{_mtime(p / 'config.json')}" for p in subs if p.is_dir())
    return _scan(str(folder), signature)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def available() -> list[str]:
    """Paths of every valid checkpoint in CHECKPOINT_DIR, then this session's uploads."""
    return _scan_folder()[0] + list(st.session_state.get(UPLOADS, {}))


@st.cache_data(show_spinner=False)
def _label(path: str, stamp: str) -> str:
    model = read_config(path)["model"]
    return f"{Path(path).name} · {model['kind']} · {model['latent_dim']}-D"


def checkpoint_label(path: str) -> str:
    """'name · kind · d-D' for pickers; uploads say so."""
    uploads = st.session_state.get(UPLOADS, {})
    try:
        text = _label(path, _stamp(path))
    except CheckpointError:
        return Path(path).name
    return f"{uploads[path]} (upload) · {text.split(' · ', 1)[1]}" if path in uploads else text


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def _load(path: str, stamp: str) -> Checkpoint:
    return load_checkpoint(path)


def load(path: str) -> Checkpoint:
    """The checkpoint at `path` (cached, shared between sessions: never mutate the model)."""
    return _load(path, _stamp(path))


def _handle_upload(files) -> None:
    """Unpack an upload into this session's temp folder and validate it; a valid one joins the
    picker and is selected, a bad one gets its CheckpointError message."""
    signature = "|".join(f"{f.name}:{f.size}" for f in files)
    if st.session_state.get("_upload_done") == signature:
        return  # already handled on an earlier rerun
    st.session_state["_upload_done"] = signature
    data = {f.name: f.getvalue() for f in files}
    digest = hashlib.sha256(b"".join(data[n] for n in sorted(data))).hexdigest()[:12]
    if "_upload_root" not in st.session_state:  # per session, outside the (maybe read-only) repo
        st.session_state["_upload_root"] = tempfile.mkdtemp(prefix="aecore-upload-")
    folder = Path(st.session_state["_upload_root"]) / digest
    try:
        path = unpack_upload(data, folder)
        load_checkpoint(path)
    except CheckpointError as err:  # name the uploaded file, not our temp folder
        shutil.rmtree(folder, ignore_errors=True)
        text = str(err).replace(f"{folder}/", "uploaded ").replace(str(folder), "the upload")
        st.session_state["_upload_error"] = f"Upload rejected: {text}"
        return
    st.session_state.pop("_upload_error", None)
    name = Path(files[0].name).stem if len(files) == 1 else f"upload-{digest[:6]}"
    st.session_state.setdefault(UPLOADS, {})[str(path)] = name
    st.session_state["checkpoint"] = str(path)  # before the picker exists, so this is allowed


# ------------------------------------------------------------------ sidebar and context
@st.cache_data(show_spinner=False, ttl=60)
def _default_dataset_in(data_dir: str) -> tuple[str, str]:
    return default_dataset()


def _default_dataset() -> tuple[str, str]:
    """(name, what to say about it): the sidebar's default dataset, cached per $AECORE_DATA_DIR."""
    return _default_dataset_in(os.environ.get("AECORE_DATA_DIR", ""))


def sidebar() -> None:
    """Checkpoint picker + upload, dataset, seed: shared by all pages (called by app.py)."""
    files = st.session_state.get("upload")
    if files:
        _handle_upload(files)
    else:
        st.session_state.pop("_upload_done", None)
        st.session_state.pop("_upload_error", None)
    paths, skipped = available(), _scan_folder()[1]
    with st.sidebar:
        st.selectbox("Checkpoint", paths, format_func=checkpoint_label, key="checkpoint",
                     placeholder="no checkpoint yet: upload one",
                     help=f"Valid checkpoint folders in {checkpoint_dir()}, plus your uploads.")
        st.file_uploader("Upload a checkpoint", type=["json", "safetensors", "zip"],
                         accept_multiple_files=True, key="upload",
                         help="config.json + model.safetensors of one checkpoint, or a zip of both.")
        if st.session_state.get("_upload_error"):
            st.error(st.session_state["_upload_error"])
        name, message = _default_dataset()
        options = [name] + (["mnist-sample"] if name != "mnist-sample" else [])
        st.selectbox("Dataset", options, key="dataset")
        st.caption(message)
        st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed",
                        help="Every random choice on the pages (samples, noise, subsets, maps).")
        if skipped:
            with st.expander(f"Skipped checkpoints ({len(skipped)})"):
                for folder, reason in skipped:
                    st.caption(f"**{folder}**: {reason}")


def context() -> Context | None:
    """The sidebar's choices, or None (with a note on what to do) when there is no checkpoint."""
    _ensure_frame()  # a deep link right after start runs a page without app.py
    path = st.session_state.get("checkpoint")
    if not path or path not in available():
        st.info(f"No checkpoint to show: pick or upload a checkpoint in the sidebar (train one "
                f"with `python -m aecore train --out {checkpoint_dir()}/NAME`).")
        return None
    return Context(path, st.session_state.get("dataset") or "mnist-sample",
                   int(st.session_state.get("seed") or 0))


def pick_other_checkpoint(label: str, key: str, default_name: str | None = None) -> str | None:
    """A picker over the available checkpoints (e.g. a twin to compare with), preselecting the
    one named `default_name` when present. None when there are none."""
    paths = available()
    if not paths:
        return None
    names = [Path(p).name for p in paths]
    index = names.index(default_name) if default_name in names else 0
    return st.selectbox(label, paths, index=index, format_func=checkpoint_label, key=key)


def test_split() -> str:
    return "test"


# ------------------------------------------------------------------ cached arrays
@st.cache_resource(show_spinner=False)
def dataset(name: str, split: str) -> Dataset:
    """A dataset split; its arrays are read-only and shared."""
    return load_dataset(name, split)


@st.cache_data(show_spinner="Encoding the dataset…", max_entries=32)
def _codes(path: str, stamp: str, name: str, split: str) -> np.ndarray:
    return encode_dataset(load(path).model, dataset(name, split).images)


def codes(path: str, name: str, split: str) -> np.ndarray:
    """Codes (N, d) float32 of a dataset split under a checkpoint."""
    return _codes(path, _stamp(path), name, split)


@st.cache_data(show_spinner="Decoding…", max_entries=16)
def _reconstructions(path: str, stamp: str, name: str, split: str) -> np.ndarray:
    return decode_codes(load(path).model, codes(path, name, split))


def reconstructions(path: str, name: str, split: str) -> np.ndarray:
    """Reconstructions (N, 28, 28) float32 in [0, 1] of a dataset split."""
    return _reconstructions(path, _stamp(path), name, split)


@st.cache_data(show_spinner=False, max_entries=32)
def _projection(path: str, stamp: str, name: str, split: str, method: str, seed: int,
                params_json: str) -> np.ndarray:
    params = json.loads(params_json)
    data = codes(path, name, split)
    key = {"checkpoint": file_digest(path), "dataset": name, "split": split, "n": len(data),
           "method": method, "params": params, "seed": seed, "aecore": aecore.__version__}
    return cached_array(key, lambda: project(data, method, seed, **params))


def projection(path: str, name: str, split: str, method: str, seed: int, **params) -> np.ndarray:
    """2-D map (N, 2) float32 of the codes; cached in memory and on disk (aecore.cache)."""
    if method == "none":
        return project(codes(path, name, split), "none")
    with st.spinner(f"Projecting with {method} (cached on disk afterwards)…"):
        return _projection(path, _stamp(path), name, split, method, int(seed),
                           json.dumps(params, sort_keys=True))


def projection_controls(latent_dim: int, columns) -> tuple[str, dict]:
    """The projection picker (key "projection"; "none" only for 2-D codes, and their default)
    and its main parameters, in the first three of `columns`. Returns (method, params)."""
    # the hosted demo (AECORE_DEMO=1) shares one process among visitors: UMAP keeps its default
    # parameters (one cached result per checkpoint and seed) and t-SNE, minutes per run, is off
    methods = (["none"] if latent_dim == 2 else []) + ["pca", "umap"] + ([] if DEMO else ["tsne"])
    method = columns[0].selectbox("Projection", methods, key="projection",
                                  help="none: the 2-D codes themselves; t-SNE of 10,000 codes takes minutes.")
    params = {}
    if method == "umap" and DEMO:
        params = {"n_neighbors": 15, "min_dist": 0.1}
        columns[1].caption("n_neighbors 15, min_dist 0.1 (fixed in the demo)")
    elif method == "umap":
        params["n_neighbors"] = columns[1].slider("n_neighbors", 2, 100, 15, key="umap_n_neighbors")
        params["min_dist"] = columns[2].slider("min_dist", 0.0, 0.99, 0.1, 0.01, key="umap_min_dist")
    elif method == "tsne":
        params["perplexity"] = columns[1].slider("perplexity", 5.0, 100.0, 30.0, 1.0, key="tsne_perplexity")
    return method, params


@st.cache_data(show_spinner="Measuring…", max_entries=16)
def _colour_values(path: str, stamp: str, name: str, split: str, colour: str, method: str,
                   seed: int, params_json: str) -> np.ndarray:
    if colour == "reconstruction error":
        images = dataset(name, split).images.astype(np.float32) / 255.0
        return ((images - reconstructions(path, name, split)) ** 2).mean(axis=(1, 2))
    from aecore.latent import neighbour_preservation
    xy = projection(path, name, split, method, seed, **json.loads(params_json))
    return neighbour_preservation(codes(path, name, split), xy, k=10)


def colour_values(path: str, name: str, split: str, colour: str, method: str, seed: int,
                  **params) -> np.ndarray | None:
    """Per point (N,): None for "digit", the mean squared error per pixel for "reconstruction
    error", the fraction of 10 code-space neighbours kept by the map for "neighbour preservation"."""
    if colour == "digit":
        return None
    return _colour_values(path, _stamp(path), name, split, colour, method, int(seed),
                          json.dumps(params, sort_keys=True))


# ------------------------------------------------------------------ display
def show_digits(images, ncols: int, caption: str | None = None, width: int | None = None) -> None:
    """Tile images (N, 28, 28), float [0, 1] or uint8, upscaled by an integer factor with
    nearest-neighbour so pixels stay crisp (Streamlit would smooth a resize)."""
    grid = to_uint8(tile(images, ncols))
    target = width or min(4 * grid.shape[1], 1400)
    scale = max(1, target // grid.shape[1])
    big = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    st.image(big, caption=caption, output_format="PNG")


def show_pairs(top, bottom, ncols: int, caption: str | None = None) -> None:
    """Each row of `top` images (N, 28, 28) over the same row of `bottom` (e.g. digits over
    their reconstructions); float [0, 1] or uint8; a short last row is padded with black."""
    top, bottom = (np.asarray(a, np.float32) / (255.0 if np.asarray(a).dtype == np.uint8 else 1.0)
                   for a in (top, bottom))
    ncols = max(1, min(ncols, len(top)))
    blank = np.zeros(((-len(top)) % ncols, 28, 28), np.float32)
    rows = [np.concatenate([a, blank]).reshape(-1, ncols, 28, 28) for a in (top, bottom)]
    show_digits(np.stack(rows, axis=1).reshape(-1, 28, 28), ncols, caption)


def _message(err: Exception) -> str:
    """A short message that says what to do; the traceback goes to the server log only."""
    if isinstance(err, CheckpointError):
        return f"{err} Pick another checkpoint in the sidebar."
    if isinstance(err, DataError):
        return f"{err} Or pick the bundled mnist-sample in the sidebar."
    if isinstance(err, (ImageError, ValueError)):
        return f"{err}"
    if isinstance(err, MemoryError):
        return "Out of memory: pick a smaller dataset (mnist-sample) or fewer points."
    text = str(err).splitlines()[0][:200] if str(err) else ""
    return (f"Something went wrong on this page ({type(err).__name__}{': ' + text if text else ''}). "
            "Try another checkpoint or setting, or reload the page; details are in the server log.")


def _ensure_frame() -> None:
    """Streamlit runs a pages/ file on its own, without app.py (no sidebar), while it still
    thinks this is a legacy pages/-folder app: until app.py's st.navigation first ran in this
    process (a deep link right after start; every AppTest run). Then switch to st.navigation
    and rerun, which runs app.py with this page."""
    from streamlit.runtime.pages_manager import PagesManager
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Run a page body: any Exception becomes a short st.error, the traceback goes to the log.
    Streamlit's own rerun/stop signals are BaseExceptions and pass through."""
    _ensure_frame()
    try:
        yield
    except Exception as err:  # noqa: BLE001 -- users see a message, never a traceback
        log.exception("page failed")
        st.error(_message(err))


# ------------------------------------------------------------------ background work
def freeze_long_lived() -> None:
    """Streamlit runs a full gc.collect() after every script run. With torch, plotly and numba
    loaded, that scan cost ~0.15 CPU s per page view (twice the page's own work). gc.freeze()
    moves every object alive now (libraries, the preloaded model and data) where collections no
    longer look; the few a page in flight holds at that moment are then never collected."""
    gc.freeze()


def preload() -> None:
    """Fill the shared caches with what the first page view needs: torch, the default checkpoint
    (the picker's first), the default dataset's test split and its codes. app.py runs this in a
    thread as the server starts, so it overlaps with the first visitor's browser booting."""
    # the cached functions' spinners have no page to show on here: while preloading, Streamlit's
    # warning about that is dropped for this thread
    me = threading.current_thread().name

    def others(record: logging.LogRecord) -> bool:
        return record.threadName != me

    context_warnings = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    context_warnings.addFilter(others)
    try:
        paths = available()
        if paths:
            name = _default_dataset()[0]
            codes(paths[0], name, test_split())
            log.info("preloaded %s on %s", paths[0], name)
    except Exception:  # noqa: BLE001 -- the page itself will load it again and show the error
        log.exception("preload failed")
    finally:
        context_warnings.removeFilter(others)


def _warm_umap() -> None:
    try:  # numba compiles UMAP's kernels on first use (or loads them from its disk cache)
        points = np.random.default_rng(0).standard_normal((500, 16)).astype(np.float32)
        project(points, "umap", 0)
        log.info("umap warmed up")
        freeze_long_lived()  # numba's and umap's objects too
    except Exception:  # noqa: BLE001 -- a failed warm-up only costs time later
        log.exception("umap warm-up failed")


WARM_UP_DELAY_S = 5.0  # the first browser draws its page meanwhile; UMAP's compile would slow it


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread | None:
    """Once per process, WARM_UP_DELAY_S after it is first called, compile UMAP in a background
    thread (AECORE_NO_WARMUP=1 skips it, for tests). A page that needs UMAP sooner compiles it."""
    if os.environ.get("AECORE_NO_WARMUP") == "1":
        return None
    thread = threading.Timer(WARM_UP_DELAY_S, _warm_umap)
    thread.name, thread.daemon = "umap-warm-up", True
    thread.start()
    return thread
