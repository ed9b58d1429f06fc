"""A small disk cache for arrays that are slow to compute (UMAP and t-SNE maps, the pixel-space
neighbours of a dataset split), so a fresh process or a second app session gets them in
milliseconds. The app's background workers (aecore.latent.worker) write their results here,
under the key the app reads: entry(key) names the file, read() and store() use it.

Entries are .npy files named by the sha256 of a canonical JSON key, under
$AECORE_CACHE_DIR/projections/ or ~/.cache/aecore/projections/ (a temp folder when that is not
writable; never the repository). Written atomically, read without pickle.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .data.registry import cache_root
from .latent.projections import project

def cache_dir() -> Path:
    """The projections folder, created; falls back to a per-user temp folder if not writable."""
    for folder in (cache_root() / "projections",
                   Path(tempfile.gettempdir()) / f"aecore-cache-{os.getuid()}" / "projections"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            continue
    raise OSError("no writable cache folder: set AECORE_CACHE_DIR to a writable folder")


def key_digest(key: dict) -> str:
    """sha256 hex of the key as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def entry(key: dict, folder: Path | None = None) -> Path | None:
    """The file that holds the array of `key` (in `folder`, default cache_dir()), whether it
    exists yet or not; None when no cache folder can be written."""
    try:
        return (folder or cache_dir()) / f"{key_digest(key)}.npy"
    except OSError:
        return None


def read(key: dict, folder: Path | None = None) -> np.ndarray | None:
    """The array stored under `key`, or None (none yet, or a truncated or foreign file)."""
    path = entry(key, folder)
    if path is None or not path.is_file():
        return None
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None


def store(key: dict, array: np.ndarray, folder: Path | None = None) -> None:
    """Keep `array` under `key`; a cache that cannot be written only costs a recomputation."""
    path = entry(key, folder)
    if path is not None:
        _write(path, np.asarray(array))


def cached_array(key: dict, compute: Callable[[], np.ndarray], folder: Path | None = None) -> np.ndarray:
    """The array stored under `key` (in `folder`, default cache_dir()), or compute() stored there
    first. A corrupt or unreadable entry is recomputed and overwritten."""
    array = read(key, folder)
    if array is None:
        array = np.asarray(compute())
        store(key, array, folder)
    return array


def _write(path: Path, array: np.ndarray) -> None:
    """Save into a temp file beside `path`, then rename: readers see the old or the whole new file."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, path)
    except (OSError, ValueError):
        Path(tmp).unlink(missing_ok=True)


def projection_key(weights: str, dataset: str, split: str, n: int, method: str, seed: int, params: dict) -> dict:
    """What names a map on disk: what the codes are (the weights' digest, the dataset split and
    its size) and the projection."""
    return {"checkpoint": weights, "dataset": dataset, "split": split, "n": int(n),
            "method": method, "params": params, "seed": int(seed), "aecore": __version__}


def cached_projection(codes: np.ndarray, weights: str, dataset: str, split: str, method: str,
                      seed: int, params: dict, folder: Path | None = None) -> np.ndarray:
    """project(codes, method, seed, **params), through the disk cache (projection_key)."""
    key = projection_key(weights, dataset, split, len(codes), method, seed, params)
    return cached_array(key, lambda: project(codes, method, seed, **params), folder)
