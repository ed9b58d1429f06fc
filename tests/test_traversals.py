"""Latent traversals: units ordered by KL (a VAE) or code variance (any model), inactive units
found, each row moving one unit only, and the grid as a PNG and a GIF, grey and colour."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from aecore.latent import traversals
from aecore.latent.codec import encode_dataset
from aecore.models import build_model
from factories import synthetic_digits, tiny_config


def model_of(kind: str, seed: int = 0, body: str = "mlp", **over):
    torch.manual_seed(seed)
    return build_model(tiny_config(kind, body, **over)).eval()


def silence(model, unit: int) -> None:
    """Make `unit` carry nothing: the encoder writes 0 into it (a VAE: mean 0, log-variance 0, the
    prior itself) and the decoder ignores it."""
    with torch.no_grad():
        for layer in ([model.bottleneck.mu, model.bottleneck.logvar] if hasattr(model.bottleneck, "mu")
                      else [model.bottleneck.linear]):
            layer.weight[unit] = 0
            layer.bias[unit] = 0
        next(m for m in model.decoder.modules() if isinstance(m, torch.nn.Linear)).weight[:, unit] = 0


def test_unit_kl_is_zero_for_the_prior_and_grows_with_the_mean():
    mu, logvar = np.zeros((5, 3)), np.zeros((5, 3))
    mu[:, 1] = 2.0  # KL of N(2, 1) to N(0, 1) is 2 nats
    logvar[:, 2] = np.log(4.0)  # N(0, 4): 0.5 * (4 - 1 - log 4)
    assert traversals.unit_kl(mu, logvar) == pytest.approx([0.0, 2.0, 0.5 * (3 - np.log(4))])


def test_order_units_puts_the_largest_first_and_marks_units_that_carry_nothing():
    order = traversals.order_units([0.5, 0.001, 3.0, 0.02], "KL")
    assert list(order.units) == [2, 0, 3, 1]
    assert order.active_units == [2, 0, 3] and order.inactive_units == [1]
    assert order.caption(2) == "unit 2 · KL 3.00 nats"
    by_variance = traversals.order_units([1.0, 1e-5, 0.2], "variance")
    assert by_variance.inactive_units == [1] and by_variance.caption(2) == "unit 2 · variance 0.2"
    with pytest.raises(ValueError, match="'KL' or 'variance'"):
        traversals.order_units([1.0], "entropy")


def test_a_vae_is_ordered_by_kl_and_its_silenced_units_are_inactive():
    model = model_of("vae", latent_dim=5)
    with torch.no_grad():  # an untrained unit's KL is small: give units 0, 2 and 4 distinct means
        model.bottleneck.mu.bias[[0, 2, 4]] = torch.tensor([1.0, 3.0, 2.0])
    silence(model, 1)
    silence(model, 3)
    images = synthetic_digits(200)
    order = traversals.unit_order(model, encode_dataset(model, images), images)
    assert order.measure == "KL"
    assert order.inactive_units == [1, 3] and order.amount[[1, 3]] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert order.active_units == [2, 4, 0]


def test_a_model_without_a_posterior_is_ordered_by_code_variance():
    model = model_of("plain", latent_dim=4)
    silence(model, 2)
    images = synthetic_digits(200)
    codes = encode_dataset(model, images)
    order = traversals.unit_order(model, codes, images)
    assert order.measure == "variance" and order.inactive_units == [2]
    assert order.amount == pytest.approx(codes.var(axis=0, dtype=np.float64))
    # a VAE without its images (only stored codes) falls back to the variance too
    vae = model_of("vae")
    assert traversals.unit_order(vae, encode_dataset(vae, images)).measure == "variance"


def test_the_sweep_spans_three_standard_deviations_of_the_prior_or_of_the_codes():
    codes = np.random.default_rng(0).normal(2.0, 0.5, (400, 3)).astype(np.float32)
    prior = traversals.sweep(model_of("vae", latent_dim=3), codes, steps=7)
    assert prior.shape == (3, 7) and prior[0] == pytest.approx(np.linspace(-3, 3, 7))
    data = traversals.sweep(model_of("plain", latent_dim=3), codes, steps=5, extent=2)
    assert data[1] == pytest.approx(codes[:, 1].mean() + codes[:, 1].std() * np.linspace(-2, 2, 5), rel=1e-5)
    sigmoid = traversals.sweep(model_of("sparse", latent_dim=3, sparsity="kl"), np.full((10, 3), 0.5) + np.eye(10, 3))
    assert sigmoid.min() >= 0 and sigmoid.max() <= 1  # a sigmoid code stays within (0, 1)
    with pytest.raises(ValueError, match="at least 2 steps"):
        traversals.sweep(model_of("plain", latent_dim=3), codes, steps=1)


def test_each_row_moves_its_own_unit_and_a_silenced_unit_draws_one_image():
    model = model_of("plain", latent_dim=4)
    silence(model, 1)
    images = synthetic_digits(100)
    codes = encode_dataset(model, images)
    values = traversals.sweep(model, codes, steps=6)
    start = codes[7]
    moved = traversals.traversal_codes(start, [2, 1], values)
    assert moved.shape == (2, 6, 4)
    assert (moved[0, :, 2] == values[2]).all() and (moved[0][:, [0, 1, 3]] == start[[0, 1, 3]]).all()
    grid = traversals.traversal(model, start, [2, 1], values)
    assert grid.shape == (2, 6, 28, 28) and grid.dtype == np.float32
    assert np.ptp(grid[0], axis=0).max() > 0.01          # the active unit's row changes
    assert np.ptp(grid[1], axis=0).max() == pytest.approx(0.0, abs=1e-6)  # the ignored unit's does not


@pytest.mark.parametrize("shape", [(28, 28), (16, 12, 3)], ids=["grey", "colour"])
def test_the_grid_downloads_as_a_png_and_a_gif_with_one_frame_per_column(shape):
    rng = np.random.default_rng(0)
    grid = rng.uniform(0, 1, (3, 5, *shape)).astype(np.float32)
    png = Image.open(io.BytesIO(traversals.grid_png(grid, scale=2)))
    h, w = shape[:2]
    assert png.size == ((5 * (w + 1) + 1) * 2, (3 * (h + 1) + 1) * 2)
    assert png.mode == ("RGB" if len(shape) == 3 else "L")
    top_left = np.asarray(png)[2:2 + 2 * h:2, 2:2 + 2 * w:2]  # the first tile, back to its own pixels
    assert np.abs(top_left.astype(int) - np.round(grid[0, 0] * 255)).max() <= 1
    gif = Image.open(io.BytesIO(traversals.grid_gif(grid, scale=1)))
    assert gif.n_frames == 5
    assert gif.size == (2 * (w + 1) + 1, 2 * (h + 1) + 1)  # 3 units in a 2 x 2 block


@pytest.mark.slow  # starts the ONNX sandbox's worker process
def test_traversals_of_an_onnx_model_are_ordered_by_variance(tmp_path):
    from aecore.models.onnx import load_onnx
    from onnx_factories import linear_pair

    linear_pair(tmp_path / "lin", d=3)
    model, _ = load_onnx(tmp_path / "lin")
    images = synthetic_digits(50)
    codes = encode_dataset(model, images)
    order = traversals.unit_order(model, codes, images)
    assert order.measure == "variance" and len(order.active_units) == 3
    grid = traversals.traversal(model, codes.mean(axis=0), order.units, traversals.sweep(model, codes, steps=4))
    assert grid.shape == (3, 4, 28, 28) and np.ptp(grid[0], axis=0).max() > 0.01


TRAVERSALS = "pages/11_traversals.py"


@pytest.mark.parametrize("checkpoint, measure", [("tiny-vae-16d", "KL to the prior"), ("tiny-ae-2d", "the variance")])
def test_the_page_shows_a_row_per_active_unit_and_folds_the_inactive_ones(open_page, checkpoint, measure):
    from factories import clean

    at = clean(open_page(TRAVERSALS, checkpoint))
    caption = next(c.value for c in at.caption if c.value.startswith("Each row moves one unit"))
    assert measure in caption and "(9 columns)" in caption
    labels = [m.value for m in at.markdown if m.value.startswith("**unit ")]
    d = 16 if checkpoint == "tiny-vae-16d" else 2
    assert len(labels) == d  # every unit has its row, captioned
    assert {int(label.split()[1].rstrip("*")) for label in labels} == set(range(d))
    folded = [e for e in at.expander if "inactive unit" in e.label]
    active = int(at.subheader[0].value.split()[0]) if at.subheader else 0
    assert active + (int(folded[0].label.split()[0]) if folded else 0) == d
    assert len(at.image) == d + 1  # one picture per row, and the test image they start from
    assert {b.proto.label for b in at.get("download_button")} == {
        "Download the grid (PNG)", "Download as animated GIF (a frame per column)"}


def test_the_columns_control_sets_the_steps_and_the_start_is_a_test_image_or_the_mean(open_page):
    from factories import clean

    at = clean(open_page(TRAVERSALS, "tiny-ae-2d"))
    assert any(i.proto.imgs[0].caption.startswith("the start: test digit #0") for i in at.image)  # the default
    at.slider(key="trav_steps").set_value(5)
    at.number_input(key="trav_index_mnist-sample").set_value(3)
    at = clean(at.run())
    caption = next(c.value for c in at.caption if c.value.startswith("Each row moves one unit"))
    assert "(5 columns)" in caption and "test digit #3" in caption
    assert any(i.proto.imgs[0].caption.startswith("the start: test digit #3") for i in at.image)
    at.radio(key="trav_start").set_value("the mean code")
    at = clean(at.run())
    caption = next(c.value for c in at.caption if c.value.startswith("Each row moves one unit"))
    assert "stay at the mean code" in caption and at.number_input(key="trav_index_mnist-sample").disabled
    assert not any(i.proto.imgs[0].caption.startswith("the start:") for i in at.image)


def test_a_colour_vae_is_ordered_by_kl_and_its_grid_is_in_colour():
    model = model_of("vae", latent_dim=3, body="conv", image=[3, 16, 12])
    images = np.random.default_rng(0).integers(0, 256, (40, 16, 12, 3), dtype=np.uint8)
    codes = encode_dataset(model, images)
    order = traversals.unit_order(model, codes, images)
    assert order.measure == "KL" and len(order.units) == 3
    grid = traversals.traversal(model, codes[0], order.units, traversals.sweep(model, codes, steps=4))
    assert grid.shape == (3, 4, 16, 12, 3)
    assert Image.open(io.BytesIO(traversals.grid_png(grid))).mode == "RGB"


@pytest.mark.slow  # starts the ONNX sandbox's worker from the page
def test_the_page_orders_an_onnx_models_units_by_variance(app_env, tmp_path, open_page):
    from factories import clean, shared_checkpoints
    from onnx_factories import linear_pair

    with shared_checkpoints(app_env, tmp_path / "checkpoints") as folder:
        linear_pair(folder / "linear-onnx", d=3, layout="(B, 28, 28, 1)")
        at = clean(open_page(TRAVERSALS, "linear-onnx"))
    caption = next(c.value for c in at.caption if c.value.startswith("Each row moves one unit"))
    assert "the variance of its codes" in caption and "standard deviations of the unit's codes" in caption
    assert at.subheader[0].value == "3 active units of 3" and len(at.image) == 3 + 1  # and the start
