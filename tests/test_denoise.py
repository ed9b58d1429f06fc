"""Checks of aecore.measure.denoise (what the Denoise page and metrics.json measure) on tiny models."""
import numpy as np
import pytest
import torch
from factories import synthetic_digits, tiny_config

from aecore.measure import denoise
from aecore.models import build_model


def _model(**over):
    torch.manual_seed(0)
    return build_model(tiny_config("plain", "mlp", **over)).eval()


@pytest.fixture
def digits():
    return synthetic_digits(40)[:, 0].numpy()  # (40, 28, 28) in [0, 1]


def test_denoise_reports_every_output_and_noise_lowers_psnr(digits):
    models = {"denoising model": _model(), "plain model": _model(latent_dim=3)}
    quiet = denoise.denoise(digits[0], "gaussian", 0.1, seed=0, models=models)
    loud = denoise.denoise(digits[0], "gaussian", 0.9, seed=0, models=models)
    assert set(quiet.psnr) == {"noisy input", "denoising model", "plain model", "median filter"}
    assert loud.psnr["noisy input"] < quiet.psnr["noisy input"]
    assert quiet.codes.shape == (2, 4) and quiet.noisy.shape == (28, 28)
    assert all(-1 <= v <= 1 for v in quiet.ssim.values())
    curve = denoise.psnr_curve(digits[:10], "masking", models, seed=0, levels=(0.1, 0.5, 0.9))
    assert curve["levels"] == [0.1, 0.5, 0.9]
    assert len(curve["median filter"]) == 3
    assert curve["noisy input"][0] > curve["noisy input"][2]  # more masking, lower PSNR


def test_standard_scores_are_those_of_the_page_at_sigma_half(digits):
    model = _model()
    scores = denoise.standard_scores(digits, model)
    curve = denoise.psnr_curve(digits, "gaussian", {"m": model}, seed=0, levels=(0.5,))
    assert scores["denoise_psnr"] == pytest.approx(curve["m"][0])
    assert scores["median_psnr"] == pytest.approx(curve["median filter"][0])
    assert set(denoise.standard_scores(digits)) == {"noisy_psnr", "median_psnr"}  # no model, no output
    assert np.isfinite(list(scores.values())).all()
