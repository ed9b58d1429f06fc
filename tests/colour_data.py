"""Small colour image sets with structure, made in a test's own folder: a soft blob of one of a few
colours at a random place and size, labelled by its colour, saved as an .npz in Keras' CIFAR
layout ((N, H, W, 3) uint8, y (N, 1)) that aecore.data reads as a dataset of that name."""
from __future__ import annotations

from pathlib import Path

import numpy as np

COLOURS = np.array([[1.0, 0.2, 0.1], [0.1, 0.8, 0.2], [0.2, 0.3, 1.0], [0.9, 0.9, 0.1]])


def blobs(n: int, height: int = 32, width: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, height, width, 3) uint8, labels (n,) int64: which of COLOURS each blob has)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    labels = rng.integers(0, len(COLOURS), n)
    out = np.empty((n, height, width, 3), np.uint8)
    for i in range(n):
        cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width
        r = rng.uniform(0.1, 0.25) * min(height, width)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        out[i] = np.round(255 * blob[..., None] * COLOURS[labels[i]]).astype(np.uint8)
    return out, labels.astype(np.int64)


def colour_npz(folder: Path, name: str = "blobs", train: int = 500, test: int = 100,
               height: int = 32, width: int = 32, seed: int = 0) -> Path:
    """folder/<name>.npz with x_train, y_train, x_test, y_test (set AECORE_DATA_DIR=folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    x_train, y_train = blobs(train, height, width, seed)
    x_test, y_test = blobs(test, height, width, seed + 1)
    path = folder / f"{name}.npz"
    np.savez(path, x_train=x_train, y_train=y_train[:, None], x_test=x_test, y_test=y_test[:, None])
    return path
