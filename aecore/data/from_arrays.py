"""A notebook's images and labels (numpy arrays or torch tensors) as a dataset .npz that every
page reads (npz.py): what aecore.explore shows a model on. Images of any shape the explorer takes:
grey or colour, channels last or first, sides of 8 to 128 pixels.

The images become both splits: the test split is what the maps show, and the train split is what
the pages fit to (the Gaussian that Generate samples from), so neither holds fewer points than
the notebook gave. Every problem is a ValueError saying what was given and what is expected.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..pictures.pixels import CHANNELS, MNIST, ImageShape, numpy_of
from .classes import MAX_CLASSES, check_names
from .dataset import MAX_DATASET_BYTES
from .idx import DataError
from .npz import read_npz

MIN_IMAGES = 10  # a point and its 8 nearest neighbours (the Latent map's), with one to spare
UNLABELLED = ("unlabelled",)  # the one class of images given without labels
_SHAPES = ("(N, H, W), (N, H, W, 1), (N, H, W, 3), (N, 1, H, W), (N, 3, H, W) or, for 28 x 28 grey, "
           "(N, 784); sides of 8 to 128 pixels")


def _display_layout(a: np.ndarray) -> np.ndarray:
    """(N, H, W) or (N, H, W, 3) of a stack in any layout _SHAPES names (values unchanged)."""
    if a.ndim == 2 and a.shape[1] == MNIST.pixels:
        return a.reshape(len(a), *MNIST.display)
    if a.ndim == 4 and a.shape[1] in CHANNELS and a.shape[3] not in CHANNELS:  # (N, C, H, W), as torch has it
        a = np.moveaxis(a, 1, -1)
    if a.ndim == 4 and a.shape[3] == 1:
        a = a[..., 0]
    try:
        ImageShape.of(a)
    except ValueError as err:
        raise ValueError(f"images of shape {tuple(a.shape)}: {err}; give {_SHAPES}") from None
    return a


def as_images(images) -> np.ndarray:
    """uint8 (N, H, W) grey or (N, H, W, 3) colour of images given as uint8 / integers in 0..255 or
    floats in [0, 1], in any of the layouts _SHAPES names."""
    a = _display_layout(numpy_of(images))
    shape = ImageShape.of(a)
    if len(a) < MIN_IMAGES or 2 * a.size > MAX_DATASET_BYTES:  # 2: the images are both splits
        raise ValueError(f"{len(a):,} images: the explorer shows {MIN_IMAGES} to "
                         f"{MAX_DATASET_BYTES // (2 * shape.pixels):,} images of {shape}")
    if a.dtype.kind == "b" or a.dtype.kind not in "iuf":
        raise ValueError(f"images of dtype {a.dtype}: give pixels as uint8 in 0..255 or floats in [0, 1]")
    low, high = (float(a.min()), float(a.max())) if np.isfinite(a).all() else (np.nan, np.nan)
    if a.dtype.kind == "f":
        if not (0 <= low and high <= 1):
            raise ValueError(f"float images with values from {low:g} to {high:g}: give pixels in [0, 1] "
                             "(before any normalisation such as (x - mean) / std), or as uint8")
        return np.rint(a * 255).astype(np.uint8)
    if not (0 <= low and high <= 255):
        raise ValueError(f"integer images with values from {low:g} to {high:g}: give pixels in 0..255")
    return np.ascontiguousarray(a, dtype=np.uint8)


def as_labels(labels, n: int, classes=None) -> tuple[np.ndarray, tuple[str, ...]]:
    """(labels (n,) int64, class names) of labels given as integers 0, 1, ... (named by `classes`,
    else "0", "1", ...), as strings (each its own class, sorted), or None (one class)."""
    if labels is None:
        return np.zeros(n, np.int64), tuple(classes or UNLABELLED)
    a = numpy_of(labels)
    if a.ndim == 0 or a.size != n or len(a) != n:
        raise ValueError(f"labels of shape {tuple(a.shape)} for {n:,} images: give one label per image")
    a = a.reshape(-1)
    if a.dtype.kind in "USO":
        if classes is not None:
            raise ValueError("classes= names the class numbers 0, 1, ...; labels given as names need none")
        names = sorted({str(x) for x in a.tolist()})
        index = {name: i for i, name in enumerate(names)}
        return np.array([index[str(x)] for x in a.tolist()], np.int64), _names(names)
    if a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and not np.array_equal(a, np.round(a))):
        raise ValueError(f"labels of dtype {a.dtype}: give class numbers 0, 1, 2, ... or class names")
    if a.min() < 0 or a.max() >= MAX_CLASSES:
        raise ValueError(f"labels from {a.min():g} to {a.max():g}: class numbers lie in 0..{MAX_CLASSES - 1}")
    a = a.astype(np.int64)
    names = _names(classes) if classes is not None else tuple(str(c) for c in range(int(a.max()) + 1))
    if a.max() >= len(names):
        raise ValueError(f"labels go up to {a.max()} but {len(names)} class names are given: name every class")
    return a, names


def _names(classes) -> tuple[str, ...]:
    try:
        return check_names([str(c) for c in classes], "classes")
    except DataError as e:
        raise ValueError(str(e)) from None


def digest(images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]) -> str:
    """What identifies these images as a dataset: the same arrays and names, the same digest."""
    h = hashlib.sha256(images.tobytes())
    h.update(labels.tobytes())
    h.update("\n".join(classes).encode())
    return h.hexdigest()


def write_dataset(path: str | Path, images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]) -> Path:
    """The .npz at `path` (its stem is the dataset's name), then read back by the reader the
    pages use, so what the explorer finds is what was checked."""
    path = Path(path)
    np.savez(path, x_train=images, y_train=labels, x_test=images, y_test=labels, classes=np.array(classes))
    read_npz(path)
    return path
