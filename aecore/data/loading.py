"""Loading a dataset's split as read-only arrays (a Dataset), from the files the registry found:
IDX files, a user's .npz, or the bundled sample; and counting a split without loading it.

Images are uint8 (N, 28, 28), 0 = black background, 255 = white ink; labels are int64 (N,).
`load_dataset` caches per (name, split, source) in-process; `load_dataset.cache_clear()` empties it.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import lookup
from . import sample
from .classes import clear_cache as _forget_class_names, names_for, read_classes_file
from .idx import DataError, read_idx, read_images_and_labels
from .npz import read_npz
from .registry import (DATASETS, IDX_FILES, SPLITS, DatasetSpec, datasets, find_dataset_dir, locate, search_dirs,
                       source_of, source_stamp)
from .sample import sample_split


@dataclass(frozen=True, eq=False)  # eq=False: compare by identity, arrays have no usable ==
class Dataset:
    """One split. images: uint8 (N, 28, 28), labels: int64 (N,), both read-only."""
    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str  # the folder (IDX), file (mnist-sample, .npz) it was read from
    item: str = "image"    # what one image shows ("digit"); plural: item + "s"
    label: str = "class"   # what a label is called ("digit", "class")

    def __len__(self) -> int:
        return len(self.labels)


def _reread_hint(name: str, folder: Path) -> str:
    if name not in DATASETS:
        return "Replace it with a good copy."
    if os.environ.get("AECORE_DATA_DIR") and folder == search_dirs(name)[0]:
        return (f"Replace it with a good copy, or unset AECORE_DATA_DIR and run "
                f"`python -m aecore download {name}`.")
    return f"Re-download it with `python -m aecore download {name}`."


def _read_idx_split(name: str, split: str, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    image_file, label_file = (locate(folder, f) for f in IDX_FILES[split])
    try:
        images, labels = read_images_and_labels(image_file, label_file)
    except DataError as err:
        raise DataError(f"{err} {_reread_hint(name, folder)}") from None
    if images.shape[1:] != (28, 28):
        raise DataError(f"{image_file}: images are {images.shape[1]}x{images.shape[2]}; expected 28x28 "
                        "grayscale (other sizes are not supported yet).")
    return images, labels


def _npz_of(source: Path) -> Path | None:
    """The .npz file a user's set is (a file <name>.npz, or a folder holding one), or None."""
    if source.suffix == ".npz":
        return source
    inner = source / f"{source.name}.npz"
    return inner if inner.is_file() else None


def _read_split(name: str, spec: DatasetSpec, split: str, source: Path):
    """(images, labels, class names or None) of one split from its files."""
    if spec.bundled:
        return (*sample_split(source, split), spec.classes)
    if (file := _npz_of(source)) is not None:
        splits, classes = read_npz(file)
        return (*splits[split], classes or spec.classes)
    images, labels = _read_idx_split(name, split, source)
    return images, labels, read_classes_file(source) if spec.source is not None else spec.classes


def _class_names(classes, labels: np.ndarray, where: str, name: str, source: Path) -> tuple[str, ...]:
    try:
        return names_for(labels, classes, where)
    except DataError as err:
        raise DataError(f"{err} {_reread_hint(name, source)}") from None


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, split: str, source: str, stamp: str) -> Dataset:
    spec = datasets().get(name) or DATASETS[name]
    if split == "all":
        parts = [_load_cached(name, s, source, stamp) for s in ("train", "test")]
        images, labels = np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts])
        classes = max((p.classes for p in parts), key=len)
    else:
        images, labels, given = _read_split(name, spec, split, Path(source))
        classes = _class_names(given, labels, source, name, Path(source))
    images.setflags(write=False)  # the cache hands out the same arrays to every caller
    labels.setflags(write=False)
    return Dataset(name, split, images, labels, classes, source, spec.item, spec.label)


def load_dataset(name: str, split: str) -> Dataset:
    """Load split "train", "test" or "all" (train then test) of a dataset (cached; read-only)."""
    spec = lookup(datasets(), name, "dataset")
    lookup(dict.fromkeys(SPLITS), split, "split")
    # the cache key is the source's files, so a changed AECORE_DATA_DIR, a fresh download or a
    # replaced file is seen
    return _load_cached(name, split, str(source_of(name, spec)), source_stamp(name))


def split_size(name: str, split: str) -> int:
    """How many images split "train" or "test" of a dataset holds: for IDX files read from the
    labels file alone (a few KB, where the images are megabytes), else by loading the split."""
    spec = lookup(datasets(), name, "dataset")
    lookup(dict.fromkeys(IDX_FILES), split, "split")
    source = source_of(name, spec)
    if spec.bundled or _npz_of(source) is not None:
        return len(load_dataset(name, split))
    labels = locate(source, IDX_FILES[split][1])
    try:
        return len(read_idx(labels))
    except DataError as err:
        raise DataError(f"{err} {_reread_hint(name, source)}") from None


def _cache_clear() -> None:
    _load_cached.cache_clear()
    sample.clear_cache()
    _forget_class_names()


load_dataset.cache_clear = _cache_clear  # type: ignore[attr-defined]


def default_dataset() -> tuple[str, str]:
    """("mnist", message) when full MNIST loads, else ("mnist-sample", message). Never raises."""
    problem = ""
    try:
        folder = find_dataset_dir("mnist")
        if folder is not None:
            train, test = load_dataset("mnist", "train"), load_dataset("mnist", "test")
            return "mnist", (f"Using full MNIST from {folder} ({len(train)} train / "
                             f"{len(test)} test images).")
    except Exception as err:  # noqa: BLE001 -- the app must start; say why and fall back
        problem = f"Full MNIST is unusable ({err}). "
    return "mnist-sample", (f"{problem}Using the bundled 5,000-digit MNIST sample. For the full "
                            "set run `python -m aecore download mnist` or set AECORE_DATA_DIR.")
