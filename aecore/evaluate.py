"""Measure a model on a dataset split: the numbers in metrics.json and the zoo report.

Every metric is computed on the test split (the queries) against the train split (kNN fit,
neighbour search base); definitions are in aecore.metrics.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from . import metrics
from .data import load_dataset, to_tensor
from .latent import decode_codes, encode_dataset
from .models import Autoencoder
from .noise import corrupt

DENOISE_NOISE, DENOISE_LEVEL, DENOISE_SEED = "gaussian", 0.5, 0


def evaluate(model: Autoencoder, dataset: str, max_test: int = 0) -> dict:
    """All metrics of `model` on `dataset` as {"measured_on": ..., "metrics": {name: float}}."""
    start = time.perf_counter()
    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    test_images, test_labels = test.images, test.labels
    if max_test:
        test_images, test_labels = test_images[:max_test], test_labels[:max_test]
    x = to_tensor(test_images)
    train_codes = encode_dataset(model, train.images)
    test_codes = encode_dataset(model, test_images)
    out: dict[str, float] = {}
    recon = decode_codes(model, test_codes)
    out.update(metrics.reconstruction_errors(test_images / 255.0, recon))
    for k in (1, 5):
        out[f"knn{k}"] = metrics.knn_accuracy(train_codes, train.labels, test_codes, test_labels, k)
    out["trustworthiness"] = metrics.trustworthiness(test_images / 255.0, test_codes, k=5)
    out.update(metrics.approximation_factors(test_images / 255.0, train.images / 255.0, test_codes, train_codes))
    out.update(denoising_metrics(model, x))
    stats = metrics.sparsity_stats(test_codes)
    out.update({f"code_{k}": v for k, v in stats.items() if k != "unit_frequency"})
    out["jacobian_frobenius"] = metrics.jacobian_frobenius(model, x[:2000])
    if model.config.kind == "vae":
        out["neg_elbo"] = metrics.neg_elbo(model, x, n_samples=1, generator=torch.Generator().manual_seed(0))
    return {
        "measured_on": {"dataset": dataset, "split": test.split, "size": len(test_images),
                        "train_split_size": len(train.images)},
        "metrics": {k: float(v) for k, v in out.items()},
        "seconds": round(time.perf_counter() - start, 1),
    }


def denoising_metrics(model: Autoencoder, x: torch.Tensor) -> dict:
    """PSNR/SSIM (dB, [0, 1]) of the model's output for Gaussian-noised inputs (sigma 0.5,
    clipped to [0, 1], seed 0), and of the noisy input itself and the 3x3 median filter."""
    noisy = corrupt(x, DENOISE_NOISE, DENOISE_LEVEL, generator=torch.Generator().manual_seed(DENOISE_SEED))
    clean = x[:, 0].numpy()
    with torch.no_grad():
        output = torch.cat([model(b) for b in noisy.split(1000)])[:, 0].numpy()
    median = metrics.median_filter(noisy[:, 0].numpy(), size=3)
    return {
        "denoise_psnr": float(np.mean(metrics.psnr(clean, output))),
        "denoise_ssim": float(np.mean(metrics.ssim(clean, output))),
        "noisy_psnr": float(np.mean(metrics.psnr(clean, noisy[:, 0].numpy()))),
        "median_psnr": float(np.mean(metrics.psnr(clean, median))),
    }
