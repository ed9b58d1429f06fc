"""Checks of aecore.latent.units (what the Units page computes) on tiny models."""
import numpy as np
import pytest
import torch
from factories import synthetic_digits, tiny_config

from aecore.latent import encode_dataset
from aecore.latent import units
from aecore.models import build_model


def _model(kind="plain", body="mlp", **over):
    torch.manual_seed(0)
    return build_model(tiny_config(kind, body, **over)).eval()


@pytest.fixture
def digits():
    return synthetic_digits(40)[:, 0].numpy()  # (40, 28, 28) in [0, 1]


def test_code_activity_counts_dead_units():
    codes = np.zeros((20, 5), np.float32)
    codes[:, 0] = 0.9
    codes[:10, 1] = -0.5  # mostly negative units are alive: activity is |z|
    stats, hist = units.code_activity(codes)
    assert stats["dead_units"] == 3 and stats["unit_frequency"][:2] == [1.0, 0.5]
    assert hist.fractions.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("body,hidden,expect", [("mlp", [32], 32), ("mlp", [], 4), ("conv", [], 4)])
def test_first_layer_filters_are_28x28_images(body, hidden, expect):
    filters, note = units.first_layer_filters(_model(body=body, hidden=hidden))
    assert filters.shape == (expect, 28, 28)
    assert filters.min() >= 0 and filters.max() <= 1
    assert ("3x3" in note) == (body == "conv")


def test_unit_codes_one_hot_for_sparse_and_a_push_otherwise():
    codes = np.random.default_rng(0).uniform(0, 1, (30, 4)).astype(np.float32)
    assert np.array_equal(units.unit_codes(_model("sparse", sparsity="kl"), codes), np.eye(4))
    relu = units.unit_codes(_model("sparse", sparsity="l1"), codes)
    assert np.allclose(np.diag(relu), codes.max(axis=0)) and relu.sum() == pytest.approx(np.trace(relu))
    push = units.unit_codes(_model(), codes)
    assert np.allclose(push[1] - codes.mean(axis=0), [0, 3 * codes[:, 1].std(), 0, 0], atol=1e-5)
    assert units.unit_drawings(_model(), codes).shape == (4, 28, 28)


def test_unit_view_ranks_the_digits_that_excite_a_unit(digits):
    model = _model()
    codes = encode_dataset(model, digits)
    view = units.unit_view(model, codes, digits, unit=2, k=5)
    assert list(view.top) == list(np.argsort(-codes[:, 2])[:5])
    assert np.all(np.diff(view.top_values) <= 0)
    assert view.weight.shape == view.drawing.shape == (28, 28)
    assert units.unit_view(model, codes, digits, unit=1).weight.tolist() != view.weight.tolist()
    with pytest.raises(ValueError, match="units 0..3"):
        units.unit_view(model, codes, digits, unit=4)
