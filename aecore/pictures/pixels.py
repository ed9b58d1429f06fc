"""The one conversion of pixels: uint8 in [0, 255] or float in [0, 1], numpy or torch, to the
float form each consumer needs, and back to uint8 for display and files; and the shape of an image.

An image's shape is an ImageShape (channels, height, width): 1 channel (grey) or 3 (RGB), sides
of MIN_SIDE to MAX_SIDE pixels, not necessarily square. Two layouts of a stack of images exist:
- the display layout, which datasets store and pictures draw: (N, H, W) for grey, (N, H, W, 3) for
  colour (as PIL, Keras and every image file have them);
- the batch layout, which models take and give: float32 torch (N, C, H, W).
`image_stack` gives the first, `as_image_batch` the second, from either (or from flat rows).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SIDE, MAX_SIDE = 8, 128
CHANNELS = (1, 3)


@dataclass(frozen=True)
class ImageShape:
    """(channels, height, width) of one image; checked on creation."""
    channels: int = 1
    height: int = 28
    width: int = 28

    def __post_init__(self) -> None:
        for name in ("channels", "height", "width"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"image shape {name} must be a whole number, got {v!r}")
            object.__setattr__(self, name, int(v))
        if self.channels not in CHANNELS:
            raise ValueError(f"images have {self.channels} channels; the explorer takes 1 (grey) or 3 (RGB colour)")
        if not (MIN_SIDE <= self.height <= MAX_SIDE and MIN_SIDE <= self.width <= MAX_SIDE):
            raise ValueError(f"images are {self.height}x{self.width} pixels; the explorer takes sides of "
                             f"{MIN_SIDE} to {MAX_SIDE} pixels (resize them first)")

    @property
    def pixels(self) -> int:
        """Values per image: channels x height x width (784 for MNIST)."""
        return self.channels * self.height * self.width

    @property
    def area(self) -> int:
        """Pixel positions per image: height x width."""
        return self.height * self.width

    @property
    def colour(self) -> bool:
        return self.channels == 3

    @property
    def display(self) -> tuple[int, ...]:
        """One image in the display layout: (H, W) or (H, W, 3)."""
        return (self.height, self.width) if self.channels == 1 else (self.height, self.width, self.channels)

    @property
    def chw(self) -> tuple[int, int, int]:
        """One image in the batch layout: (C, H, W)."""
        return (self.channels, self.height, self.width)

    def to_list(self) -> list[int]:
        """[C, H, W], as config.json stores it."""
        return list(self.chw)

    @classmethod
    def from_list(cls, v, what: str = "image shape") -> "ImageShape":
        """From [C, H, W] (config.json's "image"); ValueError naming `what` otherwise."""
        if not isinstance(v, (list, tuple)) or len(v) != 3:
            raise ValueError(f"{what} must be [channels, height, width], such as [1, 28, 28]; found {v!r}")
        return cls(*v)

    @classmethod
    def of(cls, images) -> "ImageShape":
        """The shape of a stack in the display layout: (N, H, W) grey or (N, H, W, C) colour."""
        shape = tuple(numpy_of(images).shape) if not hasattr(images, "shape") else tuple(images.shape)
        if len(shape) == 3:
            return cls(1, shape[1], shape[2])
        if len(shape) == 4 and shape[3] in CHANNELS:
            return cls(shape[3], shape[1], shape[2])
        raise ValueError(f"expected images (N, H, W) or (N, H, W, 1 or 3), got shape {shape}")

    def __str__(self) -> str:
        return f"{self.height}x{self.width} {'colour' if self.colour else 'grey'}"

    def check_same(self, other: "ImageShape", mine: str, theirs: str) -> None:
        """ValueError naming both when two shapes differ (a dataset's images and a model's input)."""
        if self != other:
            raise ValueError(f"{mine} takes {self} images ({self.channels}x{self.height}x{self.width}); "
                             f"{theirs} has {other} images ({other.channels}x{other.height}x{other.width}). "
                             "Pick a model and a dataset of the same image shape.")


MNIST = ImageShape(1, 28, 28)
SIDE = MNIST.height      # the MNIST side: for code and tests about MNIST only
PIXELS = MNIST.pixels


def numpy_of(a) -> np.ndarray:
    """A numpy view of an array or a (CPU or GPU) tensor."""
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def unit_float(a, dtype=np.float32) -> np.ndarray:
    """Pixels of any shape as float in [0, 1]: uint8 is divided by 255, floats keep their values.
    Always a new, writable array (dataset arrays are read-only; torch wants writable memory)."""
    a = numpy_of(a)
    if a.dtype == np.uint8:
        return a.astype(dtype) / dtype(255.0)
    return np.array(a, dtype=dtype)


def _as_display(a: np.ndarray, shape: ImageShape | None) -> np.ndarray:
    """Any known layout (without converting values) -> the display layout (N, H, W[, 3])."""
    if a.ndim == 2:
        shape = shape or (MNIST if a.shape[1] == MNIST.pixels else None)
        if shape is None or a.shape[1] != shape.pixels:
            raise ValueError(f"flat images (N, {a.shape[1]}) need an image shape of {a.shape[1]} values "
                             f"per image{f'; this one has {shape.pixels} ({shape})' if shape else ''}")
        a = a.reshape(len(a), *shape.chw)
    if a.ndim == 4 and a.shape[1] in CHANNELS and a.shape[3] not in CHANNELS:  # (N, C, H, W)
        a = a[:, 0] if a.shape[1] == 1 else np.moveaxis(a, 1, -1)
    elif a.ndim == 4 and a.shape[1] in CHANNELS and a.shape[3] in CHANNELS and a.shape[1] != a.shape[3]:
        a = a[:, 0] if a.shape[1] == 1 else np.moveaxis(a, 1, -1)   # (N, 3, H, 1) cannot be an image
    if a.ndim == 4 and a.shape[3] == 1:  # (N, H, W, 1)
        a = a[..., 0]
    if not (a.ndim == 3 or (a.ndim == 4 and a.shape[3] in CHANNELS)):
        raise ValueError(f"expected images (N, H, W), (N, H, W, C), (N, C, H, W) or (N, C*H*W) with 1 or 3 "
                         f"channels, got shape {a.shape}")
    found = ImageShape.of(a)  # its sides are checked: a 5x5 stack says what the explorer takes
    if shape is not None:
        shape.check_same(found, "this model or picture", "the array given")
    return a


def image_stack(images, shape: ImageShape | None = None, dtype=np.float32) -> np.ndarray:
    """Images in any layout (display, batch, or flat rows of `shape`'s values), uint8 or float ->
    the display layout (N, H, W) or (N, H, W, 3), float in [0, 1]. With `shape`, a stack of
    another shape is a ValueError naming both."""
    return _as_display(unit_float(images, dtype), shape)


def display_shape(images) -> ImageShape:
    """The ImageShape of a stack in any layout image_stack reads (flat rows are MNIST)."""
    return ImageShape.of(_as_display(numpy_of(images)[:1], None))


def as_image_batch(images, shape: ImageShape | None = None):
    """Images as image_stack accepts them -> float32 torch tensor (N, C, H, W) in [0, 1], on the
    device of a tensor input (the model's input). A float32 batch of the right shape is returned
    as it is: no copy, same device."""
    import torch  # here: pictures and plots need no torch

    if isinstance(images, torch.Tensor) and images.dtype == torch.float32 and images.ndim == 4 \
            and images.shape[1] in CHANNELS and (shape is None or tuple(images.shape[1:]) == shape.chw):
        return images
    device = images.device if isinstance(images, torch.Tensor) else None
    a = image_stack(images, shape)
    t = torch.from_numpy(np.ascontiguousarray(a[:, None] if a.ndim == 3 else np.moveaxis(a, -1, 1)))
    return t.to(device) if device is not None else t


def to_display(batch) -> np.ndarray:
    """A model's output (N, C, H, W), tensor or array -> numpy display layout (N, H, W[, 3]),
    values unchanged."""
    a = numpy_of(batch)
    if a.ndim != 4 or a.shape[1] not in CHANNELS:
        raise ValueError(f"expected a batch (N, C, H, W) with 1 or 3 channels, got shape {a.shape}")
    return a[:, 0] if a.shape[1] == 1 else np.moveaxis(a, 1, -1)


def to_uint8(img) -> np.ndarray:
    """Float image in [0, 1] (clipped) -> uint8 [0, 255]; uint8 passes through."""
    a = numpy_of(img)
    if a.dtype == np.uint8:
        return a
    return np.round(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)
