"""What training records after every epoch, to replay how the code space organised itself: the
codes of a fixed subset of the test split (the same images for every checkpoint of a dataset)
as a 2-D map, and the reconstructions of a dozen of them. A long training keeps at most FRAMES
of its epochs (every epoch early on, where the map changes most, then further apart; always the
last), so a history stays well under 1 MB (13.4 KB a frame).

Each epoch's map is the default map of its codes (aecore.latent.projections.default_method: the
codes themselves for 1 or 2 dimensions, a 1-D code against a fixed jitter; else their PCA), a PCA
turned (an orthogonal Procrustes fit) onto the previous epoch's map so the picture does not
spin or flip from one epoch to the next. A checkpoint stores them in history.safetensors:
  index            (n,) int64        the subset's indices in the test split
  epochs           (F,) int64        the epoch (1-based) of each frame, increasing, the last one last
  maps             (F, n, 2) float16 the aligned map after each of those epochs
  reconstructions  (F, k, H, W) uint8  the first k subset images, decoded after each of them
                   ((F, k, H, W, 3) for colour images: the display layout of the model's shape)
A history written before frames were chosen has no `epochs`: it holds every epoch
(Checkpoint.recorded fills it in).
"""
from __future__ import annotations

import contextlib
import time

import numpy as np
import torch

from ..data import load_dataset
from ..latent.codec import decode_all, encode_all
from ..latent.projections import default_method, make_projection
from ..pictures.pixels import ImageShape, to_uint8

HISTORY = "history.safetensors"
SUBSET, SHOWN = 1000, 12  # images mapped per epoch; of those, the first SHOWN are reconstructed
FRAMES = 40               # epochs a history keeps at most
HISTORY_BYTES = 600_000   # and the bytes: 40 frames of 28x28 grey (13.4 KB each), 3 of 64x64 colour (151 KB)


def subset_index(n_test: int, size: int = SUBSET) -> np.ndarray:
    """The subset: the first `size` test images (a dataset's test split has a fixed order)."""
    return np.arange(min(size, n_test), dtype=np.int64)


def frame_epochs(epochs: int, most: int | None = None) -> np.ndarray:
    """The epochs (1-based, increasing) a history of `epochs` epochs keeps: all of them up to
    `most`, else `most` of them spaced quadratically (dense at the start, where the map changes
    most), the first and the last always among them. `most` is FRAMES unless given."""
    most = FRAMES if most is None else most
    if epochs <= most:
        return np.arange(1, epochs + 1, dtype=np.int64)
    wanted = 1 + (epochs - 1) * np.linspace(0.0, 1.0, most) ** 2
    kept, last = [], 0
    for i, e in enumerate(np.round(wanted).astype(np.int64)):
        # strictly increasing, leaving room for the frames still to come
        e = min(max(int(e), last + 1), epochs - (most - 1 - i))
        kept.append(e)
        last = e
    return np.asarray(kept, np.int64)


def align(codes: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """The 2-D map (n, 2) float32 of one epoch's codes (n, d), the default map of d-D codes: the
    codes themselves (a 1-D code against a jitter seeded alike every epoch, so each image keeps
    its height), or their PCA rotated or reflected (no scaling) onto `previous` (the last
    epoch's map) when given."""
    codes = np.asarray(codes, np.float32)
    method = default_method(codes.shape[1])
    xy = make_projection(method).fit_transform(codes).astype(np.float32)
    if method == "none" or previous is None:
        return xy
    from scipy.linalg import orthogonal_procrustes
    rotation, _ = orthogonal_procrustes(xy, previous - previous.mean(axis=0))
    return (xy @ rotation).astype(np.float32)


class Recorder:
    """Records the map and the reconstructions after the epochs it is due (`due(epoch)`, then
    `record(model, epoch)`): the epochs `frame_epochs` keeps of the training's length (`plan`),
    or, with every_epoch (the Train page, which redraws the map after each one), all of them;
    `tensors()` keeps at most FRAMES either way."""

    def __init__(self, dataset: str, size: int = SUBSET, shown: int = SHOWN, every_epoch: bool = False):
        test = load_dataset(dataset, "test")
        self.index = subset_index(len(test), size)
        self.images, self.labels = test.images[self.index], test.labels[self.index]
        self.shown = min(shown, len(self.index))
        self.every_epoch, self.planned = every_epoch, None
        self.precision = "float32"
        self.epochs: list[int] = []
        self.maps: list[np.ndarray] = []
        self.reconstructions: list[np.ndarray] = []
        self.seconds = 0.0  # spent recording, to hold against the training time

    def plan(self, epochs: int, precision: str = "float32") -> None:
        """Training will run `epochs` epochs, its steps at `precision` (TrainConfig.precision):
        the model is recorded alike, under bfloat16 autocast for "bfloat16"."""
        self.planned = None if self.every_epoch else set(frame_epochs(epochs).tolist())
        self.precision = precision

    def due(self, epoch: int) -> bool:
        return self.planned is None or epoch in self.planned

    def record(self, model, epoch: int) -> np.ndarray:
        """Encode the subset with `model` (eval mode, no grad), keep its aligned map and the
        reconstructions as those of epoch `epoch` (1-based); returns the map (n, 2)."""
        start = time.perf_counter()
        device = next(model.parameters()).device.type
        autocast = torch.autocast(device, torch.bfloat16) if self.precision == "bfloat16" else contextlib.nullcontext()
        with autocast:
            codes = encode_all(model, self.images)
            recon = to_uint8(decode_all(model, codes[: self.shown]))
        xy = align(codes, self.maps[-1] if self.maps else None)
        self.epochs.append(epoch)
        self.maps.append(xy)
        self.reconstructions.append(recon)
        self.seconds += time.perf_counter() - start
        return xy

    def tensors(self) -> dict[str, np.ndarray]:
        """What history.safetensors stores (see the module docstring): at most FRAMES frames, and
        at most HISTORY_BYTES of them (a frame of 64x64 colour reconstructions is 11x one of 28x28)."""
        maps, recon = np.stack(self.maps).astype(np.float16), np.stack(self.reconstructions)
        most = min(FRAMES, max(2, HISTORY_BYTES // (maps[0].nbytes + recon[0].nbytes)))
        return thin({"index": self.index, "epochs": np.asarray(self.epochs, np.int64),
                     "maps": maps, "reconstructions": recon}, most)


def thin(tensors: dict[str, np.ndarray], most: int | None = None) -> dict[str, np.ndarray]:
    """A history with at most `most` of its frames: those frame_epochs picks by position among
    the frames it has (a history of every epoch keeps the epochs frame_epochs names)."""
    keep = frame_epochs(len(tensors["maps"]), most) - 1
    return {"index": tensors["index"], **{k: tensors[k][keep] for k in ("epochs", "maps", "reconstructions")}}


def _pictures_of(recon: np.ndarray, shape: ImageShape | None) -> bool:
    """Whether reconstructions (F, k, ...) are images in the display layout (of `shape`, if given)."""
    try:
        found = ImageShape.of(recon.reshape(-1, *recon.shape[2:])) if recon.ndim in (4, 5) else None
    except ValueError:
        return False
    return found is not None and (shape is None or found == shape)


def check_history(tensors: dict, epochs: int, where: str, shape: ImageShape | None = None) -> dict[str, np.ndarray]:
    """Raise ValueError unless `tensors` are a history of `epochs` epochs as Recorder writes them
    (its reconstructions of the image shape `shape`, when given); returns them with `epochs`
    filled in for a history of every epoch written without it."""
    expected = {"index": np.int64, "epochs": np.int64, "maps": np.float16, "reconstructions": np.uint8}
    if set(tensors) not in (set(expected), set(expected) - {"epochs"}):
        raise ValueError(f"{where}: expected tensors {sorted(expected)}, found {sorted(tensors)}")
    for name, dtype in expected.items():
        if name in tensors and tensors[name].dtype != dtype:
            raise ValueError(f"{where}: {name} is {tensors[name].dtype}, expected {np.dtype(dtype)}")
    n, maps, recon = len(tensors["index"]), tensors["maps"], tensors["reconstructions"]
    frames = tensors.get("epochs")
    if frames is None:  # written before frames were chosen: every epoch
        frames = np.arange(1, len(maps) + 1, dtype=np.int64) if len(maps) == epochs else None
    if frames is None or frames.shape != maps.shape[:1] or not len(frames) or maps.shape[1:] != (n, 2) \
            or recon.shape[0] != len(frames) or not _pictures_of(recon, shape) or recon.shape[1] > n:
        raise ValueError(f"{where}: shapes maps {maps.shape}, reconstructions {recon.shape}, epochs "
                         f"{None if frames is None else frames.shape} do not fit {epochs} epochs of {n} images")
    if frames[0] < 1 or frames[-1] != epochs or (np.diff(frames) <= 0).any():
        raise ValueError(f"{where}: epochs {frames.tolist()[:8]}... are not increasing from 1 to the last, {epochs}")
    if not np.isfinite(maps).all():
        raise ValueError(f"{where}: maps hold NaN or infinity")
    return {**tensors, "epochs": frames}
