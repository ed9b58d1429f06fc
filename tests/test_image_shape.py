"""The image shape and the two layouts of a stack of images (aecore.pictures.pixels)."""
import numpy as np
import pytest
import torch

from aecore.pictures.pixels import MNIST, ImageShape, as_image_batch, display_shape, image_stack, to_display


@pytest.mark.parametrize("bad, words", [((2, 28, 28), "1 (grey) or 3"), ((1, 4, 28), "sides of 8 to 128"),
                                        ((3, 32, 300), "sides of 8 to 128"), ((1.5, 28, 28), "whole number")])
def test_a_shape_outside_the_explorers_range_says_what_it_takes(bad, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        ImageShape(*bad)


def test_colour_images_round_trip_between_the_display_and_batch_layouts():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (5, 32, 24, 3), dtype=np.uint8)   # not square: rows and columns stay apart
    shape = ImageShape.of(rgb)
    assert shape == ImageShape(3, 32, 24) and shape.colour and shape.pixels == 3 * 32 * 24
    batch = as_image_batch(rgb)
    assert batch.shape == (5, 3, 32, 24) and batch.dtype == torch.float32
    # channel 0 of the batch is the red plane of the picture
    assert torch.allclose(batch[2, 0], torch.from_numpy(rgb[2, :, :, 0] / 255.0).float())
    back = to_display(batch)
    assert np.allclose(back, rgb / 255.0)
    flat = batch.reshape(5, -1).numpy()                           # (N, C*H*W) rows, as an mlp sees them
    assert np.allclose(image_stack(flat, shape), back)
    assert display_shape(batch) == shape


def test_grey_stacks_keep_their_mnist_layouts():
    x = np.random.default_rng(1).random((4, 28, 28), dtype=np.float32)
    for layout in (x, x[:, None], x[..., None], x.reshape(4, 784)):
        assert np.allclose(image_stack(layout), x)
    assert as_image_batch(x).shape == (4, 1, 28, 28)
    assert ImageShape.of(x) == MNIST


def test_a_stack_of_another_shape_than_expected_is_named():
    with pytest.raises(ValueError, match=r"28x28 grey.*32x32 colour"):
        as_image_batch(np.zeros((2, 32, 32, 3), np.uint8), MNIST)
    with pytest.raises(ValueError, match="flat images"):
        image_stack(np.zeros((2, 100)), MNIST)
