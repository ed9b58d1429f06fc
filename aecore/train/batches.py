"""The training images as the loop takes them: a seeded split into training and validation
images, kept in the batch layout (N, C, H, W) of their own dtype (a dataset's uint8 is converted
a batch at a time, never whole), and the shift augmentation."""
from __future__ import annotations

import numpy as np
import torch

from ..config import TrainConfig


def split_sizes(n: int, cfg: TrainConfig) -> tuple[int, int]:
    """(training, validation) images that split_train_val makes of a train split of n."""
    n = min(n, cfg.max_train) if cfg.max_train else n
    n_val = max(1, int(round(n * cfg.val_fraction))) if cfg.val_fraction > 0 else 0
    return n - n_val, n_val


def split_train_val(images, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded shuffle of the train split, then the last val_fraction held out. `images` in the
    display layout (a Dataset's uint8 (N, H, W[, 3]), numpy or torch) come back in the batch
    layout (N, C, H, W) of their own dtype: a dataset's uint8 stays uint8 (as_floats converts a
    batch at a time), so 100,000 colour 64x64 images take 1.2 GB here, not 4.9 GB as floats.
    A stack already in the batch layout (N, C, H, W) keeps it."""
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(cfg.seed))
    if cfg.max_train:
        perm = perm[: cfg.max_train]
    n_val = split_sizes(len(images), cfg)[1]
    kept = _batch_layout(images[perm.numpy()] if isinstance(images, np.ndarray) else images[perm])
    return kept[n_val:], kept[:n_val]


def _batch_layout(images) -> torch.Tensor:
    """A (writable, own) stack in the display layout -> a tensor view in the batch layout."""
    x = torch.from_numpy(images) if isinstance(images, np.ndarray) else images
    if x.ndim == 3:                      # (N, H, W) grey
        return x.unsqueeze(1)
    if x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):  # (N, H, W, C)
        return x.permute(0, 3, 1, 2)
    return x                             # (N, C, H, W) already


def as_floats(x: torch.Tensor) -> torch.Tensor:
    """A batch as the model takes it: uint8 [0, 255] -> float32 [0, 1] (divided, as
    aecore.pictures.pixels does, so the values are the same); floats as they are."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image (B, C, H, W) moved by a random whole-pixel offset in [-max_shift, max_shift]^2,
    rolled round (any dtype, any size); MNIST digits sit inside a 20x20 box, so rolling small
    offsets moves only black border.
    The offsets come from `generator` (on the CPU), whatever device x is on."""
    offsets = torch.randint(-max_shift, max_shift + 1, (len(x), 2), generator=generator)
    out = torch.empty_like(x)
    for dy, dx in offsets.unique(dim=0).tolist():
        rows = ((offsets[:, 0] == dy) & (offsets[:, 1] == dx)).nonzero().squeeze(1).to(x.device)
        out[rows] = torch.roll(x[rows], shifts=(dy, dx), dims=(2, 3))
    return out
