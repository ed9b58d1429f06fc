"""A user's image set as one .npz file with x_train, y_train, x_test, y_test: the layout of
Keras' `mnist.load_data()` that course notebooks save with np.savez. Read without pickle.

Images are (N, H, W) grey, or (N, H, W, 1) / (N, H, W, 3) as Keras' `cifar10.load_data()` gives
them, with sides of 8 to 128 pixels, the same shape in both splits: uint8 (or integers in 0..255),
or floats in [0, 1]; labels non-negative integers, one per image, (N,) or Keras' (N, 1). An optional
`classes` array of strings names them.

The file is read as the zip it is, member by member, and every size is checked before anything
is allocated: the zip's directory (at most DIRECTORY_BYTES), each array's header against the
size the zip declares for it, each array's shape, and the arrays together against
dataset.MAX_DATASET_BYTES, so
a small file that claims or inflates to gigabytes is refused at once. Every failure is a
DataError naming the file.
"""
from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from ..pictures.pixels import CHANNELS, ImageShape
from .buffers import empty_images
from .classes import MAX_CLASSES, MAX_NAME, check_names
from .dataset import MAX_DATASET_BYTES, check_same_shape
from .idx import DataError

KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}
DIRECTORY_BYTES = 1 << 20  # what opening the zip may read (its directory): a dataset .npz has a few members
SLICE_BYTES = 16 << 20  # of an image array read and converted at a time
_KINDS = {"x": "iuf", "y": "iu", "classes": "US"}  # dtype kinds each array may have
_SAVE_HINT = "save it with np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)"


class _Budget:
    """A binary file that raises DataError once more than `left` bytes in all have been read
    from it (left=None: no limit). Opening a zip reads its directory, whose size the file states."""

    def __init__(self, f, left: int | None, path: Path):
        self._f, self.left, self._path = f, left, path

    def read(self, n: int = -1) -> bytes:
        if self.left is None:
            return self._f.read(n)
        if n is None or n < 0:  # to the end: sized first, as read(big) would allocate big at once
            n = os.fstat(self._f.fileno()).st_size - self._f.tell()
        data = self._f.read(min(n, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise DataError(f"{self._path}: its zip directory is over {DIRECTORY_BYTES:,} bytes; a dataset "
                            f".npz holds a few arrays. {_SAVE_HINT}")
        return data

    def seek(self, *args) -> int:
        return self._f.seek(*args)

    def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> bool:
        return True


def _member(z: zipfile.ZipFile, key: str) -> zipfile.ZipInfo | None:
    """The member np.load would read for `key`: "<key>.npy", else "<key>"."""
    for name in (f"{key}.npy", key):
        try:
            return z.getinfo(name)
        except KeyError:
            pass
    return None


def _header(z: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from the member's .npy header, checked against the bytes the zip declares."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise DataError(f"{path}: {key} is encrypted or compressed in a way np.savez never writes; {_SAVE_HINT}")
    with z.open(info) as f:
        version = npy.read_magic(f)
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = read(f)
        header = f.tell()
    count = math.prod(shape)
    if dtype.kind not in _KINDS[key.split("_")[0]] or dtype.hasobject:
        raise DataError(f"{path}: {key} holds {dtype} values; expected "
                        f"{'strings' if key == 'classes' else 'numbers'}")
    if count * dtype.itemsize > info.file_size - header:
        raise DataError(f"{path}: {key}'s header announces shape {shape} of {dtype} "
                        f"({count * dtype.itemsize:,} bytes) but the file holds {max(info.file_size - header, 0):,} "
                        "bytes for it; the file is corrupt.")
    return shape, dtype


def _check_sizes(z: zipfile.ZipFile, path: Path) -> tuple[dict[str, zipfile.ZipInfo], dict[str, tuple[int, ...]]]:
    """The members to read and their shapes, once their headers, shapes and total size are checked."""
    wanted = [k for pair in KEYS.values() for k in pair]
    members = {k: _member(z, k) for k in [*wanted, "classes"]}
    missing = [k for k in wanted if members[k] is None]
    if missing:
        found = ", ".join(n.removesuffix(".npy") for n in z.namelist()[:12]) or "nothing"
        raise DataError(f"{path}: missing {', '.join(missing)}; a dataset .npz holds x_train, "
                        f"y_train, x_test, y_test (found {found})")
    members = {k: info for k, info in members.items() if info is not None}
    total, shapes = 0, {}
    for key, info in members.items():
        shape, dtype = _header(z, info, key, path)
        total += math.prod(shape) * dtype.itemsize
        shapes[key] = shape
        if key == "classes" and (len(shape) != 1 or shape[0] > MAX_CLASSES or dtype.itemsize > 4 * MAX_NAME):
            raise DataError(f"{path}: classes has shape {shape} of {dtype}; expected at most {MAX_CLASSES} "
                            f"names of at most {MAX_NAME} characters")
    if total > MAX_DATASET_BYTES:
        raise DataError(f"{path}: its arrays hold {total:,} bytes, more than the {MAX_DATASET_BYTES:,} bytes a "
                        "dataset may hold here.")
    _check_shapes(shapes, path)
    return members, shapes


def _image_shape(shape: tuple[int, ...], key: str, path: Path) -> ImageShape:
    """The ImageShape of images stored with array shape `shape`, or DataError saying what is taken."""
    layout = len(shape) == 3 or (len(shape) == 4 and shape[3] in CHANNELS)
    if layout:
        try:
            return ImageShape(1 if len(shape) == 3 else shape[3], shape[1], shape[2])
        except ValueError as err:
            raise DataError(f"{path}: {key} has shape {shape}: {err}.") from None
    hint = (f"; channels first (N, C, H, W) as PyTorch has them: save np.moveaxis({key}, 1, -1)"
            if len(shape) == 4 and shape[1] in CHANNELS else "")
    raise DataError(f"{path}: {key} has shape {shape}; expected images (N, H, W) grey, or (N, H, W, 1) or "
                    f"(N, H, W, 3) as Keras' cifar10.load_data() gives them{hint}")


def _check_shapes(shapes: dict[str, tuple[int, ...]], path: Path) -> None:
    """Both splits hold images of one shape, and one label per image ((N,) or Keras' (N, 1))."""
    train, test = (_image_shape(shapes[x], x, path) for x, _ in KEYS.values())
    check_same_shape(train, test, str(path))
    for x, y in KEYS.values():
        n, labels = shapes[x][0], shapes[y]
        if not (len(labels) == 1 or (len(labels) == 2 and labels[1] == 1)):
            raise DataError(f"{path}: {y} has shape {labels}; expected (N,) or (N, 1) integers, one label per image")
        if labels[0] != n:
            raise DataError(f"{path}: {y} holds {labels[0]} labels for {n} images; they must pair up")


def _into(path: Path, key: str, a: np.ndarray, out: np.ndarray) -> None:
    """Pixels `a` (rows of x_*, as stored) into `out` (uint8, the display layout)."""
    if a.ndim == 4 and a.shape[3] == 1:
        a = a[..., 0]
    if a.dtype == np.uint8 or (a.dtype.kind in "iu" and (a.size == 0 or (a.min() >= 0 and a.max() <= 255))):
        out[...] = a
    elif a.dtype.kind == "f" and (a.size == 0 or (np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1)):
        np.rint(a * 255, out=out, casting="unsafe")
    else:
        raise DataError(f"{path}: {key} holds {a.dtype} values outside 0..255 (integers) or 0..1 (floats); "
                        "save the pixels as uint8")


def _read_images(z: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, path: Path, out: np.ndarray) -> None:
    """Member `key` into `out`, SLICE_BYTES of it at a time: a float set is never held whole, nor
    a second whole copy of a uint8 one."""
    with z.open(info) as f:
        version = npy.read_magic(f)
        shape, fortran, dtype = (npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0)(f)
        if fortran:  # np.save of a Fortran-ordered array (rare): its rows are not contiguous in the file
            f.close()
            with z.open(info) as again:
                a = npy.read_array(again, allow_pickle=False)
            for i in range(0, len(a), 4096):
                _into(path, key, a[i:i + 4096], out[i:i + 4096])
            return
        row = math.prod(shape[1:]) * dtype.itemsize
        step = max(1, SLICE_BYTES // max(row, 1))
        for i in range(0, shape[0], step):
            n = min(step, shape[0] - i)
            data = f.read(n * row)
            if len(data) != n * row:
                raise DataError(f"{path}: {key} ends after {i + len(data) // max(row, 1):,} of its {shape[0]:,} images; "
                                "the file is corrupt.")
            _into(path, key, np.frombuffer(data, dtype).reshape(n, *shape[1:]), out[i:i + n])


def _labels(path: Path, key: str, a: np.ndarray, n: int) -> np.ndarray:
    if a.ndim == 2 and a.shape[1] == 1:  # Keras' cifar10.load_data() gives (N, 1)
        a = a[:, 0]
    if a.ndim != 1:
        raise DataError(f"{path}: {key} has shape {a.shape} and dtype {a.dtype}; expected (N,) integers")
    if len(a) != n:
        raise DataError(f"{path}: {key} holds {len(a)} labels for {n} images; they must pair up")
    if len(a) and a.min() < 0:
        raise DataError(f"{path}: {key} holds negative labels; labels are 0, 1, 2, ...")
    if len(a) and a.max() >= MAX_CLASSES:  # before the cast: a uint64 past 2**63 would turn negative
        raise DataError(f"{path}: {key} holds labels up to {int(a.max()):,}; labels must lie in "
                        f"0..{MAX_CLASSES - 1} (at most {MAX_CLASSES} classes)")
    return a.astype(np.int64)


def _class_names(path: Path, a: np.ndarray) -> tuple[str, ...]:
    try:
        names = [c.decode("utf-8") if isinstance(c, bytes) else str(c) for c in a.tolist()]
    except UnicodeDecodeError:
        raise DataError(f"{path}: classes holds bytes that are not UTF-8 text") from None
    return check_names(names, f"{path}: classes")


@dataclass(frozen=True)
class NpzSet:
    """Both splits of a dataset .npz: the images of train then test in one uint8 array, so that
    each split, and both, are views of it (100,000 colour 64x64 images are held once)."""
    images: np.ndarray                 # (n_train + n_test, H, W) or (..., 3)
    n_train: int
    labels: dict[str, np.ndarray]      # split -> int64 (n,)
    classes: tuple[str, ...] | None

    def split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(images view, labels) of "train" or "test"."""
        part = self.images[:self.n_train] if split == "train" else self.images[self.n_train:]
        return part, self.labels[split]


def read_npz(path: str | Path) -> NpzSet:
    """Both splits of the .npz file, checked."""
    path = Path(path)
    try:
        with open(path, "rb") as raw:
            budget = _Budget(raw, DIRECTORY_BYTES, path)
            with zipfile.ZipFile(budget) as z:
                budget.left = None  # the directory is read; members are bounded by _check_sizes
                members, shapes = _check_sizes(z, path)

                def load(key: str) -> np.ndarray:
                    with z.open(members[key]) as f:
                        return npy.read_array(f, allow_pickle=False)
                (x_train, y_train), (x_test, y_test) = KEYS.values()
                n_train, n_test = shapes[x_train][0], shapes[x_test][0]
                images = empty_images((n_train + n_test, *shapes[x_train][1:3],
                                       *([3] if shapes[x_train][3:] == (3,) else [])))
                _read_images(z, members[x_train], x_train, path, images[:n_train])
                _read_images(z, members[x_test], x_test, path, images[n_train:])
                labels = {split: _labels(path, yk, load(yk), shapes[xk][0]) for split, (xk, yk) in KEYS.items()}
                classes = _class_names(path, load("classes")) if "classes" in members else None
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as err:
        raise DataError(f"{path}: not a readable .npz of arrays ({err}); {_SAVE_HINT}") from None
    return NpzSet(images, n_train, labels, classes)
