"""Checks of aecore.explore (what the Latent map, Generate, Denoise and Units pages compute) on tiny models."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from aecore import explore
from aecore.images import ImageError
from aecore.models import build_model
from conftest import synthetic_digits, tiny_config


def _model(kind="plain", body="mlp", **over):
    torch.manual_seed(0)
    return build_model(tiny_config(kind, body, **over)).eval()


@pytest.fixture
def digits():
    return synthetic_digits(40)[:, 0].numpy()  # (40, 28, 28) in [0, 1]


def test_pca_map_places_new_codes_where_the_map_put_them():
    codes = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    points, place = explore.pca_map(codes, seed=0)
    assert points.shape == (50, 2)
    assert np.allclose(place(codes[:3]), points[:3], atol=1e-5)
    two = codes[:, :2]
    points2, place2 = explore.pca_map(two)
    assert np.array_equal(points2, two) and np.array_equal(place2(two[0]), two[:1])
    one, _ = explore.pca_map(codes[:, :1])
    assert one.shape == (50, 2) and not one[:, 1].any()


def test_interpolation_has_the_endpoints_and_one_frame_per_step():
    model = _model()
    path, frames = explore.interpolation(model, np.zeros(4), np.ones(4), steps=7, method="slerp")
    assert path.shape == (7, 4) and frames.shape == (7, 28, 28)
    assert np.allclose(path[0], 0) and np.allclose(path[-1], 1)
    assert np.allclose(frames[0], explore.decode_one(model, path[0]), atol=1e-6)


def test_sampling_is_seeded_and_manifold_is_a_grid(digits):
    model = _model(latent_dim=2)
    codes = np.random.default_rng(0).normal(size=(100, 2))
    a, b = (explore.sample_images(model, 5, seed=3, codes=codes) for _ in range(2))
    assert a.shape == (5, 28, 28) and np.array_equal(a, b)
    grid, (x0, x1, y0, y1) = explore.manifold(model, codes, n=4)
    assert grid.shape == (16, 28, 28) and x0 < x1 and y0 < y1
    lo, hi, mean = explore.code_ranges(codes)
    assert lo.shape == (2,) and np.all(lo < mean) and np.all(mean < hi)


def test_denoise_reports_every_output_and_noise_lowers_psnr(digits):
    models = {"denoising model": _model(), "plain model": _model(latent_dim=3)}
    quiet = explore.denoise(digits[0], "gaussian", 0.1, seed=0, models=models)
    loud = explore.denoise(digits[0], "gaussian", 0.9, seed=0, models=models)
    assert set(quiet.psnr) == {"noisy input", "denoising model", "plain model", "median filter"}
    assert loud.psnr["noisy input"] < quiet.psnr["noisy input"]
    assert quiet.codes.shape == (2, 4) and quiet.noisy.shape == (28, 28)
    assert all(-1 <= v <= 1 for v in quiet.ssim.values())
    curve = explore.psnr_curve(digits[:10], "masking", models, seed=0, levels=(0.1, 0.5, 0.9))
    assert curve["levels"] == [0.1, 0.5, 0.9]
    assert len(curve["median filter"]) == 3
    assert curve["noisy input"][0] > curve["noisy input"][2]  # more masking, lower PSNR


def test_drawn_and_uploaded_pictures_become_28x28_inputs():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:220, 130:150] = 255  # a white vertical stroke, opaque
    seen = explore.canvas_input(canvas)
    assert seen.shape == (28, 28) and seen.max() == pytest.approx(1.0)
    with pytest.raises(ImageError, match="empty"):
        explore.canvas_input(np.zeros((280, 280, 4), np.uint8))
    buf = io.BytesIO()
    Image.fromarray(255 - canvas[..., 0]).save(buf, format="PNG")  # dark ink on white
    assert np.allclose(explore.picture_input(buf.getvalue()), seen, atol=0.05)
    with pytest.raises(ImageError, match="not an image"):
        explore.picture_input(b"hello", name="notes.txt")


def test_code_activity_counts_dead_units():
    codes = np.zeros((20, 5), np.float32)
    codes[:, 0] = 0.9
    codes[:10, 1] = -0.5  # mostly negative units are alive: activity is |z|
    stats, hist = explore.code_activity(codes)
    assert stats["dead_units"] == 3 and stats["unit_frequency"][:2] == [1.0, 0.5]
    assert hist.fractions.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("body,hidden,expect", [("mlp", [32], 32), ("mlp", [], 4), ("conv", [], 4)])
def test_first_layer_filters_are_28x28_images(body, hidden, expect):
    filters, note = explore.first_layer_filters(_model(body=body, hidden=hidden))
    assert filters.shape == (expect, 28, 28)
    assert filters.min() >= 0 and filters.max() <= 1
    assert ("3x3" in note) == (body == "conv")


def test_unit_codes_one_hot_for_sparse_and_a_push_otherwise():
    codes = np.random.default_rng(0).uniform(0, 1, (30, 4)).astype(np.float32)
    assert np.array_equal(explore.unit_codes(_model("sparse", sparsity="kl"), codes), np.eye(4))
    relu = explore.unit_codes(_model("sparse", sparsity="l1"), codes)
    assert np.allclose(np.diag(relu), codes.max(axis=0)) and relu.sum() == pytest.approx(np.trace(relu))
    push = explore.unit_codes(_model(), codes)
    assert np.allclose(push[1] - codes.mean(axis=0), [0, 3 * codes[:, 1].std(), 0, 0], atol=1e-5)
    assert explore.unit_drawings(_model(), codes).shape == (4, 28, 28)


def test_unit_view_ranks_the_digits_that_excite_a_unit(digits):
    model = _model()
    codes = explore.encode_dataset(model, digits)
    view = explore.unit_view(model, codes, digits, unit=2, k=5)
    assert list(view.top) == list(np.argsort(-codes[:, 2])[:5])
    assert np.all(np.diff(view.top_values) <= 0)
    assert view.weight.shape == view.drawing.shape == (28, 28)
    assert explore.unit_view(model, codes, digits, unit=1).weight.tolist() != view.weight.tolist()
    with pytest.raises(ValueError, match="units 0..3"):
        explore.unit_view(model, codes, digits, unit=4)


def test_selection_csv_reads_back_as_the_selected_points():
    import csv
    xy = np.array([[0.25, -1.5], [3.1415927, 1e-4]], np.float32)
    text = explore.selection_csv(np.array([7, 4012]), np.array([3, 9]), xy)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(int(r["index"]), int(r["label"])) for r in rows] == [(7, 3), (4012, 9)]
    assert np.array_equal(np.array([[float(r["x"]), float(r["y"])] for r in rows], np.float32), xy)
    assert explore.selection_csv([], [], np.zeros((0, 2))) == "index,label,x,y\n"
    with pytest.raises(ValueError, match="as many labels"):
        explore.selection_csv([1, 2], [3], xy)
