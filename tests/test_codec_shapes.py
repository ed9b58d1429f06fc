"""Encoding, decoding and drawing for models of any image shape: either layout in, the display
layout out, a stack of another shape refused naming both, and a large set encoded without a float
copy of it; units, samples and measures in colour."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from aecore.config import ModelConfig
from aecore.latent import units
from aecore.latent.codec import decode_all, encode_all, reconstruct_all
from aecore.latent.sampling import interpolation, manifold
from aecore.measure import metrics
from aecore.models import build_model
from aecore.pictures.pixels import as_image_batch
from colour_data import blobs


def colour_model(body: str = "mlp", kind: str = "plain", latent_dim: int = 2, shape=(3, 16, 12)):
    torch.manual_seed(0)
    return build_model(ModelConfig(kind=kind, body=body, latent_dim=latent_dim, hidden=[16], channels=[4, 8],
                                   image=list(shape))).eval()


@pytest.mark.parametrize("body", ["mlp", "conv"])
def test_either_layout_gives_the_same_codes_and_decoding_gives_the_display_layout(body):
    model = colour_model(body)
    images, _ = blobs(20, 16, 12)                                  # (20, 16, 12, 3) uint8
    codes = encode_all(model, images)
    batch = as_image_batch(images)                                 # (20, 3, 16, 12) float32
    np.testing.assert_array_equal(encode_all(model, batch), codes)
    np.testing.assert_array_equal(encode_all(model, batch.reshape(20, -1).numpy()), codes)  # flat rows
    out = decode_all(model, codes)
    assert out.shape == (20, 16, 12, 3) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    with torch.no_grad():  # channel 0 of the model's output is the red plane of the picture
        np.testing.assert_allclose(out[..., 0], model(batch)[:, 0].numpy(), atol=1e-6)
    assert reconstruct_all(model, images).shape == (20, 16, 12, 3)


@pytest.mark.parametrize("stack, words", [(np.zeros((4, 28, 28), np.uint8), "28x28 grey"),
                                          (np.zeros((4, 12, 16, 3), np.uint8), "12x16 colour"),
                                          (np.zeros((4, 3, 16, 16)), "16x16 colour")])
def test_a_stack_of_another_shape_is_refused_naming_both(stack, words):
    with pytest.raises(ValueError, match=f"the model takes 16x12 colour images.*has {words} images"):
        encode_all(colour_model(), stack)


def test_a_grey_model_keeps_reading_mnist_layouts():
    model = build_model(ModelConfig(hidden=[8])).eval()
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    codes = encode_all(model, images)
    for layout in (images[:, None], images[..., None], images.reshape(5, 784)):
        np.testing.assert_array_equal(encode_all(model, layout), codes)
    assert decode_all(model, codes).shape == (5, 28, 28)


def test_encoding_a_large_uint8_set_never_copies_it_whole_as_floats():
    """4,000 colour 32x32 images: 12 MB as uint8, 49 MB as float32; encoding holds a batch."""
    model = colour_model(shape=(3, 32, 32))
    images = np.random.default_rng(0).integers(0, 256, (4000, 32, 32, 3), dtype=np.uint8)
    encode_all(model, images[:10])  # first-call allocations (torch's, the model's) out of the count
    tracemalloc.start()
    codes = encode_all(model, images)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert codes.shape == (4000, 2)
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB while encoding"


@pytest.mark.parametrize("body, note", [("mlp", "first dense layer"), ("conv", "first conv layer")])
def test_first_layer_weight_images_are_colour_images_of_the_models_shape(body, note):
    filters, text = units.first_layer_filters(colour_model(body))
    assert filters.shape == ((16 if body == "mlp" else 4), 16, 12, 3) and text.startswith(note)
    assert 0 <= filters.min() and filters.max() <= 1 and "each channel" in text
    model = colour_model(body)
    w = model.first_layer_weights()
    if body == "mlp":  # unit 0's weight on the green value of pixel (5, 7) is drawn at (5, 7) in green
        row = w[0].reshape(3, 16, 12)
        top = np.abs(w[0]).max()
        assert filters[0, 5, 7, 1] == pytest.approx(0.5 + 0.5 * row[1, 5, 7] / top)


def test_unit_views_samples_and_paths_come_in_colour():
    model = colour_model(kind="vae", latent_dim=2)
    images, _ = blobs(30, 16, 12)
    codes = encode_all(model, images)
    view = units.unit_view(model, codes, images, unit=1, k=4)
    assert view.weight.shape == (16, 12, 3) and view.drawing.shape == (16, 12, 3)
    assert units.unit_drawings(model, codes).shape == (2, 16, 12, 3)
    grid, _ = manifold(model, codes, n=3)
    assert grid.shape == (9, 16, 12, 3)
    _, frames = interpolation(model, codes[0], codes[1], 5)
    assert frames.shape == (5, 16, 12, 3)


def test_per_pixel_figures_do_not_change_with_the_image_size():
    """The same pictures at twice the size (each pixel a 2x2 block): per image figures grow 4x,
    per pixel ones stay; PSNR is per pixel already."""
    x, _ = blobs(10, 16, 12)
    x_hat = np.clip(x / 255.0 + np.random.default_rng(1).normal(0, 0.1, x.shape), 0, 1)
    big = lambda a: a.repeat(2, axis=1).repeat(2, axis=2)  # noqa: E731
    small, large = metrics.reconstruction_errors(x, x_hat), metrics.reconstruction_errors(big(x), big(x_hat))
    assert large["sse_per_image"] == pytest.approx(4 * small["sse_per_image"])
    for name in ("mse_per_pixel", "bce_per_pixel", "recon_psnr"):
        assert large[name] == pytest.approx(small[name]), name
    np.testing.assert_allclose(metrics.psnr(big(x), big(x_hat)), metrics.psnr(x, x_hat))


def test_colour_ssim_is_the_mean_of_the_channels_and_small_images_are_measured():
    x, _ = blobs(4, 16, 12)
    y = np.clip(x / 255.0 + np.random.default_rng(2).normal(0, 0.1, x.shape), 0, 1)
    per_channel = np.mean([metrics.ssim(x[..., c], y[..., c]) for c in range(3)], axis=0)
    np.testing.assert_allclose(metrics.ssim(x, y), per_channel)
    tiny, _ = blobs(3, 8, 8)
    assert np.allclose(metrics.ssim(tiny, tiny), 1.0)  # sides of 8: a 7x7 window


def test_the_median_filter_works_on_each_colour_channel_alone():
    x, _ = blobs(3, 16, 12)
    filtered = metrics.median_filter(x)
    assert filtered.shape == x.shape and filtered.dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(filtered[..., c], metrics.median_filter(x[..., c]))


def test_pixel_neighbours_of_uint8_sets_are_those_of_their_floats():
    base, _ = blobs(300, 16, 12, seed=3)
    query, _ = blobs(20, 16, 12, seed=4)
    np.testing.assert_allclose(metrics.nearest_pixel_distances(query, base),
                               metrics.nearest_pixel_distances(query / 255.0, base / 255.0), rtol=1e-6)
    codes_q, codes_b = query.reshape(20, -1)[:, :3].astype(np.float32), base.reshape(300, -1)[:, :3].astype(np.float32)
    a = metrics.approximation_factors(query, base, codes_q, codes_b)
    b = metrics.approximation_factors(query / 255.0, base / 255.0, codes_q, codes_b)
    assert a["aaf"] == pytest.approx(b["aaf"], rel=1e-6) and a["maf"] == pytest.approx(b["maf"], rel=1e-6)
