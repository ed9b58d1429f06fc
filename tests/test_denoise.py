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


def _colour(n=6, side=16, seed=0):
    """Colour images (n, side, side, 3) in [0, 1]: smooth colour gradients, a different one each."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / (side - 1)
    return np.stack([np.stack([xx * a, yy * b, (1 - xx * yy) * c], -1) for a, b, c in rng.random((n, 3))]).astype(np.float32)


def test_colour_ssim_is_the_mean_over_channels_and_grey_ssim_is_unchanged(digits):
    clean = _colour()
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 0.1, clean.shape), 0, 1).astype(np.float32)
    per_channel = [denoise.ssim(clean[..., c], noisy[..., c]) for c in range(3)]
    assert denoise.image_ssim(clean, noisy) == pytest.approx(np.mean(per_channel, axis=0))
    assert denoise.image_ssim(clean, clean) == pytest.approx(np.ones(len(clean)))
    grey3 = np.repeat(digits[:4, ..., None], 3, axis=3)  # a grey picture in three equal channels
    assert denoise.image_ssim(grey3, grey3[::-1]) == pytest.approx(denoise.ssim(digits[:4], digits[:4][::-1]))
    assert np.array_equal(denoise.image_ssim(digits, digits[::-1]), denoise.ssim(digits, digits[::-1]))
    assert denoise.image_ssim(clean[:, :8, :8], noisy[:, :8, :8]) is None  # smaller than the 11 x 11 window


def test_colour_is_median_filtered_channel_by_channel_and_its_psnr_curve_falls_with_noise():
    clean = _colour()
    speck = clean.copy()
    speck[:, 5, 5, 0] = 1.0  # one red speck in each image: the median removes it, leaves green and blue
    out = denoise.channel_median(speck)
    assert out.shape == clean.shape and np.allclose(out[:, 5, 5, 0], denoise.median_filter(clean[..., 0])[:, 5, 5])
    assert np.array_equal(out[..., 1], denoise.median_filter(speck[..., 1]))
    curve = denoise.psnr_curve(clean, "salt_pepper", {}, seed=0, levels=(0.05, 0.3))
    assert curve["noisy input"][0] > curve["noisy input"][1]
    assert curve["median filter"][0] > curve["noisy input"][0]  # the median helps against few specks
