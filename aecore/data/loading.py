"""Loading a dataset's split as read-only arrays (a Dataset), from the files the registry found:
IDX files, a user's .npz, a folder of pictures, or the bundled sample, with the per-image columns
of its metadata files; and counting a split without loading it.

Images are uint8 in the display layout, (N, H, W) grey or (N, H, W, 3) colour, 0 = black; labels
are int64 (N,). `load_dataset` caches per (name, split, source) in-process;
`load_dataset.cache_clear()` empties it.
"""
from __future__ import annotations

import functools
import gzip
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..checks import lookup
from . import sample
from .classes import clear_cache as _forget_class_names, names_for, read_classes_file
from .dataset import Dataset, check_same_shape, concat_columns, frozen, merged_notes, shape_of
from .idx import DataError, read_idx, read_images_and_labels
from .metadata import find as find_metadata, read_metadata
from .npz import NpzSet, read_npz
from .picture_set import PictureSet, read_picture_set
from .registry import (DATASETS, IDX_FILES, SPLITS, DatasetSpec, cache_root, datasets, find_dataset_dir,
                       is_image_folder, locate, search_dirs, source_of, source_stamp)
from .sample import sample_split

@dataclass
class _Split:
    """One split as read from its files, before its class names are checked."""
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...] | None      # the names the files give, or None
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _reread_hint(name: str, folder: Path) -> str:
    if name not in DATASETS:
        return "Replace it with a good copy."
    if os.environ.get("AECORE_DATA_DIR") and folder == search_dirs(name)[0]:
        return (f"Replace it with a good copy, or unset AECORE_DATA_DIR and run "
                f"`python -m aecore download {name}`.")
    return f"Re-download it with `python -m aecore download {name}`."


def _idx_image_dims(path: Path | None) -> tuple[int, ...] | None:
    """The dimensions an IDX image file's header gives (16 bytes read), or None when unreadable."""
    try:
        with open(path, "rb") as raw:
            head = raw.read(2)
            raw.seek(0)
            f = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
            data = f.read(16)
    except (OSError, TypeError, EOFError):
        return None
    return tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3)) \
        if len(data) == 16 and data[:4] == b"\0\0\x08\x03" else None


def _read_idx_split(name: str, split: str, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    image_file, label_file = (locate(folder, f) for f in IDX_FILES[split])
    try:
        images, labels = read_images_and_labels(image_file, label_file)
    except DataError as err:
        raise DataError(f"{err} {_reread_hint(name, folder)}") from None
    mine = shape_of(images, str(image_file))
    other_file = locate(folder, IDX_FILES["test" if split == "train" else "train"][0])
    other = _idx_image_dims(other_file)
    if other is not None and other[1:] != images.shape[1:]:
        raise DataError(f"{image_file} holds {mine} images but {other_file} holds {other[1]}x{other[2]} grey "
                        "images; both splits of one set must have one image shape.")
    return images, labels


def _npz_of(source: Path) -> Path | None:
    """The .npz file a user's set is (a file <name>.npz, or a folder holding one), or None."""
    if source.suffix == ".npz":
        return source
    inner = source / f"{source.name}.npz"
    return inner if inner.is_file() else None


def _columns(source: Path, split: str, n: int) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """The columns of metadata-<split>.csv beside a folder's files (none for a lone file)."""
    path = find_metadata(source, [f"metadata-{split}.csv"]) if source.is_dir() else None
    return read_metadata(path, source, n) if path is not None else ({}, ())


_NOT_PIXELS = re.compile(r"^(\./|train/|test/|((train|test)/)?metadata(-train|-test)?\.csv):")


def _pixels_stamp(stamp: str) -> str:
    """source_stamp without the metadata files (and the top folders' times, which change when one
    is written): editing a metadata file reads no picture anew, nor holds a second copy of them."""
    source, _, parts = stamp.partition("|")
    return source + "|" + ";".join(p for p in parts.split(";") if not _NOT_PIXELS.match(p))


@functools.lru_cache(maxsize=2)
def _whole(source: str, stamp: str) -> NpzSet | PictureSet | None:
    """Both splits of an .npz or an image folder, read once into one array whose views are the
    splits (and "all"), so that a large set is held once; None for IDX files (a file per split)."""
    path = Path(source)
    if (file := _npz_of(path)) is not None:
        return read_npz(file)
    if is_image_folder(path):
        return read_picture_set(path, cache_root())
    return None


def _folder_columns(pictures: PictureSet, split: str) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """The columns of an image folder's split, over the pictures it kept: from metadata-<split>.csv
    or <split>/metadata.csv, or, for a folder of class folders alone, metadata.csv for every picture."""
    listing, root = pictures.listing, pictures.listing.root
    files = listing.files[split]
    names = [f"metadata-{split}.csv"] + ([] if listing.flat else [f"{split}/metadata.csv"])
    path = find_metadata(root, names)
    if path is not None:
        columns, notes = read_metadata(path, root, len(files), files)
    elif listing.flat and (path := find_metadata(root, ["metadata.csv"])) is not None:
        every = sorted((int(lab), f) for s in ("train", "test") for f, lab in zip(listing.files[s], listing.labels[s]))
        position = {f: i for i, (_, f) in enumerate(every)}
        columns, notes = read_metadata(path, root, len(every), [f for _, f in every])
        mine = np.array([position[f] for f in files], np.int64)
        columns = {k: v[mine] for k, v in columns.items()}
    else:
        return {}, ()
    return frozen({k: v[pictures.kept[split]] for k, v in columns.items()}), notes


def _read_split(name: str, spec: DatasetSpec, split: str, source: Path, stamp: str) -> _Split:
    """One split from its files: images, labels, class names (or None), columns, notes."""
    if spec.bundled:
        return _Split(*sample_split(source, split), spec.classes)
    whole = _whole(str(source), _pixels_stamp(stamp))
    if isinstance(whole, NpzSet):
        images, labels = whole.split(split)
        return _Split(images, labels, whole.classes or spec.classes, *_columns(source, split, len(images)))
    if isinstance(whole, PictureSet):
        columns, notes = _folder_columns(whole, split)
        return _Split(*whole.split(split), whole.listing.classes, columns, merged_notes([whole.notes, notes]))
    images, labels = _read_idx_split(name, split, source)
    classes = read_classes_file(source) if spec.source is not None else spec.classes
    return _Split(images, labels, classes, *_columns(source, split, len(images)))


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
        check_same_shape(parts[0].shape, parts[1].shape, source)
        whole = None if spec.bundled else _whole(source, _pixels_stamp(stamp))
        images = whole.images if whole is not None else np.concatenate([p.images for p in parts])
        labels = np.concatenate([p.labels for p in parts])
        classes = max((p.classes for p in parts), key=len)
        columns = concat_columns([p.columns for p in parts], [len(p) for p in parts])
        notes = merged_notes([p.notes for p in parts])
    else:
        read = _read_split(name, spec, split, Path(source), stamp)
        images, labels, columns, notes = read.images, read.labels, read.columns, read.notes
        classes = _class_names(read.classes, labels, source, name, Path(source))
    images.setflags(write=False)  # the cache hands out the same arrays to every caller
    labels.setflags(write=False)
    return Dataset(name, split, images, labels, classes, source, spec.item, spec.label, frozen(columns), notes)


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
    if spec.bundled or _npz_of(source) is not None or is_image_folder(source):
        return len(load_dataset(name, split))
    labels = locate(source, IDX_FILES[split][1])
    try:
        return len(read_idx(labels))
    except DataError as err:
        raise DataError(f"{err} {_reread_hint(name, source)}") from None


def _cache_clear() -> None:
    _load_cached.cache_clear()
    _whole.cache_clear()
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
    return "mnist-sample", (f"{problem}Using the bundled 5,000-digit MNIST sample: MNIST training digits, "
                            "which MNIST models here were trained on, so its test figures flatter them. "
                            "For the full set run `python -m aecore download mnist` or set AECORE_DATA_DIR.")
