"""Encode and decode whole data sets, in batches, in eval mode, without gradients.

Images are a stack of the model's image shape (model.image_shape), in the display layout
((N, H, W) grey, (N, H, W, 3) colour) or the batch layout ((N, C, H, W)), uint8 in [0, 255] or
float in [0, 1] (see aecore.pictures.pixels); codes are float32 (N, d). Images are converted to
float a batch at a time: 100,000 colour 64x64 images are 1.2 GB as uint8, and would be 4.9 GB
as one float copy.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch
from torch import nn

from ..pictures.pixels import MNIST, ImageShape, as_image_batch, display_shape, image_stack, to_display


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put `model` in eval mode (no noise, no dropout, batch-norm running stats) and restore its
    previous mode afterwards, so evaluating never changes a model being trained."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def image_shape_of(model) -> ImageShape:
    """The shape of the images `model` takes: its image_shape; MNIST's for a module that does not
    say (a torch module wrapped before shapes were recorded)."""
    return getattr(model, "image_shape", None) or MNIST


def check_images(model, images, what: str = "the stack given") -> ImageShape:
    """The model's image shape, after checking that `images` (any layout image_stack reads) are
    of it: ValueError naming both shapes otherwise. Looks at one image: no copy of the stack."""
    shape = image_shape_of(model)
    if len(images):
        head = images[:1]
        try:
            found = display_shape(head)
        except ValueError:  # flat rows of another size than MNIST's: image_stack reads them with the shape
            found = None
        if found is not None and (np.ndim(head) != 2 or found != shape):
            shape.check_same(found, "the model", what)
        image_stack(head, shape)  # whatever else is wrong with the layout says so here
    return shape


def encode_all(model: nn.Module, images, batch_size: int = 256) -> np.ndarray:
    """Codes of all images (a stack of the model's shape, display or batch layout, uint8 or float)
    -> float32 (N, d); eval mode, no grad. Batches of 256: on a CPU a conv body encodes 1,000
    images in a third of the time it takes as one batch; only a batch is ever float."""
    shape = check_images(model, images)
    device = model_device(model)
    out = []
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = as_image_batch(images[start:start + batch_size], shape).to(device)
            out.append(model.encode(x).float().cpu().numpy())
    if not out:
        return np.zeros((0, model.latent_dim), np.float32)
    return np.concatenate(out)


def decode_all(model: nn.Module, codes, batch_size: int = 1000) -> np.ndarray:
    """Images of codes: (N, d) -> the display layout of the model's shape, float32 in [0, 1]:
    (N, H, W) grey or (N, H, W, 3) colour; eval mode, no grad."""
    shape = image_shape_of(model)
    device = model_device(model)
    codes = np.asarray(codes, dtype=np.float32).reshape(-1, model.latent_dim)
    out = np.empty((len(codes), *shape.display), np.float32)
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(codes), batch_size):
            z = torch.from_numpy(codes[start:start + batch_size]).to(device)
            batch = model.decode(z).float().cpu().reshape(-1, *shape.chw)
            out[start:start + batch_size] = to_display(batch)
    return np.clip(out, 0.0, 1.0, out=out)


def reconstruct_all(model: nn.Module, images, batch_size: int = 1000) -> np.ndarray:
    """The model's output for each image: the display layout of its shape, float32 in [0, 1]."""
    return decode_all(model, encode_all(model, images, batch_size), batch_size)


# the names these had before images had a shape; the app and notebooks call them
encode_dataset, decode_codes, reconstruct = encode_all, decode_all, reconstruct_all
