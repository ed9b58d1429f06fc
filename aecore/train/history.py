"""What training records after every epoch, to replay how the code space organised itself: the
codes of a fixed subset of the test split (the same images for every checkpoint of a dataset)
as a 2-D map, and the reconstructions of a dozen of them.

Maps are the codes themselves for codes of at most 2 dimensions; wider codes get each epoch's
PCA, turned (an orthogonal Procrustes fit) onto the previous epoch's map so the picture does not
spin or flip from one epoch to the next. A checkpoint stores them in history.safetensors:
  index            (n,) int64        the subset's indices in the test split
  maps             (E, n, 2) float16 the aligned map after each epoch
  reconstructions  (E, k, 28, 28) uint8  the first k subset images, decoded after each epoch
"""
from __future__ import annotations

import time

import numpy as np

from ..data import load_dataset
from ..latent.codec import decode_codes, encode_dataset
from ..latent.projections import make_projection
from ..pictures.pixels import to_uint8

HISTORY = "history.safetensors"
SUBSET, SHOWN = 1000, 12  # images mapped per epoch; of those, the first SHOWN are reconstructed


def subset_index(n_test: int, size: int = SUBSET) -> np.ndarray:
    """The subset: the first `size` test images (a dataset's test split has a fixed order)."""
    return np.arange(min(size, n_test), dtype=np.int64)


def align(codes: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """The 2-D map (n, 2) float32 of one epoch's codes (n, d): the codes when d <= 2, else their
    PCA rotated or reflected (no scaling) onto `previous` (the last epoch's map) when given."""
    codes = np.asarray(codes, np.float32)
    if codes.shape[1] <= 2:
        return make_projection("none").fit_transform(codes)
    xy = make_projection("pca").fit_transform(codes).astype(np.float32)
    if previous is None:
        return xy
    from scipy.linalg import orthogonal_procrustes
    rotation, _ = orthogonal_procrustes(xy, previous - previous.mean(axis=0))
    return (xy @ rotation).astype(np.float32)


class Recorder:
    """Records the map and the reconstructions after each epoch (call `record(model)`)."""

    def __init__(self, dataset: str, size: int = SUBSET, shown: int = SHOWN):
        test = load_dataset(dataset, "test")
        self.index = subset_index(len(test), size)
        self.images, self.labels = test.images[self.index], test.labels[self.index]
        self.shown = min(shown, len(self.index))
        self.maps: list[np.ndarray] = []
        self.reconstructions: list[np.ndarray] = []
        self.seconds = 0.0  # spent recording, to hold against the training time

    def record(self, model) -> np.ndarray:
        """Encode the subset with `model` (eval mode, no grad), keep its aligned map and the
        reconstructions; returns the map (n, 2)."""
        start = time.perf_counter()
        codes = encode_dataset(model, self.images)
        xy = align(codes, self.maps[-1] if self.maps else None)
        self.maps.append(xy)
        self.reconstructions.append(to_uint8(decode_codes(model, codes[: self.shown])))
        self.seconds += time.perf_counter() - start
        return xy

    def tensors(self) -> dict[str, np.ndarray]:
        """What history.safetensors stores (see the module docstring)."""
        return {"index": self.index,
                "maps": np.stack(self.maps).astype(np.float16),
                "reconstructions": np.stack(self.reconstructions)}


def check_history(tensors: dict, epochs: int, where: str) -> None:
    """Raise ValueError unless `tensors` are a history of `epochs` epochs as Recorder writes them."""
    expected = {"index": np.int64, "maps": np.float16, "reconstructions": np.uint8}
    if set(tensors) != set(expected):
        raise ValueError(f"{where}: expected tensors {sorted(expected)}, found {sorted(tensors)}")
    for name, dtype in expected.items():
        if tensors[name].dtype != dtype:
            raise ValueError(f"{where}: {name} is {tensors[name].dtype}, expected {np.dtype(dtype)}")
    n, maps, recon = len(tensors["index"]), tensors["maps"], tensors["reconstructions"]
    if maps.shape[:1] != (epochs,) or maps.shape[1:] != (n, 2) or recon.shape[0] != epochs \
            or recon.shape[2:] != (28, 28) or recon.shape[1] > n:
        raise ValueError(f"{where}: shapes maps {maps.shape}, reconstructions {recon.shape} do not fit "
                         f"{epochs} epochs of {n} images")
    if not np.isfinite(maps).all():
        raise ValueError(f"{where}: maps hold NaN or infinity")
