"""The one conversion of pixels: uint8 in [0, 255] or float in [0, 1], numpy or torch, to the
float form each consumer needs, and back to uint8 for display and files."""
from __future__ import annotations

import numpy as np

SIDE = 28
PIXELS = SIDE * SIDE


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


def image_stack(images, dtype=np.float32) -> np.ndarray:
    """Images (N, 28, 28), (N, 1, 28, 28) or (N, 784), uint8 or float -> (N, 28, 28) in [0, 1]."""
    a = unit_float(images, dtype)
    if a.ndim == 2 and a.shape[1] == PIXELS:
        a = a.reshape(-1, SIDE, SIDE)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 3 or a.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"expected images (N, 28, 28), (N, 1, 28, 28) or (N, 784), got shape {a.shape}")
    return a


def as_image_batch(images):
    """Images as image_stack accepts them -> float32 torch tensor (N, 1, 28, 28) in [0, 1], on the
    device of a tensor input (the model's input)."""
    import torch  # here: pictures and plots need no torch

    if isinstance(images, torch.Tensor) and images.dtype == torch.float32 and images.ndim == 4 \
            and images.shape[1:] == (1, SIDE, SIDE):
        return images  # already a batch: no copy, same device
    device = images.device if isinstance(images, torch.Tensor) else None
    t = torch.from_numpy(image_stack(images)).unsqueeze(1)
    return t.to(device) if device is not None else t


def to_uint8(img) -> np.ndarray:
    """Float image in [0, 1] (clipped) -> uint8 [0, 255]; uint8 passes through."""
    a = numpy_of(img)
    if a.dtype == np.uint8:
        return a
    return np.round(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)
