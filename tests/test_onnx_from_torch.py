"""A notebook's torch modules of any image shape (aecore.models.from_torch, behind aecore.explore's
model=): they are probed with images of the notebook's own shape in the layout they take, exported,
and open again with the same codes; modules that take no layout of that shape are told which
shape and layouts were tried."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from aecore.checkpoint import load_checkpoint
from aecore.models.from_torch import write_onnx_folder
from aecore.pictures.pixels import ImageShape


def colour(n: int = 20, h: int = 32, w: int = 24) -> np.ndarray:
    """n colour images (N, H, W, 3) uint8, as a dataset stores them."""
    return np.random.default_rng(0).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


class Decoder(nn.Module):
    """codes -> sigmoid images in the layout `item` (without the batch)."""

    def __init__(self, d: int, item: tuple[int, ...]):
        super().__init__()
        self.item, self.out = item, nn.Linear(d, int(np.prod(item)))

    def forward(self, z):
        return torch.sigmoid(self.out(z)).reshape(-1, *self.item)


@pytest.mark.slow  # two torch.onnx.exports and a load: about 5 s
@pytest.mark.parametrize("takes, gives", [((3, 32, 24), (3, 32, 24)), ((32, 24, 3), (2304,))])
def test_modules_of_colour_images_are_exported_and_open_with_the_same_codes(tmp_path, takes, gives):
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(2304, 3))
    decoder = Decoder(3, gives)
    images = colour()
    # the notebook's images came in the layout `takes`: the encoder is exported taking that one
    d = write_onnx_folder(encoder, decoder, tmp_path / "m", images, takes, {"name": "colour"})
    model = load_checkpoint(tmp_path / "m").model
    assert d == 3 and model.image_shape == ImageShape(3, 32, 24)
    assert model.describe()["input"].startswith("(B, " + ", ".join(map(str, takes)) + ")")
    x = torch.from_numpy(images.astype(np.float32) / 255)  # (N, H, W, 3)
    with torch.no_grad():
        want = encoder(x.permute(0, 3, 1, 2) if takes[0] == 3 else x)
    torch.testing.assert_close(model.encode(images), want, atol=1e-4, rtol=0)
    assert model.decode(want).shape == (20, 3, 32, 24)


def test_modules_that_take_no_layout_of_the_images_say_the_shape_tried(tmp_path):
    digits_only = nn.Sequential(nn.Flatten(), nn.Linear(784, 2))
    with pytest.raises(ValueError, match=r"the encoder failed on the images' shape, 32x24 colour \(3x32x24\), in every "
                                         r"layout the explorer knows \(\(B, 3, 32, 24\), \(B, 32, 24, 3\), \(B, 2304\)\); "
                                         r"first on inputs of shape \(16, 3, 32, 24\): RuntimeError"):
        write_onnx_folder(digits_only, Decoder(2, (3, 32, 24)), tmp_path / "m", colour(), None, {})
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(2304, 2))
    with pytest.raises(ValueError, match=r"the decoder gave \(16, 1, 28, 28\) for 16 codes; it must give images of the "
                                         r"encoder's shape, 32x24 colour \(2,304 values per code\)"):
        write_onnx_folder(encoder, Decoder(2, (1, 28, 28)), tmp_path / "m", colour(), None, {})
    assert not (tmp_path / "m").exists()  # nothing written for modules that failed
