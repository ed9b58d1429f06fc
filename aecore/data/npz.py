"""A user's image set as one .npz file with x_train, y_train, x_test, y_test: the layout of
Keras' `mnist.load_data()` that course notebooks save with np.savez. Read without pickle.

Images must be 28 x 28 grayscale: uint8 (or integers in 0..255), or floats in [0, 1];
labels non-negative integers, one per image. An optional `classes` array of strings names them.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .idx import DataError

KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}


def _images(path: Path, key: str, a: np.ndarray) -> np.ndarray:
    if a.ndim != 3 or a.shape[1:] != (28, 28):
        raise DataError(f"{path}: {key} has shape {a.shape}; expected (N, 28, 28): 28 x 28 grayscale "
                        "images (other sizes and colour are not supported yet)")
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind in "iu" and (a.size == 0 or (a.min() >= 0 and a.max() <= 255)):
        return a.astype(np.uint8)
    if a.dtype.kind == "f" and (a.size == 0 or (np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1)):
        return np.round(a * 255).astype(np.uint8)
    raise DataError(f"{path}: {key} holds {a.dtype} values outside 0..255 (integers) or 0..1 (floats); "
                    "save the pixels as uint8")


def _labels(path: Path, key: str, a: np.ndarray, n: int) -> np.ndarray:
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise DataError(f"{path}: {key} has shape {a.shape} and dtype {a.dtype}; expected (N,) integers")
    if len(a) != n:
        raise DataError(f"{path}: {key} holds {len(a)} labels for {n} images; they must pair up")
    if len(a) and a.min() < 0:
        raise DataError(f"{path}: {key} holds negative labels; labels are 0, 1, 2, ...")
    return a.astype(np.int64)


def read_npz(path: str | Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], tuple[str, ...] | None]:
    """({"train": (images, labels), "test": (...)}, class names or None) from the .npz file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for pair in KEYS.values() for k in pair if k not in z.files]
            if missing:
                raise DataError(f"{path}: missing {', '.join(missing)}; a dataset .npz holds x_train, "
                                f"y_train, x_test, y_test (found {', '.join(z.files) or 'nothing'})")
            splits = {}
            for split, (xk, yk) in KEYS.items():
                images = _images(path, xk, z[xk])
                splits[split] = (images, _labels(path, yk, z[yk], len(images)))
            classes = tuple(str(c) for c in z["classes"]) if "classes" in z.files else None
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise DataError(f"{path}: not a readable .npz of arrays ({err}); save it with "
                        "np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)") from None
    return splits, classes
