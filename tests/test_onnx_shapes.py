"""ONNX models of any image shape: the shape and layout are read from the graphs ((B, C, H, W),
(B, H, W, C), (B, H, W), (B, C*H*W)), the model encodes images of its shape in the display or the
batch layout and decodes to the batch layout (B, C, H, W) in [0, 1] with the graph's own channel
order undone, and a graph that does not say its shape, or two graphs that disagree, are one
CheckpointError naming the files and the fix."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from onnx_factories import colour_channels_last_folder, image_pair

from aecore.checkpoint import ONNX_JSON, CheckpointError, load_checkpoint
from aecore.pictures.pixels import ImageShape, to_display


def sigmoid(a):
    return 1 / (1 + np.exp(-np.clip(a, -50, 50)))


def photos(n: int, chw, seed: int = 1) -> np.ndarray:
    """n images (N, H, W) or (N, H, W, 3) uint8, as a dataset stores them."""
    c, h, w = chw
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c) if c == 3 else (n, h, w), dtype=np.uint8)


def batch(images: np.ndarray) -> np.ndarray:
    """The display layout as floats in [0, 1] -> the batch layout (N, C, H, W)."""
    x = images.astype(np.float32) / 255
    return x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)


SHAPES = {  # the graph's input sizes -> (image (C, H, W), encoder layout, decoder layout, flat rows' order)
    "(B, 32, 32, 3)": ((3, 32, 32), "hwc", "hwc", None),
    "(B, 3, 32, 24)": ((3, 32, 24), "chw", "chw", None),
    "(B, 1, 16, 16)": ((1, 16, 16), "chw", "chw", None),
    "(B, 3072)": ((3, 32, 32), "flat", "flat", "chw"),
    "(B, 20, 12)": ((1, 20, 12), "hw", "hw", None),
    "(B, 8, 128, 1) to (B, 1024)": ((1, 8, 128), "hwc", "flat", "hwc"),
    "(B, 3072) to (B, 32, 32, 3)": ((3, 32, 32), "flat", "hwc", "hwc"),  # a Keras MLP: rows in H, W, C order
}


@pytest.mark.parametrize("case", list(SHAPES))
def test_an_onnx_model_of_any_shape_encodes_and_decodes_its_images(tmp_path, case):
    chw, inputs, outputs, order = SHAPES[case]
    w = image_pair(tmp_path / "m", chw, inputs, outputs, d=4, order=order or "chw")
    model = load_checkpoint(tmp_path / "m").model
    assert model.image_shape == ImageShape(*chw) and model.latent_dim == 4
    assert model.describe()["input"].startswith(case.split(" to ")[0])
    images = photos(10, chw)
    x = batch(images)
    want_z = x.reshape(10, -1) @ w["we"].T + w["be"]
    want_x = sigmoid(want_z @ w["wd"] + w["bd"]).reshape(10, *chw)
    for given in (images, torch.from_numpy(x)):  # the display layout as a dataset has it, or a batch
        z = model.encode(given)
        np.testing.assert_allclose(z.numpy(), want_z, atol=1e-4)
    out = model.decode(z)
    assert out.shape == (10, *chw) and out.dtype == torch.float32 and 0 <= out.min() and out.max() <= 1
    np.testing.assert_allclose(out.numpy(), want_x, atol=1e-5)  # channels where they belong, not scrambled
    assert to_display(out).shape == (10, *ImageShape(*chw).display)
    np.testing.assert_array_equal(model.first_layer_weights(), w["we"])  # (units, C*H*W) in C, H, W order


@pytest.mark.slow  # torch.onnx.export: 4 s
def test_a_channels_last_colour_torch_export_gives_the_torch_models_codes_and_images(tmp_path):
    torch_model = colour_channels_last_folder(tmp_path / "keras-like", meta={"name": "colour"})
    model = load_checkpoint(tmp_path / "keras-like").model
    images = photos(10, (3, 32, 32))
    x = torch.from_numpy(batch(images))
    with torch.no_grad():
        want_z = torch_model.encode(x.permute(0, 2, 3, 1))
        want_x = torch_model.decode(want_z).permute(0, 3, 1, 2)
    assert model.image_shape == ImageShape(3, 32, 32) and model.describe()["input"].startswith("(B, 32, 32, 3)")
    torch.testing.assert_close(model.encode(images), want_z, atol=1e-5, rtol=0)
    torch.testing.assert_close(model.decode(want_z), want_x, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(model.first_layer_weights(), torch_model.conv.weight.detach().numpy())  # (4, 3, 3, 3)


def test_images_of_another_shape_are_refused_naming_both(tmp_path):
    image_pair(tmp_path / "m", (3, 32, 32), "hwc")
    model = load_checkpoint(tmp_path / "m").model
    with pytest.raises(ValueError, match="takes 32x32 colour images .* has 28x28 grey images"):
        model.encode(photos(3, (1, 28, 28)))


@pytest.mark.parametrize("inputs, meta", [("hwc", None), ("flat", {"flat_order": "hwc"})])
def test_flat_rows_follow_a_channels_last_partner_or_onnx_json(tmp_path, inputs, meta):
    """Flat colour rows say no channel order: a Keras decoder's (B, 3072) next to a (B, 32, 32, 3)
    encoder is in H, W, C order; onnx.json's flat_order says it where no graph does."""
    images = photos(5, (3, 32, 32))
    w = image_pair(tmp_path / "m", (3, 32, 32), inputs, "flat", order="hwc", meta=meta)
    model = load_checkpoint(tmp_path / "m").model
    z = batch(images).reshape(5, -1) @ w["we"].T + w["be"]
    np.testing.assert_allclose(model.encode(images).numpy(), z, atol=1e-4)
    np.testing.assert_allclose(model.decode(torch.from_numpy(z.astype(np.float32))).numpy(),
                               sigmoid(z @ w["wd"] + w["bd"]).reshape(5, 3, 32, 32), atol=1e-5)


def test_flat_rows_of_a_non_square_image_without_its_shape_say_what_to_add(tmp_path):
    image_pair(tmp_path / "m", (3, 32, 20), "flat")  # (B, 1920): neither s x s nor 3 x s x s
    with pytest.raises(CheckpointError, match=r"encoder.onnx: its input has shape \(B, 1920\): flat rows of 1,920 "
                                              r"values, which are no square image .* add \"image\": \[C, H, W\] to onnx.json"):
        load_checkpoint(tmp_path / "m")


@pytest.mark.parametrize("chw, outputs, meta, found", [
    ((3, 32, 20), "flat", {"image": [3, 32, 20]}, (3, 32, 20)),  # said in onnx.json
    ((3, 32, 20), "chw", None, (3, 32, 20)),                       # the decoder's (B, 3, 32, 20) says it
    ((3, 32, 24), "flat", None, (1, 48, 48)),                      # 2,304 values are a square grey image...
    ((3, 32, 24), "flat", {"image": [3, 32, 24]}, (3, 32, 24))])   # ...unless onnx.json says otherwise
def test_flat_rows_take_the_shape_said_elsewhere(tmp_path, chw, outputs, meta, found):
    image_pair(tmp_path / "m", chw, "flat", outputs, meta=meta)
    assert load_checkpoint(tmp_path / "m").model.image_shape == ImageShape(*found)


def test_named_image_sizes_are_refused_with_the_fix(tmp_path):
    image_pair(tmp_path / "m", (3, 32, 32), "chw", input_sizes=["B", 3, "height", "width"])
    with pytest.raises(CheckpointError, match=r"encoder.onnx: its input has shape \(B, 3, height, width\), with sizes "
                                              r"that are not fixed \(height, width\); export it with fixed image sizes"):
        load_checkpoint(tmp_path / "m")


@pytest.mark.parametrize("sizes, found", [(["B", 3, 32, 24], r"gives 32x24 colour images \(B, 3, 32, 24\)"),
                                          (["B", "n"], r"gives 32x24 colour images \(B, 3, 32, 24\)")])
def test_a_decoder_of_other_images_is_refused_naming_both(tmp_path, sizes, found):
    """Said in its output's sizes, or only seen when it runs (a size left named)."""
    image_pair(tmp_path / "a", (3, 32, 32), "hwc")
    image_pair(tmp_path / "b", (3, 32, 24), "chw")
    (tmp_path / "a" / "decoder.onnx").write_bytes((tmp_path / "b" / "decoder.onnx").read_bytes())
    if sizes[1] == "n":  # the same decoder with its output's sizes left unsaid
        image_pair(tmp_path / "c", (3, 32, 24), "chw", output_sizes=sizes)
        (tmp_path / "a" / "decoder.onnx").write_bytes((tmp_path / "c" / "decoder.onnx").read_bytes())
    with pytest.raises(CheckpointError, match=r"encoder.onnx takes 32x32 colour images \(B, 32, 32, 3\) but .*"
                                              r"decoder.onnx " + found):
        load_checkpoint(tmp_path / "a")


def test_onnx_json_image_must_be_the_graphs(tmp_path):
    image_pair(tmp_path / "m", (3, 32, 32), "hwc", meta={"image": [1, 32, 32]})
    with pytest.raises(CheckpointError, match=r"encoder.onnx takes 32x32 colour images \(B, 32, 32, 3\), but "
                                              r"onnx.json says \"image\": \[1, 32, 32\] \(32x32 grey\)"):
        load_checkpoint(tmp_path / "m")
    (tmp_path / "m" / ONNX_JSON).write_text(json.dumps({"image": [2, 32, 32]}))
    with pytest.raises(CheckpointError, match="onnx.json: images have 2 channels; the explorer takes 1"):
        load_checkpoint(tmp_path / "m")


def test_a_fixed_batch_of_large_images_that_one_call_cannot_hold_is_refused_with_the_fix(tmp_path):
    image_pair(tmp_path / "m", (3, 128, 128), "chw", input_sizes=[200, 3, 128, 128])
    with pytest.raises(CheckpointError, match=r"encoder.onnx: made for a fixed batch of 200, over the 85 images of its "
                                              r"size the explorer runs at once; export it with a free batch size"):
        load_checkpoint(tmp_path / "m")
