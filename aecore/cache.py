"""A small disk cache for arrays that are slow to compute (UMAP and t-SNE maps), so a fresh
process or a second app session gets them in milliseconds.

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


def cached_array(key: dict, compute: Callable[[], np.ndarray], folder: Path | None = None) -> np.ndarray:
    """The array stored under `key` (in `folder`, default cache_dir()), or compute() stored there
    first. A corrupt or unreadable entry is recomputed; a cache that cannot be written only costs
    the recomputation."""
    try:
        path = (folder or cache_dir()) / f"{key_digest(key)}.npy"
    except OSError:
        return np.asarray(compute())
    if path.is_file():
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            pass  # a truncated or foreign file: recompute and overwrite it
    array = np.asarray(compute())
    _write(path, array)
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


def cached_projection(codes: np.ndarray, weights: str, dataset: str, split: str, method: str,
                      seed: int, params: dict, folder: Path | None = None) -> np.ndarray:
    """project(codes, method, seed, **params), through the disk cache. The key names what the
    codes are (the weights' digest, the dataset split and its size) and the projection."""
    key = {"checkpoint": weights, "dataset": dataset, "split": split, "n": len(codes),
           "method": method, "params": params, "seed": seed, "aecore": __version__}
    return cached_array(key, lambda: project(codes, method, seed, **params), folder)
